"""CodeDeploy's Lambda deployment, as its documentation describes it, on an injected clock.

- Configurations (deployment-configurations): ``LambdaAllAtOnce``; ``LambdaCanary10Percent5/10/15/30Minutes``
  (10 %, then the rest after the interval); ``LambdaLinear10PercentEvery1/2/3/10Minute(s)`` (10 % more
  each interval); custom ``TimeBasedCanary`` / ``TimeBasedLinear`` configurations.
- Lifecycle (reference-appspec-file-structure-hooks): BeforeAllowTraffic (the pre-traffic hook),
  AllowTraffic (the alias's weights, step by step), AfterAllowTraffic (the post-traffic hook, once
  all traffic is shifted). A hook is invoked asynchronously with ``DeploymentId`` and
  ``LifecycleEventHookExecutionId``; its lifecycle event waits for
  ``PutLifecycleEventHookExecutionStatus``: ``Failed`` fails the deployment, and so does no report
  within one hour.
- Alarms (monitoring-create-alarms): polled throughout the deployment; any alarm in ALARM stops
  it, and an alarm whose state cannot be read stops it unless ``ignorePollAlarmFailure``. With
  automatic rollback, the alias goes back to the original version; the new one stays published.
"""

import re
import secrets
import string
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from devkit.aws.clock import Clock

HOOK_TIMEOUT = 3600.0  # seconds CodeDeploy waits for a hook's report
ALARM_POLL = 10.0  # seconds between alarm polls
Status = Literal["Succeeded", "Failed"]
PREDEFINED = re.compile(
    r"^CodeDeployDefault\.Lambda(?:(?P<all>AllAtOnce)|Canary(?P<canary>\d+)Percent(?P<ci>\d+)Minutes?"
    r"|Linear(?P<linear>\d+)PercentEvery(?P<li>\d+)Minutes?)$"
)


class UnknownConfiguration(ValueError):
    """A deployment configuration that is neither predefined nor declared in the template."""


class AlarmPollFailure(Exception):
    """The alarms' state could not be read."""


@dataclass(frozen=True)
class Step:
    """From ``at`` seconds into AllowTraffic on, ``weight`` of the traffic goes to the new version."""

    at: float
    weight: float


def canary(percentage: float, minutes: float) -> list[Step]:
    return [Step(0.0, percentage / 100), Step(minutes * 60, 1.0)]


def linear(percentage: float, minutes: float) -> list[Step]:
    steps: list[Step] = []
    shifted = 0.0
    while shifted < 100:
        shifted = min(100.0, shifted + percentage)
        steps.append(Step(len(steps) * minutes * 60, shifted / 100))
    return steps


def traffic_steps(name: str, custom: Mapping[str, Mapping[str, Any]] | None = None) -> list[Step]:
    """The steps of a deployment configuration, predefined or declared (TrafficRoutingConfig)."""
    if (found := PREDEFINED.match(name)) is not None:
        if found["all"]:
            return [Step(0.0, 1.0)]
        if found["canary"]:
            return canary(float(found["canary"]), float(found["ci"]))
        return linear(float(found["linear"]), float(found["li"]))
    routing = (custom or {}).get(name, {}).get("TrafficRoutingConfig")
    if routing is None:
        raise UnknownConfiguration(f"deployment configuration {name} is not known")
    match routing["Type"]:
        case "AllAtOnce":
            return [Step(0.0, 1.0)]
        case "TimeBasedCanary":
            settings = routing["TimeBasedCanary"]
            return canary(float(settings["CanaryPercentage"]), float(settings["CanaryInterval"]))
        case "TimeBasedLinear":
            settings = routing["TimeBasedLinear"]
            return linear(float(settings["LinearPercentage"]), float(settings["LinearInterval"]))
    raise UnknownConfiguration(f"{name}: traffic routing {routing['Type']} is not supported")


@dataclass(frozen=True)
class GroupPlan:
    """One deployment group: the function it shifts, how, and what guards it."""

    function: str
    group: str
    configuration: str
    steps: tuple[Step, ...]
    alarms: tuple[str, ...] = ()
    alarms_enabled: bool = True
    ignore_poll_alarm_failure: bool = False
    auto_rollback: bool = True
    before_hook: str | None = None
    after_hook: str | None = None


class HookRun(Protocol):
    """An asynchronous hook invocation."""

    def finished(self) -> bool: ...


class Ports(Protocol):
    """What a deployment acts on: the alias, the hooks, the hooks' reports, the alarms."""

    def shift(self, function: str, weight: float) -> None:
        """Send ``weight`` of the function's alias traffic to the new version (0: all to the original)."""

    def run_hook(self, hook: str, deployment_id: str, execution_id: str) -> HookRun:
        """Invoke a hook asynchronously with the deployment's ids."""
        ...

    def hook_status(self, deployment_id: str, execution_id: str) -> str:
        """The hook's report so far (Pending until it reports)."""
        ...

    def expect_hook(self, deployment_id: str, execution_id: str) -> None:
        """Register a hook execution before invoking it."""

    def alarm_states(self, names: Sequence[str]) -> Mapping[str, str]:
        """The alarms' states; raise ``AlarmPollFailure`` when they cannot be read."""
        ...


@dataclass
class Event:
    """One thing that happened in a deployment, at a simulated time."""

    at: float
    deployment: str
    function: str
    kind: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeploymentOutcome:
    """How a deployment ended."""

    deployment_id: str
    function: str
    status: Status
    reason: str = ""
    weight_when_stopped: float | None = None
    stopped_at: float | None = None


def deployment_id() -> str:
    """A CodeDeploy deployment id: d- and nine capitals and digits."""
    return "d-" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(9))


class Deployment:
    """One deployment group's deployment, run to its end."""

    def __init__(
        self,
        plan: GroupPlan,
        ports: Ports,
        clock: Clock,
        record: Callable[[Event], None],
        *,
        poll_seconds: float = ALARM_POLL,
        tick_seconds: float = 1.0,
    ) -> None:
        self.plan = plan
        self.ports = ports
        self.clock = clock
        self.id = deployment_id()
        self._record = record
        self._poll = poll_seconds
        self._tick = tick_seconds
        self._last_poll = -1e18
        self.weight = 0.0
        self.started = 0.0

    def event(self, kind: str, **detail: Any) -> None:
        self._record(Event(self.clock.now(), self.id, self.plan.function, kind, detail))

    def run(self) -> DeploymentOutcome:
        """Run BeforeAllowTraffic, AllowTraffic and AfterAllowTraffic; stop and roll back on a failure."""
        self.started = self.clock.now()
        self.event("DeploymentStart", configuration=self.plan.configuration)
        try:
            if self.plan.before_hook:
                self._hook("BeforeAllowTraffic", self.plan.before_hook)
            self._allow_traffic()
            if self.plan.after_hook:
                self._hook("AfterAllowTraffic", self.plan.after_hook)
        except _Stop as stop:
            return self._stop(stop.reason)
        self.event("DeploymentSuccess", weight=self.weight)
        return DeploymentOutcome(self.id, self.plan.function, "Succeeded")

    def _stop(self, reason: str) -> DeploymentOutcome:
        stopped_at, weight = self.clock.now(), self.weight
        self.event("DeploymentFailure", reason=reason, weight=weight)
        if self.plan.auto_rollback:
            self.ports.shift(self.plan.function, 0.0)
            self.weight = 0.0
            self.event("DeploymentRollback", reason=reason)
        return DeploymentOutcome(self.id, self.plan.function, "Failed", reason, weight, stopped_at)

    def _check_alarms(self) -> None:
        now = self.clock.now()
        if not self.plan.alarms_enabled or not self.plan.alarms or now - self._last_poll < self._poll:
            return
        self._last_poll = now
        try:
            states = self.ports.alarm_states(self.plan.alarms)
        except AlarmPollFailure as error:
            if self.plan.ignore_poll_alarm_failure:
                self.event("AlarmPollFailureIgnored", error=str(error))
                return
            raise _Stop(f"the alarms' state could not be read: {error}") from error
        firing = sorted(name for name, state in states.items() if state == "ALARM")
        if firing:
            raise _Stop(f"alarm {', '.join(firing)} in ALARM")

    def _wait_until(self, moment: float, done: Callable[[], bool] = lambda: False) -> None:
        while self.clock.now() < moment and not done():
            self._check_alarms()
            self.clock.sleep(min(self._tick, max(0.0, moment - self.clock.now())))
        self._check_alarms()

    def _allow_traffic(self) -> None:
        start = self.clock.now()
        self.event("AllowTraffic")
        for step in self.plan.steps:
            self._wait_until(start + step.at)
            self.ports.shift(self.plan.function, step.weight)
            self.weight = step.weight
            self.event("TrafficShifted", weight=step.weight)

    def _hook(self, lifecycle_event: str, hook: str) -> None:
        execution = secrets.token_urlsafe(24)
        self.ports.expect_hook(self.id, execution)
        self.event(lifecycle_event, hook=hook)
        run = self.ports.run_hook(hook, self.id, execution)
        deadline = self.clock.now() + HOOK_TIMEOUT

        def reported() -> bool:
            return self.ports.hook_status(self.id, execution) in {"Succeeded", "Failed"}

        while not reported():
            self._wait_until(min(deadline, self.clock.now() + self._tick), reported)
            if reported():
                break
            if run.finished() and not reported():
                # The invocation ended without a report: none can come any more; the hour passes.
                self.clock.advance(max(0.0, deadline - self.clock.now()))
            if self.clock.now() >= deadline:
                self.event("HookReport", lifecycle_event=lifecycle_event, status="none within one hour")
                raise _Stop(f"{lifecycle_event} hook {hook} did not report within one hour")
        status = self.ports.hook_status(self.id, execution)
        self.event("HookReport", lifecycle_event=lifecycle_event, status=status, hook=hook)
        if status == "Failed":
            raise _Stop(f"{lifecycle_event} hook {hook} reported Failed")


class _Stop(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def run_in_parallel(deployments: Sequence[Deployment]) -> list[DeploymentOutcome]:
    """Run deployment groups at once, as one stack update starts them; outcomes in the same order."""
    outcomes: list[DeploymentOutcome | None] = [None] * len(deployments)

    def run(index: int) -> None:
        outcomes[index] = deployments[index].run()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(deployments))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [outcome for outcome in outcomes if outcome is not None]
