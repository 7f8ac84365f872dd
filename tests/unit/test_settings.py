"""Configuration fails loudly before the first request."""

import pytest
from pydantic import ValidationError

from store_reply.settings import Settings

VALID = {"TABLE_NAME": "messages", "REPLY_MESSAGE": "Thanks!", "REPLY_LANGUAGE": "en"}


def test_reads_the_environment() -> None:
    settings = Settings.from_environ({**VALID, "UNRELATED": "x"})

    assert (settings.table_name, settings.reply_message, settings.reply_language) == (
        "messages",
        "Thanks!",
        "en",
    )


@pytest.mark.parametrize(
    "broken",
    [
        {k: v for k, v in VALID.items() if k != "TABLE_NAME"},
        {**VALID, "REPLY_MESSAGE": ""},
        {**VALID, "REPLY_LANGUAGE": "English"},
    ],
)
def test_missing_or_bad_values_fail(broken: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Settings.from_environ(broken)
