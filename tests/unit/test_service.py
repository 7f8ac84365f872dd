"""The use cases, with fakes for every port."""

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from store_reply.errors import IdempotencyKeyReused, InvalidPageToken, StorageUnavailable
from store_reply.models import Claim, MessageKey, NewMessage, StoredMessage, Submission
from store_reply.replies import ReplyTranslator
from store_reply.service import StoreAndReply
from tests.unit.fakes import FakeCache, FakeDetector, FakeStore, FakeTranslator, comprehend_only

REPLY = "Thank you for your message!"
NOON = datetime(2026, 11, 26, 12, 0, 0, 123000, tzinfo=UTC)


def service(
    detector: FakeDetector | None = None,
    translator: FakeTranslator | None = None,
    cache: FakeCache | None = None,
    store: FakeStore | None = None,
) -> StoreAndReply:
    replies = ReplyTranslator(REPLY, "en", translator or FakeTranslator(), cache or FakeCache())
    return StoreAndReply(comprehend_only(detector), replies, store or FakeStore(), clock=lambda: NOON)


def test_replies_in_the_detected_language_and_stores_the_message() -> None:
    store = FakeStore()

    receipt = service(store=store).accept(NewMessage(user="alice", message="Bonjour"))

    assert receipt.reply.text == f"[fr] {REPLY}"
    assert receipt.reply.translated
    assert not receipt.degraded
    assert store.messages == [receipt.stored]
    assert receipt.stored.language == "fr"
    assert receipt.stored.received_at == NOON


def test_detection_failure_stores_the_message_as_undetermined_and_replies_untranslated() -> None:
    translator = FakeTranslator()
    store = FakeStore()

    receipt = service(FakeDetector(fails=True), translator, store=store).accept(
        NewMessage(user="alice", message="Bonjour")
    )

    assert receipt.stored.language == "und"
    assert receipt.reply.text == REPLY
    assert not receipt.reply.translated
    assert receipt.degraded
    assert translator.calls == []
    assert len(store.messages) == 1


def test_translation_failure_falls_back_and_is_degraded() -> None:
    receipt = service(translator=FakeTranslator(fails=True)).accept(NewMessage(user="a", message="Hallo"))

    assert receipt.reply.text == REPLY
    assert receipt.degraded
    assert receipt.stored.language == "fr"


def test_a_language_without_a_translation_is_answered_in_the_reply_language_not_degraded() -> None:
    # Comprehend detects about 100 languages, Translate supports fewer: a fact, not a fault.
    translator, cache = FakeTranslator(unsupported={"fr"}), FakeCache()
    first = service(translator=translator, cache=cache)

    receipts = [first.accept(NewMessage(user="a", message="Bonjour")) for _ in range(3)]
    restarted = service(translator=translator, cache=cache).accept(NewMessage(user="a", message="Bonjour"))

    for receipt in [*receipts, restarted]:
        assert (receipt.reply.text, receipt.reply.language) == (REPLY, "en")
        assert not receipt.reply.translated
        assert not receipt.degraded
        assert receipt.stored.language == "fr"
    assert translator.calls == [(REPLY, "en", "fr")]


def test_store_failure_propagates_so_no_success_is_claimed() -> None:
    with pytest.raises(StorageUnavailable):
        service(store=FakeStore(broken=True)).accept(NewMessage(user="a", message="Hallo"))


def test_each_language_is_translated_once_per_cache_lifetime() -> None:
    translator, cache = FakeTranslator(), FakeCache()
    first = service(translator=translator, cache=cache)
    for _ in range(3):
        first.accept(NewMessage(user="a", message="Bonjour"))
    restarted = service(translator=translator, cache=cache)
    restarted.accept(NewMessage(user="a", message="Bonjour"))

    assert translator.calls == [(REPLY, "en", "fr")]


def test_a_broken_cache_still_replies_translated() -> None:
    translator = FakeTranslator()

    receipt = service(translator=translator, cache=FakeCache(broken=True)).accept(
        NewMessage(user="a", message="Bonjour")
    )

    assert receipt.reply.translated
    assert not receipt.degraded


def test_history_pages_newest_first_with_a_token() -> None:
    store = FakeStore()
    moments = iter(datetime(2026, 1, 1, 0, 0, s, tzinfo=UTC) for s in range(5))
    writer = StoreAndReply(
        comprehend_only(FakeDetector("en")),
        ReplyTranslator(REPLY, "en", FakeTranslator(), FakeCache()),
        store,
        clock=lambda: next(moments),
    )
    ids = [writer.accept(NewMessage(user="u", message=f"m{i}")).stored.id for i in range(5)]

    pages, token = [], None
    while True:
        page = writer.history("u", 2, token)
        pages.append([m.id for m in page.messages])
        if page.next_token is None:
            break
        token = page.next_token

    assert pages == [ids[4:2:-1], ids[2:0:-1], ids[0:1]]


def test_history_rejects_a_token_it_did_not_issue() -> None:
    with pytest.raises(InvalidPageToken):
        service().history("u", 2, "bm90LWEtdG9rZW4")


def submission(ref: str, user: str = "u", text: str = "Bonjour", key: str | None = None) -> Submission:
    return Submission(
        ref=ref,
        message=NewMessage(user=user, message=text),
        key=MessageKey(received_at=NOON, id=ref.rjust(32, "0")),
        idempotency_key=key,
    )


def test_a_batch_reports_exactly_the_messages_not_stored() -> None:
    store = FakeStore(refuse={"refused"})

    result = service(store=store).accept_batch(
        [submission("1"), submission("2", text="refused"), submission("3")]
    )

    assert result.failed == {"2"}
    assert set(result.receipts) == {"1", "3"}
    assert sorted(m.id[-1] for m in store.messages) == ["1", "3"]


def test_a_batch_detection_failure_stores_everything_undetermined() -> None:
    store = FakeStore()

    result = service(FakeDetector(fails=True), store=store).accept_batch([submission("1"), submission("2")])

    assert result.failed == frozenset()
    assert {m.language for m in store.messages} == {"und"}
    assert all(receipt.degraded for receipt in result.receipts.values())


def test_one_idempotency_key_twice_in_a_batch_is_stored_once() -> None:
    store = FakeStore()

    result = service(store=store).accept_batch([submission("1", key="k"), submission("2", key="k")])

    assert result.failed == frozenset()
    assert len(store.messages) == 1
    assert result.receipts["1"].stored.id == result.receipts["2"].stored.id


def test_an_unclaimable_idempotency_key_fails_only_its_record() -> None:
    class ClaimsDown(FakeStore):
        def claim(self, user: str, idempotency_key: str, candidate: Claim) -> Claim:
            raise StorageUnavailable("throttled")

    store = ClaimsDown()

    result = service(store=store).accept_batch([submission("1", key="k"), submission("2")])

    assert result.failed == {"1"}
    assert [m.id[-1] for m in store.messages] == ["2"]


def test_a_retry_with_its_idempotency_key_is_stored_once_under_the_first_id_and_time() -> None:
    store = FakeStore()
    moments = iter([NOON, NOON.replace(second=30)])
    writer = StoreAndReply(
        comprehend_only(FakeDetector()),
        ReplyTranslator(REPLY, "en", FakeTranslator(), FakeCache()),
        store,
        clock=lambda: next(moments),
    )

    first = writer.accept(NewMessage(user="ana", message="Bonjour"), idempotency_key="retry-1")
    retry = writer.accept(NewMessage(user="ana", message="Bonjour"), idempotency_key="retry-1")

    assert (retry.stored.id, retry.stored.received_at) == (first.stored.id, NOON)
    assert len(store.messages) == 1


def test_an_idempotency_key_reused_for_another_message_is_refused_and_overwrites_nothing() -> None:
    store = FakeStore()
    writer = service(store=store)
    writer.accept(NewMessage(user="ana", message="Bonjour"), idempotency_key="k")

    with pytest.raises(IdempotencyKeyReused):
        writer.accept(NewMessage(user="ana", message="Something else"), idempotency_key="k")

    assert [m.message for m in store.messages] == ["Bonjour"]


def test_a_key_reused_for_another_message_in_a_batch_is_refused_not_retried() -> None:
    store = FakeStore()

    result = service(store=store).accept_batch(
        [submission("1", key="k"), submission("2", key="k", text="another text")]
    )

    assert set(result.receipts) == {"1"}
    assert result.failed == frozenset()
    assert set(result.refused) == {"2"}
    assert [m.message for m in store.messages] == [result.receipts["1"].stored.message]


# Which receipts count as new messages (MessagesAccepted): what the persistence witness must find
# written, once each, however often a message was retried or delivered.


def test_a_first_message_is_new_and_its_idempotent_retry_is_not() -> None:
    writer = service()

    first = writer.accept(NewMessage(user="ana", message="Bonjour"), idempotency_key="k")
    retry = writer.accept(NewMessage(user="ana", message="Bonjour"), idempotency_key="k")

    assert (first.new, retry.new) == (True, False)


def test_a_retry_whose_first_attempt_was_never_stored_is_new() -> None:
    store = FakeStore(broken=True)
    writer = service(store=store)
    with pytest.raises(StorageUnavailable):
        writer.accept(NewMessage(user="ana", message="Bonjour"))
    store.broken = False

    assert writer.accept(NewMessage(user="ana", message="Bonjour")).new


def test_duplicates_in_a_batch_make_one_new_message() -> None:
    result = service().accept_batch([submission("1", key="k"), submission("2", key="k")])

    assert sorted(receipt.new for receipt in result.receipts.values()) == [False, True]


def test_a_redelivery_of_a_stored_record_is_not_new_and_one_never_stored_is() -> None:
    store = FakeStore()
    writer = service(store=store)
    writer.accept_batch([submission("1")])

    result = writer.accept_batch(
        [
            submission("1").model_copy(update={"redelivered": True}),
            submission("2").model_copy(update={"redelivered": True}),
        ]
    )

    assert (result.receipts["1"].new, result.receipts["2"].new) == (False, True)
    assert len(store.messages) == 2


def test_when_earlier_deliveries_cannot_be_read_no_redelivery_is_counted_new() -> None:
    class Unreadable(FakeStore):
        def stored_already(self, messages: Sequence[StoredMessage]) -> set[str]:
            raise StorageUnavailable("throttled")

    result = service(store=Unreadable()).accept_batch(
        [submission("1").model_copy(update={"redelivered": True}), submission("2")]
    )

    assert (result.receipts["1"].new, result.receipts["2"].new) == (False, True)
