"""The API keeps its OpenAPI document: schemathesis fuzzes the local stack from its own /openapi.json.

Every check schemathesis has, the four phases (examples, coverage, fuzzing, and stateful: a posted
message read back through the document's links, pages followed with real tokens), a fixed seed,
and a time budget: FUZZ_SECONDS (30 in make test; make fuzz sets a longer one). Zero failures is
the bar; a failure prints the request that reproduces it.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.local_stack import RunningStack

SEED = 20261127
CONFIG = Path(__file__).resolve().parents[2] / "schemathesis.toml"


def test_the_api_answers_as_its_openapi_document_says(stack: RunningStack, tmp_path: Path) -> None:
    seconds = os.environ.get("FUZZ_SECONDS", "30")
    schemathesis = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert schemathesis, "schemathesis is not installed: run make venv"

    command = [schemathesis, "--config-file", str(CONFIG), "run", f"{stack.api}/openapi.json"]
    command += ["--checks", "all", "--phases", "examples,coverage,fuzzing,stateful"]
    command += ["--seed", str(SEED), "--max-time", seconds, "--workers", "1"]
    command += [
        "--header",
        f"x-api-key: {stack.api_key}",
        "--header",
        f"Authorization: {stack.token('fuzz')}",
    ]
    command += ["--report", "junit", "--report-dir", str(tmp_path)]
    result = subprocess.run(  # noqa: S603
        command,
        capture_output=True,
        text=True,
        check=False,
        timeout=int(seconds) + 120,
    )

    print(result.stdout)  # the summary: cases generated, failures by check, reproducing requests
    assert result.returncode == 0, result.stdout[-20_000:] + result.stderr[-5_000:]
