"""A traffic hook's run: exercise the target, check the alarms and the endpoint, clean up, report.

CodeDeploy waits up to an hour for a hook that does not report, so the hook keeps time for its
report whatever happens: every step that can block starts only if its worst case fits in the
time left.
"""

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from store_reply.adapters.dynamodb import user_partition
from store_reply.deployment_checks import check_user
from store_reply_hooks.aws import (
    AlarmWatch,
    CheckDataCleaner,
    CheckIdentity,
    CodeDeployReporter,
    InvocationError,
    LambdaInvoker,
    Status,
)
from store_reply_hooks.checks import Check, load_event

logger = logging.getLogger(__name__)

# Worst cases of each step, from the clients' timeouts and attempts (store_reply_hooks.app; a test
# keeps them in step): the report's own attempts are always kept back.
REPORT_MS = 35_000
INVOKE_MS = 64_000
CONTROL_CALL_MS = 21_000
# Two HTTP calls of 10 s and the check identity's Cognito calls.
ENDPOINT_MS = 2 * 10_000 + CheckIdentity.CALLS * CONTROL_CALL_MS


@dataclass(frozen=True)
class Budget:
    """The time left, with the report's share kept back."""

    remaining_ms: Callable[[], int]

    def allows(self, step_ms: int) -> bool:
        """True if a step taking ``step_ms`` at worst, then one clean-up call, fit before the report."""
        return self.remaining_ms() - REPORT_MS - CONTROL_CALL_MS >= step_ms

    def allows_cleanup_call(self) -> bool:
        """True if one more clean-up call fits before the report."""
        return self.remaining_ms() - REPORT_MS >= CONTROL_CALL_MS


@dataclass(frozen=True)
class Verdict:
    """What the hook reported, and why."""

    status: Status
    problems: list[str]


class EndpointCheck:
    """Calls the deployed API as a user would: without a token, then signed in as the check user."""

    HTTP_CALLS = 2

    def __init__(self, api_url: str, identity: CheckIdentity, timeout: float = 10) -> None:
        self._url = api_url.rstrip("/") + "/messages"
        self._identity = identity
        self._timeout = timeout

    def problems(self, user: str) -> list[str]:
        """What went wrong calling the API; empty when it answered both calls as it must.

        Without a token the authorizer must refuse (401). With the check user's ID token the
        request passes gateway, authorizer, alias and function, whose validation refuses the
        reserved user (422): the whole path is proven and nothing is stored.
        """
        problems = self._expect(401, None, "without a token")
        try:
            token = self._identity.sign_in(user)
            problems += self._expect(422, token, "as the reserved check user")
        finally:
            self._identity.remove(user)
        return problems

    def _expect(self, expected: int, token: str | None, how: str) -> list[str]:
        body = json.dumps({"message": "Deployment check: thank you!"}).encode()
        headers = {"Content-Type": "application/json", **({"Authorization": token} if token else {})}
        request = urllib.request.Request(  # noqa: S310 (the stack's own https URL)
            self._url, data=body, method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError as error:
            return [f"POST {self._url} {how} failed: {error}"]
        return (
            [] if status == expected else [f"POST {self._url} {how} answered {status}, expected {expected}"]
        )


@dataclass
class TrafficHook:
    """Everything one hook does, wired to its collaborators."""

    checks: Sequence[Check]
    events_dir: Path
    invoker: LambdaInvoker
    cleaner: CheckDataCleaner
    reporter: CodeDeployReporter
    max_milliseconds: float
    alarms: AlarmWatch | None = None
    endpoint: EndpointCheck | None = None
    _wrote: bool = field(default=False, init=False, repr=False)

    def run(self, deployment_id: str, execution_id: str, remaining_ms: Callable[[], int]) -> Verdict:
        """Check, clean up and report ``Succeeded`` only if nothing went wrong; ``Failed`` otherwise."""
        problems: list[str] = []
        budget = Budget(remaining_ms)
        user = check_user(deployment_id)
        self._wrote = False
        try:
            problems += self._exercise(deployment_id, user, budget)
            if (alarms := self.alarms) is not None:
                problems += self._step(
                    budget,
                    CONTROL_CALL_MS,
                    "reading the alarms",
                    lambda: [f"rollback alarm {name} is in ALARM" for name in alarms.firing()],
                )
            if (endpoint := self.endpoint) is not None:
                problems += self._step(
                    budget, ENDPOINT_MS, "calling the API", lambda: endpoint.problems(user)
                )
        except Exception as error:
            logger.exception("The hook failed")
            problems.append(f"the hook itself failed: {error}")
        finally:
            try:
                if self._wrote:  # nothing was sent, so nothing was stored
                    deleted = sum(
                        self.cleaner.clean(
                            user_partition(user, anonymous=anonymous), budget.allows_cleanup_call
                        )
                        for anonymous in (False, True)
                    )
                    logger.info("Deleted %d test items", deleted)
            except Exception as error:
                logger.exception("Test data not deleted")
                problems.append(f"test data was not deleted: {error}")
        status: Status = "Failed" if problems else "Succeeded"
        for problem in problems:
            logger.error("Deployment check failed: %s", problem)
        self.reporter.report(deployment_id, execution_id, status)
        return Verdict(status, problems)

    @staticmethod
    def _step(budget: Budget, worst_ms: int, name: str, step: Callable[[], list[str]]) -> list[str]:
        if not budget.allows(worst_ms):
            return [f"out of time before {name}"]
        return step()

    def _exercise(self, deployment_id: str, user: str, budget: Budget) -> list[str]:
        problems: list[str] = []
        for check in self.checks:
            if not budget.allows(INVOKE_MS):
                return [*problems, f"out of time before '{check.name}'"]
            event = check.prepare(load_event(self.events_dir, check.event_file), user)
            self._wrote = True
            try:
                invocation = self.invoker.invoke(event, deployment_id)
            except InvocationError as error:
                problems.append(f"{check.name}: {error}")
                continue
            problems += [f"{check.name}: {problem}" for problem in check.verify(invocation.payload, user)]
            if (took := invocation.milliseconds) > self.max_milliseconds:
                problems.append(f"{check.name}: took {took:.0f} ms, more than {self.max_milliseconds:.0f} ms")
        return problems
