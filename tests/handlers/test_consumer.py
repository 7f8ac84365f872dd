"""The queue consumer, fed the SQS events from events/sqs and real messages from moto's SQS."""

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from devkit.aws.sqs.events import lambda_event
from store_reply.adapters.clients import AwsClients
from store_reply.adapters.sqs import DeadLetterQueue
from store_reply.models import Rejection
from store_reply.settings import Settings
from store_reply.wiring import build_service
from store_reply_consumer.app import create_handler
from store_reply_consumer.batch import QueueConsumer
from tests.support.aws import (
    TABLE_NAME,
    FakeLambdaContext,
    Queues,
    emitted_metrics,
    expect_languages,
    expect_translation,
    load_event,
    metric,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

REPLY = "Thank you for your message!"
MAX_RECEIVE_COUNT = 5
Consume = Callable[[dict[str, Any]], list[str]]


@pytest.fixture
def consumer_for(
    dynamodb: "DynamoDBClient",
    queues: Queues,
    comprehend: Any,
    translate: Any,
    lambda_context: FakeLambdaContext,
) -> Callable[..., Consume]:
    """Build the real handler, wired to moto and stubs; returns the ids it reports as failed."""

    def build(dead_letter_url: str | None = None) -> Consume:
        settings = Settings.from_environ(
            {
                "TABLE_NAME": TABLE_NAME,
                "REPLY_MESSAGE": REPLY,
                "REPLY_LANGUAGE": "en",
                "LANGUAGE_DETECTION": "comprehend",
            }
        )
        clients = AwsClients(dynamodb=dynamodb, comprehend=comprehend.client, translate=translate.client)
        consumer = QueueConsumer(
            service=build_service(settings, clients),
            rejected=DeadLetterQueue(queues.client, dead_letter_url or queues.dead_letter_url),
            max_receive_count=MAX_RECEIVE_COUNT,
        )
        handler = create_handler(lambda: consumer)

        def consume(event: dict[str, Any]) -> list[str]:
            response = handler(event, lambda_context)  # type: ignore[arg-type]
            return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]

        return consume

    return build


@pytest.fixture
def consume(consumer_for: Callable[..., Consume]) -> Consume:
    return consumer_for()


def stored(dynamodb: "DynamoDBClient") -> list[dict[str, Any]]:
    items = dynamodb.scan(TableName=TABLE_NAME)["Items"]
    return [item for item in items if item["pk"]["S"].startswith("USER#")]


def dead_letters(queues: Queues) -> "list[MessageTypeDef]":
    messages = queues.client.receive_message(
        QueueUrl=queues.dead_letter_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )
    return messages.get("Messages", [])


def record_ids(event: dict[str, Any]) -> list[str]:
    return [record["messageId"] for record in event["Records"]]


class TestBatches:
    def test_a_good_batch_is_stored_with_one_detection_and_one_write(
        self, consume: Consume, comprehend: Any, translate: Any, dynamodb: "DynamoDBClient"
    ) -> None:
        expect_languages(comprehend, "fr", "de", "en")
        expect_translation(translate, REPLY, "fr", "Merci pour votre message !")
        expect_translation(translate, REPLY, "de", "Danke für Ihre Nachricht!")

        failed = consume(load_event("sqs/batch"))

        assert failed == []
        assert comprehend.calls == ["BatchDetectDominantLanguage"]
        items = {item["user"]["S"]: item for item in stored(dynamodb)}
        assert {user: item["language"]["S"] for user, item in items.items()} == {
            "alice": "fr",
            "bruno": "de",
            "carol": "en",
        }
        assert items["alice"]["reply"]["S"] == "Merci pour votre message !"

    def test_a_mixed_batch_stores_the_good_once_and_sets_the_poison_aside(
        self,
        consume: Consume,
        comprehend: Any,
        translate: Any,
        dynamodb: "DynamoDBClient",
        queues: Queues,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        # alice, alice again (same delivery), frank, frank again (same idempotency key), carol
        expect_languages(comprehend, "fr", "fr", "es", "es", "en")
        expect_translation(translate, REPLY, "fr", "Merci pour votre message !")
        expect_translation(translate, REPLY, "es", "¡Gracias por tu mensaje!")

        failed = consume(load_event("sqs/batch-mixed"))

        assert failed == []
        assert sorted(item["user"]["S"] for item in stored(dynamodb)) == ["alice", "carol", "frank"]
        rejected = dead_letters(queues)
        assert sorted(m["Body"] for m in rejected) == sorted(
            [
                json.dumps({"user": "dave"}),
                "this is not JSON",
                json.dumps({"user": "erin", "message": "x" * 5001}),
            ]
        )
        reasons = {m["Body"]: m["MessageAttributes"]["RejectionReason"]["StringValue"] for m in rejected}
        assert reasons[json.dumps({"user": "dave"})] == "message: Field required"
        assert reasons["this is not JSON"].startswith("body: Invalid JSON")
        assert "at most 5000 characters" in reasons[json.dumps({"user": "erin", "message": "x" * 5001})]
        (document,) = emitted_metrics(capsys.readouterr().out)
        assert metric(document, "RecordsRejected") == 3
        assert metric(document, "RecordsFailed") == 0
        assert metric(document, "RecordsProcessed") == 8

    def test_a_record_delivered_twice_is_stored_once(
        self, consume: Consume, comprehend: Any, translate: Any, dynamodb: "DynamoDBClient"
    ) -> None:
        event = load_event("sqs/single")
        expect_languages(comprehend, "de")
        expect_languages(comprehend, "de")
        expect_translation(translate, REPLY, "de", "Danke für Ihre Nachricht!")

        assert consume(event) == []
        assert consume(event) == []

        assert len(stored(dynamodb)) == 1

    def test_a_message_resent_with_its_idempotency_key_is_stored_once(
        self, consume: Consume, comprehend: Any, dynamodb: "DynamoDBClient"
    ) -> None:
        body = json.dumps({"user": "gina", "message": "Thanks!", "idempotencyKey": "checkout-7"})
        first, again = load_event("sqs/single"), load_event("sqs/single")
        first["Records"][0]["body"] = again["Records"][0]["body"] = body
        again["Records"][0]["messageId"] = "another-delivery"
        again["Records"][0]["attributes"]["SentTimestamp"] = "1764158999000"
        expect_languages(comprehend, "en")
        expect_languages(comprehend, "en")

        consume(first)
        consume(again)

        (item,) = stored(dynamodb)
        assert item["receivedAt"]["S"].startswith("2025-11-26T12:00:00")

    def test_a_key_reused_for_another_message_is_set_aside_with_its_reason_not_retried(
        self, consume: Consume, comprehend: Any, queues: Queues, dynamodb: "DynamoDBClient"
    ) -> None:
        first, other = load_event("sqs/single"), load_event("sqs/single")
        first["Records"][0]["body"] = json.dumps(
            {"user": "gina", "message": "Thanks!", "idempotencyKey": "k"}
        )
        other["Records"][0]["body"] = json.dumps({"user": "gina", "message": "Other!", "idempotencyKey": "k"})
        other["Records"][0]["messageId"] = "another-message"
        expect_languages(comprehend, "en")
        expect_languages(comprehend, "en")

        consume(first)
        failed = consume(other)

        assert failed == []
        assert [item["message"]["S"] for item in stored(dynamodb)] == ["Thanks!"]
        (moved,) = dead_letters(queues)
        assert moved["MessageAttributes"]["SourceMessageId"]["StringValue"] == "another-message"
        assert "idempotency key" in moved["MessageAttributes"]["RejectionReason"]["StringValue"]

    def test_a_reserved_user_from_the_queue_is_set_aside_not_stored(
        self, consume: Consume, comprehend: Any, queues: Queues, dynamodb: "DynamoDBClient"
    ) -> None:
        event = load_event("sqs/single")
        event["Records"][0]["body"] = json.dumps({"user": "__deployment-check__d-1", "message": "Hi there"})
        expect_languages(comprehend, "en")

        failed = consume(event)

        assert failed == []
        assert stored(dynamodb) == []
        (moved,) = dead_letters(queues)
        assert "reserved" in moved["MessageAttributes"]["RejectionReason"]["StringValue"]


class TestFaults:
    def test_comprehend_throttled_stores_the_batch_undetermined_and_counts_it(
        self,
        consume: Consume,
        comprehend: Any,
        translate: Any,
        dynamodb: "DynamoDBClient",
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        comprehend.stubber.add_client_error("batch_detect_dominant_language", "ThrottlingException")

        failed = consume(load_event("sqs/batch"))

        assert failed == []
        assert {item["language"]["S"] for item in stored(dynamodb)} == {"und"}
        assert {item["translated"]["BOOL"] for item in stored(dynamodb)} == {False}
        assert translate.calls == []
        (document,) = emitted_metrics(capsys.readouterr().out)
        assert metric(document, "DegradedReplies") == 3

    def test_one_unreadable_document_degrades_only_its_record(
        self, consume: Consume, comprehend: Any, translate: Any, dynamodb: "DynamoDBClient"
    ) -> None:
        expect_languages(comprehend, None, "en", "en")
        event = load_event("sqs/batch")
        for record in event["Records"][1:]:
            record["body"] = json.dumps({"user": "hal", "message": f"Hello {record['messageId']}"})

        assert consume(event) == []

        assert sorted(item["language"]["S"] for item in stored(dynamodb)) == ["en", "en", "und"]

    def test_items_dynamodb_leaves_unprocessed_are_exactly_the_failures(
        self, consume: Consume, comprehend: Any, dynamodb: "DynamoDBClient", monkeypatch: pytest.MonkeyPatch
    ) -> None:
        event = load_event("sqs/batch")
        for record in event["Records"]:
            record["body"] = json.dumps({"user": "ivy", "message": f"Hello {record['messageId'][-1]}"})
        expect_languages(comprehend, "en", "en", "en")
        real_batch_write = dynamodb.batch_write_item
        attempts: list[int] = []

        def throttling_one_item(**request: Any) -> Any:
            """Writes every item but "Hello 2", which DynamoDB leaves unprocessed on every attempt."""
            requests = request["RequestItems"][TABLE_NAME]
            attempts.append(len(requests))
            written = [r for r in requests if r["PutRequest"]["Item"]["message"]["S"] != "Hello 2"]
            left = [r for r in requests if r not in written]
            if written:
                real_batch_write(RequestItems={TABLE_NAME: written})
            return {"UnprocessedItems": {TABLE_NAME: left} if left else {}}

        monkeypatch.setattr(dynamodb, "batch_write_item", throttling_one_item)
        failed = consume(event)

        assert failed == [event["Records"][1]["messageId"]]
        assert attempts == [3, 1, 1, 1]
        assert sorted(item["message"]["S"] for item in stored(dynamodb)) == ["Hello 1", "Hello 3"]

    def test_a_poison_record_that_cannot_be_set_aside_is_retried_not_dropped(
        self, consumer_for: Callable[..., Consume], comprehend: Any, queues: Queues
    ) -> None:
        consume = consumer_for(dead_letter_url=f"{queues.url}-missing")
        event = load_event("sqs/single")
        event["Records"][0]["body"] = "not JSON"

        assert consume(event) == record_ids(event)


class TestOnTheQueue:
    """Messages sent to moto's SQS and delivered the way the event source mapping delivers them."""

    def deliver(self, queues: Queues, consume: Consume, rounds: int) -> None:
        """Receive, invoke, delete what succeeded; failures reappear at once (visibility 0)."""
        for _ in range(rounds):
            received = queues.client.receive_message(
                QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0, AttributeNames=["All"]
            ).get("Messages", [])
            if not received:
                continue
            try:
                failed = set(consume(lambda_event(received, queues.arn)))
            except TimeoutError:  # an invocation that dies deletes nothing, as with the real mapping
                continue
            for message in received:
                if message["MessageId"] not in failed:
                    queues.client.delete_message(QueueUrl=queues.url, ReceiptHandle=message["ReceiptHandle"])

    def test_a_good_message_is_stored_and_deleted(
        self, consume: Consume, comprehend: Any, queues: Queues, dynamodb: "DynamoDBClient"
    ) -> None:
        queues.client.send_message(
            QueueUrl=queues.url, MessageBody=json.dumps({"user": "jo", "message": "Hi!"})
        )
        expect_languages(comprehend, "en")

        self.deliver(queues, consume, rounds=2)

        assert [item["user"]["S"] for item in stored(dynamodb)] == ["jo"]
        attributes = queues.client.get_queue_attributes(QueueUrl=queues.url, AttributeNames=["All"])[
            "Attributes"
        ]
        assert attributes["ApproximateNumberOfMessages"] == "0"

    # The invocation that dies records no metric, and Powertools says so.
    @pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")
    def test_an_invocation_that_times_out_loses_no_record(
        self, consume: Consume, comprehend: Any, queues: Queues, dynamodb: "DynamoDBClient"
    ) -> None:
        for user in ("lin", "max"):
            queues.client.send_message(
                QueueUrl=queues.url, MessageBody=json.dumps({"user": user, "message": "Hi"})
            )
        comprehend.stubber.add_client_error("batch_detect_dominant_language", "ThrottlingException")
        timed_out = [False]

        def die_once(**_: Any) -> None:
            if not timed_out[0]:
                timed_out[0] = True
                raise TimeoutError("Task timed out after 30.00 seconds")

        dynamodb.meta.events.register("before-call.dynamodb.BatchWriteItem", die_once)
        expect_languages(comprehend, "en", "en")

        self.deliver(queues, consume, rounds=3)

        assert timed_out == [True]
        assert sorted(item["user"]["S"] for item in stored(dynamodb)) == ["lin", "max"]

    def test_a_poison_record_reaches_the_dead_letter_queue_after_redrive(
        self, consumer_for: Callable[..., Consume], queues: Queues
    ) -> None:
        # The dead-letter queue cannot be written by the consumer, so the record keeps failing
        # until SQS itself moves it there after maxReceiveCount (5) receives.
        consume = consumer_for(dead_letter_url=f"{queues.url}-missing")
        queues.client.send_message(QueueUrl=queues.url, MessageBody="{not json")

        self.deliver(queues, consume, rounds=7)

        (moved,) = dead_letters(queues)
        assert moved["Body"] == "{not json"

    def test_a_message_that_keeps_failing_to_store_moves_to_the_dead_letter_queue(
        self,
        consume: Consume,
        comprehend: Any,
        queues: Queues,
        dynamodb: "DynamoDBClient",
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        dynamodb.delete_table(TableName=TABLE_NAME)
        queues.client.send_message(
            QueueUrl=queues.url, MessageBody=json.dumps({"user": "kim", "message": "Hi"})
        )
        for _ in range(5):
            expect_languages(comprehend, "en")

        self.deliver(queues, consume, rounds=7)

        (moved,) = dead_letters(queues)
        assert json.loads(moved["Body"]) == {"user": "kim", "message": "Hi"}
        # Only the failure on the last allowed delivery counts as dead-lettered: the rollback
        # signal that exists even when SQS publishes nothing for an idle dead-letter queue.
        documents = emitted_metrics(capsys.readouterr().out)
        assert [metric(document, "RecordsDeadLettered") for document in documents] == [0, 0, 0, 0, 1]


def test_the_production_wiring_sets_rejected_records_aside_in_the_configured_queue(
    monkeypatch: pytest.MonkeyPatch, queues: Queues
) -> None:
    for name, value in {
        "TABLE_NAME": TABLE_NAME,
        "REPLY_MESSAGE": REPLY,
        "REPLY_LANGUAGE": "en",
        "DEAD_LETTER_QUEUE_URL": queues.dead_letter_url,
        "MAX_RECEIVE_COUNT": "5",
    }.items():
        monkeypatch.setenv(name, value)
    from store_reply_consumer.app import PRODUCTION  # noqa: PLC0415

    unsent = PRODUCTION.get().rejected.reject_all([Rejection(ref="m-1", body="?", reason="not JSON")])

    assert unsent == set()
    (message,) = dead_letters(queues)
    assert message["MessageAttributes"]["SourceMessageId"]["StringValue"] == "m-1"
