"""Business metrics, sent as CloudWatch Embedded Metric Format through Powertools Metrics.

Every function sets the executed version as the ``FunctionVersion`` dimension, so a canary's
alarms can tell the new version's figures from the old one's.
"""

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from store_reply.deployment_checks import is_reserved
from store_reply.models import DecidedBy, Receipt

NAMESPACE = "StoreAndReply"
# How each message's language was decided: one of these counts 1 per stored message.
LANGUAGE_DECISION_METRICS = {
    DecidedBy.LOCAL: "LanguageDecidedLocally",
    DecidedBy.SERVICE: "LanguageDecidedByComprehend",
    DecidedBy.UNDETERMINED: "LanguageUndetermined",
}
VERSION_DIMENSION = "FunctionVersion"
FUNCTION_DIMENSION = "FunctionName"
SERVICE_DIMENSION = "service"


def tag_version(metrics: Metrics, function: str, version: str) -> None:
    """Put the function and its executed version on every metric of this invocation.

    Each metric goes out twice: under the function and version (what a canary's alarms judge the
    new version by) and under the function alone (all its versions: the baseline they compare
    it with). Both functions share the namespace and the service: the function's name keeps one's
    version 2 apart from the other's.
    """
    # Powertools keeps extra dimension sets across an invocation that flushed nothing: start clean.
    metrics.clear_metrics()
    metrics.add_dimension(FUNCTION_DIMENSION, function)
    metrics.add_dimension(VERSION_DIMENSION, version)
    service = {SERVICE_DIMENSION: metrics.service} if metrics.service else {}
    metrics.add_dimensions(**{FUNCTION_DIMENSION: function, **service})


def record_receipt(metrics: Metrics, receipt: Receipt) -> None:
    """Count one stored message and its reply.

    ``MessagesAccepted`` counts the messages this version answered as stored for the first time:
    what an independent reader of the table must find written by it (``MessagesPersisted``). A
    retry or redelivery stored over itself is not counted again, nor a deployment check's message.
    """
    metrics.add_metric(name="MessagesStored", unit=MetricUnit.Count, value=1)
    # A deployment check's messages are deleted after the check; the witness does not count them either.
    accepted = receipt.new and not is_reserved(receipt.stored.user)
    metrics.add_metric(name="MessagesAccepted", unit=MetricUnit.Count, value=int(accepted))
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


def record_history_failure(metrics: Metrics) -> None:
    """Count one history page that could not be read (not a message: no share of any message alarm)."""
    metrics.add_metric(name="HistoryReadFailures", unit=MetricUnit.Count, value=1)


def record_history_read(metrics: Metrics, messages: int) -> None:
    """Count one history page read and the messages it returned."""
    metrics.add_metric(name="HistoryPagesRead", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="HistoryMessagesRead", unit=MetricUnit.Count, value=messages)


def record_rejected_request(metrics: Metrics) -> None:
    """Count one request refused for bad input."""
    metrics.add_metric(name="RequestsRejected", unit=MetricUnit.Count, value=1)
