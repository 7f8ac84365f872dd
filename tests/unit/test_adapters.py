"""The AWS adapters against moto (DynamoDB) and botocore's Stubber (Comprehend, Translate)."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from store_reply.adapters.dynamodb import DynamoMessageStore, DynamoTranslationCache
from store_reply.adapters.language import AmazonTranslator, ComprehendLanguageDetector
from store_reply.errors import LanguageDetectionFailed, StorageUnavailable, TranslationFailed
from store_reply.models import NewMessage, StoredMessage
from store_reply.replies import ReplyTranslator
from store_reply.service import StoreAndReply
from tests.conftest import TABLE_NAME, expect_language
from tests.unit.fakes import FakeCache, FakeDetector, FakeTranslator

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


def test_an_unsupported_pair_is_a_translation_failure(translate: Any) -> None:
    translate.stubber.add_client_error("translate_text", "UnsupportedLanguagePairException")

    with pytest.raises(TranslationFailed):
        AmazonTranslator(translate.client).translate("Thanks", "en", "xx")


def test_two_messages_of_one_user_in_one_millisecond_are_both_stored(dynamodb: "DynamoDBClient") -> None:
    store = DynamoMessageStore(dynamodb, TABLE_NAME)
    service = StoreAndReply(
        FakeDetector("en"),
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


def test_the_translation_cache_outlives_the_container(dynamodb: "DynamoDBClient") -> None:
    DynamoTranslationCache(dynamodb, TABLE_NAME).put("Thanks", "fr", "Merci")

    assert DynamoTranslationCache(dynamodb, TABLE_NAME).get("Thanks", "fr") == "Merci"
    assert DynamoTranslationCache(dynamodb, TABLE_NAME).get("Thanks", "de") is None


def test_a_missing_table_is_storage_unavailable(dynamodb: "DynamoDBClient") -> None:
    store = DynamoMessageStore(dynamodb, "no-such-table")

    with pytest.raises(StorageUnavailable):
        store.history("alice", 1, None)
