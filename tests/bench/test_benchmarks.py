"""The benchmarks still run: each on a small input, checking only that it prints its figures.

A benchmark's figures are for people to read (README, closing notes); what breaks unnoticed is
the script itself when the code it drives changes. Nothing here times anything.
"""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import cold_start
from bench.aws_calls_per_message import LANGUAGES
from devkit.runtime.language_model import labelled_texts
from devkit.template import ROOT

EVALUATION = ROOT / "tests" / "data" / "language_evaluation.tsv"


@pytest.fixture(scope="module")
def small_evaluation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four texts in each of three languages of the evaluation set, in its format."""
    rows = [
        (language, text)
        for wanted in ("de", "fr", "ja")
        for language, text in [pair for pair in labelled_texts(EVALUATION) if pair[0] == wanted][:4]
    ]
    path = tmp_path_factory.mktemp("evaluation") / "small.tsv"
    path.write_text(
        "# a sample of language_evaluation.tsv\n" + "".join(f"{lang}\t{text}\n" for lang, text in rows)
    )
    return path


def run(*arguments: str | Path) -> str:
    result = subprocess.run(  # noqa: S603
        [sys.executable, *map(str, arguments)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def test_language_detection(small_evaluation: Path) -> None:
    output = run("bench/language_detection.py", "0.9", small_evaluation)

    assert "small: 12 texts in 3 languages" in output
    assert "hybrid at 0.90" in output


def test_language_detection_measures_each_category_of_the_yardstick() -> None:
    output = run("bench/language_detection.py")

    for category in ("sentences", "phrases", "labels"):
        assert f"{category}: per language at 0.90" in output
        assert re.search(rf"^  {category} +61 ", output, flags=re.MULTILINE), output[:2000]


def test_hybrid_calls_per_message(small_evaluation: Path) -> None:
    output = run("bench/hybrid_calls_per_message.py", "0.9", small_evaluation)

    assert "12 texts of small.tsv" in output
    assert "queue, batches of 10" in output


def test_calls_per_api_and_queue_message() -> None:
    output = run("bench/aws_calls_per_message.py", str(len(LANGUAGES) + 2))

    assert "next 2 (warm cache)" in output
    assert "per message" in run("bench/queue_calls_per_message.py")


@pytest.mark.parametrize("code", ["FLOOR", "HANDLER", "BARE", "VALIDATED"])
def test_cold_start_measures_what_it_says(code: str) -> None:
    # Each measured program once, in this environment (the benchmark's own one is built on first use).
    milliseconds = cold_start.measure(Path(sys.executable), getattr(cold_start, code))

    assert milliseconds > 0


def test_rehearsal_matrix_shows_the_recorded_runs_of_this_revision(tmp_path: Path) -> None:
    revision = run("-c", "from devkit.rehearsal.trees import revision; print(revision())").strip()
    failed = {"status": "Failed", "weight": 0.1, "minute": 4.2, "decided_by": "ApiPersistenceAlarm"}
    promoted = {"status": "Succeeded", "weight": 0, "minute": 0.0, "decided_by": ""}

    def record(rev: str, scenario: str, seed: int, code: int, deployments: dict[str, Any]) -> dict[str, Any]:
        common = {"speed": 15, "verdict": "", "wall_s": 27.0}
        return {"revision": rev, "scenario": scenario, "seed": seed, "exit_code": code, **common,
                "deployments": deployments}  # fmt: skip

    records = [
        *(
            record(
                revision,
                "lose=0.25@users",
                seed,
                1,
                {"ApiFunction": failed, "QueueConsumerFunction": promoted},
            )
            for seed in range(3)
        ),
        record("elsewhere", "clean", 0, 0, {"ApiFunction": promoted}),
    ]
    results = tmp_path / "matrix.jsonl"
    results.write_text("".join(json.dumps(record) + "\n" for record in records))

    output = run("bench/rehearsal_matrix.py", "--show", "--results", results)

    (row,) = [line for line in output.splitlines() if line.startswith("lose=0.25@users")]
    assert row.split()[1:7] == [
        "3",
        "0",
        "3",
        "3",
        "0",
        "0",
    ]  # runs, promoted, stopped, Api, Consumer, at 100 %
    assert "ApiPersistenceAlarm x3" in row
    assert not any(line.startswith("clean") for line in output.splitlines())  # another revision's
