"""make rehearse: a candidate released over the base on the local stack, as CodeDeploy would release it.

Each test exports the repository twice (base and candidate), changes the candidate, and runs a
staging release (Canary10Percent5Minutes) with time sixty times faster.
"""

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devkit.rehearsal.plan import RehearsalOptions, Result
from devkit.rehearsal.run import rehearse
from devkit.rehearsal.trees import export

SPEED = 60.0


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("trees") / "base"
    export("worktree", tree)
    return tree


Release = Callable[..., Result]


def options(base: Path | None, candidate: Path, work: Path, **settings: Any) -> RehearsalOptions:
    """A quick, quiet rehearsal: light load, time sixty times faster, everything under ``work``."""
    defaults = {"environment": "staging", "speed": SPEED, "api_per_minute": 90, "queue_per_minute": 60}
    return RehearsalOptions(
        base=base,
        candidate=candidate,
        data_dir=work / "data",
        reports=work / "reports",
        quiet=True,
        **{**defaults, **settings},
    )


@pytest.fixture
def release(base: Path, tmp_path: Path) -> Release:
    def run(
        change: str = "functions/api/store_reply_api/app.py",
        faults: str = "",
        environment: str = "staging",
        speed: float = SPEED,
    ) -> Result:
        candidate = tmp_path / "candidate"
        shutil.copytree(base, candidate)
        changed = candidate / change
        changed.write_text(changed.read_text() + "\n# the candidate's change\n")
        return rehearse(
            options(base, candidate, tmp_path, faults=faults, environment=environment, speed=speed)
        )

    return run


def kinds(result: Result) -> list[str]:
    return [event.kind for event in result.events]


def test_a_clean_candidate_is_promoted_through_both_hooks_and_the_canary(release: Release) -> None:
    result = release()

    assert (result.exit_code, result.verdict) == (0, "Succeeded")
    assert [p["function"] for p in result.plan] == ["ApiFunction"]  # the consumer did not change
    assert kinds(result) == [
        "DeploymentStart",
        "BeforeAllowTraffic",
        "HookReport",
        "AllowTraffic",
        "TrafficShifted",
        "TrafficShifted",
        "AfterAllowTraffic",
        "HookReport",
        "DeploymentSuccess",
    ]
    shifted = [e for e in result.events if e.kind == "TrafficShifted"]
    assert [e.detail["weight"] for e in shifted] == [0.1, 1.0]
    assert shifted[1].at - shifted[0].at == pytest.approx(300, abs=15)  # five simulated minutes
    assert result.candidate_requests > 0
    timeline = json.loads((result.report / "timeline.json").read_text())  # type: ignore[operator]
    assert timeline["verdict"] == "Succeeded"
    assert "Succeeded" in (result.report / "index.html").read_text()  # type: ignore[operator]


def test_a_candidate_failing_a_fifth_of_its_invocations_is_rolled_back_at_ten_percent_at_most(
    release: Release,
) -> None:
    result = release(faults="errors=0.2")

    (outcome,) = result.outcomes
    assert result.exit_code == 1
    assert outcome.status == "Failed"
    assert outcome.weight_when_stopped is not None
    assert outcome.weight_when_stopped <= 0.1
    assert kinds(result)[-1] == "DeploymentRollback"
    # The verdict says what decided: the alarm with its datapoints, or the hook with its problems.
    assert "datapoints, oldest first" in result.verdict or "the hook reported: " in result.verdict


def test_a_candidate_that_cannot_start_is_stopped_by_the_pre_traffic_hook_before_any_user_reaches_it(
    release: Release,
) -> None:
    result = release(faults="crash")

    (outcome,) = result.outcomes
    assert outcome.status == "Failed"
    assert "BeforeAllowTraffic" in outcome.reason
    assert "the hook reported: store a message: " in result.verdict
    assert result.candidate_requests == 0
    assert "TrafficShifted" not in kinds(result)


def test_a_pre_traffic_hook_that_never_reports_fails_the_deployment_at_the_simulated_hour(
    release: Release,
) -> None:
    result = release(faults="hook-silent")

    (outcome,) = result.outcomes
    assert "did not report within one hour" in outcome.reason
    hook = next(e for e in result.events if e.kind == "BeforeAllowTraffic")
    failure = next(e for e in result.events if e.kind == "DeploymentFailure")
    assert failure.at - hook.at == pytest.approx(3600, abs=5)


def test_a_change_to_the_shared_layer_alone_deploys_both_functions_in_parallel(release: Release) -> None:
    # The rehearsal's own speed (x15, the matrix's): the consumer's batches, slower than API
    # requests, must reach both versions, and the witness keep up with both functions' writes.
    result = release(change="layers/shared/store_reply/replies.py", speed=SPEED / 4)

    assert result.exit_code == 0
    assert sorted(p["function"] for p in result.plan) == ["ApiFunction", "QueueConsumerFunction"]
    assert {o.function for o in result.outcomes} == {"ApiFunction", "QueueConsumerFunction"}
    assert len({o.deployment_id for o in result.outcomes}) == 2


def test_signed_in_users_reach_both_versions_of_each_function_at_about_the_canary_weight(
    release: Release,
) -> None:
    result = release(change="layers/shared/store_reply/replies.py", environment="prod", speed=SPEED / 2)

    # Every API message was accepted: the load signs in as users of the local pool.
    assert set(result.answers["api"]) == {"201"}, result.answers
    assert set(result.answers["queue"]) == {"queued"}, result.answers
    for function in ("ApiFunction", "QueueConsumerFunction"):
        base, candidate = result.canary_requests[function]["1"], result.canary_requests[function]["2"]
        assert base > 0, f"{function}: the base served no user during the canary"
        assert candidate > 0, f"{function}: the candidate served no user during the canary"
        # 10 % of invocations, drawn one by one: well inside these bounds at this load.
        assert 0.02 <= candidate / (base + candidate) <= 0.3, result.canary_requests


def test_a_first_release_runs_the_candidate_under_load_and_checks_its_alarms(
    base: Path, tmp_path: Path
) -> None:
    # As in AWS, the first deployment creates the alias on the new version: no CodeDeploy deployment.
    result = rehearse(options(None, base, tmp_path, environment="prod"))

    assert (result.exit_code, result.verdict) == (0, "First release: alarms stayed OK")
    assert result.outcomes == []
    assert result.samples, "the candidate ran under load"
