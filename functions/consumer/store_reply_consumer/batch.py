"""One batch of queue records: rejected records set aside, the rest replied to and stored together."""

from collections.abc import Sequence
from dataclasses import dataclass

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from store_reply.models import Rejection, Submission
from store_reply.ports import RejectedRecords
from store_reply.service import StoreAndReply
from store_reply.telemetry import record_receipt
from store_reply_consumer.records import read_record


@dataclass(frozen=True)
class QueueConsumer:
    """What the consumer needs: the service, and where rejected records go."""

    service: StoreAndReply
    rejected: RejectedRecords
    max_receive_count: int


def consume(
    records: Sequence[SQSRecord],
    consumer: QueueConsumer,
    logger: Logger,
    metrics: Metrics,
    *,
    deployment_check: bool = False,
) -> set[str]:
    """Process a batch; return the message ids of the records to retry.

    A record that can never succeed is sent to the dead-letter queue at once (no retries burnt)
    and counts as done; if it cannot be sent there, it is retried, so it is never dropped. A record
    failed on its last allowed delivery is counted in ``RecordsDeadLettered``: SQS moves it to the
    dead-letter queue, and SQS's own metrics of an idle dead-letter queue would not show it.
    """
    read = [read_record(record) for record in records]
    submissions = [item for item in read if isinstance(item, Submission)]
    rejections = [item for item in read if isinstance(item, Rejection)]

    retry: set[str] = set()
    if submissions:
        result = consumer.service.accept_batch(submissions, allow_reserved=deployment_check)
        for receipt in result.receipts.values():
            record_receipt(metrics, receipt)
        retry |= result.failed
        bodies = {record.message_id: record.body for record in records}
        rejections += [
            Rejection(ref=ref, body=bodies[ref], reason=why) for ref, why in result.refused.items()
        ]
    if rejections:
        for rejection in rejections:
            logger.warning("Record rejected", message_id=rejection.ref, reason=rejection.reason)
        retry |= consumer.rejected.reject_all(rejections)

    metrics.add_metric(name="RecordsProcessed", unit=MetricUnit.Count, value=len(records) - len(retry))
    metrics.add_metric(name="RecordsFailed", unit=MetricUnit.Count, value=len(retry))
    metrics.add_metric(name="RecordsRejected", unit=MetricUnit.Count, value=len(rejections))
    exhausted = [
        record.message_id
        for record in records
        if record.message_id in retry
        and int(record.attributes.approximate_receive_count) >= consumer.max_receive_count
    ]
    for message_id in exhausted:
        logger.error(
            "Record failed its last delivery; SQS moves it to the dead-letter queue", message_id=message_id
        )
    metrics.add_metric(name="RecordsDeadLettered", unit=MetricUnit.Count, value=len(exhausted))
    return retry
