"""CodeDeploy's lifecycle hook status, which moto does not implement.

A deployment registers the hook executions it waits for; ``PutLifecycleEventHookExecutionStatus``
records a hook's report against them, with CodeDeploy's validation and errors.
"""

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STATUSES = {"Pending", "InProgress", "Succeeded", "Failed", "Skipped", "Unknown"}
FINAL = {"Succeeded", "Failed", "Skipped"}
DEPLOYMENT_ID = re.compile(r"^d-[A-Z0-9]{9}$")


class CodeDeployError(Exception):
    """An error CodeDeploy answers with: its type and message."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class HookExecutions:
    """The hook executions of one deployment and what each reported."""

    statuses: dict[str, str] = field(default_factory=dict)
    changed: threading.Condition = field(default_factory=threading.Condition)


class LifecycleHooks:
    """Hook executions by deployment, and their reports."""

    def __init__(self) -> None:
        self._deployments: dict[str, HookExecutions] = {}
        self._lock = threading.Lock()

    def expect(self, deployment_id: str, execution_id: str) -> None:
        """A deployment now waits for a report on ``execution_id``."""
        with self._lock:
            hooks = self._deployments.setdefault(deployment_id, HookExecutions())
        with hooks.changed:
            hooks.statuses[execution_id] = "Pending"

    def status(self, deployment_id: str, execution_id: str) -> str:
        """What the hook reported so far (Pending until it reports)."""
        return self._hooks(deployment_id).statuses[execution_id]

    def put(self, request: Mapping[str, Any]) -> dict[str, str]:
        """PutLifecycleEventHookExecutionStatus."""
        deployment_id = request.get("deploymentId")
        execution_id = request.get("lifecycleEventHookExecutionId")
        status = request.get("status")
        if not isinstance(deployment_id, str) or not DEPLOYMENT_ID.match(deployment_id):
            raise CodeDeployError("InvalidDeploymentIdException", f"{deployment_id!r} is not a deployment id")
        if status not in STATUSES:
            raise CodeDeployError("InvalidLifecycleEventHookExecutionStatusException", f"status {status!r}")
        hooks = self._hooks(deployment_id)
        with hooks.changed:
            if execution_id not in hooks.statuses:
                raise CodeDeployError(
                    "InvalidLifecycleEventHookExecutionIdException",
                    f"no lifecycle event hook execution {execution_id!r} in {deployment_id}",
                )
            if hooks.statuses[execution_id] in FINAL:
                raise CodeDeployError(
                    "LifecycleEventAlreadyCompletedException",
                    f"the lifecycle event of {execution_id!r} has already completed",
                )
            hooks.statuses[execution_id] = str(status)
            hooks.changed.notify_all()
        return {"lifecycleEventHookExecutionId": str(execution_id)}

    def _hooks(self, deployment_id: str) -> HookExecutions:
        with self._lock:
            if deployment_id not in self._deployments:
                raise CodeDeployError(
                    "DeploymentDoesNotExistException", f"Deployment {deployment_id} does not exist"
                )
            return self._deployments[deployment_id]
