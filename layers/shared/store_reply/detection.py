"""How a message's language is decided: a local model first, a language service when it is unsure.

The local model answers in microseconds and costs nothing; Amazon Comprehend costs three
100-character units per text, whatever its length. The policy:

- ``comprehend``: every text goes to the language service (the original behaviour).
- ``hybrid``: the local model's answer is kept when its probability reaches the confidence
  threshold; the other texts go to the language service, except those shorter than
  ``SERVICE_MINIMUM_CHARS``, which the service itself reads poorly: they are undetermined (the
  reply stays in the configured language, which is not a fault).
- ``local``: never the language service; uncertain texts are undetermined.

A language service fault leaves only the texts it was asked about undetermined and degraded.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from store_reply.errors import LanguageDetectionFailed
from store_reply.models import UNDETERMINED_LANGUAGE, DecidedBy
from store_reply.ports import LanguageDetector

logger = logging.getLogger(__name__)

DetectionMode = Literal["comprehend", "hybrid", "local"]
# Amazon Comprehend asks for at least 20 characters of text for a reliable answer.
SERVICE_MINIMUM_CHARS = 20


@dataclass(frozen=True)
class LanguageDecision:
    """A message's language, who decided it, and whether a fault left it undetermined."""

    language: str
    decided_by: DecidedBy
    degraded: bool = False


class LanguageIdentifier(Protocol):
    """A local model: the most likely language of a text and its probability, without I/O."""

    def identify(self, text: str) -> tuple[str, float]:
        """Return (language code, probability between 0 and 1)."""
        ...


_UNDETERMINED = LanguageDecision(UNDETERMINED_LANGUAGE, DecidedBy.UNDETERMINED)
_FAILED = LanguageDecision(UNDETERMINED_LANGUAGE, DecidedBy.UNDETERMINED, degraded=True)


class LanguagePolicy:
    """Decides languages by ``mode``, with a local model and a language service."""

    def __init__(
        self,
        mode: DetectionMode,
        *,
        local: LanguageIdentifier | None,
        service: LanguageDetector | None,
        confidence: float,
    ) -> None:
        if mode != "comprehend" and local is None:
            raise ValueError(f"the {mode!r} detection needs a local model")
        if mode != "local" and service is None:
            raise ValueError(f"the {mode!r} detection needs a language service")
        self._mode = mode
        self._local = local
        self._service = service
        self._confidence = confidence

    def decide(self, text: str) -> LanguageDecision:
        """The language of one text (the service's single-text call when it is asked)."""
        decision = self._locally(text)
        if decision is None and self._worth_asking(text):
            decision = self._ask_service([text], batch=False)[0]
        return decision or _UNDETERMINED

    def decide_all(self, texts: Sequence[str]) -> list[LanguageDecision]:
        """The language of each text; the service's batch call gets only the uncertain ones, if any."""
        decisions: list[LanguageDecision | None] = [self._locally(text) for text in texts]
        uncertain = [
            index
            for index, decision in enumerate(decisions)
            if decision is None and self._worth_asking(texts[index])
        ]
        if uncertain:
            asked = self._ask_service([texts[index] for index in uncertain], batch=True)
            for index, decision in zip(uncertain, asked, strict=True):
                decisions[index] = decision
        return [decision or _UNDETERMINED for decision in decisions]

    def _locally(self, text: str) -> LanguageDecision | None:
        """The local model's decision, or None when it is not confident (or not used)."""
        if self._mode == "comprehend" or self._local is None:
            return None
        language, probability = self._local.identify(text)
        if probability >= self._confidence:
            return LanguageDecision(language, DecidedBy.LOCAL)
        return None

    def _worth_asking(self, text: str) -> bool:
        if self._mode == "comprehend":
            return True
        return self._mode == "hybrid" and len(text.strip()) >= SERVICE_MINIMUM_CHARS

    def _ask_service(self, texts: list[str], *, batch: bool) -> list[LanguageDecision]:
        assert self._service is not None  # noqa: S101 (checked in __init__)
        try:
            languages = self._service.detect_all(texts) if batch else [self._service.detect(texts[0])]
        except LanguageDetectionFailed as error:
            logger.warning("Languages not detected, storing %d as undetermined: %s", len(texts), error)
            return [_FAILED] * len(texts)
        return [
            LanguageDecision(language, DecidedBy.SERVICE) if language else _FAILED for language in languages
        ]
