"""A rehearsal: the candidate released over the base on the local stack, as CodeDeploy would release it.

The plan comes from the candidate's expanded template for the chosen environment: each deployment
group of a function whose code, layers, environment or configuration changed, with its deployment
configuration, alarms, automatic rollback and the hooks of its alias's update policy. The real
hooks run in their own workers; load runs throughout; time is simulated and compressed.
"""

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from devkit.aws.clock import Clock
from devkit.local.options import LocalOptions, free_port
from devkit.local.stack import LocalStack
from devkit.rehearsal.engine import (
    Deployment,
    DeploymentOutcome,
    Event,
    GroupPlan,
    run_in_parallel,
)
from devkit.rehearsal.load import (
    Traffic,
    answers_of,
    canary_reach,
    canary_windows,
    per_version,
    through_alias,
    unreached,
)
from devkit.rehearsal.plan import (
    FIRST_RELEASE_MINUTES,
    RehearsalOptions,
    Result,
    faults_by_function,
    plan_groups,
)
from devkit.rehearsal.ports import StackPorts
from devkit.rehearsal.report import write_report

logger = logging.getLogger("devkit.rehearsal")


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
            faults=faults_by_function(options.faults),
            base_root=options.base,
            base_faults=faults_by_function(options.base_faults),
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
        Traffic.sign_in(stack)
        traffic = [
            *(
                Traffic(stack, clock, options.api_per_minute / senders, "api", options.seed + i)
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
                    row["functions"][function] = per_version(stack, function, now - 60, now)
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
            outcomes: list[DeploymentOutcome] = []
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
            len(through_alias(stack, function, version, "Invocations"))
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
            answers=answers_of(traffic),
            hook_problems={hook: list(run.problems) for hook, run in ports.hook_runs.items()},
        )
    finally:
        stack.stop()
    return result


def _verdict(
    outcomes: Sequence[DeploymentOutcome],
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


def _why(reason: str, stack: LocalStack, ports: StackPorts) -> str:
    """What decided a stop: the datapoints that put the alarm in ALARM, or the problems the hook
    reported."""
    for name, record in stack.alarms.alarms.items():
        fired = [e for _, alarm, _, new, e in stack.alarms.changes if alarm == name and new == "ALARM"]
        evaluation = fired[-1] if fired else record.last
        if name in reason and evaluation is not None:
            values = ", ".join("-" if v is None else f"{v:g}" for _, v in evaluation.datapoints)
            return f" (datapoints, oldest first: [{values}]; {evaluation.reason})"
    for hook, run in ports.hook_runs.items():
        if hook in reason:
            run.join(timeout=60)  # it reports before its invocation returns the problems
        if hook in reason and run.problems:
            more = f"; and {len(run.problems) - 3} more, in the report" if len(run.problems) > 3 else ""
            return f" (the hook reported: {'; '.join(run.problems[:3])}{more})"
    return ""


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
