"""The use cases: reply to a message and store it; read a user's history."""

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from store_reply.deployment_checks import is_reserved
from store_reply.detection import LanguageDecision, LanguagePolicy
from store_reply.errors import (
    HistoryUnavailable,
    IdempotencyKeyReused,
    ReservedUserName,
    StorageUnavailable,
)
from store_reply.models import (
    BatchResult,
    Claim,
    HistoryPage,
    MessageKey,
    NewMessage,
    Receipt,
    StoredMessage,
    Submission,
    fingerprint_of,
)
from store_reply.paging import decode_token, encode_token
from store_reply.ports import MessageStore
from store_reply.replies import ReplyTranslator

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
IdFactory = Callable[[], str]


def utc_now() -> datetime:
    """The current time in UTC, to the millisecond."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def new_message_id() -> str:
    """A random id: two messages of one user in one millisecond still get different ids."""
    return uuid.uuid4().hex


class StoreAndReply:
    """Replies to messages in their own language and keeps them."""

    def __init__(
        self,
        languages: LanguagePolicy,
        replies: ReplyTranslator,
        store: MessageStore,
        clock: Clock = utc_now,
        new_id: IdFactory = new_message_id,
    ) -> None:
        self._languages = languages
        self._replies = replies
        self._store = store
        self._clock = clock
        self._new_id = new_id

    def accept(
        self, message: NewMessage, idempotency_key: str | None = None, *, allow_reserved: bool = False
    ) -> Receipt:
        """Detect the language, reply in it and store the message.

        Detection and translation faults degrade the reply; a store fault raises
        ``StorageUnavailable``, since the message was not kept. With an ``idempotency_key`` a
        retry is stored over the first attempt, under the same id and time; the same key with
        another message raises ``IdempotencyKeyReused``. A reserved user name raises
        ``ReservedUserName`` unless ``allow_reserved`` (a deployment check).
        """
        self._admit(message.user, allow_reserved=allow_reserved)
        key = self._claimed(
            message, idempotency_key, MessageKey(received_at=self._clock(), id=self._new_id())
        )
        receipt = self._reply_to(message, key, self._languages.decide(message.message))
        new = self._store.save(receipt.stored)
        return receipt if new else receipt.model_copy(update={"new": False})

    def accept_batch(self, submissions: Sequence[Submission], *, allow_reserved: bool = False) -> BatchResult:
        """Reply to and store a batch: at most one detection call and one write per 25 messages.

        A redelivered submission is stored over itself (its key derives from the delivery); one
        with an idempotency key is stored under the key its first delivery claimed. Submissions
        that could not be stored are returned in ``failed``, those that never can be (a key reused
        for another message) in ``refused``; the others have a receipt.
        """
        languages = self._languages.decide_all([s.message.message for s in submissions])
        failed: set[str] = set()
        refused: dict[str, str] = {}
        receipts: dict[str, Receipt] = {}
        repeats: list[StoredMessage] = []  # what an earlier delivery or attempt may have stored
        for submission, language in zip(submissions, languages, strict=True):
            try:
                self._admit(
                    submission.message.user, allow_reserved=allow_reserved or submission.deployment_check
                )
                key = self._claimed(submission.message, submission.idempotency_key, submission.key)
            except StorageUnavailable as error:
                logger.warning("Idempotency key not claimed, the record will be retried: %s", error)
                failed.add(submission.ref)
                continue
            except (IdempotencyKeyReused, ReservedUserName) as error:
                refused[submission.ref] = str(error)
                continue
            receipt = self._reply_to(submission.message, key, language)
            receipts[submission.ref] = receipt
            if submission.redelivered or key != submission.key:
                repeats.append(receipt.stored)
        # Duplicates within the batch share one key: written once, settled together.
        unique = {(r.stored.user, r.stored.received_at, r.stored.id): r.stored for r in receipts.values()}
        before = self._stored_before(repeats)
        not_stored = self._store.save_all(list(unique.values()))
        counted: set[str] = set()  # a message is new once, however many records carried it
        for ref, receipt in list(receipts.items()):
            if receipt.stored.id in not_stored:
                failed.add(ref)
                del receipts[ref]
            elif receipt.stored.id in before or receipt.stored.id in counted:
                receipts[ref] = receipt.model_copy(update={"new": False})
            else:
                counted.add(receipt.stored.id)
        return BatchResult(receipts=receipts, failed=frozenset(failed), refused=refused)

    def _stored_before(self, messages: Sequence[StoredMessage]) -> set[str]:
        """The ids already stored among possible repeats; if unreadable, all of them (never counted twice)."""
        if not messages:
            return set()
        try:
            return self._store.stored_already(messages)
        except StorageUnavailable as error:
            logger.warning("Could not tell which redelivered messages were stored before: %s", error)
            return {message.id for message in messages}

    def history(
        self, user: str, limit: int, page_token: str | None, *, allow_reserved: bool = False
    ) -> HistoryPage:
        """Return a page of ``user``'s messages, newest first; raise ``InvalidPageToken``, or
        ``HistoryUnavailable`` when the store cannot be read."""
        self._admit(user, allow_reserved=allow_reserved)
        after = decode_token(page_token) if page_token is not None else None
        try:
            messages, more = self._store.history(user, limit, after)
        except StorageUnavailable as error:
            raise HistoryUnavailable(str(error)) from error
        next_token = encode_token(messages[-1]) if more and messages else None
        return HistoryPage(messages=list(messages), next_token=next_token)

    def _reply_to(self, message: NewMessage, key: MessageKey, language: LanguageDecision) -> Receipt:
        """The reply in the decided language and the message as it is to be stored under ``key``."""
        reply = self._replies.reply_in(language.language)
        stored = StoredMessage(
            id=key.id,
            user=message.user,
            anonymous=message.anonymous,
            message=message.message,
            language=language.language,
            reply=reply.text,
            translated=reply.translated,
            received_at=key.received_at,
        )
        return Receipt(
            stored=stored,
            reply=reply,
            language_degraded=language.degraded,
            language_decided_by=language.decided_by,
        )

    @staticmethod
    def _admit(user: str, *, allow_reserved: bool) -> None:
        if is_reserved(user) and not allow_reserved:
            raise ReservedUserName("user names beginning with '__' are reserved")

    def _claimed(self, message: NewMessage, idempotency_key: str | None, candidate: MessageKey) -> MessageKey:
        """The key to store ``message`` under: ``candidate``, or what its idempotency key is bound to."""
        if idempotency_key is None:
            return candidate
        mine = Claim(key=candidate, fingerprint=fingerprint_of(message))
        bound = self._store.claim(message.user, idempotency_key, mine)
        if bound.fingerprint != mine.fingerprint:
            raise IdempotencyKeyReused("this idempotency key was already used for another message")
        return bound.key
