"""The golden set: messages whose language is known, the reply each must get, and what the table must hold.

A version that answers 200 and is wrong is caught by its outcomes, not its statuses: every golden
message must be answered in its own language with the configured reply translated into it, and
then be in the table **exactly once**, under the id, language and reply it was answered with. The
table is read directly, never through the function under test.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from store_reply.errors import LanguageNotTranslatable, TranslationFailed
from store_reply.ports import Translator

GOLDEN_FILE = "golden/messages.json"


@dataclass(frozen=True)
class GoldenMessage:
    """A message and the language it is written in."""

    language: str
    message: str


@dataclass(frozen=True)
class Answer:
    """What a version answered for one message (nothing is answered per message on the queue)."""

    id: str | None
    language: str | None
    reply: str | None


def load_golden(events_dir: Path) -> list[GoldenMessage]:
    """The golden set shipped with the events (``events/golden/messages.json``)."""
    document = json.loads((events_dir / GOLDEN_FILE).read_text())
    return [GoldenMessage(item["language"], item["message"]) for item in document["messages"]]


class ExpectedReplies:
    """The reply each language must get: the configured text, translated by the translation service
    itself (not the table's cache, which the version under test writes)."""

    def __init__(self, text: str, language: str, translator: Translator) -> None:
        self._text, self._language, self._translator = text, language, translator
        self._known: dict[str, str] = {}

    def for_language(self, language: str) -> str:
        """The expected reply; raise ``TranslationFailed`` when it cannot be known now."""
        if language == self._language:
            return self._text
        if language not in self._known:
            try:
                self._known[language] = self._translator.translate(self._text, self._language, language)
            except LanguageNotTranslatable:
                self._known[language] = self._text  # answered in the configured language
        return self._known[language]


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def answer_problems(golden: GoldenMessage, expected_reply: str, answer: Answer) -> list[str]:
    """How an answer differs from what the golden message must get."""
    problems = []
    if answer.language != golden.language:
        problems.append(
            f"'{_short(golden.message)}' answered in {answer.language!r}, written in {golden.language!r}"
        )
    if answer.reply != expected_reply:
        problems.append(
            f"'{_short(golden.message)}' ({golden.language}) got the reply {answer.reply!r}, "
            f"expected {expected_reply!r}"
        )
    return problems


def stored_problems(
    expected: Sequence[tuple[GoldenMessage, str]],
    answers: Mapping[str, Answer],
    items: Iterable[Mapping[str, Any]],
) -> list[str]:
    """How the table differs from what was answered and expected.

    ``expected`` pairs each golden message with its reply; ``answers`` (by message text) holds
    what the version answered, where it answered per message; ``items`` are the check user's
    message items, read from the table.
    """
    by_text: dict[str, list[Mapping[str, Any]]] = {}
    for item in items:
        by_text.setdefault(item.get("message", {}).get("S", ""), []).append(item)
    problems = []
    for golden, reply in expected:
        stored = by_text.get(golden.message, [])
        if len(stored) != 1:
            what = "not stored" if not stored else f"stored {len(stored)} times"
            problems.append(f"'{_short(golden.message)}' ({golden.language}) was {what}")
            continue
        (item,) = stored
        answer = answers.get(golden.message)
        values = {name: item.get(name, {}).get("S") for name in ("id", "language", "reply")}
        if answer is not None and answer.id is not None and values["id"] != answer.id:
            problems.append(
                f"'{_short(golden.message)}' was answered with id {answer.id}, stored as {values['id']}"
            )
        if values["language"] != golden.language:
            problems.append(
                f"'{_short(golden.message)}' stored in {values['language']!r}, written in {golden.language!r}"
            )
        if values["reply"] != reply:
            problems.append(
                f"'{_short(golden.message)}' ({golden.language}) stored with the reply {values['reply']!r}, "
                f"expected {reply!r}"
            )
    return problems


def expectations(
    golden: Sequence[GoldenMessage], replies: ExpectedReplies
) -> tuple[list[tuple[GoldenMessage, str]], list[str]]:
    """Each golden message with its expected reply; the problems of replies that cannot be known."""
    paired, problems = [], []
    for message in golden:
        try:
            paired.append((message, replies.for_language(message.language)))
        except TranslationFailed as error:
            problems.append(f"the expected reply in {message.language!r} is unknown: {error}")
    return paired, problems


def one_per_language(golden: Sequence[GoldenMessage]) -> list[GoldenMessage]:
    """A subset with one message of each language, for the slower real entry points."""
    seen: dict[str, GoldenMessage] = {}
    for message in golden:
        seen.setdefault(message.language, message)
    return list(seen.values())
