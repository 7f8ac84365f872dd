"""Small typed fakes of the domain's ports."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from store_reply.errors import LanguageDetectionFailed, StorageUnavailable, TranslationFailed
from store_reply.models import PagePosition, StoredMessage


@dataclass
class FakeDetector:
    language: str = "fr"
    fails: bool = False
    texts: list[str] = field(default_factory=list)

    def detect(self, text: str) -> str:
        self.texts.append(text)
        if self.fails:
            raise LanguageDetectionFailed("throttled")
        return self.language


@dataclass
class FakeTranslator:
    fails: bool = False
    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def translate(self, text: str, source: str, target: str) -> str:
        self.calls.append((text, source, target))
        if self.fails:
            raise TranslationFailed("unsupported pair")
        return f"[{target}] {text}"


@dataclass
class FakeCache:
    entries: dict[tuple[str, str], str] = field(default_factory=dict)
    broken: bool = False

    def get(self, text: str, target: str) -> str | None:
        if self.broken:
            raise StorageUnavailable("cache down")
        return self.entries.get((text, target))

    def put(self, text: str, target: str, translation: str) -> None:
        if self.broken:
            raise StorageUnavailable("cache down")
        self.entries[(text, target)] = translation


@dataclass
class FakeStore:
    messages: list[StoredMessage] = field(default_factory=list)
    broken: bool = False

    def save(self, message: StoredMessage) -> None:
        if self.broken:
            raise StorageUnavailable("table down")
        self.messages.append(message)

    def history(
        self, user: str, limit: int, after: PagePosition | None
    ) -> tuple[Sequence[StoredMessage], bool]:
        mine = sorted(
            (m for m in self.messages if m.user == user), key=lambda m: (m.received_at, m.id), reverse=True
        )
        if after is not None:
            mine = [m for m in mine if (m.received_at, m.id) < (after.received_at, after.id)]
        return mine[:limit], len(mine) > limit
