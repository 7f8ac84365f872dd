"""Configuration, read from the environment once and validated before the first request."""

from collections.abc import Mapping
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field

LANGUAGE_CODE = r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$"


class Settings(BaseModel):
    """Everything the service needs to know about where it runs."""

    model_config = ConfigDict(frozen=True)

    table_name: str = Field(min_length=3, max_length=255, alias="TABLE_NAME")
    reply_message: str = Field(min_length=1, max_length=1_000, alias="REPLY_MESSAGE")
    reply_language: str = Field(pattern=LANGUAGE_CODE, alias="REPLY_LANGUAGE")
    language_services: Literal["aws", "offline"] = Field(
        default="aws",
        alias="LANGUAGE_SERVICES",
        description="aws: Comprehend and Translate; offline: fastText and the reply catalogue (local stack)",
    )

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        """Build the settings from environment variables; a missing or bad one fails loudly."""
        return cls.model_validate(dict(environ))


class QueueSettings(Settings):
    """The queue consumer's settings: the service's, plus where rejected records go."""

    dead_letter_queue_url: str = Field(pattern=r"^https?://", alias="DEAD_LETTER_QUEUE_URL")
    max_receive_count: int = Field(
        ge=1, le=1_000, alias="MAX_RECEIVE_COUNT", description="The queue's redrive maxReceiveCount"
    )
