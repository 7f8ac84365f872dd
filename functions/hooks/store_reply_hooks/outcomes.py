"""The golden set sent through each way a message comes in, and the table read afterwards.

- ``GoldenInvocations``, before traffic: straight to the new version, every golden message (the
  API's POST /messages events, or the consumer's SQS batches of ten);
- ``GoldenEndpoint``, after traffic: through the deployed API, signed in as the check user (one
  message per language, each call bounded);
- ``GoldenQueue``, after traffic: through the real queue, then the table is watched until every
  message is in (or the time allowed runs out).

Each returns its problems; an empty list is the outcome the users rely on.
"""

import copy
import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store_reply.adapters.dynamodb import user_partition
from store_reply_hooks.aws import (
    CheckDataReader,
    CheckIdentity,
    CheckMessageSender,
    InvocationError,
    Invoker,
)
from store_reply_hooks.checks import api_event, load_event
from store_reply_hooks.golden import (
    Answer,
    ExpectedReplies,
    GoldenMessage,
    answer_problems,
    expectations,
    one_per_language,
    stored_problems,
)

QUEUE_BATCH = 10  # the consumer's event source mapping's BatchSize


@dataclass
class Golden:
    """The golden set, its expected replies, and the table's reader."""

    messages: Sequence[GoldenMessage]
    replies: ExpectedReplies
    reader: CheckDataReader

    def verify(self, user: str, sent: Sequence[GoldenMessage], answers: dict[str, Answer]) -> list[str]:
        """What the answers and the table got wrong, for the messages ``sent`` as ``user``."""
        expected, problems = expectations(sent, self.replies)
        for golden, reply in expected:
            if (answer := answers.get(golden.message)) is not None:
                problems += answer_problems(golden, reply, answer)
        stored = self.reader.messages(user_partition(user))
        return problems + stored_problems(expected, answers, stored)


def _answer(payload: dict[str, Any]) -> Answer | str:
    """The answer in an API response, or what is wrong with the response."""
    if payload.get("statusCode") != 201:
        return f"status {payload.get('statusCode')}, expected 201: {str(payload.get('body'))[:200]}"
    try:
        body = json.loads(payload.get("body") or "null")
    except ValueError:
        return "the body is not JSON"
    if not isinstance(body, dict):
        return "the body is not an object"
    return Answer(id=body.get("id"), language=body.get("language"), reply=body.get("reply"))


@dataclass
class GoldenInvocations:
    """Every golden message, straight to the new version."""

    kind: str  # "api" or "queue"
    golden: Golden
    events_dir: Path

    def problems(
        self, invoker: Invoker, user: str, deployment_id: str, allows: Callable[[], bool]
    ) -> list[str]:
        problems: list[str] = []
        answers: dict[str, Answer] = {}
        sent = list(self.golden.messages)
        for event, batch in self._events(user, sent):
            if not allows():
                return [*problems, "out of time before the golden set was sent"]
            try:
                payload = invoker.invoke(event, deployment_id).payload
            except InvocationError as error:
                problems.append(str(error))
                continue
            if self.kind == "queue":
                failures = payload.get("batchItemFailures")
                if failures:
                    problems.append(f"{len(failures)} of {len(batch)} golden records failed")
                elif failures is None:
                    problems.append(f"no batchItemFailures in the answer: {str(payload)[:200]}")
                continue
            answer = _answer(payload)
            if isinstance(answer, str):
                problems.append(f"'{batch[0].message[:40]}': {answer}")
            else:
                answers[batch[0].message] = answer
        return problems + self.golden.verify(user, sent, answers)

    def _events(
        self, user: str, sent: Sequence[GoldenMessage]
    ) -> list[tuple[dict[str, Any], list[GoldenMessage]]]:
        if self.kind == "api":
            template = load_event(self.events_dir, "api/post-message.json")
            events = []
            for message in sent:
                event = api_event(copy.deepcopy(template), user)
                event["body"] = json.dumps({"message": message.message})
                events.append((event, [message]))
            return events
        record = load_event(self.events_dir, "sqs/batch.json")["Records"][0]
        batches = []
        for start in range(0, len(sent), QUEUE_BATCH):
            chunk = list(sent[start : start + QUEUE_BATCH])
            records = []
            for message in chunk:
                delivered = copy.deepcopy(record)
                delivered["messageId"] = str(uuid.uuid4())  # a fresh delivery each deployment
                delivered["body"] = json.dumps({"user": user, "message": message.message})
                delivered["attributes"]["ApproximateReceiveCount"] = "1"
                delivered["attributes"]["SentTimestamp"] = str(int(time.time() * 1000))
                records.append(delivered)
            batches.append(({"Records": records}, chunk))
        return batches


class GoldenEndpoint:
    """The deployed API as a user calls it: without a token (refused), then signed in as the check user."""

    def __init__(self, api_url: str, identity: CheckIdentity, golden: Golden, timeout: float = 5) -> None:
        self._url = api_url.rstrip("/") + "/messages"
        self._identity = identity
        self._golden = golden
        self._timeout = timeout
        self.sent = one_per_language(golden.messages)

    @property
    def http_calls(self) -> int:
        return 1 + len(self.sent)

    def problems(self, user: str) -> list[str]:
        """Without a token the authorizer must refuse (401); signed in, each golden message must be
        answered 201 in its language with its reply, and be stored once as answered."""
        status, _ = self._post("Deployment check: thank you!", None)
        problems = (
            [] if status == 401 else [f"POST {self._url} without a token answered {status}, expected 401"]
        )
        answers: dict[str, Answer] = {}
        try:
            token = self._identity.sign_in(user)
            for message in self.sent:
                status, body = self._post(message.message, token)
                answer = _answer({"statusCode": status, "body": body})
                if isinstance(answer, str):
                    problems.append(f"POST {self._url} '{message.message[:40]}' as the check user: {answer}")
                else:
                    answers[message.message] = answer
        finally:
            self._identity.remove(user)
        return problems + self._golden.verify(user, self.sent, answers)

    def _post(self, message: str, token: str | None) -> tuple[int | str, str]:
        headers = {"Content-Type": "application/json", **({"Authorization": token} if token else {})}
        request = urllib.request.Request(  # noqa: S310 (the stack's own https URL)
            self._url, data=json.dumps({"message": message}).encode(), method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                return int(response.status), response.read().decode()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read().decode(errors="replace")
        except OSError as error:
            return f"no answer ({error})", ""


class GoldenQueue:
    """The real queue: the golden messages sent as the check user, then watched for in the table."""

    def __init__(
        self,
        sender: CheckMessageSender,
        golden: Golden,
        wait_seconds: float = 60,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sender, self._golden = sender, golden
        self._wait, self._sleep, self._clock = wait_seconds, sleep, clock
        self.sent = one_per_language(golden.messages)

    def problems(self, user: str, deployment_id: str) -> list[str]:
        try:
            self._sender.send(user, [m.message for m in self.sent], deployment_id)
        except InvocationError as error:
            return [str(error)]
        texts = {m.message for m in self.sent}
        deadline = self._clock() + self._wait
        while self._clock() < deadline:
            stored = {
                i.get("message", {}).get("S") for i in self._golden.reader.messages(user_partition(user))
            }
            if texts <= stored:
                break
            self._sleep(1)
        return self._golden.verify(user, self.sent, {})
