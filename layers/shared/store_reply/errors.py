"""Domain errors. The HTTP layer maps each of them to a status code in one place."""


class StoreAndReplyError(Exception):
    """Base class of every error the domain raises on purpose."""


class InvalidPageToken(StoreAndReplyError):
    """A history page token was not issued by this service (garbled, forged or for another user)."""


class StorageUnavailable(StoreAndReplyError):
    """The message store could not be reached or refused the write; nothing was stored."""


class HistoryUnavailable(StoreAndReplyError):
    """The message store could not be read; nothing was changed."""


class ReservedUserName(StoreAndReplyError):
    """The user name is in the namespace kept for deployment checks; nothing was stored or read."""


class IdempotencyKeyReused(StoreAndReplyError):
    """An idempotency key already stands for a different message; nothing was stored."""


class LanguageDetectionFailed(StoreAndReplyError):
    """The language detector failed or was throttled."""


class TranslationFailed(StoreAndReplyError):
    """The translator failed or was throttled: a fault, which degrades the reply."""


class LanguageNotTranslatable(StoreAndReplyError):
    """The translator offers no translation into this language: a fact, not a fault.

    Comprehend detects about 100 languages, Translate supports fewer; such a reply is given in the
    configured language, remembered, and not counted as degraded.
    """
