"""What a rehearsal releases and how (its options), the deployment groups it plans, and its result."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devkit.local.stack import LocalStack
from devkit.rehearsal.engine import (
    DeploymentOutcome,
    Event,
    GroupPlan,
    traffic_steps,
)
from devkit.template import ROOT, Template, resources_of_type
from devkit.template.intrinsics import Resolver

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
    outcomes: list[DeploymentOutcome]
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


def faults_by_function(faults: str) -> dict[str, str]:
    if not faults:
        return {}
    if faults == "hook-silent":
        return {"ApiPreTrafficHook": "silent", "ConsumerPreTrafficHook": "silent"}
    return {"ApiFunction": faults, "QueueConsumerFunction": faults}
