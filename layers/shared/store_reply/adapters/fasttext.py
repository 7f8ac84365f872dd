"""fastText's language identification model (lid.176, compressed), run in-process.

The binding is ``fasttext-predict``: fastText's prediction code only, with wheels for Linux on
arm64 and no NumPy. The model is a file shipped with the function (the shared layer's
/opt/language-model, or the development environment's copy of the same file); nothing is
downloaded or written, ever.
"""

from pathlib import Path
from typing import Any

from store_reply.models import UNDETERMINED_LANGUAGE

LABEL_PREFIX = "__label__"


class FastTextLanguageIdentifier:
    """The most likely language of a text, by fastText. The model loads on first use, or on ``load``."""

    def __init__(self, model_path: Path) -> None:
        self._path = model_path
        self._model: Any = None

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._model is not None

    def load(self) -> None:
        """Load the model now (a SnapStart snapshot, or a test, wants it ready)."""
        if self._model is None:
            import fasttext  # noqa: PLC0415 (loaded with the model: a process that never identifies skips both)

            self._model = fasttext.load_model(str(self._path))

    def identify(self, text: str) -> tuple[str, float]:
        """Return (language code, probability); fastText reads one line, so whitespace is folded."""
        self.load()
        labels, probabilities = self._model.predict(" ".join(text.split()), k=1)
        if not labels:
            return UNDETERMINED_LANGUAGE, 0.0
        return str(labels[0]).removeprefix(LABEL_PREFIX), min(float(probabilities[0]), 1.0)
