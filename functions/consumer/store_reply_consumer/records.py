"""SQS records read into submissions, or rejected with the reason they can never succeed."""

import uuid
from datetime import UTC, datetime

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ConfigDict, Field, ValidationError

from store_reply.deployment_checks import CLIENT_CONTEXT_KEY
from store_reply.models import IdempotencyKey, MessageKey, NewMessage, Rejection, Submission

# Message ids derive from SQS message ids in this namespace, so a redelivery gets the same id.
DELIVERY_NAMESPACE = uuid.UUID("6f1c2a8e-8d0b-4a57-9a59-0c3b1f3e5d21")


class QueuedMessage(NewMessage):
    """A record's body: the original demo's ``{"user", "message"}``, plus an optional idempotency key."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    idempotency_key: IdempotencyKey | None = Field(default=None, alias="idempotencyKey")


def _reason(error: ValidationError) -> str:
    # The messages name the fields and the rule, never the input.
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'body'}: {problem['msg']}"
        for problem in error.errors(include_input=False, include_url=False)
    )


def read_record(record: SQSRecord) -> Submission | Rejection:
    """Read one record; a body that can never be stored becomes a ``Rejection``."""
    try:
        queued = QueuedMessage.model_validate_json(record.body)
    except ValidationError as error:
        return Rejection(ref=record.message_id, body=record.body, reason=_reason(error))
    sent_at = datetime.fromtimestamp(int(record.attributes.sent_timestamp) / 1000, UTC)
    return Submission(
        ref=record.message_id,
        message=NewMessage(user=queued.user, message=queued.message),
        key=MessageKey(received_at=sent_at, id=uuid.uuid5(DELIVERY_NAMESPACE, record.message_id).hex),
        idempotency_key=queued.idempotency_key,
        redelivered=int(record.attributes.approximate_receive_count) > 1,
        deployment_check=CLIENT_CONTEXT_KEY in (record.message_attributes or {}),
    )
