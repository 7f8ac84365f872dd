"""What a hook verifies: the test events from events/, sent to a function, and what must come back.

Every event is rewritten to the deployment's own check user (``check_user``), in the namespace
the API refuses to callers; the hook deletes its messages afterwards, so a deployment leaves no
test data behind, and two deployments running at once never touch each other's.
"""

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

MESSAGE_FIELDS = frozenset({"id", "user", "language", "reply", "translated", "receivedAt"})

Payload = dict[str, Any]


@dataclass(frozen=True)
class Check:
    """One invocation and what its answer must be; ``verify`` returns the problems it finds."""

    name: str
    event_file: str
    prepare: Callable[[Payload, str], Payload]
    verify: Callable[[Payload, str], list[str]]


def api_event(event: Payload, user: str) -> Payload:
    if event.get("body") and not event.get("isBase64Encoded"):
        try:
            body = json.loads(event["body"])
        except ValueError:
            return event
        if isinstance(body, dict) and "user" in body:
            body["user"] = user
            event["body"] = json.dumps(body)
    for key in ("queryStringParameters", "pathParameters"):
        if event.get(key) and "user" in event[key]:
            event[key]["user"] = user
    if event.get("multiValueQueryStringParameters") and "user" in event["multiValueQueryStringParameters"]:
        event["multiValueQueryStringParameters"]["user"] = [user]
    if event.get("pathParameters"):
        event["path"] = f"/messages/{user}"
    claims = event.get("requestContext", {}).get("authorizer", {}).get("claims")
    if claims is not None:  # signed in as the check user, as API Gateway would pass it
        claims["cognito:username"] = user
    return event


def _queue_event(event: Payload, user: str) -> Payload:
    for record in event["Records"]:
        body = json.loads(record["body"])
        body["user"] = user
        record["body"] = json.dumps(body)
        record["messageId"] = str(uuid.uuid4())  # a fresh delivery each deployment
    return event


def _response(
    expected_status: int, fields: frozenset[str] = frozenset()
) -> Callable[[Payload, str], list[str]]:
    def verify(answer: Payload, user: str) -> list[str]:
        status = answer.get("statusCode")
        if status != expected_status:
            return [f"status {status}, expected {expected_status}: {str(answer.get('body'))[:200]}"]
        try:
            body = json.loads(answer.get("body") or "null")
        except ValueError:
            return ["the body is not JSON"]
        missing = fields - set(body or {})
        problems = [f"missing fields {sorted(missing)}"] if missing else []
        if fields and body.get("user") != user:
            problems.append(f"user {body.get('user')!r}, expected the deployment's check user")
        return problems

    return verify


def _history(answer: Payload, user: str) -> list[str]:
    problems = _response(200)(answer, user)
    if problems:
        return problems
    body = json.loads(answer["body"])
    if not body.get("messages"):
        return ["the history holds none of the messages just stored"]
    return []


def _no_failures(answer: Payload, _user: str) -> list[str]:
    failures = answer.get("batchItemFailures")
    if failures is None:
        return [f"no batchItemFailures in the answer: {str(answer)[:200]}"]
    return [f"{len(failures)} records failed"] if failures else []


ANONYMOUS_SEND = Check(
    "the demo route", "api/send.json", api_event, _response(200, MESSAGE_FIELDS | {"message"})
)
NO_ANONYMOUS_SEND = Check("the demo route", "api/send.json", api_event, _response(403))
# Where the stage takes anonymous messages (dev); elsewhere the demo route must refuse them.
API_CHECKS = (
    Check("store a message", "api/post-message.json", api_event, _response(201, MESSAGE_FIELDS)),
    ANONYMOUS_SEND,
    Check("read the history", "api/history.json", api_event, _history),
    Check("read my history", "api/my-history.json", api_event, _history),
    Check("refuse a missing field", "api/post-message-missing-message.json", api_event, _response(422)),
    Check("refuse malformed JSON", "api/post-message-malformed-json.json", api_event, _response(400)),
    Check("refuse a wrong method", "api/wrong-method.json", api_event, _response(405)),
)
QUEUE_CHECKS = (Check("store a batch", "sqs/batch.json", _queue_event, _no_failures),)


def checks_for(kind: Literal["api", "queue"], *, anonymous_send: bool = False) -> Sequence[Check]:
    """The checks for a kind of function; the demo route's answer depends on the anonymous mode."""
    if kind == "queue":
        return QUEUE_CHECKS
    if anonymous_send:
        return API_CHECKS
    return tuple(NO_ANONYMOUS_SEND if check is ANONYMOUS_SEND else check for check in API_CHECKS)


def load_event(events_dir: Path, name: str) -> Payload:
    """A test event, as the tests load it."""
    event: Payload = json.loads((events_dir / name).read_text())
    return event
