"""A traffic hook's run: exercise the target, check the alarms and the endpoint, clean up, report.

CodeDeploy waits up to an hour for a hook that does not report, so the hook keeps time for its
report whatever happens: every step that can block starts only if its worst case fits in the
time left.
"""

import logging
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
    Invoker,
    Status,
)
from store_reply_hooks.checks import Check, load_event
from store_reply_hooks.outcomes import GoldenEndpoint, GoldenInvocations, GoldenQueue

logger = logging.getLogger(__name__)

# Worst cases of each step, from the clients' timeouts and attempts (store_reply_hooks.app; a test
# keeps them in step): the report's own attempts are always kept back.
REPORT_MS = 35_000
INVOKE_MS = 64_000
CONTROL_CALL_MS = 21_000
HTTP_CALL_MS = 5_000  # one call to the deployed API (GoldenEndpoint's timeout)
QUEUE_WAIT_MS = 60_000  # how long the golden messages sent to the queue may take to be stored


def endpoint_ms(http_calls: int) -> int:
    """The worst case of the endpoint check: its HTTP calls, the check identity's Cognito calls, the
    table read."""
    return http_calls * HTTP_CALL_MS + (CheckIdentity.CALLS + 1) * CONTROL_CALL_MS


QUEUE_MS = CONTROL_CALL_MS + QUEUE_WAIT_MS + CONTROL_CALL_MS  # send, wait, the last table read


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


@dataclass
class TrafficHook:
    """Everything one hook does, wired to its collaborators."""

    checks: Sequence[Check]
    events_dir: Path
    invoker: Invoker
    cleaner: CheckDataCleaner
    reporter: CodeDeployReporter
    max_milliseconds: float
    alarms: AlarmWatch | None = None
    golden: GoldenInvocations | None = None  # before traffic: straight to the new version
    endpoint: GoldenEndpoint | None = None  # after traffic: through the deployed API
    queue: GoldenQueue | None = None  # after traffic: through the real queue
    _wrote: bool = field(default=False, init=False, repr=False)

    def run(self, deployment_id: str, execution_id: str, remaining_ms: Callable[[], int]) -> Verdict:
        """Check, clean up and report ``Succeeded`` only if nothing went wrong; ``Failed`` otherwise."""
        problems: list[str] = []
        budget = Budget(remaining_ms)
        user = check_user(deployment_id)
        self._wrote = False
        try:
            problems += self._exercise(deployment_id, user, budget)
            problems += self._outcomes(deployment_id, user, budget)
            if (alarms := self.alarms) is not None:
                problems += self._step(
                    budget,
                    CONTROL_CALL_MS,
                    "reading the alarms",
                    lambda: [f"rollback alarm {name} is in ALARM" for name in alarms.firing()],
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

    def _outcomes(self, deployment_id: str, user: str, budget: Budget) -> list[str]:
        """The golden set through each way in that this hook checks; problems prefixed ``golden set``."""
        problems: list[str] = []
        if (golden := self.golden) is not None:
            self._wrote = True
            problems += golden.problems(self.invoker, user, deployment_id, lambda: budget.allows(INVOKE_MS))
        if (endpoint := self.endpoint) is not None:
            self._wrote = True
            problems += self._step(
                budget, endpoint_ms(endpoint.http_calls), "calling the API", lambda: endpoint.problems(user)
            )
        if (queue := self.queue) is not None:
            self._wrote = True
            problems += self._step(
                budget, QUEUE_MS, "sending to the queue", lambda: queue.problems(user, deployment_id)
            )
        return [f"golden set: {problem}" for problem in problems]

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
