"""What counts as a valid message."""

import pytest
from pydantic import ValidationError

from store_reply.models import NewMessage


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("", "hi"),
        ("   ", "hi"),
        ("a" * 129, "hi"),
        ("tab\tuser", "hi"),
        ("alice", ""),
        ("alice", " \n "),
        ("alice", "x" * 5001),
        ("alice", "bad \ud800 surrogate"),
    ],
)
def test_rejects(user: str, message: str) -> None:
    with pytest.raises(ValidationError):
        NewMessage(user=user, message=message)


@pytest.mark.parametrize(
    ("user", "message"),
    [("a", "x"), ("u" * 128, "y" * 5000), ("Zoë B", "こんにちは 👋"), ("x@y.z", "multi\nline")],
)
def test_accepts(user: str, message: str) -> None:
    assert NewMessage(user=user, message=message).message == message
