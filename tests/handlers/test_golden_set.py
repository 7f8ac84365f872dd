"""The golden set: a version that answers 200 and is wrong fails its hooks.

Each golden message must be answered in its language with the configured reply translated into
it, and be in the table exactly once under the id, language and reply it was answered with. The
table is read directly. Run here on the real handlers with the offline language services (the
shipped model and the reply catalogue), as the local stack runs them.
"""

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from devkit.runtime.language_model import model_path
from store_reply.adapters.clients import AwsClients
from store_reply.adapters.dynamodb import DynamoMessageStore, user_partition
from store_reply.adapters.fasttext import FastTextLanguageIdentifier
from store_reply.adapters.offline import CatalogueTranslator
from store_reply.adapters.sqs import DeadLetterQueue
from store_reply.detection import LanguagePolicy
from store_reply.settings import QueueSettings, Settings
from store_reply.wiring import build_service
from store_reply_api.app import create_handler as create_api_handler
from store_reply_consumer.app import create_handler as create_consumer_handler
from store_reply_consumer.batch import QueueConsumer
from store_reply_hooks.aws import CheckDataReader, CheckIdentity, CheckMessageSender
from store_reply_hooks.golden import (
    Answer,
    ExpectedReplies,
    GoldenMessage,
    answer_problems,
    load_golden,
    one_per_language,
    stored_problems,
)
from store_reply_hooks.outcomes import Golden, GoldenEndpoint, GoldenInvocations, GoldenQueue
from tests.handlers.test_hooks import CHECK_USER, HOOK_EVENT, InProcess
from tests.support.aws import EVENTS, TABLE_NAME, Queues

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REPLY = "Thank you for your message!"
GOLDEN = load_golden(EVENTS)
OFFLINE = {
    "TABLE_NAME": TABLE_NAME,
    "REPLY_MESSAGE": REPLY,
    "REPLY_LANGUAGE": "en",
    "LANGUAGE_SERVICES": "offline",
    "LANGUAGE_DETECTION": "local",
    "LANGUAGE_MODEL": str(model_path()),
}
DEPLOYMENT = HOOK_EVENT["DeploymentId"]


def replies() -> ExpectedReplies:
    return ExpectedReplies(REPLY, "en", CatalogueTranslator())


def golden(dynamodb: "DynamoDBClient", messages: list[GoldenMessage] = GOLDEN) -> Golden:
    return Golden(messages, replies(), CheckDataReader(dynamodb, TABLE_NAME))


def always() -> bool:
    return True


class TestTheGoldenSet:
    def test_it_has_twenty_messages_in_eight_languages_one_in_a_non_latin_script(self) -> None:
        languages = {m.language for m in GOLDEN}

        assert len(GOLDEN) >= 20
        assert len(languages) >= 8
        assert languages & {"ru", "ar", "ja", "ko", "zh", "el", "hi"}
        assert len({m.message for m in GOLDEN}) == len(GOLDEN)  # the table is matched by text

    def test_the_shipped_model_decides_each_message_as_labelled_at_the_default_confidence(
        self, template: dict[str, Any]
    ) -> None:
        confidence = float(template["Parameters"]["LanguageConfidence"]["Default"])
        policy = LanguagePolicy(
            "local", local=FastTextLanguageIdentifier(model_path()), service=None, confidence=confidence
        )

        assert [policy.decide(m.message).language for m in GOLDEN] == [m.language for m in GOLDEN]

    def test_every_golden_language_has_a_translated_reply(self) -> None:
        expected = replies()

        assert all(expected.for_language(m.language) != REPLY for m in GOLDEN)


def item(message: GoldenMessage, reply: str, id_: str = "a1", language: str | None = None) -> dict[str, Any]:
    return {
        "id": {"S": id_},
        "message": {"S": message.message},
        "language": {"S": language or message.language},
        "reply": {"S": reply},
    }


class TestWhatTheChecksFind:
    FR = GoldenMessage("fr", "Merci beaucoup pour votre aide avec ma commande.")
    REPLY_FR = "Merci pour votre message !"

    def expected(self) -> list[tuple[GoldenMessage, str]]:
        return [(self.FR, self.REPLY_FR)]

    def test_a_message_stored_once_as_answered_has_no_problem(self) -> None:
        answers = {self.FR.message: Answer("a1", "fr", self.REPLY_FR)}

        assert stored_problems(self.expected(), answers, [item(self.FR, self.REPLY_FR)]) == []

    def test_a_missing_item(self) -> None:
        assert stored_problems(self.expected(), {}, []) == [
            f"'{self.FR.message[:37]}...' (fr) was not stored"
        ]

    def test_an_extra_write(self) -> None:
        twice = [item(self.FR, self.REPLY_FR, "a1"), item(self.FR, self.REPLY_FR, "b2")]

        (problem,) = stored_problems(self.expected(), {}, twice)

        assert "was stored 2 times" in problem

    def test_a_stored_id_other_than_the_answered_one(self) -> None:
        answers = {self.FR.message: Answer("a1", "fr", self.REPLY_FR)}

        (problem,) = stored_problems(self.expected(), answers, [item(self.FR, self.REPLY_FR, "zz")])

        assert "answered with id a1, stored as zz" in problem

    def test_a_wrong_language_answered_and_stored(self) -> None:
        answer = Answer("a1", "en", REPLY)
        stored = [item(self.FR, REPLY, language="en")]

        assert answer_problems(self.FR, self.REPLY_FR, answer) == [
            f"'{self.FR.message[:37]}...' answered in 'en', written in 'fr'",
            f"'{self.FR.message[:37]}...' (fr) got the reply {REPLY!r}, expected {self.REPLY_FR!r}",
        ]
        assert len(stored_problems(self.expected(), {}, stored)) == 2

    def test_a_wrong_reply_in_the_right_language(self) -> None:
        (problem,) = stored_problems(self.expected(), {}, [item(self.FR, REPLY)])

        assert "stored with the reply" in problem


@pytest.fixture
def offline_api(dynamodb: "DynamoDBClient") -> InProcess:
    clients = AwsClients(dynamodb=dynamodb)
    return InProcess(create_api_handler(lambda: build_service(Settings.from_environ(OFFLINE), clients)))


@pytest.fixture
def offline_consumer(dynamodb: "DynamoDBClient", queues: Queues) -> InProcess:
    settings = QueueSettings.from_environ(
        {**OFFLINE, "DEAD_LETTER_QUEUE_URL": queues.dead_letter_url, "MAX_RECEIVE_COUNT": "5"}
    )
    consumer = QueueConsumer(
        build_service(settings, AwsClients(dynamodb=dynamodb)),
        DeadLetterQueue(queues.client, queues.dead_letter_url),
        5,
    )
    return InProcess(create_consumer_handler(lambda: consumer))


@pytest.fixture
def losing_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A store that answers every fourth write as done without writing it."""
    save, save_all = DynamoMessageStore.save, DynamoMessageStore.save_all
    count = iter(range(10_000))

    def lost() -> bool:
        return next(count) % 4 == 3

    monkeypatch.setattr(DynamoMessageStore, "save", lambda self, m: True if lost() else save(self, m))
    monkeypatch.setattr(
        DynamoMessageStore, "save_all", lambda self, ms: save_all(self, [m for m in ms if not lost()])
    )


@pytest.mark.parametrize("kind", ["api", "queue"])
def test_the_current_code_answers_and_stores_the_golden_set_exactly(
    kind: str, offline_api: InProcess, offline_consumer: InProcess, dynamodb: "DynamoDBClient"
) -> None:
    version = offline_api if kind == "api" else offline_consumer

    problems = GoldenInvocations(kind, golden(dynamodb), EVENTS).problems(
        version, CHECK_USER, DEPLOYMENT, always
    )

    assert problems == []
    assert len(CheckDataReader(dynamodb, TABLE_NAME).messages(user_partition(CHECK_USER))) == len(GOLDEN)


@pytest.mark.parametrize("kind", ["api", "queue"])
def test_a_version_that_answers_but_loses_messages_is_caught(
    kind: str,
    offline_api: InProcess,
    offline_consumer: InProcess,
    dynamodb: "DynamoDBClient",
    losing_writes: None,
) -> None:
    version = offline_api if kind == "api" else offline_consumer

    problems = GoldenInvocations(kind, golden(dynamodb), EVENTS).problems(
        version, CHECK_USER, DEPLOYMENT, always
    )

    lost = [p for p in problems if p.endswith("was not stored")]
    assert len(lost) == len(GOLDEN) // 4
    assert len(problems) == len(lost)  # every other message answered and stored as it must be


def test_a_version_that_takes_every_message_for_english_is_caught(
    offline_api: InProcess, dynamodb: "DynamoDBClient", monkeypatch: pytest.MonkeyPatch
) -> None:
    from store_reply.detection import LanguageDecision  # noqa: PLC0415

    decide = LanguagePolicy.decide
    monkeypatch.setattr(
        LanguagePolicy, "decide", lambda self, text: LanguageDecision("en", decide(self, text).decided_by)
    )

    problems = GoldenInvocations("api", golden(dynamodb), EVENTS).problems(
        offline_api, CHECK_USER, DEPLOYMENT, always
    )

    # Answered in the wrong language with the wrong reply, and stored so: four problems a message.
    assert len(problems) == 4 * len(GOLDEN)
    assert "answered in 'en', written in 'fr'" in problems[0]


class DeployedApi(BaseHTTPRequestHandler):
    """A deployed API in front of the real handler: 401 without a token, the proxy integration with one."""

    handler: Callable[[dict[str, Any], Any], dict[str, Any]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if not self.headers.get("Authorization"):
            self.send_response(401)
            self.end_headers()
            return
        event = json.loads((EVENTS / "api/post-message.json").read_text())
        event["body"] = body
        event["requestContext"]["authorizer"]["claims"]["cognito:username"] = CHECK_USER
        event["requestContext"]["authorizer"]["claims"]["aud"] = "checks"  # the deployment-check client
        answer = type(self).handler(event, None)
        self.send_response(answer["statusCode"])
        self.end_headers()
        self.wfile.write(answer["body"].encode())

    def log_message(self, *_: Any) -> None:
        pass


class FakeIdentity(CheckIdentity):
    """Signs in without Cognito, remembering who exists."""

    def __init__(self) -> None:
        self.users: set[str] = set()

    def sign_in(self, user: str) -> str:
        self.users.add(user)
        return f"token-of-{user}"

    def remove(self, user: str) -> None:
        self.users.discard(user)


def test_through_the_deployed_api_the_check_user_signed_in_by_the_check_client_is_stored_once_per_language(
    dynamodb: "DynamoDBClient", lambda_context: Any
) -> None:
    clients = AwsClients(dynamodb=dynamodb)
    api = create_api_handler(
        lambda: build_service(Settings.from_environ(OFFLINE), clients), check_client=lambda: "checks"
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), DeployedApi)
    DeployedApi.handler = staticmethod(lambda event, _: api(event, lambda_context))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    identity = FakeIdentity()
    try:
        endpoint = GoldenEndpoint(f"http://127.0.0.1:{server.server_port}/v1", identity, golden(dynamodb))
        problems = endpoint.problems(CHECK_USER)
    finally:
        server.shutdown()

    assert problems == []
    assert identity.users == set()  # the check user is deleted whatever the outcome
    stored = CheckDataReader(dynamodb, TABLE_NAME).messages(user_partition(CHECK_USER))
    assert len(stored) == len(one_per_language(GOLDEN)) == len({m.language for m in GOLDEN})


def test_through_the_real_queue_the_golden_messages_are_watched_for_until_stored(
    dynamodb: "DynamoDBClient", queues: Queues, offline_consumer: InProcess
) -> None:
    from devkit.aws.sqs.events import lambda_event  # noqa: PLC0415

    def deliver(_: float) -> None:  # the event source mapping, between two reads of the table
        received = queues.client.receive_message(
            QueueUrl=queues.url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages", [])
        if received:
            offline_consumer.invoke(lambda_event(received, queues.arn), DEPLOYMENT)

    queue = GoldenQueue(CheckMessageSender(queues.client, queues.url), golden(dynamodb), sleep=deliver)

    assert queue.problems(CHECK_USER, DEPLOYMENT) == []


def test_the_real_queue_refuses_the_check_user_without_the_deployment_check_mark(
    dynamodb: "DynamoDBClient", queues: Queues, offline_consumer: InProcess, lambda_context: Any
) -> None:
    from devkit.aws.sqs.events import lambda_event  # noqa: PLC0415

    queues.client.send_message(
        QueueUrl=queues.url, MessageBody=json.dumps({"user": CHECK_USER, "message": GOLDEN[0].message})
    )
    received = queues.client.receive_message(QueueUrl=queues.url, AttributeNames=["All"])["Messages"]
    consumer_without_hook_context = offline_consumer._handler  # noqa: SLF001 (the mapping sets no client context)

    consumer_without_hook_context(lambda_event(received, queues.arn), lambda_context)

    assert CheckDataReader(dynamodb, TABLE_NAME).messages(user_partition(CHECK_USER)) == []


@pytest.mark.parametrize(("audience", "status"), [("checks", 201), ("public-client", 422)])
def test_only_the_deployment_check_client_may_write_as_the_reserved_check_user(
    audience: str, status: int, dynamodb: "DynamoDBClient", lambda_context: Any
) -> None:
    # Anyone may sign up through the public client, even under a reserved name: still refused.
    api = create_api_handler(
        lambda: build_service(Settings.from_environ(OFFLINE), AwsClients(dynamodb=dynamodb)),
        check_client=lambda: "checks",
    )
    event = json.loads((EVENTS / "api/post-message.json").read_text())
    event["requestContext"]["authorizer"]["claims"].update({"cognito:username": CHECK_USER, "aud": audience})
    event["body"] = json.dumps({"message": GOLDEN[0].message})

    assert api(event, lambda_context)["statusCode"] == status
