"""A local function's Duration is its handler's run, as Lambda reports it."""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.runtime.functions import FunctionRunner, FunctionSpec, InvocationFailed

HANDLER = """
import time

def handler(event, context):
    if "fail" in event:
        raise ValueError(event["fail"])
    time.sleep(event["seconds"])
    return {"slept": event["seconds"]}
"""


def spec_of(folder: Path, timeout: int = 10) -> FunctionSpec:
    (folder / "sleeper.py").write_text(HANDLER)
    return FunctionSpec(
        logical_id="Sleeper",
        name="sleeper",
        arn="arn:aws:lambda:eu-west-1:123456789012:function:sleeper",
        handler="sleeper.handler",
        timeout=timeout,
        memory=128,
        environment={
            "AWS_LAMBDA_FUNCTION_NAME": "sleeper",
            "AWS_LAMBDA_FUNCTION_VERSION": "1",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_REGION": "eu-west-1",
        },
        code_paths=[folder],
    )


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[FunctionRunner]:
    spec = spec_of(tmp_path)
    runner = FunctionRunner(spec, quiet=True)
    runner.start()
    yield runner
    runner.stop()


def test_duration_is_the_handlers_run(runner: FunctionRunner) -> None:
    outcome = runner.run({"seconds": 0.2})

    assert outcome.result == {"slept": 0.2}
    assert 200 <= outcome.milliseconds < 400


def test_waiting_for_a_busy_worker_is_not_duration(runner: FunctionRunner) -> None:
    # Lambda would run the second request in another execution environment; here it waits for the
    # worker, and that wait must not look like a slow version to the duration alarms.
    outcomes = []

    def invoke() -> None:
        outcomes.append(runner.run({"seconds": 0.3}))

    threads = [threading.Thread(target=invoke) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(outcomes) == 3
    assert all(300 <= outcome.milliseconds < 500 for outcome in outcomes), [o.milliseconds for o in outcomes]


def test_a_handler_error_is_reported_as_lambda_reports_it(runner: FunctionRunner) -> None:
    outcome = runner.run({"fail": "no such user"})

    assert outcome.error_message == "ValueError: no such user"
    assert outcome.error_payload()["errorType"] == "Unhandled"
    assert outcome.error_payload()["stackTrace"][0].startswith("Traceback")
    with pytest.raises(InvocationFailed, match="no such user"):
        outcome.value()
    assert runner.run({"seconds": 0}).value() == {"slept": 0}


def test_a_timed_out_invocation_lasts_its_timeout(tmp_path: Path) -> None:
    runner = FunctionRunner(spec_of(tmp_path, timeout=1), quiet=True)
    try:
        outcome = runner.run({"seconds": 3})
    finally:
        runner.stop()

    assert outcome.error == "Task timed out after 1.00 seconds"
    assert outcome.milliseconds == 1000
