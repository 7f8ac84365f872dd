"""A traffic hook's run: exercise the target, check the alarms and the endpoint, clean up, report."""

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from store_reply_hooks.aws import (
    AlarmWatch,
    CodeDeployReporter,
    InvocationError,
    LambdaInvoker,
    ReservedUserCleaner,
    Status,
)
from store_reply_hooks.checks import RESERVED_USER, Check, load_event

logger = logging.getLogger(__name__)

# Time kept back from the function's timeout for the clean-up and the report.
RESERVE_MILLISECONDS = 20_000


@dataclass(frozen=True)
class Verdict:
    """What the hook reported, and why."""

    status: Status
    problems: list[str]


class EndpointCheck:
    """Sends a message through the deployed API, as a user would."""

    def __init__(self, api_url: str, timeout: float = 10) -> None:
        self._url = api_url.rstrip("/") + "/messages"
        self._timeout = timeout

    def problems(self) -> list[str]:
        """What went wrong calling the API; empty when it answered 201."""
        body = json.dumps({"user": RESERVED_USER, "message": "Deployment check: thank you!"}).encode()
        request = urllib.request.Request(  # noqa: S310 (the stack's own https URL)
            self._url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError as error:
            return [f"POST {self._url} failed: {error}"]
        return [] if status == 201 else [f"POST {self._url} answered {status}, expected 201"]


@dataclass
class TrafficHook:
    """Everything one hook does, wired to its collaborators."""

    checks: Sequence[Check]
    events_dir: Path
    invoker: LambdaInvoker
    cleaner: ReservedUserCleaner
    reporter: CodeDeployReporter
    max_milliseconds: float
    alarms: AlarmWatch | None = None
    endpoint: EndpointCheck | None = None

    def run(self, deployment_id: str, execution_id: str, remaining_ms: Callable[[], int]) -> Verdict:
        """Check, clean up and report ``Succeeded`` only if nothing went wrong; ``Failed`` otherwise."""
        problems: list[str] = []
        try:
            problems += self._exercise(remaining_ms)
            if self.alarms is not None:
                problems += [f"rollback alarm {name} is in ALARM" for name in self.alarms.firing()]
            if self.endpoint is not None:
                problems += self.endpoint.problems()
        except Exception as error:
            logger.exception("The hook failed")
            problems.append(f"the hook itself failed: {error}")
        finally:
            try:
                logger.info("Deleted %d test items", self.cleaner.clean())
            except Exception as error:
                logger.exception("Test data not deleted")
                problems.append(f"test data was not deleted: {error}")
        status: Status = "Failed" if problems else "Succeeded"
        for problem in problems:
            logger.error("Deployment check failed: %s", problem)
        self.reporter.report(deployment_id, execution_id, status)
        return Verdict(status, problems)

    def _exercise(self, remaining_ms: Callable[[], int]) -> list[str]:
        problems: list[str] = []
        for check in self.checks:
            if remaining_ms() < RESERVE_MILLISECONDS:
                return [*problems, f"out of time before '{check.name}'"]
            event = check.prepare(load_event(self.events_dir, check.event_file))
            try:
                invocation = self.invoker.invoke(event)
            except InvocationError as error:
                problems.append(f"{check.name}: {error}")
                continue
            problems += [f"{check.name}: {problem}" for problem in check.verify(invocation.payload)]
            if (took := invocation.milliseconds) > self.max_milliseconds:
                problems.append(f"{check.name}: took {took:.0f} ms, more than {self.max_milliseconds:.0f} ms")
        return problems
