"""The shapes of the API's request body and answers (they also document the OpenAPI schema)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from store_reply.models import HistoryPage, MessageText, Receipt, StoredMessage, UserName


class _Body(BaseModel):
    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class MessageBody(_Body):
    """What a signed-in user sends: the message. They are the sender; a ``user``, if given, must be them."""

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        json_schema_extra={"examples": [{"message": "Bonjour, merci pour votre aide"}]},
    )

    message: MessageText
    user: UserName | None = Field(
        default=None, description="Optional, for the original demo's clients: must be the signed-in user"
    )


class MessageAccepted(_Body):
    """A stored message and the reply to it."""

    id: str
    user: str
    language: str = Field(description="Detected language, or 'und' when detection failed")
    reply: str
    translated: bool
    received_at: datetime = Field(alias="receivedAt")

    @classmethod
    def of(cls, receipt: Receipt) -> "MessageAccepted":
        """Describe a receipt."""
        stored = receipt.stored
        return cls(
            id=stored.id,
            user=stored.user,
            language=stored.language,
            reply=receipt.reply.text,
            translated=receipt.reply.translated,
            received_at=stored.received_at,
        )


class SendAccepted(MessageAccepted):
    """The answer of the demo-compatible ``GET /send``: the reply is also under ``message``."""

    message: str

    @classmethod
    def of(cls, receipt: Receipt) -> "SendAccepted":
        """Describe a receipt the way the original demo did, plus the new fields."""
        return cls(message=receipt.reply.text, **MessageAccepted.of(receipt).model_dump())


class HistoryEntry(_Body):
    """One message of a user's history."""

    id: str
    message: str
    language: str
    reply: str
    translated: bool
    received_at: datetime = Field(alias="receivedAt")

    @classmethod
    def of(cls, stored: StoredMessage) -> "HistoryEntry":
        """Describe a stored message."""
        return cls.model_validate(stored.model_dump())


class History(_Body):
    """A page of a user's history, newest first."""

    user: str
    messages: list[HistoryEntry]
    next: str | None = Field(description="Pass as ?next= to read the following page; null on the last page")

    @classmethod
    def of(cls, user: str, page: HistoryPage) -> "History":
        """Describe a history page."""
        return cls(user=user, messages=[HistoryEntry.of(m) for m in page.messages], next=page.next_token)


class FieldProblem(_Body):
    """One field at fault."""

    field: str = Field(
        description="Where: body fields by name, 'query.<name>', 'header.<name>', 'path.<name>'"
    )
    problem: str | None = Field(default=None, description="What is wrong with it")


class ApiError(_Body):
    """Every error body, from the function or from API Gateway."""

    message: str
    errors: list[FieldProblem] | None = Field(default=None, description="The fields at fault (400, 422)")
