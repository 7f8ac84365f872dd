"""SQS consumer handler: a batch in, the records to retry out (ReportBatchItemFailures)."""

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSEvent, SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from store_reply.adapters.clients import build_clients, build_sqs_client
from store_reply.adapters.sqs import DeadLetterQueue
from store_reply.deployment_checks import is_deployment_check
from store_reply.settings import QueueSettings
from store_reply.telemetry import NAMESPACE, tag_version
from store_reply.wiring import build_service
from store_reply_consumer.batch import QueueConsumer, consume

logger = Logger()
metrics = Metrics(namespace=NAMESPACE)

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


class RecordNotStored(Exception):
    """The record was not stored (or not set aside); SQS delivers it again."""


def create_handler(build: Callable[[], QueueConsumer]) -> Handler:
    """A Lambda handler that builds its consumer once, on its first invocation, with ``build``."""
    built: list[QueueConsumer] = []
    # A batch whose every record failed is reported like any other partial failure (and counted
    # in RecordsFailed) rather than raised: function errors are kept for real crashes.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if not built:
            built.append(build())
        tag_version(metrics, context.function_version)
        retry = consume(
            list(SQSEvent(event).records),
            built[0],
            logger,
            metrics,
            deployment_check=is_deployment_check(context),
        )

        def settle(record: SQSRecord) -> None:
            if record.message_id in retry:
                raise RecordNotStored(record.message_id)

        return dict(
            process_partial_response(event=event, record_handler=settle, processor=processor, context=context)
        )

    return handler


def _production_consumer() -> QueueConsumer:
    settings = QueueSettings.from_environ(os.environ)
    return QueueConsumer(
        service=build_service(settings, build_clients()),
        rejected=DeadLetterQueue(build_sqs_client(), settings.dead_letter_queue_url),
        max_receive_count=settings.max_receive_count,
    )


lambda_handler = create_handler(_production_consumer)
