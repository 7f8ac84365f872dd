"""Values that cross the domain's boundary."""

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_MESSAGE_CHARS = 5_000
MAX_USER_CHARS = 128
UNDETERMINED_LANGUAGE = "und"


def _encodable(value: str) -> str:
    # JSON admits lone surrogates ("\ud800"); DynamoDB and the AI services need valid UTF-8.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


# Character classes spelled out with \uXXXX escapes, which Python's re, pydantic's Rust regex
# engine and JSON Schema's ECMA-262 dialect all read alike, so that what the OpenAPI document
# promises is exactly what is validated.
# Python's whitespace (every character for which str.isspace() is true):
WHITESPACE = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Control characters (Unicode category Cc) and the line and paragraph separators:
CONTROLS = r"\u0000-\u001f\u007f-\u009f\u2028\u2029"
NOT_BLANK = rf"[^{WHITESPACE}]"
USER_PATTERN = rf"^[^{CONTROLS}]*[^{CONTROLS}{WHITESPACE}][^{CONTROLS}]*$"
# What callers may use: the same, except names beginning with "__", kept for deployment checks
# (store_reply.deployment_checks), which only the traffic hooks' direct invocations may send.
PUBLIC_USER_PATTERN = rf"^(?!__){USER_PATTERN[1:]}"
# Visible ASCII and spaces, not only spaces: an HTTP header carries it unchanged.
IDEMPOTENCY_KEY_PATTERN = r"^[\u0020-\u007e]*[\u0021-\u007e][\u0020-\u007e]*$"

UserName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_USER_CHARS,
        pattern=USER_PATTERN,
        description="Who sent the message: 1-128 characters, not only whitespace, no control "
        "characters or line separators, not beginning with '__'",
        json_schema_extra={"pattern": PUBLIC_USER_PATTERN},
    ),
    AfterValidator(_encodable),
]
IdempotencyKey = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="A client's key, 1-128 visible ASCII characters: re-sending it stores nothing new",
    ),
]
MessageText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_MESSAGE_CHARS,
        pattern=NOT_BLANK,
        description="The message: 1-5,000 characters, not only whitespace",
    ),
    AfterValidator(_encodable),
]


class NewMessage(BaseModel):
    """A message as a user sends it."""

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        str_strip_whitespace=False,
        json_schema_extra={"examples": [{"user": "alice", "message": "Bonjour, merci pour votre aide"}]},
    )

    user: UserName
    message: MessageText
    anonymous: bool = Field(
        default=False,
        description="Sent without signing in: kept apart from every signed-in user's history",
        exclude=True,
    )


class DecidedBy(StrEnum):
    """Who decided a message's language: the local model, the language service, or no one."""

    LOCAL = "local"
    SERVICE = "service"
    UNDETERMINED = "undetermined"


class Reply(BaseModel):
    """The thank-you text returned to the user."""

    model_config = ConfigDict(frozen=True)

    text: str
    language: str
    translated: bool
    degraded: bool = Field(description="True when a service fault made the reply fall back")


class StoredMessage(BaseModel):
    """A message as it is kept in the message store."""

    model_config = ConfigDict(frozen=True)

    id: str
    user: str
    anonymous: bool = False
    message: str
    language: str
    reply: str
    translated: bool
    received_at: datetime


class Receipt(BaseModel):
    """What the service tells the user once their message is stored."""

    model_config = ConfigDict(frozen=True)

    stored: StoredMessage
    reply: Reply
    language_degraded: bool
    language_decided_by: DecidedBy
    new: bool = Field(
        default=True,
        description="False when the message was stored before (a retry or a redelivery stored over itself)",
    )

    @property
    def degraded(self) -> bool:
        """True when language detection or translation fell back."""
        return self.language_degraded or self.reply.degraded


class CachedTranslation(BaseModel):
    """What is known of the reply in one language: its translation, or that none exists."""

    model_config = ConfigDict(frozen=True)

    text: str | None = Field(description="None when the translator offers no translation into the language")


class HistoryPage(BaseModel):
    """One page of a user's messages, newest first."""

    model_config = ConfigDict(frozen=True)

    messages: list[StoredMessage]
    next_token: str | None


class MessageKey(BaseModel):
    """What identifies a stored message within its user's history: when it arrived, and its id."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    received_at: datetime = Field(alias="t")
    id: str = Field(alias="i", pattern=r"^[0-9a-f]{32}$")


class Claim(BaseModel):
    """An idempotency key's binding: the key the message is stored under, and what message it was."""

    model_config = ConfigDict(frozen=True)

    key: MessageKey
    fingerprint: str


def fingerprint_of(message: NewMessage) -> str:
    """A digest of what a message says and who sent it: a retry has the same, another message not."""
    return hashlib.sha256(json.dumps([message.user, message.message]).encode()).hexdigest()


class Submission(BaseModel):
    """A message that arrived in a batch, with the identity it is stored under.

    ``ref`` is the caller's handle for the outcome. ``key`` is derived from the delivery, so a
    redelivery is stored over itself; with an ``idempotency_key`` the first delivery's key wins.
    """

    model_config = ConfigDict(frozen=True)

    ref: str
    message: NewMessage
    key: MessageKey
    idempotency_key: str | None = None
    redelivered: bool = False  # delivered before: it may have been stored then
    deployment_check: bool = False  # marked as a deployment check: may use the reserved check user


class BatchResult(BaseModel):
    """What became of each submission of a batch, by ``ref``."""

    model_config = ConfigDict(frozen=True)

    receipts: dict[str, Receipt]
    failed: frozenset[str]
    refused: dict[str, str] = Field(
        default_factory=dict, description="Submissions that can never be stored, by ref, with the reason"
    )


class Rejection(BaseModel):
    """A record that can never be processed: its body as received and why it was rejected."""

    model_config = ConfigDict(frozen=True)

    ref: str
    body: str
    reason: str
