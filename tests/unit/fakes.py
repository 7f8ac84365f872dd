"""Small typed fakes of the domain's ports."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from store_reply.detection import LanguagePolicy
from store_reply.errors import (
    LanguageDetectionFailed,
    LanguageNotTranslatable,
    StorageUnavailable,
    TranslationFailed,
)
from store_reply.models import CachedTranslation, Claim, MessageKey, StoredMessage


@dataclass
class FakeDetector:
    """A language service: every text is ``language``; ``calls`` counts requests, as billing would."""

    language: str = "fr"
    fails: bool = False
    texts: list[str] = field(default_factory=list)
    calls: int = 0

    def detect(self, text: str) -> str:
        self.calls += 1
        return self._one(text)

    def detect_all(self, texts: Sequence[str]) -> list[str | None]:
        self.calls += 1
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> str:
        self.texts.append(text)
        if self.fails:
            raise LanguageDetectionFailed("throttled")
        return self.language


@dataclass
class FakeIdentifier:
    """A local model that knows some texts (language, probability); anything else is unsure English."""

    known: dict[str, tuple[str, float]] = field(default_factory=dict)

    def identify(self, text: str) -> tuple[str, float]:
        return self.known.get(text, ("en", 0.2))


def comprehend_only(detector: FakeDetector | None = None) -> LanguagePolicy:
    """The original policy: every text to the language service."""
    return LanguagePolicy("comprehend", local=None, service=detector or FakeDetector(), confidence=0.9)


@dataclass
class FakeTranslator:
    fails: bool = False
    unsupported: set[str] = field(default_factory=set)
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def translate(self, text: str, source: str, target: str) -> str:
        self.calls.append((text, source, target))
        if self.fails:
            raise TranslationFailed("throttled")
        if target in self.unsupported:
            raise LanguageNotTranslatable(f"no translation from {source} to {target}")
        return f"[{target}] {text}"


@dataclass
class FakeCache:
    entries: dict[tuple[str, str], CachedTranslation] = field(default_factory=dict)
    broken: bool = False

    def get(self, text: str, target: str) -> CachedTranslation | None:
        if self.broken:
            raise StorageUnavailable("cache down")
        return self.entries.get((text, target))

    def put(self, text: str, target: str, translation: CachedTranslation) -> None:
        if self.broken:
            raise StorageUnavailable("cache down")
        self.entries[(text, target)] = translation


@dataclass
class FakeStore:
    messages: list[StoredMessage] = field(default_factory=list)
    claims: dict[tuple[str, str], Claim] = field(default_factory=dict)
    broken: bool = False
    refuse: set[str] = field(default_factory=set)

    def save(self, message: StoredMessage) -> bool:
        if self.broken:
            raise StorageUnavailable("table down")
        before = len(self.messages)
        self.messages = [m for m in self.messages if (m.user, m.id) != (message.user, message.id)]
        self.messages.append(message)
        return len(self.messages) > before

    def stored_already(self, messages: Sequence[StoredMessage]) -> set[str]:
        if self.broken:
            raise StorageUnavailable("table down")
        kept = {(m.user, m.id) for m in self.messages}
        return {m.id for m in messages if (m.user, m.id) in kept}

    def save_all(self, messages: Sequence[StoredMessage]) -> set[str]:
        if self.broken:
            return {m.id for m in messages}
        for message in messages:
            if message.message not in self.refuse:
                self.save(message)
        return {m.id for m in messages if m.message in self.refuse}

    def claim(self, user: str, idempotency_key: str, candidate: Claim) -> Claim:
        if self.broken:
            raise StorageUnavailable("table down")
        return self.claims.setdefault((user, idempotency_key), candidate)

    def history(
        self, user: str, limit: int, after: MessageKey | None
    ) -> tuple[Sequence[StoredMessage], bool]:
        mine = sorted(
            (m for m in self.messages if m.user == user), key=lambda m: (m.received_at, m.id), reverse=True
        )
        if after is not None:
            mine = [m for m in mine if (m.received_at, m.id) < (after.received_at, after.id)]
        return mine[:limit], len(mine) > limit
