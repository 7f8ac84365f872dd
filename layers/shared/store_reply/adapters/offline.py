"""Stand-ins for Translate and Comprehend without AWS or a network (LANGUAGE_SERVICES=offline).

- ``CatalogueTranslator``: the default reply, translated ahead of time into the languages of
  ``reply_catalogue.json``. Any other text or language fails like a Translate fault would, so it
  takes the production code's degraded path.
- ``ModelLanguageDetector``: Comprehend's stand-in, so that the detection policy runs as in AWS
  (a text the local model is unsure of goes to "the service"): the local model's most likely
  language, whatever its probability. Deterministic, and right on most texts of 20 characters or
  more, the only ones ``hybrid`` asks about; being the same model, it never disagrees with a
  confident local answer, where Comprehend rarely would.
"""

import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

from store_reply.detection import LanguageIdentifier
from store_reply.errors import LanguageDetectionFailed, TranslationFailed
from store_reply.models import UNDETERMINED_LANGUAGE


class CatalogueTranslator:
    """Translates the default reply from a catalogue of ready-made translations."""

    def __init__(self, catalogue: dict[str, Any] | None = None) -> None:
        if catalogue is None:
            catalogue = json.loads(resources.files(__package__).joinpath("reply_catalogue.json").read_text())
        self._language: str = catalogue["language"]
        self._text: str = catalogue["text"]
        self._translations: dict[str, str] = catalogue["translations"]

    @property
    def languages(self) -> list[str]:
        """The languages the catalogue holds, besides its source language."""
        return sorted(self._translations)

    def translate(self, text: str, source: str, target: str) -> str:
        """Return the catalogue's translation, or fail as Translate would for what it lacks."""
        if (text, source) != (self._text, self._language):
            raise TranslationFailed("the offline catalogue only holds the default reply")
        if target not in self._translations:
            raise TranslationFailed(f"the offline catalogue has no reply in {target!r}")
        return self._translations[target]


class ModelLanguageDetector:
    """Detects languages as Comprehend's offline stand-in: the local model's best guess."""

    def __init__(self, identifier: LanguageIdentifier) -> None:
        self._identifier = identifier

    def detect(self, text: str) -> str:
        """The model's most likely language; fail as Comprehend finding none would."""
        language, _ = self._identifier.identify(text)
        if language == UNDETERMINED_LANGUAGE:
            raise LanguageDetectionFailed("the offline stand-in found no language")
        return language

    def detect_all(self, texts: Sequence[str]) -> list[str | None]:
        """Each text's language; None where none was found."""
        found: list[str | None] = []
        for text in texts:
            language, _ = self._identifier.identify(text)
            found.append(None if language == UNDETERMINED_LANGUAGE else language)
        return found
