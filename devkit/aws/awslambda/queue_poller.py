"""The queue trigger: polls a queue and invokes its function as the event source mapping says."""

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from devkit.aws.clock import Clock
from devkit.aws.sqs.events import lambda_event

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

logger = logging.getLogger("devkit.local")


@dataclass(frozen=True)
class QueueMapping:
    """An event source mapping from a queue to a function."""

    function: str
    queue_url: str
    queue_arn: str
    batch_size: int
    batching_window: float
    reports_item_failures: bool

    def describe(self, function_arn: str) -> dict[str, Any]:
        """The mapping as Lambda's ListEventSourceMappings describes it."""
        return {
            "UUID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{function_arn} {self.queue_arn}")),
            "EventSourceArn": self.queue_arn,
            "FunctionArn": function_arn,
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": int(self.batching_window),
            "FunctionResponseTypes": ["ReportBatchItemFailures"] if self.reports_item_failures else [],
            "State": "Enabled",
            "StateTransitionReason": "USER_INITIATED",
        }


Invoke = Callable[[str, dict[str, Any], str | None], Any]


class QueuePoller(threading.Thread):
    """Receives batches and deletes what the function processed.

    As with Lambda: an invocation that fails deletes nothing; with ReportBatchItemFailures only the
    records the function names stay on the queue; SQS's redrive policy moves a record to the
    dead-letter queue after maxReceiveCount receives.
    """

    def __init__(
        self, mapping: QueueMapping, sqs: "SQSClient", invoke: Invoke, clock: Clock | None = None
    ) -> None:
        super().__init__(name=f"poller-{mapping.function}", daemon=True)
        self.mapping = mapping
        # The batching window passes in the stack's time, so a compressed clock batches as Lambda would.
        self._window = (clock or Clock()).real_seconds(mapping.batching_window)
        self._sqs = sqs
        self._invoke = invoke
        self._stopping = threading.Event()

    def stop(self) -> None:
        """Stop after the current receive (at most one second)."""
        self._stopping.set()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                batch = self._receive_batch()
                if batch:
                    self._deliver(batch)
            except Exception:  # the poller outlives a failed receive, as the real one does
                logger.exception("Polling %s failed; retrying", self.mapping.queue_url)
                self._stopping.wait(1)

    def _receive_batch(self) -> "list[MessageTypeDef]":
        mapping = self.mapping
        batch: list[MessageTypeDef] = []
        deadline: float | None = None
        while len(batch) < mapping.batch_size and not self._stopping.is_set():
            wait = 1 if deadline is None else max(0, min(1, round(deadline - time.monotonic())))
            received = self._sqs.receive_message(
                QueueUrl=mapping.queue_url,
                MaxNumberOfMessages=min(10, mapping.batch_size - len(batch)),
                WaitTimeSeconds=wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            batch.extend(received)
            if batch and deadline is None:
                deadline = time.monotonic() + self._window
            if deadline is not None and (not received or time.monotonic() >= deadline):
                break
        return batch

    def _deliver(self, batch: "list[MessageTypeDef]") -> None:
        mapping = self.mapping
        try:
            result = self._invoke(mapping.function, lambda_event(batch, mapping.queue_arn), None)
        except Exception as error:  # noqa: BLE001 (the batch stays on the queue, as on Lambda)
            logger.warning(
                "%s failed; its %d records stay on the queue: %s", mapping.function, len(batch), error
            )
            return
        failed: set[str] = set()
        if mapping.reports_item_failures and isinstance(result, dict):
            failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        done = [message for message in batch if message["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self._sqs.delete_message_batch(
                QueueUrl=mapping.queue_url,
                Entries=[
                    {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                    for index, message in enumerate(done[start : start + 10])
                ],
            )
        logger.info(
            "%s: %d records, %d processed, %d left for retry",
            mapping.function,
            len(batch),
            len(done),
            len(failed),
        )
