"""The rehearsal's deployment engine against CodeDeploy's documentation.

- deployment-configurations: "Canary10Percent10Minutes: shifts 10 percent of traffic in the first
  increment; the remaining 90 percent is deployed ten minutes later"; "Linear10PercentEvery1Minute:
  shifts 10 percent of traffic every minute until all traffic is shifted".
- reference-appspec-file-structure-hooks: BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic; a
  hook must report within one hour or the deployment fails.
- monitoring-create-alarms: an alarm in ALARM stops the deployment; ignorePollAlarmFailure false
  stops it when the alarm state cannot be read; automatic rollback returns the alias.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from devkit.aws.clock import Clock
from devkit.rehearsal.engine import (
    HOOK_TIMEOUT,
    AlarmPollFailure,
    Deployment,
    Event,
    GroupPlan,
    Step,
    UnknownConfiguration,
    run_in_parallel,
    traffic_steps,
)


class SteppedClock(Clock):
    """Simulated time that moves only when something waits (no real sleeping)."""

    def __init__(self) -> None:
        super().__init__(speed=1.0, origin=0.0)
        self.t = 1_000_000.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.001)

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class FinishedRun:
    done: bool = True

    def finished(self) -> bool:
        return self.done


@dataclass
class FakePorts:
    """The alias, hooks and alarms, scripted."""

    clock: SteppedClock
    hook_reports: dict[str, str | None] = field(default_factory=dict)  # hook -> status it reports
    alarm_after: dict[str, float] = field(default_factory=dict)  # alarm -> seconds in when it fires
    poll_fails: bool = False
    shifts: list[tuple[float, str, float]] = field(default_factory=list)
    statuses: dict[tuple[str, str], str] = field(default_factory=dict)
    hook_calls: list[tuple[str, float]] = field(default_factory=list)
    started: float = 0.0

    def shift(self, function: str, weight: float) -> None:
        self.shifts.append((self.clock.now() - self.started, function, weight))

    def expect_hook(self, deployment_id: str, execution_id: str) -> None:
        self.statuses[(deployment_id, execution_id)] = "Pending"

    def run_hook(self, hook: str, deployment_id: str, execution_id: str) -> FinishedRun:
        self.hook_calls.append((hook, self.clock.now() - self.started))
        report = self.hook_reports.get(hook, "Succeeded")
        if report is not None:
            self.statuses[(deployment_id, execution_id)] = report
        return FinishedRun()

    def hook_status(self, deployment_id: str, execution_id: str) -> str:
        return self.statuses[(deployment_id, execution_id)]

    def alarm_states(self, names: Sequence[str]) -> Mapping[str, str]:
        if self.poll_fails:
            raise AlarmPollFailure("AccessDenied")
        elapsed = self.clock.now() - self.started
        return {name: "ALARM" if elapsed >= self.alarm_after.get(name, 1e18) else "OK" for name in names}


def deploy(plan: GroupPlan, ports: FakePorts | None = None) -> tuple[FakePorts, list[Event], object]:
    clock = SteppedClock()
    ports = ports or FakePorts(clock)
    ports.clock = clock
    ports.started = clock.now()
    events: list[Event] = []
    outcome = Deployment(plan, ports, clock, events.append).run()
    return ports, events, outcome


def plan(
    configuration: str = "CodeDeployDefault.LambdaCanary10Percent10Minutes", **extra: object
) -> GroupPlan:
    values: dict[str, object] = {
        "function": "api",
        "group": "api-group",
        "configuration": configuration,
        "steps": tuple(traffic_steps(configuration)),
        "alarms": ("ErrorsAlarm",),
        "before_hook": "pre",
        "after_hook": "post",
        **extra,
    }
    return GroupPlan(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "steps"),
    [
        ("CodeDeployDefault.LambdaAllAtOnce", [(0, 1.0)]),
        ("CodeDeployDefault.LambdaCanary10Percent5Minutes", [(0, 0.1), (300, 1.0)]),
        ("CodeDeployDefault.LambdaCanary10Percent10Minutes", [(0, 0.1), (600, 1.0)]),
        ("CodeDeployDefault.LambdaCanary10Percent15Minutes", [(0, 0.1), (900, 1.0)]),
        ("CodeDeployDefault.LambdaCanary10Percent30Minutes", [(0, 0.1), (1800, 1.0)]),
        ("CodeDeployDefault.LambdaLinear10PercentEvery1Minute", [(60 * k, (k + 1) / 10) for k in range(10)]),
        (
            "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
            [(120 * k, (k + 1) / 10) for k in range(10)],
        ),
        (
            "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
            [(180 * k, (k + 1) / 10) for k in range(10)],
        ),
        (
            "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
            [(600 * k, (k + 1) / 10) for k in range(10)],
        ),
    ],
)
def test_every_predefined_lambda_configuration_shifts_as_documented(
    name: str, steps: list[tuple[float, float]]
) -> None:
    assert [(s.at, round(s.weight, 6)) for s in traffic_steps(name)] == [(at, round(w, 6)) for at, w in steps]


def test_custom_time_based_configurations_from_the_template() -> None:
    custom = {
        "Fast": {
            "ComputePlatform": "Lambda",
            "TrafficRoutingConfig": {
                "Type": "TimeBasedCanary",
                "TimeBasedCanary": {"CanaryPercentage": 25, "CanaryInterval": 2},
            },
        },
        "Steady": {
            "ComputePlatform": "Lambda",
            "TrafficRoutingConfig": {
                "Type": "TimeBasedLinear",
                "TimeBasedLinear": {"LinearPercentage": 40, "LinearInterval": 3},
            },
        },
    }

    assert traffic_steps("Fast", custom) == [Step(0, 0.25), Step(120, 1.0)]
    assert traffic_steps("Steady", custom) == [Step(0, 0.4), Step(180, 0.8), Step(360, 1.0)]
    with pytest.raises(UnknownConfiguration):
        traffic_steps("Nowhere", custom)


def test_a_clean_canary_runs_before_hook_steps_then_after_hook_and_succeeds() -> None:
    ports, events, outcome = deploy(plan())

    assert outcome.status == "Succeeded"  # type: ignore[attr-defined]
    kinds = [e.kind for e in events]
    assert kinds.index("BeforeAllowTraffic") < kinds.index("AllowTraffic") < kinds.index("AfterAllowTraffic")
    assert [(round(at), weight) for at, _, weight in ports.shifts] == [(0, 0.1), (600, 1.0)]
    (pre, _), (post, post_at) = ports.hook_calls
    assert (pre, post) == ("pre", "post")
    assert post_at >= 600  # after all traffic is shifted


def test_an_alarm_during_the_canary_stops_and_rolls_back_to_the_original_version() -> None:
    ports = FakePorts(SteppedClock(), alarm_after={"ErrorsAlarm": 120})

    ports, events, outcome = deploy(plan(), ports)

    assert outcome.status == "Failed"  # type: ignore[attr-defined]
    assert "ErrorsAlarm" in outcome.reason  # type: ignore[attr-defined]
    assert outcome.weight_when_stopped == 0.1  # type: ignore[attr-defined]
    assert ports.shifts[-1][2] == 0.0
    assert [e.kind for e in events][-2:] == ["DeploymentFailure", "DeploymentRollback"]
    assert [hook for hook, _ in ports.hook_calls] == ["pre"]  # AfterAllowTraffic never runs


def test_a_failed_hook_report_fails_the_deployment_before_any_traffic_moves() -> None:
    ports = FakePorts(SteppedClock(), hook_reports={"pre": "Failed"})

    ports, _, outcome = deploy(plan(), ports)

    assert outcome.status == "Failed"  # type: ignore[attr-defined]
    assert "BeforeAllowTraffic hook pre reported Failed" in outcome.reason  # type: ignore[attr-defined]
    assert [weight for _, _, weight in ports.shifts] == [0.0]


def test_a_hook_that_never_reports_fails_the_deployment_at_the_hour() -> None:
    ports = FakePorts(SteppedClock(), hook_reports={"pre": None})

    ports, events, outcome = deploy(plan(), ports)

    assert outcome.status == "Failed"  # type: ignore[attr-defined]
    assert "did not report within one hour" in outcome.reason  # type: ignore[attr-defined]
    failure = next(e for e in events if e.kind == "DeploymentFailure")
    assert failure.at - events[0].at == pytest.approx(HOOK_TIMEOUT, abs=2)


def test_an_alarm_state_that_cannot_be_read_stops_the_deployment_unless_told_to_ignore_it() -> None:
    _, _, stopped = deploy(plan(), FakePorts(SteppedClock(), poll_fails=True))
    _, events, ignored = deploy(
        plan(ignore_poll_alarm_failure=True), FakePorts(SteppedClock(), poll_fails=True)
    )

    assert stopped.status == "Failed"  # type: ignore[attr-defined]
    assert "could not be read" in stopped.reason  # type: ignore[attr-defined]
    assert ignored.status == "Succeeded"  # type: ignore[attr-defined]
    assert any(e.kind == "AlarmPollFailureIgnored" for e in events)


def test_without_automatic_rollback_a_stopped_deployment_leaves_the_alias_where_it_was() -> None:
    ports = FakePorts(SteppedClock(), alarm_after={"ErrorsAlarm": 120})

    ports, _, outcome = deploy(plan(auto_rollback=False), ports)

    assert outcome.status == "Failed"  # type: ignore[attr-defined]
    assert ports.shifts[-1][2] == 0.1


def test_groups_deploy_in_parallel_and_one_failure_shows_in_its_own_outcome() -> None:
    clock = SteppedClock()
    api_ports = FakePorts(clock, started=clock.now())
    consumer_ports = FakePorts(clock, alarm_after={"ErrorsAlarm": 30}, started=clock.now())
    lock_free: list[Event] = []
    deployments = [
        Deployment(plan("CodeDeployDefault.LambdaAllAtOnce"), api_ports, clock, lock_free.append),
        Deployment(
            plan("CodeDeployDefault.LambdaCanary10Percent5Minutes", function="consumer"),
            consumer_ports,
            clock,
            lock_free.append,
        ),
    ]

    outcomes = run_in_parallel(deployments)

    assert [(o.function, o.status) for o in outcomes] == [("api", "Succeeded"), ("consumer", "Failed")]
    assert len({d.id for d in deployments}) == 2
