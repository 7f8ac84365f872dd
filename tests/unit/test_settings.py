"""Configuration fails loudly before the first request."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from devkit.runtime.language_model import model_path
from store_reply.settings import Settings

VALID = {
    "TABLE_NAME": "messages",
    "REPLY_MESSAGE": "Thanks!",
    "REPLY_LANGUAGE": "en",
    "LANGUAGE_MODEL": str(model_path()),
}


def test_reads_the_environment() -> None:
    settings = Settings.from_environ({**VALID, "UNRELATED": "x"})

    assert (settings.table_name, settings.reply_message, settings.reply_language) == (
        "messages",
        "Thanks!",
        "en",
    )
    assert (settings.language_detection, settings.language_confidence) == ("hybrid", 0.9)


@pytest.mark.parametrize(
    "broken",
    [
        {k: v for k, v in VALID.items() if k != "TABLE_NAME"},
        {**VALID, "REPLY_MESSAGE": ""},
        {**VALID, "REPLY_LANGUAGE": "English"},
        {**VALID, "LANGUAGE_DETECTION": "fasttext"},
        {**VALID, "LANGUAGE_CONFIDENCE": "0.3"},
        {**VALID, "LANGUAGE_CONFIDENCE": "1.5"},
        {**VALID, "LANGUAGE_SERVICES": "elsewhere"},
    ],
)
def test_missing_or_bad_values_fail(broken: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings.from_environ(broken)


def test_a_missing_model_file_fails_at_start_unless_only_comprehend_is_used(tmp_path: Path) -> None:
    missing = {**VALID, "LANGUAGE_MODEL": str(tmp_path / "lid.176.ftz")}

    with pytest.raises(ValidationError, match="no model file"):
        Settings.from_environ(missing)
    assert Settings.from_environ({**missing, "LANGUAGE_DETECTION": "comprehend"}).language_detection == (
        "comprehend"
    )
    # Offline, Comprehend's stand-in is the model itself.
    with pytest.raises(ValidationError, match="no model file"):
        Settings.from_environ({**missing, "LANGUAGE_DETECTION": "comprehend", "LANGUAGE_SERVICES": "offline"})
