"""Configuration, read from the environment once and validated before the first request."""

from collections.abc import Mapping
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

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
        description="aws: Amazon Translate and Comprehend; offline: the reply catalogue and the local "
        "model's best guess in Comprehend's place (local stack)",
    )
    language_detection: Literal["comprehend", "hybrid", "local"] = Field(
        default="hybrid",
        alias="LANGUAGE_DETECTION",
        description="comprehend: every message to Comprehend; hybrid: the local model first, Comprehend "
        "for what it is unsure of; local: never Comprehend",
    )
    language_confidence: float = Field(
        default=0.9,
        ge=0.5,
        le=1.0,
        alias="LANGUAGE_CONFIDENCE",
        description="The local model's probability from which its answer is kept",
    )
    language_model: Path = Field(
        default=Path("/opt/language-model/lid.176.ftz"),
        alias="LANGUAGE_MODEL",
        description="fastText's lid.176 model file (the shared layer puts it here)",
    )

    function_name: str = Field(
        default="", alias="AWS_LAMBDA_FUNCTION_NAME", description="Set by Lambda: the function's name"
    )
    function_version: str = Field(
        default="",
        alias="AWS_LAMBDA_FUNCTION_VERSION",
        description="Set by Lambda: the version this execution environment runs",
    )

    @property
    def writer(self) -> str | None:
        """Who writes this process's messages, ``<function>:<version>``; None outside Lambda."""
        return f"{self.function_name}:{self.function_version}" if self.function_name else None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        # The offline stand-in for Comprehend reads the model too.
        needs_model = self.language_detection != "comprehend" or self.language_services == "offline"
        if needs_model and not self.language_model.is_file():
            raise ValueError(f"LANGUAGE_MODEL: no model file at {self.language_model}")
        return self

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


class ApiSettings(Settings):
    """The API function's settings: the service's, plus whether ``GET /send`` takes anonymous messages."""

    anonymous_send: bool = Field(
        default=False,
        alias="ANONYMOUS_SEND",
        description="true: GET /send stores messages without a signed-in user, apart from every history",
    )
    deployment_check_client_id: str | None = Field(
        default=None,
        alias="DEPLOYMENT_CHECK_CLIENT_ID",
        description="The app client whose ID tokens may write as the reserved check user (post-traffic hook)",
    )
