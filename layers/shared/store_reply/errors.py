"""Domain errors. The HTTP layer maps each of them to a status code in one place."""


class StoreAndReplyError(Exception):
    """Base class of every error the domain raises on purpose."""


class InvalidPageToken(StoreAndReplyError):
    """A history page token was not issued by this service (garbled, forged or for another user)."""


class StorageUnavailable(StoreAndReplyError):
    """The message store could not be reached or refused the write; nothing was stored."""


class LanguageDetectionFailed(StoreAndReplyError):
    """The language detector failed or was throttled."""


class TranslationFailed(StoreAndReplyError):
    """The translator failed, was throttled, or does not support the language pair."""
