"""The rehearsal's load, as signed-in users send it, and whether it reached every version it judges."""

import json
import logging
import math
import random
import threading
from collections import Counter
from collections.abc import Mapping, Sequence

from devkit.aws.clock import Clock
from devkit.aws.cloudwatch.metrics import MetricId, statistic
from devkit.local.stack import LocalStack
from devkit.rehearsal.engine import (
    Event,
)
from devkit.runtime.language_model import labelled_texts
from devkit.template import ROOT

logger = logging.getLogger("devkit.rehearsal")
MESSAGES = ROOT / "tests" / "data" / "chat_messages.tsv"


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
    ) -> None:
        super().__init__(name=f"traffic-{kind}", daemon=True)
        self.stack, self.clock, self.kind = stack, clock, kind
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self.random = random.Random(seed)  # noqa: S311 (choosing test messages)
        self.messages = [text for _, text in labelled_texts(MESSAGES)]
        self.sent = 0
        self.answers: Counter[int | str] = Counter()
        self._stopping = threading.Event()
        self._users = stack.users
        if kind == "queue":
            self._users.aws("sqs")  # made here, before the sender's thread starts

    @classmethod
    def sign_in(cls, stack: LocalStack) -> None:
        """The load's users, signed up and in once, before any sender starts (their tokens are kept)."""
        for user in (f"rehearsal-{n}" for n in range(cls.USERS)):
            stack.users.id_token(user)

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
        if self.kind == "queue":
            body = json.dumps({"user": user, "message": message})
            self._users.send_to_queue(body, self.stack.queue_urls["MessagesQueue"])
            return "queued"
        return self._users.post_message(user, message).status  # an error answer is what the alarms are for


def through_alias(
    stack: LocalStack, function: str, version: str, metric: str, *, start: float = 0.0, end: float = math.inf
) -> list[float]:
    """A Lambda metric of one version, for invocations through the live alias (users', not hooks')."""
    name = stack.function_names[function]
    dimensions = {"FunctionName": name, "Resource": f"{name}:live", "ExecutedVersion": version}
    return stack.metrics.values(MetricId.of("AWS/Lambda", metric, dimensions), start, end)


def per_version(stack: LocalStack, function: str, start: float, end: float) -> dict[str, dict[str, float]]:
    stats: dict[str, dict[str, float]] = {}
    for version in ["1", stack.candidates.get(function, "1")]:
        stats[version] = {
            "requests": float(
                len(through_alias(stack, function, version, "Invocations", start=start, end=end))
            ),
            "errors": sum(through_alias(stack, function, version, "Errors", start=start, end=end)),
            "p99": statistic(through_alias(stack, function, version, "Duration", start=start, end=end), "p99")
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
            version: len(through_alias(stack, function, version, "Invocations", start=start, end=end))
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


def answers_of(traffic: Sequence[Traffic]) -> dict[str, dict[str, int]]:
    """What the load got back, per kind (api, queue): HTTP statuses, "queued", or an error's name."""
    totals: dict[str, Counter[str]] = {}
    for load in traffic:
        totals.setdefault(load.kind, Counter()).update({str(k): v for k, v in load.answers.items()})
    return {kind: dict(counts) for kind, counts in totals.items()}
