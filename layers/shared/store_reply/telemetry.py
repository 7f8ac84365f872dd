"""Business metrics, sent as CloudWatch Embedded Metric Format through Powertools Metrics.

Every function sets the executed version as the ``FunctionVersion`` dimension, so a canary's
alarms can tell the new version's figures from the old one's.
"""

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from store_reply.models import DecidedBy, Receipt

NAMESPACE = "StoreAndReply"
# How each message's language was decided: one of these counts 1 per stored message.
LANGUAGE_DECISION_METRICS = {
    DecidedBy.LOCAL: "LanguageDecidedLocally",
    DecidedBy.SERVICE: "LanguageDecidedByComprehend",
    DecidedBy.UNDETERMINED: "LanguageUndetermined",
}
VERSION_DIMENSION = "FunctionVersion"


def tag_version(metrics: Metrics, version: str) -> None:
    """Put the executed function version on every metric of this invocation."""
    metrics.set_default_dimensions(**{VERSION_DIMENSION: version})


def record_receipt(metrics: Metrics, receipt: Receipt) -> None:
    """Count one stored message and its reply."""
    metrics.add_metric(name="MessagesStored", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="MessageCharacters", unit=MetricUnit.Count, value=len(receipt.stored.message))
    metrics.add_metric(name="Replies", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="TranslatedReplies", unit=MetricUnit.Count, value=int(receipt.reply.translated))
    metrics.add_metric(name="DegradedReplies", unit=MetricUnit.Count, value=int(receipt.degraded))
    for decided_by, name in LANGUAGE_DECISION_METRICS.items():
        metrics.add_metric(
            name=name, unit=MetricUnit.Count, value=int(receipt.language_decided_by is decided_by)
        )


def record_store_failure(metrics: Metrics) -> None:
    """Count one message that could not be stored."""
    metrics.add_metric(name="StoreFailures", unit=MetricUnit.Count, value=1)


def record_history_read(metrics: Metrics, messages: int) -> None:
    """Count one history page read and the messages it returned."""
    metrics.add_metric(name="HistoryPagesRead", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="HistoryMessagesRead", unit=MetricUnit.Count, value=messages)


def record_rejected_request(metrics: Metrics) -> None:
    """Count one request refused for bad input."""
    metrics.add_metric(name="RequestsRejected", unit=MetricUnit.Count, value=1)
