"""Opaque history page tokens.

A token names the last message of the page it ends (time and id). It carries no user, so a token
cannot open another user's history; it is not signed, because all it can choose is where to start
reading the history the caller already asked for.
"""

import base64
import binascii
import json

from pydantic import ValidationError

from store_reply.errors import InvalidPageToken
from store_reply.models import MessageKey, StoredMessage

MAX_TOKEN_CHARS = 256


def encode_token(last: StoredMessage) -> str:
    """Make the token that continues a history after ``last``."""
    payload = {"t": last.received_at.isoformat(), "i": last.id}
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> MessageKey:
    """Read a token made by ``encode_token``; raise ``InvalidPageToken`` for anything else."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise InvalidPageToken("the page token is empty or too long")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        position = MessageKey.model_validate_json(raw)
    except (binascii.Error, ValueError, ValidationError):
        raise InvalidPageToken("the page token was not issued by this service") from None
    if position.received_at.tzinfo is None:
        raise InvalidPageToken("the page token was not issued by this service")
    return position
