"""SQS consumer handler: a batch in, the records to retry out (ReportBatchItemFailures)."""

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSEvent, SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from store_reply.adapters.clients import AwsClients, build_sqs_client
from store_reply.adapters.snapstart import Primed
from store_reply.adapters.sqs import DeadLetterQueue
from store_reply.deployment_checks import is_deployment_check
from store_reply.settings import QueueSettings
from store_reply.telemetry import NAMESPACE, tag_version
from store_reply.wiring import Configured
from store_reply_consumer.batch import QueueConsumer, consume

logger = Logger()
metrics = Metrics(namespace=NAMESPACE)

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


class RecordNotStored(Exception):
    """The record was not stored (or not set aside); SQS delivers it again."""


def create_handler(build: Callable[[], QueueConsumer], *, once: bool = True) -> Handler:
    """A Lambda handler whose consumer comes from ``build``: called once, or on every invocation
    when ``build`` keeps the consumer itself (``once=False``)."""
    built: list[QueueConsumer] = []
    # A batch whose every record failed is reported like any other partial failure (and counted
    # in RecordsFailed) rather than raised: function errors are kept for real crashes.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if not built or not once:
            built[:] = [build()]
        tag_version(metrics, context.function_name, context.function_version)
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


CONFIGURED = Configured(lambda: QueueSettings.from_environ(os.environ))


def _consumer(clients: AwsClients) -> QueueConsumer:
    return QueueConsumer(
        service=CONFIGURED.service(clients),
        rejected=DeadLetterQueue(
            build_sqs_client(clients.session), CONFIGURED.settings.dead_letter_queue_url
        ),
        max_receive_count=CONFIGURED.settings.max_receive_count,
    )


def _dry_batch(consumer: QueueConsumer) -> None:  # noqa: ARG001 (a batch would reach DynamoDB)
    """The model exercised on a text, without AWS."""
    if CONFIGURED.language_model is not None:
        CONFIGURED.language_model.identify("Merci pour la réponse rapide")


PRODUCTION = Primed(_consumer, touch=CONFIGURED.prepare, dry_run=_dry_batch)
PRODUCTION.register()
lambda_handler = create_handler(PRODUCTION.get, once=False)
