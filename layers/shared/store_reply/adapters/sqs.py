"""Records that can never be processed, set aside in the dead-letter queue with their reason."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from store_reply.models import Rejection

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

SEND_BATCH_ENTRIES = 10  # SendMessageBatch's limit


class DeadLetterQueue:
    """Sends rejected records to the dead-letter queue, untouched, with why they were rejected."""

    def __init__(self, client: "SQSClient", queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def reject_all(self, rejections: Sequence[Rejection]) -> set[str]:
        """Send the records with ``SendMessageBatch``; return the refs of those not sent."""
        not_sent: set[str] = set()
        for start in range(0, len(rejections), SEND_BATCH_ENTRIES):
            chunk = rejections[start : start + SEND_BATCH_ENTRIES]
            entries: list[SendMessageBatchRequestEntryTypeDef] = [
                {
                    "Id": str(index),
                    "MessageBody": rejection.body,
                    "MessageAttributes": {
                        "RejectionReason": {"DataType": "String", "StringValue": rejection.reason[:1000]},
                        "SourceMessageId": {"DataType": "String", "StringValue": rejection.ref},
                    },
                }
                for index, rejection in enumerate(chunk)
            ]
            try:
                response = self._client.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
            except (ClientError, BotoCoreError):
                not_sent.update(rejection.ref for rejection in chunk)
                continue
            not_sent.update(chunk[int(failure["Id"])].ref for failure in response.get("Failed", []))
        return not_sent
