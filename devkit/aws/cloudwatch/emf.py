"""CloudWatch Embedded Metric Format: the metrics in a function's log lines, read as CloudWatch Logs does.

Each ``_aws.CloudWatchMetrics`` directive names a namespace, dimension sets and metrics; every
dimension set yields its own metric, every value of an array its own datapoint.
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

from devkit.aws.cloudwatch.metrics import Datum, MetricId

logger = logging.getLogger("devkit.local")


class InvalidEmf(ValueError):
    """A log line that claims to be EMF but is not valid EMF."""


def is_emf(line: str) -> bool:
    """True for a line that looks like an EMF document."""
    return line.lstrip().startswith("{") and '"_aws"' in line


def parse(line: str, timestamp: float, stamped: Callable[[float], float] | None = None) -> list[Datum]:
    """The datapoints of one EMF line; raise ``InvalidEmf``.

    CloudWatch files each datapoint under the document's ``_aws.Timestamp`` (epoch milliseconds).
    With ``stamped`` (the stack's clock, from a real epoch second to its own time) the document's
    timestamp is honoured; without, or when the document has none, the line is ``timestamp``'s.
    """
    try:
        document = json.loads(line)
        directives = document["_aws"]["CloudWatchMetrics"]
        written = document["_aws"].get("Timestamp")
        if stamped is not None and isinstance(written, int | float) and not isinstance(written, bool):
            timestamp = stamped(written / 1000)
        return list(_datapoints(document, directives, timestamp))
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidEmf(str(error)) from error


def _datapoints(document: dict[str, Any], directives: list[Any], timestamp: float) -> Iterator[Datum]:
    for directive in directives:
        namespace = directive["Namespace"]
        if not isinstance(namespace, str) or not namespace:
            raise InvalidEmf("a directive has no namespace")
        for dimension_set in directive["Dimensions"]:
            dimensions = {}
            for key in dimension_set:
                if not isinstance(document.get(key), str):
                    raise InvalidEmf(f"dimension {key!r} has no string value")
                dimensions[key] = document[key]
            for metric in directive["Metrics"]:
                name = metric["Name"]
                value = document[name]
                values = value if isinstance(value, list) else [value]
                if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                    raise InvalidEmf(f"metric {name!r} has a value that is not a number")
                metric_id = MetricId.of(namespace, name, dimensions)
                for number in values:
                    yield Datum(metric_id, timestamp, float(number), metric.get("Unit", "None"))


def read_lines(
    lines: list[str], timestamp: float, stamped: Callable[[float], float] | None = None
) -> list[Datum]:
    """The datapoints of a function's output; a malformed EMF line is skipped with a warning."""
    data: list[Datum] = []
    for line in lines:
        if not is_emf(line):
            continue
        try:
            data += parse(line, timestamp, stamped)
        except InvalidEmf as error:
            logger.warning("Ignored a malformed EMF line (%s): %.200s", error, line)
    return data
