"""The small interfaces the domain needs from the outside world. Adapters implement them."""

from collections.abc import Sequence
from typing import Protocol

from store_reply.models import PagePosition, StoredMessage


class LanguageDetector(Protocol):
    """Finds the dominant language of a text."""

    def detect(self, text: str) -> str:
        """Return the language code with the highest score; raise ``LanguageDetectionFailed``."""
        ...


class Translator(Protocol):
    """Translates a text between two languages."""

    def translate(self, text: str, source: str, target: str) -> str:
        """Return the translation; raise ``TranslationFailed``."""
        ...


class TranslationCache(Protocol):
    """Remembers translations for as long as the store lives."""

    def get(self, text: str, target: str) -> str | None:
        """Return the cached translation or None; raise ``StorageUnavailable``."""
        ...

    def put(self, text: str, target: str, translation: str) -> None:
        """Remember a translation; raise ``StorageUnavailable``."""
        ...


class MessageStore(Protocol):
    """Keeps messages, newest first per user."""

    def save(self, message: StoredMessage) -> None:
        """Store one message; raise ``StorageUnavailable`` when it was not stored."""
        ...

    def history(
        self, user: str, limit: int, after: PagePosition | None
    ) -> tuple[Sequence[StoredMessage], bool]:
        """Return up to ``limit`` messages older than ``after``, and whether more may follow."""
        ...
