"""A translator that runs without AWS or a network, for the local stack (LANGUAGE_SERVICES=offline).

``CatalogueTranslator``: the default reply, translated ahead of time into the languages of
``reply_catalogue.json``. Any other text or language fails like a Translate fault would, so it
takes the production code's degraded path. Languages are detected offline by the production
code's local model (LANGUAGE_DETECTION=local).
"""

import json
from importlib import resources
from typing import Any

from store_reply.errors import TranslationFailed


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
