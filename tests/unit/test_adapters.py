"""The AWS adapters against moto (DynamoDB) and botocore's Stubber (Comprehend, Translate)."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from store_reply.adapters.dynamodb import DynamoMessageStore, DynamoTranslationCache
from store_reply.adapters.language import AmazonTranslator, ComprehendLanguageDetector
from store_reply.errors import (
    LanguageDetectionFailed,
    LanguageNotTranslatable,
    StorageUnavailable,
    TranslationFailed,
)
from store_reply.models import CachedTranslation, Claim, MessageKey, NewMessage, StoredMessage
from store_reply.replies import ReplyTranslator
from store_reply.service import StoreAndReply
from tests.support.aws import TABLE_NAME, expect_language
from tests.unit.fakes import FakeCache, FakeDetector, FakeTranslator, comprehend_only

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SAME_MILLISECOND = datetime(2026, 11, 26, 9, 30, 0, 250000, tzinfo=UTC)


def test_the_highest_score_wins(comprehend: Any) -> None:
    expect_language(comprehend, ("de", 0.31), ("nl", 0.62), ("en", 0.07))

    assert ComprehendLanguageDetector(comprehend.client).detect("Hallo allemaal") == "nl"


def test_no_language_found_is_a_detection_failure(comprehend: Any) -> None:
    expect_language(comprehend)

    with pytest.raises(LanguageDetectionFailed):
        ComprehendLanguageDetector(comprehend.client).detect("12345")


def test_comprehend_throttling_is_a_detection_failure(comprehend: Any) -> None:
    comprehend.stubber.add_client_error("detect_dominant_language", "ThrottlingException")

    with pytest.raises(LanguageDetectionFailed):
        ComprehendLanguageDetector(comprehend.client).detect("Hallo")


def test_an_unsupported_pair_is_a_language_without_translation_not_a_fault(translate: Any) -> None:
    translate.stubber.add_client_error("translate_text", "UnsupportedLanguagePairException")

    with pytest.raises(LanguageNotTranslatable):
        AmazonTranslator(translate.client).translate("Thanks", "en", "yi")


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ServiceUnavailableException", "InternalServerException"]
)
def test_translate_faults_are_translation_failures(translate: Any, code: str) -> None:
    translate.stubber.add_client_error("translate_text", code)

    with pytest.raises(TranslationFailed):
        AmazonTranslator(translate.client).translate("Thanks", "en", "fr")


def test_two_messages_of_one_user_in_one_millisecond_are_both_stored(dynamodb: "DynamoDBClient") -> None:
    store = DynamoMessageStore(dynamodb, TABLE_NAME)
    service = StoreAndReply(
        comprehend_only(FakeDetector("en")),
        ReplyTranslator("Thanks", "en", FakeTranslator(), FakeCache()),
        store,
        clock=lambda: SAME_MILLISECOND,
    )

    first = service.accept(NewMessage(user="alice", message="one"))
    second = service.accept(NewMessage(user="alice", message="two"))

    messages, more = store.history("alice", 10, None)
    assert {m.id for m in messages} == {first.stored.id, second.stored.id}
    assert {m.message for m in messages} == {"one", "two"}
    assert not more


def test_a_stored_message_reads_back_unchanged(dynamodb: "DynamoDBClient") -> None:
    store = DynamoMessageStore(dynamodb, TABLE_NAME)
    message = StoredMessage(
        id="0" * 32,
        user="Zoë",
        message="こんにちは",
        language="ja",
        reply="ありがとう",
        translated=True,
        received_at=SAME_MILLISECOND,
    )

    store.save(message)

    assert store.history("Zoë", 1, None) == ([message], False)


def hola(message_id: str) -> StoredMessage:
    """Ana's "Hola", stored under ``message_id``."""
    return StoredMessage(
        id=message_id,
        user="ana",
        message="Hola",
        language="es",
        reply="Gracias",
        translated=True,
        received_at=SAME_MILLISECOND,
    )


def test_a_save_says_whether_the_message_is_new_and_names_its_writer_and_moment(
    dynamodb: "DynamoDBClient",
) -> None:
    store = DynamoMessageStore(dynamodb, TABLE_NAME, clock=lambda: 1_796_220_001.5, writer="fn-api:7")
    message = hola("1" * 32)

    first, again = store.save(message), store.save(message)

    (item,) = dynamodb.scan(TableName=TABLE_NAME)["Items"]
    assert (first, again) == (True, False)
    assert item["writer"] == {"S": "fn-api:7"}
    assert item["writtenAt"] == {"N": "1796220001500"}
    assert store.history("ana", 1, None) == ([message], False)  # neither shows in what users read


def test_stored_already_names_the_messages_an_earlier_delivery_stored(dynamodb: "DynamoDBClient") -> None:
    store = DynamoMessageStore(dynamodb, TABLE_NAME)
    messages = [
        hola(f"{n:032x}")
        for n in range(150)  # more than one BatchGetItem holds
    ]
    store.save_all(messages[::2])

    assert store.stored_already(messages) == {m.id for m in messages[::2]}


def cut_every_query_after(dynamodb: "DynamoDBClient", items: int) -> list[dict[str, Any]]:
    """Make moto end each Query page early with a LastEvaluatedKey, as DynamoDB does at 1 MB."""
    calls: list[dict[str, Any]] = []

    def cut(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Query" and len(parsed.get("Items", [])) > items:
            parsed["Items"] = parsed["Items"][:items]
            parsed["LastEvaluatedKey"] = {key: parsed["Items"][-1][key] for key in ("pk", "sk")}

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    dynamodb.meta.events.register("after-call.dynamodb.Query", cut)
    dynamodb.meta.events.register("provide-client-params.dynamodb.Query", record)
    return calls


def test_a_page_cut_short_by_the_1_mb_limit_is_filled_and_still_links_to_the_next(
    dynamodb: "DynamoDBClient",
) -> None:
    store = DynamoMessageStore(dynamodb, TABLE_NAME)
    for minute in range(5):
        store.save(
            StoredMessage(
                id=f"{minute:032x}",
                user="long",
                message="x" * 5_000,
                language="en",
                reply="Thanks",
                translated=False,
                received_at=SAME_MILLISECOND.replace(minute=minute),
            )
        )
    queries = cut_every_query_after(dynamodb, items=2)

    first, more = store.history("long", 4, None)
    last = MessageKey(received_at=first[-1].received_at, id=first[-1].id)
    rest, more_after_rest = store.history("long", 4, last)

    assert [m.received_at.minute for m in first] == [4, 3, 2, 1]
    assert more
    assert [m.received_at.minute for m in rest] == [0]
    assert not more_after_rest
    assert all(query["ConsistentRead"] for query in queries)


def test_the_translation_cache_outlives_the_container(dynamodb: "DynamoDBClient") -> None:
    DynamoTranslationCache(dynamodb, TABLE_NAME).put("Thanks", "fr", CachedTranslation(text="Merci"))
    DynamoTranslationCache(dynamodb, TABLE_NAME).put("Thanks", "yi", CachedTranslation(text=None))

    cache = DynamoTranslationCache(dynamodb, TABLE_NAME)
    assert cache.get("Thanks", "fr") == CachedTranslation(text="Merci")
    assert cache.get("Thanks", "yi") == CachedTranslation(text=None)
    assert cache.get("Thanks", "de") is None


def test_a_missing_table_is_storage_unavailable(dynamodb: "DynamoDBClient") -> None:
    store = DynamoMessageStore(dynamodb, "no-such-table")

    with pytest.raises(StorageUnavailable):
        store.history("alice", 1, None)


def test_batch_detection_sends_25_documents_a_call_each_under_5000_bytes(comprehend: Any) -> None:
    texts = [f"Bonjour {i}" for i in range(26)]
    texts[0] = "é" * 5_000  # 10,000 bytes of UTF-8
    comprehend.stubber.add_response(
        "batch_detect_dominant_language",
        {
            "ResultList": [
                {"Index": i, "Languages": [{"LanguageCode": "fr", "Score": 0.9}]} for i in range(25)
            ],
            "ErrorList": [],
        },
    )
    comprehend.stubber.add_response(
        "batch_detect_dominant_language",
        {"ResultList": [{"Index": 0, "Languages": [{"LanguageCode": "fr", "Score": 0.9}]}], "ErrorList": []},
    )
    sent: list[list[str]] = []
    comprehend.client.meta.events.register(
        "provide-client-params.comprehend.BatchDetectDominantLanguage",
        lambda params, **_: sent.append(params["TextList"]),
    )

    languages = ComprehendLanguageDetector(comprehend.client).detect_all(texts)

    assert languages == ["fr"] * 26
    assert [len(chunk) for chunk in sent] == [25, 1]
    assert max(len(text.encode()) for chunk in sent for text in chunk) < 5_000


def test_batch_detection_failing_entirely_is_a_detection_failure(comprehend: Any) -> None:
    comprehend.stubber.add_client_error("batch_detect_dominant_language", "ThrottlingException")

    with pytest.raises(LanguageDetectionFailed):
        ComprehendLanguageDetector(comprehend.client).detect_all(["Hallo", "Hej"])


def stored_message(number: int, user: str = "batch") -> StoredMessage:
    return StoredMessage(
        id=f"{number:032x}",
        user=user,
        message=f"message {number}",
        language="en",
        reply="Thanks",
        translated=False,
        received_at=SAME_MILLISECOND,
    )


def test_save_all_writes_25_items_a_call(dynamodb: "DynamoDBClient") -> None:
    calls: list[int] = []
    dynamodb.meta.events.register(
        "provide-client-params.dynamodb.BatchWriteItem",
        lambda params, **_: calls.append(len(params["RequestItems"][TABLE_NAME])),
    )
    store = DynamoMessageStore(dynamodb, TABLE_NAME)

    not_stored = store.save_all([stored_message(n) for n in range(30)])

    assert not_stored == set()
    assert calls == [25, 5]
    assert len(store.history("batch", 100, None)[0]) == 30


def test_save_all_backs_off_between_retries_of_unprocessed_items(
    dynamodb: "DynamoDBClient", monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    store = DynamoMessageStore(dynamodb, TABLE_NAME, sleep=pauses.append)
    monkeypatch.setattr(
        dynamodb,
        "batch_write_item",
        lambda **request: {"UnprocessedItems": request["RequestItems"]},
    )

    not_stored = store.save_all([stored_message(1)])

    assert not_stored == {stored_message(1).id}
    assert len(pauses) == 3
    assert all(0 <= pause <= 0.05 * 2**attempt for attempt, pause in enumerate(pauses, start=1))


def test_an_idempotency_key_binds_its_first_claimant(dynamodb: "DynamoDBClient") -> None:
    store = DynamoMessageStore(dynamodb, TABLE_NAME)
    first = Claim(key=MessageKey(received_at=SAME_MILLISECOND, id="a" * 32), fingerprint="f1")
    second = Claim(
        key=MessageKey(received_at=datetime(2026, 11, 27, tzinfo=UTC), id="b" * 32), fingerprint="f2"
    )

    assert store.claim("lee", "k-1", first) == first
    assert store.claim("lee", "k-1", second) == first
    assert store.claim("other-user", "k-1", second) == second


def test_an_expired_claim_is_free_again(dynamodb: "DynamoDBClient") -> None:
    now = [1_000_000.0]
    store = DynamoMessageStore(dynamodb, TABLE_NAME, clock=lambda: now[0])
    first = Claim(key=MessageKey(received_at=SAME_MILLISECOND, id="a" * 32), fingerprint="f1")
    later = Claim(
        key=MessageKey(received_at=datetime(2026, 11, 28, tzinfo=UTC), id="b" * 32), fingerprint="f2"
    )
    store.claim("lee", "k-1", first)

    now[0] += 25 * 3600

    assert store.claim("lee", "k-1", later) == later
