"""A rehearsal: the candidate released over the base on the local stack, as CodeDeploy would release it.

The plan comes from the candidate's expanded template for the chosen environment: each deployment
group of a function whose code, layers, environment or configuration changed, with its deployment
configuration, alarms, automatic rollback and the hooks of its alias's update policy. The real
hooks run in their own workers; load runs throughout; time is simulated and compressed.
"""

import contextlib
import json
import logging
import math
import random
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from devkit.cloud.clock import Clock
from devkit.cloud.metrics import MetricId, statistic
from devkit.language_model import labelled_texts
from devkit.local.intrinsics import Resolver
from devkit.local.stack import LocalOptions, LocalStack, free_port
from devkit.rehearsal.engine import (
    AlarmPollFailure,
    Deployment,
    Event,
    GroupPlan,
    Outcome,
    run_in_parallel,
    traffic_steps,
)
from devkit.rehearsal.report import write_report
from devkit.template import ROOT, Template, resources_of_type

logger = logging.getLogger("devkit.rehearsal")
MESSAGES = ROOT / "tests" / "data" / "chat_messages.tsv"
FIRST_RELEASE_MINUTES = 3.0


@dataclass(frozen=True)
class RehearsalOptions:
    """What to rehearse and how."""

    base: Path | None  # the released tree; None for a first release
    candidate: Path
    environment: str = "prod"
    speed: float = 15.0
    faults: str = ""  # DEVKIT_FAULTS for the candidate's versions, or "hook-silent"
    base_faults: str = ""  # DEVKIT_FAULTS for the released versions (an incident before the release)
    released_minutes: float = 0.0  # how long the released version serves alone before the update
    api_per_minute: float = 150.0
    queue_per_minute: float = 150.0
    seed: int = 0
    reports: Path = ROOT / "reports" / "rehearsal"
    data_dir: Path = ROOT / ".local" / "rehearsal" / "data"
    quiet: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, str] = field(default_factory=dict)  # template parameters besides Environment


@dataclass
class Result:
    """The verdict, and everything the report shows."""

    verdict: str  # "Succeeded", "Stopped and rolled back", "First release: OK", "Nothing to deploy", ...
    exit_code: int
    outcomes: list[Outcome]
    events: list[Event]
    samples: list[dict[str, Any]]
    alarm_changes: list[dict[str, Any]]
    plan: list[dict[str, Any]]
    started: float
    ended: float
    report: Path | None = None
    candidate_requests: int = 0
    # User requests through the live alias while the canary split traffic: function -> version -> count.
    canary_requests: dict[str, dict[str, int]] = field(default_factory=dict)
    answers: dict[str, dict[str, int]] = field(default_factory=dict)  # load kind -> answer -> count
    hook_problems: dict[str, list[str]] = field(default_factory=dict)  # each hook's last run, every problem


class StackPorts:
    """The engine's ports on the local stack: the live alias, the hooks, their reports, the alarms."""

    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.weights: dict[str, float] = {}
        self.hook_runs: dict[str, HookThread] = {}  # the last run of each hook
        self._cloudwatch = stack.client("cloudwatch")

    def shift(self, function: str, weight: float) -> None:
        name, candidate = self.stack.function_names[function], self.stack.candidates[function]
        functions = self.stack.functions
        if weight >= 1.0:
            functions.set_alias(name, "live", candidate)
        elif weight <= 0.0:
            functions.set_alias(name, "live", "1")
        else:
            functions.set_alias(name, "live", "1", {candidate: weight})
        self.weights[function] = weight

    def expect_hook(self, deployment_id: str, execution_id: str) -> None:
        self.stack.hooks.expect(deployment_id, execution_id)

    def run_hook(self, hook: str, deployment_id: str, execution_id: str) -> "HookThread":
        run = HookThread(
            self.stack, hook, {"DeploymentId": deployment_id, "LifecycleEventHookExecutionId": execution_id}
        )
        self.hook_runs[hook] = run
        run.start()
        return run

    def hook_status(self, deployment_id: str, execution_id: str) -> str:
        return str(self.stack.hooks.status(deployment_id, execution_id))

    def alarm_states(self, names: Sequence[str]) -> Mapping[str, str]:
        try:
            found = self._cloudwatch.describe_alarms(AlarmNames=list(names))["MetricAlarms"]
        except Exception as error:
            raise AlarmPollFailure(str(error)) from error
        states = {alarm["AlarmName"]: alarm["StateValue"] for alarm in found}
        if set(states) != set(names):
            raise AlarmPollFailure(f"alarms not found: {sorted(set(names) - set(states))}")
        return states


class HookThread(threading.Thread):
    """A hook invoked asynchronously (InvocationType Event), as CodeDeploy invokes it."""

    def __init__(self, stack: LocalStack, hook: str, event: dict[str, Any]) -> None:
        super().__init__(name=f"hook-{hook}", daemon=True)
        self.stack, self.hook, self.event = stack, hook, event
        self.problems: list[str] = []

    def run(self) -> None:
        outcome = self.stack.functions.invoke(self.hook, self.event).outcome
        if outcome.error is not None:
            self.problems = [outcome.error.strip().splitlines()[-1]]
        elif isinstance(outcome.result, dict):
            self.problems = [str(problem) for problem in outcome.result.get("problems", [])]

    def finished(self) -> bool:
        return not self.is_alive()


def plan_groups(expanded: Template, resolver: Resolver, stack: LocalStack) -> list[GroupPlan]:
    """The deployment groups of the functions the candidate changes, from the expanded template."""
    resources = expanded["Resources"]
    custom = {
        str(resolver.resolve(r["Properties"].get("DeploymentConfigName", name))): r["Properties"]
        for name, r in resources_of_type(expanded, "AWS::CodeDeploy::DeploymentConfig").items()
    }
    plans = []
    for alias in resources_of_type(expanded, "AWS::Lambda::Alias").values():
        update = alias.get("UpdatePolicy", {}).get("CodeDeployLambdaAliasUpdate")
        function = alias["Properties"]["FunctionName"]["Ref"]
        if update is None or function not in stack.candidates:
            continue
        group_id = update["DeploymentGroupName"]["Ref"]
        group = resources[group_id]["Properties"]
        alarms = group.get("AlarmConfiguration", {})
        configuration = str(
            resolver.resolve(group.get("DeploymentConfigName", "CodeDeployDefault.LambdaAllAtOnce"))
        )
        hooks = {
            key: update.get(key, {}).get("Ref") for key in ("BeforeAllowTrafficHook", "AfterAllowTrafficHook")
        }
        plans.append(
            GroupPlan(
                function=function,
                group=group_id,
                configuration=configuration,
                steps=tuple(traffic_steps(configuration, custom)),
                alarms=tuple(str(resolver.resolve(a["Name"])) for a in alarms.get("Alarms", [])),
                alarms_enabled=bool(alarms.get("Enabled", False)),
                ignore_poll_alarm_failure=bool(alarms.get("IgnorePollAlarmFailure", False)),
                auto_rollback=bool(group.get("AutoRollbackConfiguration", {}).get("Enabled", False)),
                before_hook=stack.hook_names.get(hooks["BeforeAllowTrafficHook"] or ""),
                after_hook=stack.hook_names.get(hooks["AfterAllowTrafficHook"] or ""),
            )
        )
    return plans


class Traffic(threading.Thread):
    """Users: API messages and queue messages in many languages, at a rate in simulated minutes.

    API messages are posted by signed-in users of the local pool (an ID token each, as the
    authorizer requires); queue messages name their user in the body, as producers do. Each
    answer's status is counted, so a load that cannot reach the function is seen, not assumed.
    """

    USERS = 8

    def __init__(
        self,
        stack: LocalStack,
        clock: Clock,
        per_minute: float,
        kind: str,
        seed: int,
        *,
        tokens: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(name=f"traffic-{kind}", daemon=True)
        self.stack, self.clock, self.kind = stack, clock, kind
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self.random = random.Random(seed)  # noqa: S311 (choosing test messages)
        self.messages = [text for _, text in labelled_texts(MESSAGES)]
        self.sent = 0
        self.answers: Counter[int | str] = Counter()
        self._stopping = threading.Event()
        self._sqs = stack.client("sqs") if kind == "queue" else None
        self._tokens = dict(tokens or {})

    @classmethod
    def sign_in(cls, stack: LocalStack) -> dict[str, str]:
        """An ID token for each of the load's users, signed up once before any sender starts."""
        return {user: stack.id_token(user) for user in (f"rehearsal-{n}" for n in range(cls.USERS))}

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        if not self.interval:
            return
        while not self._stopping.wait(self.clock.real_seconds(self.interval)):
            user = f"rehearsal-{self.random.randrange(self.USERS)}"
            message = self.random.choice(self.messages)
            try:
                self.answers[self._send(user, message)] += 1
            except Exception as error:  # an unreachable function is what the reach check reports
                self.answers[type(error).__name__] += 1
                logger.debug("traffic error", exc_info=True)
            self.sent += 1

    def _send(self, user: str, message: str) -> int | str:
        if self._sqs is not None:
            self._sqs.send_message(
                QueueUrl=self.stack.queue_urls["MessagesQueue"],
                MessageBody=json.dumps({"user": user, "message": message}),
            )
            return "queued"
        request = urllib.request.Request(  # noqa: S310 (the local API on loopback)
            f"{self.stack.options.api_url}/messages",
            data=json.dumps({"message": message}).encode(),
            headers={"Content-Type": "application/json", "Authorization": self._tokens[user]},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:  # an error answer is what the alarms are for
            return int(error.code)


def _through_alias(
    stack: LocalStack, function: str, version: str, metric: str, *, start: float = 0.0, end: float = math.inf
) -> list[float]:
    """A Lambda metric of one version, for invocations through the live alias (users', not hooks')."""
    name = stack.function_names[function]
    dimensions = {"FunctionName": name, "Resource": f"{name}:live", "ExecutedVersion": version}
    return stack.metrics.values(MetricId.of("AWS/Lambda", metric, dimensions), start, end)


def _per_version(stack: LocalStack, function: str, start: float, end: float) -> dict[str, dict[str, float]]:
    stats: dict[str, dict[str, float]] = {}
    for version in ["1", stack.candidates.get(function, "1")]:
        stats[version] = {
            "requests": float(
                len(_through_alias(stack, function, version, "Invocations", start=start, end=end))
            ),
            "errors": sum(_through_alias(stack, function, version, "Errors", start=start, end=end)),
            "p99": statistic(
                _through_alias(stack, function, version, "Duration", start=start, end=end), "p99"
            )
            or 0.0,
        }
    return stats


def canary_windows(events: Sequence[Event]) -> dict[str, tuple[float, float]]:
    """Per function, when its alias split traffic between two versions (from the first partial
    shift to the next shift, stop or rollback)."""
    windows: dict[str, tuple[float, float]] = {}
    opened: dict[str, float] = {}
    for event in sorted(events, key=lambda e: e.at):
        weight = event.detail.get("weight")
        if event.kind == "TrafficShifted" and weight is not None and 0 < weight < 1:
            opened.setdefault(event.function, event.at)
        elif event.function in opened and event.kind in {"TrafficShifted", "DeploymentFailure"}:
            windows[event.function] = (opened.pop(event.function), event.at)
    return windows


def canary_reach(stack: LocalStack, events: Sequence[Event]) -> dict[str, dict[str, int]]:
    """User requests each version served through the live alias during its canary window."""
    return {
        function: {
            version: len(_through_alias(stack, function, version, "Invocations", start=start, end=end))
            for version in ("1", stack.candidates[function])
        }
        for function, (start, end) in canary_windows(events).items()
        if function in stack.candidates
    }


MIN_JUDGED_WINDOW = 60.0  # simulated seconds of split traffic after which both versions must have served


def unreached(
    reach: Mapping[str, Mapping[str, int]], windows: Mapping[str, tuple[float, float]]
) -> list[str]:
    """The functions whose canary lasted long enough, yet one of whose versions served no user."""
    return [
        f"{function} (" + ", ".join(f"v{v} {n} requests" for v, n in counts.items()) + ")"
        for function, counts in reach.items()
        if windows[function][1] - windows[function][0] >= MIN_JUDGED_WINDOW and min(counts.values()) == 0
    ]


def rehearse(options: RehearsalOptions) -> Result:
    """Run the rehearsal and write its report; the result's exit code: 0 promoted, 1 rolled back."""
    clock = Clock(speed=options.speed)
    say: Callable[[str], None] = (lambda _: None) if options.quiet else (lambda text: print(text, flush=True))
    stack = LocalStack(
        LocalOptions(
            api_port=free_port(),
            aws_port=free_port(),
            data_dir=options.data_dir,
            template=options.candidate / "template.yaml",
            parameters={**options.parameters, "Environment": options.environment},
            clock=clock,
            faults=_faults_by_function(options.faults),
            base_root=options.base,
            base_faults=_faults_by_function(options.base_faults),
            quiet_functions=True,
            seed=options.seed,
        )
    )
    events: list[Event] = []
    lock = threading.Lock()

    def record(event: Event) -> None:
        with lock:
            events.append(event)
        say(f"  {_sim(event.at, started)}  {event.function}: {event.kind} {_detail(event.detail)}")

    started = clock.now()
    with _quiet_logs():
        result = _run(options, stack, clock, record, started, events, say)
    result.report = write_report(result, options)
    say(f"\nVerdict: {result.verdict}\nReport:  {result.report / 'index.html'}")
    return result


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """Request lines and failed batches are what the rehearsal is about, not what it prints."""
    quieter = {"werkzeug": logging.WARNING, "botocore": logging.WARNING, "urllib3": logging.WARNING}
    quieter["devkit.local"] = logging.ERROR
    levels = {name: logging.getLogger(name).level for name in quieter}
    for name, level in quieter.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def _run(  # noqa: PLR0917 (the rehearsal's moving parts, passed on)
    options: RehearsalOptions,
    stack: LocalStack,
    clock: Clock,
    record: Callable[[Event], None],
    started: float,
    events: list[Event],
    say: Callable[[str], None],
) -> Result:
    samples: list[dict[str, Any]] = []
    stack.start()
    try:
        plans = plan_groups(stack.expanded, stack.resolver(), stack)
        ports = StackPorts(stack)
        say(_plan_text(options, stack, plans))
        senders = 4  # several senders, so the rate holds at high speeds
        tokens = Traffic.sign_in(stack)
        traffic = [
            *(
                Traffic(
                    stack, clock, options.api_per_minute / senders, "api", options.seed + i, tokens=tokens
                )
                for i in range(senders)
            ),
            Traffic(stack, clock, options.queue_per_minute, "queue", options.seed + senders),
        ]
        for load in traffic:
            load.start()
        sampler_stop = threading.Event()

        def sample() -> None:
            while not sampler_stop.wait(clock.real_seconds(30)):
                now = clock.now()
                row: dict[str, Any] = {"at": now, "weights": dict(ports.weights), "functions": {}}
                for function in stack.function_names:
                    row["functions"][function] = _per_version(stack, function, now - 60, now)
                firing = [n for n, r in stack.alarms.alarms.items() if r.state != "OK"]
                row["alarms_not_ok"] = firing
                samples.append(row)
                say(_sample_text(row, started, stack))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        reach: dict[str, dict[str, int]] = {}  # a canary's user requests per version, once deployed
        if options.base is None:
            clock.sleep(FIRST_RELEASE_MINUTES * 60)
            firing = [n for n, r in stack.alarms.alarms.items() if r.state == "ALARM"]
            outcomes: list[Outcome] = []
            verdict = (
                "First release: alarms stayed OK"
                if not firing
                else f"First release: {', '.join(firing)} in ALARM"
            )
            code = 0 if not firing else 1
        elif not plans:
            outcomes, verdict, code = [], "Nothing to deploy: no guarded function changed", 0
        else:
            clock.sleep(options.released_minutes * 60)
            # The stack update: the candidate's alarms are created (or updated in place), then the
            # aliases' updates start the deployments; the replaced alarms go when the update completes.
            replaced = stack.update_alarms()
            deployments = [Deployment(plan, ports, clock, record) for plan in plans]
            outcomes = run_in_parallel(deployments)
            stack.alarms.delete(replaced)
            reach = canary_reach(stack, events)
            verdict, code = _verdict(outcomes, reach, events, stack, ports)
            clock.sleep(60)  # a last minute of load on what is now live
        sampler_stop.set()
        for load in traffic:
            load.stop()
        changes = [
            {
                "at": at,
                "alarm": name,
                "from": old,
                "to": new,
                "datapoints": [[t, v] for t, v in evaluation.datapoints],
                "reason": evaluation.reason,
            }
            for at, name, old, new, evaluation in stack.alarms.changes
        ]
        candidate_requests = sum(
            len(_through_alias(stack, function, version, "Invocations"))
            for function, version in stack.candidates.items()
        )
        result = Result(
            verdict=verdict,
            exit_code=code,
            outcomes=outcomes,
            events=events,
            samples=samples,
            alarm_changes=changes,
            plan=[{**asdict(p), "steps": [asdict(s) for s in p.steps]} for p in plans],
            started=started,
            ended=clock.now(),
            candidate_requests=candidate_requests,
            canary_requests=reach,
            answers=_answers(traffic),
            hook_problems={hook: list(run.problems) for hook, run in ports.hook_runs.items()},
        )
    finally:
        stack.stop()
    return result


def _verdict(
    outcomes: Sequence[Outcome],
    reach: Mapping[str, Mapping[str, int]],
    events: Sequence[Event],
    stack: LocalStack,
    ports: StackPorts,
) -> tuple[str, int]:
    """CodeDeploy's verdict and the exit code; a canary no user reached decided nothing (2)."""
    if missed := unreached(reach, canary_windows(events)):
        return "Could not judge: the load reached no version of " + "; ".join(missed), 2
    failed = [o for o in outcomes if o.status == "Failed"]
    if not failed:
        return "Succeeded", 0
    stops = "; ".join(f"{o.function}: {o.reason}{_why(o.reason, stack, ports)}" for o in failed)
    return f"Stopped and rolled back: {stops}", 1


def _answers(traffic: Sequence[Traffic]) -> dict[str, dict[str, int]]:
    """What the load got back, per kind (api, queue): HTTP statuses, "queued", or an error's name."""
    totals: dict[str, Counter[str]] = {}
    for load in traffic:
        totals.setdefault(load.kind, Counter()).update({str(k): v for k, v in load.answers.items()})
    return {kind: dict(counts) for kind, counts in totals.items()}


def _why(reason: str, stack: LocalStack, ports: StackPorts) -> str:
    """What decided a stop: the alarm's datapoints, or the problems the hook reported."""
    for name, record in stack.alarms.alarms.items():
        if name in reason and record.last is not None:
            values = ", ".join("-" if v is None else f"{v:g}" for _, v in record.last.datapoints)
            return f" (datapoints, oldest first: [{values}]; {record.last.reason})"
    for hook, run in ports.hook_runs.items():
        if hook in reason:
            run.join(timeout=60)  # it reports before its invocation returns the problems
        if hook in reason and run.problems:
            more = f"; and {len(run.problems) - 3} more, in the report" if len(run.problems) > 3 else ""
            return f" (the hook reported: {'; '.join(run.problems[:3])}{more})"
    return ""


def _faults_by_function(faults: str) -> dict[str, str]:
    if not faults:
        return {}
    if faults == "hook-silent":
        return {"ApiPreTrafficHook": "silent", "ConsumerPreTrafficHook": "silent"}
    return {"ApiFunction": faults, "QueueConsumerFunction": faults}


def _sim(at: float, started: float) -> str:
    seconds = max(0, int(at - started))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _detail(detail: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in detail.items())


def _plan_text(options: RehearsalOptions, stack: LocalStack, plans: Sequence[GroupPlan]) -> str:
    lines = [
        f"Rehearsal: Environment={options.environment}, time x{options.speed:g} "
        f"(a simulated minute every {60 / options.speed:.1f} s), load {options.api_per_minute:g} API "
        f"and {options.queue_per_minute:g} queue messages a minute, faults: {options.faults or 'none'}",
    ]
    for plan in plans:
        lines.append(
            f"  {plan.function}: version 1 -> {stack.candidates[plan.function]} with {plan.configuration}; "
            f"hooks {plan.before_hook or '-'} / {plan.after_hook or '-'}; "
            f"alarms {', '.join(a.removeprefix(stack.options.stack_name + '-') for a in plan.alarms)}"
        )
    unchanged = sorted(set(stack.function_names) - {p.function for p in plans})
    if unchanged:
        lines.append(f"  unchanged, no deployment: {', '.join(unchanged)}")
    if options.base is None:
        lines.append("  first release: the alias is created on the new version, no CodeDeploy deployment")
    return "\n".join(lines)


def _sample_text(row: Mapping[str, Any], started: float, stack: LocalStack) -> str:
    parts = [f"  {_sim(row['at'], started)}"]
    for function, versions in row["functions"].items():
        weight = row["weights"].get(function)
        shown = ", ".join(
            f"v{v} {int(s['requests'])} req {int(s['errors'])} err p99 {s['p99']:.0f} ms"
            for v, s in versions.items()
        )
        parts.append(
            f"{function.replace('Function', '')}[{'' if weight is None else f'{weight:.0%} '}{shown}]"
        )
    if row["alarms_not_ok"]:
        parts.append(
            "not OK: "
            + ", ".join(a.removeprefix(stack.options.stack_name + "-") for a in row["alarms_not_ok"])
        )
    return "  ".join(parts)
