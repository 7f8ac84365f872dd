"""Starting, stopping, restarting and editing code while the local stack runs."""

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from devkit.local.options import free_port
from devkit.template import ROOT
from tests.support.http import eventually
from tests.support.local_stack import start_stack


def test_data_survives_a_restart(tmp_path: Path) -> None:
    first = start_stack(tmp_path)
    sent = first.http("POST", "/messages", {"message": "Obrigado pela ajuda"}, headers=first.as_user("rita"))
    assert first.stop() == 0

    second = start_stack(tmp_path)
    try:
        # Users live in the embedded endpoint only while it runs: rita signs up again.
        history = second.http("GET", "/messages/rita", headers=second.as_user("rita", api_key=True))
    finally:
        second.stop()

    assert [m["id"] for m in history.body["messages"]] == [sent.body["id"]]
    assert "Stopped; local data saved." in "".join(first.output)


def test_a_port_in_use_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "devkit.local", "start", "--port", str(port),
             "--aws-port", str(free_port()), "--data-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
        )  # fmt: skip

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"make start: port {port} on 127.0.0.1 is in use; choose another with PORT=... or AWS_PORT=..."
    ]


def test_edits_to_handler_and_shared_code_apply_on_the_next_request(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "template.yaml", project)
    for folder in ("functions", "layers"):
        shutil.copytree(ROOT / folder, project / folder, ignore=shutil.ignore_patterns("__pycache__"))
    stack = start_stack(tmp_path / "data", template=project / "template.yaml")
    try:
        message = {"message": "A message of thirty characters"}
        hot = stack.as_user("hot")
        assert stack.http("POST", "/messages", message, headers=hot).status == 201

        models = project / "layers/shared/store_reply/models.py"
        models.write_text(models.read_text().replace("MAX_MESSAGE_CHARS = 5_000", "MAX_MESSAGE_CHARS = 10"))
        errors = project / "functions/api/store_reply_api/http_errors.py"
        errors.write_text(
            errors.read_text().replace("The request body is not valid JSON", "Edited: not JSON")
        )

        shorter_limit = eventually(
            lambda: stack.http("POST", "/messages", message, headers=hot).status == 422
        )
        malformed = stack.http("POST", "/messages", "{", headers=hot)
    finally:
        stack.stop()

    assert shorter_limit
    assert malformed.body == {"message": "Edited: not JSON"}


def test_an_alarm_the_evaluator_cannot_evaluate_stops_start_up_with_its_name(tmp_path: Path) -> None:
    source = (ROOT / "template.yaml").read_text()
    broken = tmp_path / "template.yaml"
    for folder in ("functions", "layers", "events"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    broken.write_text(
        source.replace(
            "Expression: FILL(failed, 0) + FILL(processed, 0)", "Expression: LINEAR_FILL(failed)", 1
        )
    )

    with pytest.raises(AssertionError) as failed:
        start_stack(tmp_path / "data", template=broken)

    assert "cannot evaluate an alarm faithfully" in str(failed.value)
    assert "ConsumerFailedRecordsAlarm" in str(failed.value)
    assert "LINEAR_FILL is not supported" in str(failed.value)
