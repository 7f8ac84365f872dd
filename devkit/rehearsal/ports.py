"""The deployment engine's ports on the local stack: the live alias, the hooks, their reports, the alarms."""

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from devkit.local.stack import LocalStack
from devkit.rehearsal.engine import (
    AlarmPollFailure,
)


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
        if outcome.error_message is not None:
            self.problems = [outcome.error_message]
        elif isinstance(outcome.result, dict):
            self.problems = [str(problem) for problem in outcome.result.get("problems", [])]

    def finished(self) -> bool:
        return not self.is_alive()
