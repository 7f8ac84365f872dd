"""The persistence witness counts what each version really wrote, once per message, in the minute written."""

import json
from typing import Any

import pytest
from store_reply_witness.app import lambda_handler
from store_reply_witness.counting import UNATTRIBUTED, tally

MINUTE = 1_796_220_000_000  # a minute's first millisecond
WRITER = ("store-and-reply-prod-api", "7")


def record(
    event: str = "INSERT",
    user: str = "alice",
    sk: str = "MSG#2026-12-02T10:00:00.000Z#ab12",
    writer: str | None = "store-and-reply-prod-api:7",
    written_ms: int = MINUTE + 1_500,
    identity: dict[str, str] | None = None,
) -> dict[str, Any]:
    image: dict[str, Any] = {
        "pk": {"S": f"USER#{user}"},
        "sk": {"S": sk},
        "writtenAt": {"N": str(written_ms)},
    }
    if writer is not None:
        image["writer"] = {"S": writer}
    found: dict[str, Any] = {"eventName": event, "dynamodb": {"Keys": {"pk": image["pk"], "sk": image["sk"]}}}
    if event != "REMOVE":
        found["dynamodb"]["NewImage"] = image
    if identity:
        found["userIdentity"] = identity
    return found


def test_each_new_message_counts_once_for_the_version_that_wrote_it() -> None:
    counted = tally([record(), record(sk="MSG#2026-12-02T10:00:01.000Z#cd34")], now_ms=MINUTE + 9_000)

    assert counted.persisted == {(WRITER, MINUTE + 1_500): 2}


def test_a_retry_or_redelivery_stored_over_itself_is_no_new_message() -> None:
    # A rewrite that changes the item is a MODIFY; one that changes nothing has no stream record at all.
    counted = tally([record(), record(event="MODIFY")], now_ms=MINUTE)

    assert counted.by_writer() == {WRITER: 1}
    assert counted.skipped == {"modify": 1}


def test_expiries_and_deletions_are_not_counted() -> None:
    ttl = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

    counted = tally([record(event="REMOVE", identity=ttl), record(event="REMOVE")], now_ms=MINUTE)

    assert counted.persisted == {}
    assert counted.skipped == {"remove": 2}


@pytest.mark.parametrize("user", ["__deployment-check__d-ABCDEFGHI", "__snapshot__"])
def test_the_deployment_checks_own_messages_are_not_counted(user: str) -> None:
    counted = tally([record(user=user)], now_ms=MINUTE)

    assert counted.persisted == {}
    assert counted.skipped == {"deployment check": 1}


@pytest.mark.parametrize("sk", ["KEY#client-key", "0123abcd"])
def test_claims_and_translations_are_not_messages(sk: str) -> None:
    assert tally([record(sk=sk)], now_ms=MINUTE).skipped == {"not a message": 1}


def test_a_message_of_a_version_that_does_not_name_itself_is_counted_for_no_version() -> None:
    counted = tally([record(writer=None), record(writer="no-version")], now_ms=MINUTE)

    assert counted.by_writer() == {UNATTRIBUTED: 2}


def test_messages_are_filed_under_the_moment_they_were_written_however_late_they_arrive() -> None:
    counted = tally(
        [record(written_ms=MINUTE + 59_999), record(written_ms=MINUTE + 60_000)], now_ms=MINUTE + 600_000
    )

    assert counted.persisted == {(WRITER, MINUTE + 59_999): 1, (WRITER, MINUTE + 60_000): 1}


def test_the_handler_writes_one_emf_document_per_version_and_minute_and_fails_no_record(
    capsys: pytest.CaptureFixture[str],
) -> None:
    batch = {"Records": [record(), record(writer="store-and-reply-prod-consumer:3"), record(writer=None)]}

    answer = lambda_handler(batch, None)

    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert answer == {"batchItemFailures": []}
    assert sorted((d["FunctionName"], d["FunctionVersion"], d["MessagesPersisted"]) for d in documents) == [
        ("store-and-reply-prod-api", "7", 1),
        ("store-and-reply-prod-consumer", "3", 1),
    ]
    for document in documents:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        # The version's count, and the same under the function alone: all versions, the baseline.
        assert directive["Dimensions"] == [
            ["FunctionName", "FunctionVersion", "service"],
            ["FunctionName", "service"],
        ]
        assert document["_aws"]["Timestamp"] == MINUTE + 1_500
