"""The HTTP API function, fed the API Gateway events from events/api through its real handler."""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import Stubber

from devkit.runtime.language_model import model_path
from store_reply.adapters.clients import AwsClients
from store_reply.settings import Settings
from store_reply.telemetry import LANGUAGE_DECISION_METRICS
from store_reply.wiring import build_service
from store_reply_api.app import create_handler
from tests.support.aws import (
    TABLE_NAME,
    FakeLambdaContext,
    Stubbed,
    emitted_metrics,
    expect_language,
    expect_translation,
    load_event,
    metric,
)

if TYPE_CHECKING:
    from mypy_boto3_comprehend import ComprehendClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_translate import TranslateClient

REPLY = "Thank you for your message!"
FRENCH_REPLY = "Merci pour votre message !"


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


CallApi = Callable[[dict[str, Any]], ApiResponse]


@pytest.fixture
def settings() -> Settings:
    return Settings.from_environ(
        {
            "TABLE_NAME": TABLE_NAME,
            "REPLY_MESSAGE": REPLY,
            "REPLY_LANGUAGE": "en",
            "LANGUAGE_DETECTION": "comprehend",
        }
    )


@pytest.fixture
def call_api(
    settings: Settings,
    dynamodb: "DynamoDBClient",
    comprehend: Stubbed["ComprehendClient"],
    translate: Stubbed["TranslateClient"],
    lambda_context: FakeLambdaContext,
) -> CallApi:
    """The real handler, wired to moto's DynamoDB and stubbed Comprehend and Translate."""
    clients = AwsClients(dynamodb=dynamodb, comprehend=comprehend.client, translate=translate.client)
    # A dev stage, where GET /send takes anonymous messages.
    handler = create_handler(lambda: build_service(settings, clients), anonymous_send=lambda: True)

    def call(event: dict[str, Any]) -> ApiResponse:
        response = handler(event, lambda_context)  # type: ignore[arg-type]
        headers = {name: ", ".join(values) for name, values in response["multiValueHeaders"].items()}
        return ApiResponse(response["statusCode"], headers, json.loads(response["body"]))

    return call


def stored_messages(dynamodb: "DynamoDBClient") -> list[dict[str, Any]]:
    """Every message in the table: users' and anonymous ones."""
    items = dynamodb.scan(TableName=TABLE_NAME)["Items"]
    return [item for item in items if item["pk"]["S"].startswith(("USER#", "ANON#"))]


def with_query(event: dict[str, Any], **query: str) -> dict[str, Any]:
    event["queryStringParameters"] = {**(event["queryStringParameters"] or {}), **query}
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in event["queryStringParameters"].items()}
    return event


def with_user(event: dict[str, Any], user: str, encoded: str) -> dict[str, Any]:
    """A history request for ``user``'s page, signed in as ``user``."""
    event["path"] = f"/messages/{encoded}"
    event["pathParameters"] = {"user": encoded}
    return signed_in_as(event, user)


def signed_in_as(event: dict[str, Any], user: str) -> dict[str, Any]:
    """The event as API Gateway passes it after verifying ``user``'s ID token."""
    event["requestContext"]["authorizer"]["claims"]["cognito:username"] = user
    return event


def sent_by(event: dict[str, Any], user: str, message: str) -> dict[str, Any]:
    """A POST of ``message`` signed in as ``user``, naming them in the body as the demo's clients do."""
    event["body"] = json.dumps({"user": user, "message": message})
    return signed_in_as(event, user)


def with_header(event: dict[str, Any], name: str, value: str) -> dict[str, Any]:
    event["headers"] = {**(event.get("headers") or {}), name: value}
    event["multiValueHeaders"] = {**(event.get("multiValueHeaders") or {}), name: [value]}
    return event


class TestReservedUserNames:
    """Names beginning with "__" are the deployment checks'; callers of the API cannot use them."""

    @pytest.mark.parametrize(
        "event",
        [
            load_event("api/post-message"),
            with_query(load_event("api/send"), user="__deployment-check__d-1"),
            with_user(load_event("api/history"), "__deployment-check__d-1", "__deployment-check__d-1"),
        ],
        ids=["post", "send", "history"],
    )
    def test_a_caller_cannot_write_or_read_as_a_reserved_user(
        self, call_api: CallApi, dynamodb: "DynamoDBClient", event: dict[str, Any]
    ) -> None:
        if event["httpMethod"] == "POST":
            sent_by(event, "__deployment-check__d-1", json.loads(event["body"])["message"])

        response = call_api(event)

        assert response.status == 422
        assert response.body["errors"] == [{"field": "user"}]
        assert stored_messages(dynamodb) == []

    def test_a_deployment_check_may_use_the_namespace(
        self, settings: Settings, dynamodb: "DynamoDBClient", comprehend: Any, translate: Any
    ) -> None:
        clients = AwsClients(dynamodb=dynamodb, comprehend=comprehend.client, translate=translate.client)
        handler = create_handler(lambda: build_service(settings, clients))
        event = load_event("api/post-message")
        sent_by(event, "__deployment-check__d-1", json.loads(event["body"])["message"])
        expect_language(comprehend, ("en", 0.99))
        marked = FakeLambdaContext(client_context=SimpleNamespace(custom={"deploymentCheck": "d-1"}))

        response = handler(event, marked)  # type: ignore[arg-type]

        assert response["statusCode"] == 201


class TestIdempotencyKey:
    # HTTP/2 clients send header names in lower case; API Gateway passes them as sent.
    @pytest.mark.parametrize("header", ["Idempotency-Key", "idempotency-key"])
    def test_a_retry_after_a_lost_answer_stores_the_message_once(
        self, call_api: CallApi, comprehend: Any, translate: Any, dynamodb: "DynamoDBClient", header: str
    ) -> None:
        expect_language(comprehend, ("fr", 0.98))
        expect_translation(translate, REPLY, "fr", FRENCH_REPLY)
        expect_language(comprehend, ("fr", 0.98))

        first = call_api(with_header(load_event("api/post-message"), header, "order-7"))
        retry = call_api(with_header(load_event("api/post-message"), header, "order-7"))

        assert (first.status, retry.status) == (201, 201)
        assert retry.body == first.body
        assert len(stored_messages(dynamodb)) == 1

    def test_the_same_key_for_another_message_is_refused_and_changes_nothing(
        self, call_api: CallApi, comprehend: Any, translate: Any, dynamodb: "DynamoDBClient"
    ) -> None:
        expect_language(comprehend, ("fr", 0.98))
        expect_translation(translate, REPLY, "fr", FRENCH_REPLY)
        call_api(with_header(load_event("api/post-message"), "Idempotency-Key", "order-7"))

        event = load_event("api/post-message")
        event["body"] = json.dumps({**json.loads(event["body"]), "message": "Another message entirely"})
        other = call_api(with_header(event, "Idempotency-Key", "order-7"))

        assert other.status == 422
        assert other.body["errors"] == [{"field": "header.idempotency-key"}]
        (item,) = stored_messages(dynamodb)
        assert item["message"]["S"] == "Bonjour, merci beaucoup pour votre aide hier soir"

    def test_an_empty_key_is_a_named_field_error(self, call_api: CallApi, dynamodb: "DynamoDBClient") -> None:
        response = call_api(with_header(load_event("api/post-message"), "Idempotency-Key", ""))

        assert response.status == 422
        assert "idempotency" in json.dumps(response.body["errors"]).lower()
        assert stored_messages(dynamodb) == []


class TestPostMessage:
    def test_replies_in_the_senders_language_and_stores_the_message(
        self, call_api: CallApi, comprehend: Any, translate: Any, dynamodb: "DynamoDBClient"
    ) -> None:
        expect_language(comprehend, ("en", 0.2), ("fr", 0.98))
        expect_translation(translate, REPLY, "fr", FRENCH_REPLY)

        response = call_api(load_event("api/post-message"))

        assert response.status == 201
        assert set(response.body) == {"id", "user", "language", "reply", "translated", "receivedAt"}
        assert response.body["language"] == "fr"
        assert response.body["reply"] == FRENCH_REPLY
        assert response.body["translated"] is True
        (item,) = stored_messages(dynamodb)
        assert item["id"]["S"] == response.body["id"]
        assert item["message"]["S"] == "Bonjour, merci beaucoup pour votre aide hier soir"
        assert item["language"]["S"] == "fr"

    def test_a_message_in_the_reply_language_is_never_translated(
        self, call_api: CallApi, comprehend: Any, translate: Any
    ) -> None:
        expect_language(comprehend, ("en", 0.99))

        response = call_api(load_event("api/post-message-english"))

        assert response.status == 201
        assert response.body["reply"] == REPLY
        assert response.body["translated"] is False
        assert translate.calls == []

    def test_accepts_a_base64_encoded_body(self, call_api: CallApi, comprehend: Any, translate: Any) -> None:
        expect_language(comprehend, ("es", 0.97))
        expect_translation(translate, REPLY, "es", "¡Gracias por tu mensaje!")

        response = call_api(load_event("api/post-message-base64"))

        assert response.status == 201
        assert response.body["user"] == "carol"

    def test_reports_the_function_version_with_its_metrics(
        self, call_api: CallApi, comprehend: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        expect_language(comprehend, ("en", 0.99))

        call_api(load_event("api/post-message-english"))

        (document,) = emitted_metrics(capsys.readouterr().out)
        assert document["FunctionVersion"] == "7"
        assert ["FunctionVersion"] in [d[-1:] for d in document["_aws"]["CloudWatchMetrics"][0]["Dimensions"]]
        assert metric(document, "MessageCharacters") == len("Thanks a lot for the quick answer yesterday")
        assert metric(document, "Replies") == 1
        assert metric(document, "DegradedReplies") == 0


class TestSend:
    def test_answers_like_the_demo_with_the_reply_under_message(
        self, call_api: CallApi, comprehend: Any, translate: Any, dynamodb: "DynamoDBClient"
    ) -> None:
        expect_language(comprehend, ("fr", 0.99))
        expect_translation(translate, REPLY, "fr", FRENCH_REPLY)

        response = call_api(load_event("api/send"))

        assert response.status == 200
        assert response.body["message"] == FRENCH_REPLY
        assert {"id", "user", "language", "reply", "translated", "receivedAt"} <= set(response.body)
        assert len(stored_messages(dynamodb)) == 1


class TestTranslationCache:
    def test_a_second_french_message_makes_no_translate_call(
        self, call_api: CallApi, comprehend: Any, translate: Any
    ) -> None:
        expect_language(comprehend, ("fr", 0.99))
        expect_language(comprehend, ("fr", 0.99))
        expect_translation(translate, REPLY, "fr", FRENCH_REPLY)

        first = call_api(load_event("api/post-message"))
        second = call_api(load_event("api/send"))

        assert translate.calls == ["TranslateText"]
        assert first.body["reply"] == second.body["reply"] == FRENCH_REPLY

    def test_a_new_container_reads_the_translation_from_the_table(
        self,
        settings: Settings,
        dynamodb: "DynamoDBClient",
        comprehend: Any,
        translate: Any,
        lambda_context: FakeLambdaContext,
    ) -> None:
        clients = AwsClients(dynamodb=dynamodb, comprehend=comprehend.client, translate=translate.client)
        expect_language(comprehend, ("fr", 0.99))
        expect_language(comprehend, ("fr", 0.99))
        expect_translation(translate, REPLY, "fr", FRENCH_REPLY)

        warm = create_handler(lambda: build_service(settings, clients))
        warm(load_event("api/post-message"), lambda_context)  # type: ignore[arg-type]
        cold = create_handler(lambda: build_service(settings, clients))
        response = cold(load_event("api/post-message"), lambda_context)  # type: ignore[arg-type]

        assert translate.calls == ["TranslateText"]
        assert json.loads(response["body"])["reply"] == FRENCH_REPLY


BAD_INPUT = [
    ("api/post-message-missing-message", 422, "body.message"),
    ("api/post-message-empty-message", 422, "body.message"),
    ("api/post-message-too-long", 422, "body.message"),
    ("api/post-message-control-user", 422, "body.user"),
    ("api/post-message-long-user", 422, "body.user"),
    ("api/send-missing-message", 422, "query.message"),
    ("api/history-bad-limit", 422, "query.limit"),
]


class TestBadInput:
    @pytest.mark.parametrize(("event", "status", "field"), BAD_INPUT)
    def test_names_the_field_and_stores_nothing(
        self,
        call_api: CallApi,
        comprehend: Any,
        dynamodb: "DynamoDBClient",
        event: str,
        status: int,
        field: str,
    ) -> None:
        response = call_api(load_event(event))

        assert response.status == status
        assert field in [error["field"] for error in response.body["errors"]]
        assert stored_messages(dynamodb) == []
        assert comprehend.calls == []

    def test_malformed_json_is_a_bad_request(self, call_api: CallApi, dynamodb: "DynamoDBClient") -> None:
        response = call_api(load_event("api/post-message-malformed-json"))

        assert response.status == 400
        assert "JSON" in response.body["message"]
        assert stored_messages(dynamodb) == []

    def test_a_lone_surrogate_is_rejected_not_a_server_error(
        self, call_api: CallApi, dynamodb: "DynamoDBClient"
    ) -> None:
        event = load_event("api/post-message")
        event["body"] = '{"user": "alice", "message": "broken \\ud800 text"}'

        response = call_api(event)

        assert response.status == 422
        assert stored_messages(dynamodb) == []

    def test_a_garbled_page_token_is_a_bad_request(self, call_api: CallApi) -> None:
        response = call_api(load_event("api/history-bad-token"))

        assert response.status == 400
        assert response.body["errors"] == [{"field": "query.next"}]

    @pytest.mark.parametrize(
        "token",
        [
            base64.urlsafe_b64encode(b'{"t":"2026-01-01T00:00:00+00:00","i":"zz"}').decode(),
            base64.urlsafe_b64encode(b'{"pk":"USER#bob","sk":"MSG#"}').decode(),
            base64.urlsafe_b64encode(b'{"t":"2026-01-01T00:00:00","i":"' + b"a" * 32 + b'"}').decode(),
            "x" * 300,
        ],
    )
    def test_a_forged_page_token_is_a_bad_request(self, call_api: CallApi, token: str) -> None:
        response = call_api(with_query(load_event("api/history"), next=token))

        assert response.status == 400

    def test_an_unknown_route_is_not_found(self, call_api: CallApi) -> None:
        response = call_api(load_event("api/unknown-route"))

        assert response.status == 404

    def test_a_wrong_method_is_not_allowed_and_says_which_are(self, call_api: CallApi) -> None:
        response = call_api(load_event("api/wrong-method"))

        assert response.status == 405
        assert response.headers["Allow"] == "POST"


class TestFaults:
    def test_comprehend_down_still_stores_the_message_undetermined(
        self,
        call_api: CallApi,
        comprehend: Any,
        translate: Any,
        dynamodb: "DynamoDBClient",
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        comprehend.stubber.add_client_error(
            "detect_dominant_language", "InternalServerException", http_status_code=500
        )

        response = call_api(load_event("api/post-message"))

        assert response.status == 201
        assert response.body["language"] == "und"
        assert response.body["reply"] == REPLY
        assert response.body["translated"] is False
        assert translate.calls == []
        (item,) = stored_messages(dynamodb)
        assert item["language"]["S"] == "und"
        (document,) = emitted_metrics(capsys.readouterr().out)
        assert metric(document, "DegradedReplies") == 1

    def test_translate_throttled_falls_back_to_the_configured_reply(
        self,
        call_api: CallApi,
        comprehend: Any,
        translate: Any,
        dynamodb: "DynamoDBClient",
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        expect_language(comprehend, ("fr", 0.99))
        translate.stubber.add_client_error("translate_text", "ThrottlingException", http_status_code=400)

        response = call_api(load_event("api/post-message"))

        assert response.status == 201
        assert response.body["language"] == "fr"
        assert response.body["reply"] == REPLY
        assert response.body["translated"] is False
        assert len(stored_messages(dynamodb)) == 1
        (document,) = emitted_metrics(capsys.readouterr().out)
        assert metric(document, "DegradedReplies") == 1

    def test_dynamodb_failing_is_503_and_claims_nothing(
        self,
        call_api: CallApi,
        comprehend: Any,
        dynamodb: "DynamoDBClient",
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        expect_language(comprehend, ("en", 0.99))
        with Stubber(dynamodb) as failing:
            failing.add_client_error(
                "put_item", "ProvisionedThroughputExceededException", http_status_code=400
            )
            response = call_api(load_event("api/post-message-english"))

        assert response.status == 503
        assert response.headers["Retry-After"] == "2"
        assert "id" not in response.body
        assert stored_messages(dynamodb) == []
        (document,) = emitted_metrics(capsys.readouterr().out)
        assert metric(document, "StoreFailures") == 1

    def test_an_unreadable_history_is_503_and_no_message_is_counted_as_lost(
        self, call_api: CallApi, dynamodb: "DynamoDBClient", capsys: pytest.CaptureFixture[str]
    ) -> None:
        with Stubber(dynamodb) as failing:
            failing.add_client_error("query", "ProvisionedThroughputExceededException", http_status_code=400)
            response = call_api(load_event("api/history"))

        assert (response.status, response.body) == (
            503,
            {"message": "The history could not be read; nothing was changed. Try again shortly."},
        )
        assert response.headers["Retry-After"] == "2"
        (document,) = emitted_metrics(capsys.readouterr().out)
        # Not a message the canary's degraded share counts (StoreFailures among Replies).
        assert metric(document, "HistoryReadFailures") == 1
        assert "StoreFailures" not in document


class TestHistory:
    def test_pages_through_a_users_messages_newest_first(
        self, call_api: CallApi, comprehend: Any, dynamodb: "DynamoDBClient"
    ) -> None:
        sent: list[str] = []
        for _ in range(3):
            expect_language(comprehend, ("en", 0.99))
            event = sent_by(load_event("api/post-message-english"), "alice", f"Message number {len(sent)}")
            sent.append(call_api(event).body["id"])

        first = call_api(load_event("api/history"))
        second = call_api(with_query(load_event("api/history"), next=first.body["next"]))

        assert first.status == second.status == 200
        assert [m["id"] for m in first.body["messages"]] == sent[::-1][:2]
        assert [m["id"] for m in second.body["messages"]] == sent[:1]
        assert second.body["next"] is None

    def test_only_the_named_users_messages_are_returned(self, call_api: CallApi, comprehend: Any) -> None:
        expect_language(comprehend, ("en", 0.99))
        call_api(load_event("api/post-message-english"))  # from bob

        response = call_api(load_event("api/history"))  # alice's

        assert response.body == {"user": "alice", "messages": [], "next": None}

    def test_decodes_a_percent_encoded_user(self, call_api: CallApi, comprehend: Any) -> None:
        expect_language(comprehend, ("en", 0.99))
        event = sent_by(load_event("api/post-message-english"), "Zoë B", "Hello from Zoë")
        call_api(event)

        response = call_api(with_user(load_event("api/history"), "Zoë B", "Zo%C3%AB%20B"))

        assert response.body["user"] == "Zoë B"
        assert [m["message"] for m in response.body["messages"]] == ["Hello from Zoë"]


LANGUAGE_DECISIONS = list(LANGUAGE_DECISION_METRICS.values())  # local, Comprehend, undetermined


def uncertain_message() -> dict[str, Any]:
    """A POST whose text the local model is not confident about, long enough for Comprehend."""
    return sent_by(load_event("api/post-message-english"), "ana", "ok ok ok ok 12345 67890 !!")


class TestHybridDetection:
    """The default policy on the real handler: fastText first, Comprehend for what it is unsure of."""

    @pytest.fixture
    def settings(self) -> Settings:
        return Settings.from_environ(
            {
                "TABLE_NAME": TABLE_NAME,
                "REPLY_MESSAGE": REPLY,
                "REPLY_LANGUAGE": "en",
                "LANGUAGE_MODEL": str(model_path()),
            }
        )

    def test_a_confident_message_is_answered_without_comprehend_and_counted_as_local(
        self, call_api: CallApi, comprehend: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        response = call_api(load_event("api/post-message-english"))

        assert (response.status, response.body["language"]) == (201, "en")
        assert comprehend.calls == []
        (document,) = emitted_metrics(capsys.readouterr().out)
        assert [metric(document, name) for name in LANGUAGE_DECISIONS] == [1, 0, 0]

    def test_an_uncertain_message_asks_comprehend_and_is_counted_as_comprehend(
        self, call_api: CallApi, comprehend: Any, capsys: pytest.CaptureFixture[str]
    ) -> None:
        expect_language(comprehend, ("en", 0.99))
        event = uncertain_message()

        assert call_api(event).status == 201
        assert comprehend.calls == ["DetectDominantLanguage"]
        (document,) = emitted_metrics(capsys.readouterr().out)
        assert [metric(document, name) for name in LANGUAGE_DECISIONS] == [0, 1, 0]

    def test_comprehend_failing_degrades_the_reply_and_still_stores_the_message(
        self,
        call_api: CallApi,
        comprehend: Any,
        dynamodb: "DynamoDBClient",
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        comprehend.stubber.add_client_error(
            "detect_dominant_language", "ThrottlingException", http_status_code=400
        )
        event = uncertain_message()

        response = call_api(event)

        assert (response.status, response.body["language"]) == (201, "und")
        assert len(stored_messages(dynamodb)) == 1
        (document,) = emitted_metrics(capsys.readouterr().out)
        assert [metric(document, name) for name in LANGUAGE_DECISIONS] == [0, 0, 1]
        assert metric(document, "DegradedReplies") == 1


class TestIdentity:
    """Who a message is from, and whose history is read, come from the verified token's claims only."""

    def test_a_message_is_stored_under_the_signed_in_user_whatever_the_body_leaves_out(
        self, call_api: CallApi, comprehend: Any, dynamodb: "DynamoDBClient"
    ) -> None:
        expect_language(comprehend, ("en", 0.99))
        event = signed_in_as(load_event("api/post-message-english"), "alice")
        event["body"] = json.dumps({"message": "Thanks a lot for the quick answer yesterday"})

        response = call_api(event)

        assert (response.status, response.body["user"]) == (201, "alice")
        assert [item["pk"]["S"] for item in stored_messages(dynamodb)] == ["USER#alice"]

    def test_a_body_naming_another_user_is_refused_and_stores_nothing(
        self, call_api: CallApi, dynamodb: "DynamoDBClient"
    ) -> None:
        event = signed_in_as(load_event("api/post-message-english"), "alice")  # the body says bob

        response = call_api(event)

        assert response.status == 403
        assert stored_messages(dynamodb) == []

    @pytest.mark.parametrize("name", ["api/post-message", "api/history", "api/my-history"])
    def test_without_verified_claims_a_signed_in_route_is_401(self, call_api: CallApi, name: str) -> None:
        event = load_event(name)
        del event["requestContext"]["authorizer"]

        response = call_api(event)

        assert (response.status, response.body["message"]) == (
            401,
            "sign in: this route needs a Cognito ID token in the Authorization header",
        )

    def test_my_history_is_the_signed_in_user_s(self, call_api: CallApi, comprehend: Any) -> None:
        expect_language(comprehend, ("en", 0.99))
        expect_language(comprehend, ("en", 0.99))
        call_api(sent_by(load_event("api/post-message-english"), "alice", "Mine, from alice"))
        call_api(load_event("api/post-message-english"))  # bob's

        response = call_api(signed_in_as(load_event("api/my-history"), "alice"))

        assert response.status == 200
        assert response.body["user"] == "alice"
        assert [m["message"] for m in response.body["messages"]] == ["Mine, from alice"]

    def test_another_user_s_history_is_403(self, call_api: CallApi) -> None:
        response = call_api(signed_in_as(with_user(load_event("api/history"), "bob", "bob"), "alice"))

        assert (response.status, response.body["message"]) == (403, "you can read only your own history")

    def test_an_anonymous_message_is_kept_where_no_history_reads_it(
        self, call_api: CallApi, comprehend: Any, translate: Any, dynamodb: "DynamoDBClient"
    ) -> None:
        expect_language(comprehend, ("fr", 0.99))
        expect_translation(translate, REPLY, "fr", FRENCH_REPLY)

        sent = call_api(with_query(load_event("api/send"), user="alice"))
        alices = call_api(signed_in_as(load_event("api/my-history"), "alice"))

        assert sent.status == 200
        assert [item["pk"]["S"] for item in stored_messages(dynamodb)] == ["ANON#alice"]
        assert alices.body["messages"] == []

    def test_where_anonymous_messages_are_off_send_is_403_and_stores_nothing(
        self, settings: Settings, dynamodb: "DynamoDBClient", lambda_context: FakeLambdaContext
    ) -> None:
        clients = AwsClients(dynamodb=dynamodb)
        handler = create_handler(lambda: build_service(settings, clients), anonymous_send=lambda: False)

        response = handler(load_event("api/send"), lambda_context)  # type: ignore[arg-type]

        assert response["statusCode"] == 403
        assert "sign in" in json.loads(response["body"])["message"]
        assert stored_messages(dynamodb) == []
