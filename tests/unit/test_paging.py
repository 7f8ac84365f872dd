"""Page tokens round-trip and reject anything else."""

from datetime import UTC, datetime

import pytest

from store_reply.errors import InvalidPageToken
from store_reply.models import StoredMessage
from store_reply.paging import decode_token, encode_token

LAST = StoredMessage(
    id="ab" * 16,
    user="alice",
    message="m",
    language="en",
    reply="r",
    translated=False,
    received_at=datetime(2026, 11, 26, 9, 30, 0, 250000, tzinfo=UTC),
)


def test_a_token_names_the_last_message() -> None:
    position = decode_token(encode_token(LAST))

    assert (position.received_at, position.id) == (LAST.received_at, LAST.id)


def test_a_token_carries_no_user() -> None:
    assert "alice" not in decode_token(encode_token(LAST)).model_dump_json()


@pytest.mark.parametrize("token", ["", "!!!", "bm90IGpzb24", "e30", "eyJ0IjoxfQ", "a" * 257])
def test_rejects_what_it_did_not_issue(token: str) -> None:
    with pytest.raises(InvalidPageToken):
        decode_token(token)
