"""The small interfaces the domain needs from the outside world. Adapters implement them."""

from collections.abc import Sequence
from typing import Protocol

from store_reply.models import CachedTranslation, Claim, MessageKey, Rejection, StoredMessage


class LanguageDetector(Protocol):
    """Finds the dominant language of a text."""

    def detect(self, text: str) -> str:
        """Return the language code with the highest score; raise ``LanguageDetectionFailed``."""
        ...

    def detect_all(self, texts: Sequence[str]) -> list[str | None]:
        """Detect each text's language in as few calls as possible; None where one text failed.

        Raise ``LanguageDetectionFailed`` when the whole detection failed.
        """
        ...


class Translator(Protocol):
    """Translates a text between two languages."""

    def translate(self, text: str, source: str, target: str) -> str:
        """Return the translation.

        Raise ``LanguageNotTranslatable`` when no translation into ``target`` exists, and
        ``TranslationFailed`` on any fault.
        """
        ...


class TranslationCache(Protocol):
    """Remembers translations for as long as the store lives."""

    def get(self, text: str, target: str) -> CachedTranslation | None:
        """Return what is known of ``text`` in ``target``, or None; raise ``StorageUnavailable``."""
        ...

    def put(self, text: str, target: str, translation: CachedTranslation) -> None:
        """Remember a translation, or that none exists; raise ``StorageUnavailable``."""
        ...


class MessageStore(Protocol):
    """Keeps messages, newest first per user."""

    def save(self, message: StoredMessage) -> bool:
        """Store one message; return True when it is new (nothing was stored under its key before).

        Raise ``StorageUnavailable`` when it was not stored.
        """
        ...

    def save_all(self, messages: Sequence[StoredMessage]) -> set[str]:
        """Store messages in as few calls as possible; return the ids of those not stored."""
        ...

    def stored_already(self, messages: Sequence[StoredMessage]) -> set[str]:
        """The ids of those messages already stored under their keys (a redelivery, a retry).

        Raise ``StorageUnavailable`` when that cannot be read.
        """
        ...

    def claim(self, user: str, idempotency_key: str, candidate: Claim) -> Claim:
        """Bind a client's idempotency key to ``candidate`` unless it is bound already.

        Return the binding: ``candidate`` the first time, the first claimant's afterwards. Raise
        ``StorageUnavailable`` when the claim could not be made.
        """
        ...

    def history(
        self, user: str, limit: int, after: MessageKey | None
    ) -> tuple[Sequence[StoredMessage], bool]:
        """Return up to ``limit`` messages older than ``after``, and whether more may follow."""
        ...


class RejectedRecords(Protocol):
    """Where records that can never be processed are set aside, never dropped."""

    def reject_all(self, rejections: Sequence[Rejection]) -> set[str]:
        """Set the records aside; return the refs of those that could not be."""
        ...
