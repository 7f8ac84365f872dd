"""Metric datapoints, kept as CloudWatch keeps them, and the statistics an alarm asks of them.

A metric is its namespace, name and exact set of dimensions (CloudWatch treats each combination
as a metric of its own). Every value is kept, so percentiles and sample counts are exact.
"""

import bisect
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

Dimensions = frozenset[tuple[str, str]]
RETENTION_SECONDS = 3 * 3600
PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


@dataclass(frozen=True)
class MetricId:
    """One metric: CloudWatch matches namespace, name and every dimension exactly."""

    namespace: str
    name: str
    dimensions: Dimensions

    @classmethod
    def of(cls, namespace: str, name: str, dimensions: Mapping[str, str]) -> "MetricId":
        return cls(namespace, name, frozenset(dimensions.items()))


@dataclass(frozen=True)
class Datum:
    """One value of a metric at a time (seconds since the epoch), with its unit."""

    metric: MetricId
    timestamp: float
    value: float
    unit: str = "None"


class MetricStore:
    """Every datapoint of the last hours, by metric and time; ``on_put`` mirrors them elsewhere."""

    def __init__(self, on_put: Callable[[Sequence[Datum]], None] | None = None) -> None:
        self._series: dict[MetricId, tuple[list[float], list[float]]] = {}
        self._lock = threading.Lock()
        self._on_put = on_put

    def put(self, data: Iterable[Datum]) -> None:
        """Record datapoints."""
        batch = list(data)
        with self._lock:
            for datum in batch:
                times, values = self._series.setdefault(datum.metric, ([], []))
                at = bisect.bisect_right(times, datum.timestamp)
                times.insert(at, datum.timestamp)
                values.insert(at, datum.value)
        if self._on_put is not None and batch:
            self._on_put(batch)

    def values(self, metric: MetricId, start: float, end: float) -> list[float]:
        """The values of ``metric`` in ``[start, end)``."""
        with self._lock:
            times, values = self._series.get(metric, ([], []))
            return values[bisect.bisect_left(times, start) : bisect.bisect_left(times, end)]

    def prune(self, before: float) -> None:
        """Forget datapoints older than ``before``."""
        with self._lock:
            for times, values in self._series.values():
                cut = bisect.bisect_left(times, before)
                del times[:cut], values[:cut]


def percentile_of(statistic: str) -> float | None:
    """0.99 for "p99", 0.999 for "p99.9"; None for the named statistics."""
    found = PERCENTILE.match(statistic)
    return float(found.group(1)) / 100 if found else None


NAMED_STATISTICS: dict[str, Callable[[Sequence[float]], float]] = {
    "Sum": math.fsum,
    "Average": lambda values: math.fsum(values) / len(values),
    "Minimum": min,
    "Maximum": max,
    "SampleCount": lambda values: float(len(values)),
}


def statistic(values: Sequence[float], name: str) -> float | None:
    """A period's statistic over its values; None when the period has no data."""
    if not values:
        return None
    if name in NAMED_STATISTICS:
        return NAMED_STATISTICS[name](values)
    p = percentile_of(name)
    if p is None:
        raise ValueError(f"statistic {name} is not supported")
    ordered = sorted(values)
    rank = math.ceil(round(p * len(ordered), 9))  # nearest rank; rounding keeps 0.999 x 1000 at 999
    return ordered[max(0, rank - 1)]


def low_sample_count(samples: int, p: float) -> bool:
    """True below the sample count CloudWatch needs for percentile ``p`` to be significant.

    "For percentiles between 0.5 and 1.00, this setting is used when there are fewer than
    10/(1-percentile) data points ... For percentiles between 0 and 0.5, ... fewer than
    10/percentile data points." (CloudWatch User Guide, percentiles-with-low-samples)
    """
    needed = 10 / (1 - p) if p >= 0.5 else 10 / p
    return samples < round(needed, 6)
