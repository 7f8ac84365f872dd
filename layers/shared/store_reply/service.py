"""The use cases: reply to a message and store it; read a user's history."""

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from store_reply.errors import LanguageDetectionFailed
from store_reply.models import UNDETERMINED_LANGUAGE, HistoryPage, NewMessage, Receipt, StoredMessage
from store_reply.paging import decode_token, encode_token
from store_reply.ports import LanguageDetector, MessageStore
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
        detector: LanguageDetector,
        replies: ReplyTranslator,
        store: MessageStore,
        clock: Clock = utc_now,
        new_id: IdFactory = new_message_id,
    ) -> None:
        self._detector = detector
        self._replies = replies
        self._store = store
        self._clock = clock
        self._new_id = new_id

    def accept(self, message: NewMessage) -> Receipt:
        """Detect the language, reply in it and store the message.

        Detection and translation faults degrade the reply; a store fault raises
        ``StorageUnavailable``, since the message was not kept.
        """
        language, language_degraded = self._detect(message.message)
        reply = self._replies.reply_in(language)
        stored = StoredMessage(
            id=self._new_id(),
            user=message.user,
            message=message.message,
            language=language,
            reply=reply.text,
            translated=reply.translated,
            received_at=self._clock(),
        )
        self._store.save(stored)
        return Receipt(stored=stored, reply=reply, language_degraded=language_degraded)

    def history(self, user: str, limit: int, page_token: str | None) -> HistoryPage:
        """Return a page of ``user``'s messages, newest first; raise ``InvalidPageToken``."""
        after = decode_token(page_token) if page_token is not None else None
        messages, more = self._store.history(user, limit, after)
        next_token = encode_token(messages[-1]) if more and messages else None
        return HistoryPage(messages=list(messages), next_token=next_token)

    def _detect(self, text: str) -> tuple[str, bool]:
        try:
            return self._detector.detect(text), False
        except LanguageDetectionFailed as error:
            logger.warning("Language not detected, storing as undetermined: %s", error)
            return UNDETERMINED_LANGUAGE, True
