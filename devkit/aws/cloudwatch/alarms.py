"""CloudWatch alarm evaluation, as the CloudWatch User Guide documents it.

- M out of N: ``DatapointsToAlarm`` breaching datapoints among the ``EvaluationPeriods`` evaluated.
- Missing data: CloudWatch retrieves an evaluation range longer than N (five datapoints for N=3);
  with at least N real datapoints it evaluates the most recent N; with fewer it fills the gaps by
  ``TreatMissingData``, using as few filled datapoints as possible (``decide`` reproduces both
  tables of "How alarm state is evaluated when data is missing").
- Percentiles: below 10/(1-p) samples in a period (10/p under p50), ``EvaluateLowSampleCountPercentile``
  ``ignore`` keeps the current state; ``evaluate`` (the default) evaluates anyway.
- Metric math alarms: the query whose ``ReturnData`` is true, computed from the others.
"""

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from devkit.aws.cloudwatch import metric_math
from devkit.aws.cloudwatch.metrics import (
    NAMED_STATISTICS,
    MetricId,
    MetricStore,
    low_sample_count,
    percentile_of,
    statistic,
)

State = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
Slot = Literal["X", "0", "-"]  # breaching, not breaching, missing
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
SYMBOLS = {
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "GreaterThanThreshold": "greater than",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
EXTRA_PERIODS = 2  # the evaluation range: N + 2 datapoints (5 for the guide's N = 3)


class UnsupportedAlarm(ValueError):
    """An alarm this evaluator cannot evaluate faithfully; the message names the alarm and why."""


@dataclass(frozen=True)
class Query:
    """A metric (with its statistic and period) or an expression of a metric math alarm."""

    id: str
    metric: MetricId | None = None
    stat: str | None = None
    period: int | None = None
    expression: metric_math.Node | None = None
    return_data: bool = True


@dataclass(frozen=True)
class AlarmSpec:
    """What CloudWatch needs to evaluate one alarm."""

    name: str
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    queries: tuple[Query, ...]
    treat_missing_data: str = "missing"
    low_sample_percentile: str = "evaluate"

    @classmethod
    def from_properties(cls, name: str, properties: Mapping[str, Any]) -> "AlarmSpec":
        """An alarm from its (resolved) ``AWS::CloudWatch::Alarm`` or ``PutMetricAlarm`` properties."""
        comparison = properties["ComparisonOperator"]
        if comparison not in COMPARISONS:
            raise UnsupportedAlarm(f"{name}: comparison {comparison} is not supported")
        try:
            queries = _queries(properties)
        except metric_math.UnsupportedExpression as error:
            raise UnsupportedAlarm(f"{name}: {error}") from error
        periods = {query.period for query in queries if query.period}
        if len(periods) != 1:
            raise UnsupportedAlarm(f"{name}: every metric of an alarm must use one period, not {periods}")
        evaluation_periods = int(properties["EvaluationPeriods"])
        spec = cls(
            name=name,
            period=periods.pop(),
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=int(properties.get("DatapointsToAlarm", evaluation_periods)),
            threshold=float(properties["Threshold"]),
            comparison=comparison,
            queries=queries,
            treat_missing_data=properties.get("TreatMissingData", "missing"),
            low_sample_percentile=properties.get("EvaluateLowSampleCountPercentile", "evaluate")
            or "evaluate",
        )
        known = {query.id for query in queries}
        for query in queries:
            missing = metric_math.references(query.expression) - known if query.expression else set()
            if missing:
                raise UnsupportedAlarm(f"{name}: {query.id} refers to {sorted(missing)}, not in the alarm")
        return spec

    @property
    def returned(self) -> Query:
        (query,) = [q for q in self.queries if q.return_data]
        return query


def _dimensions(items: Sequence[Mapping[str, str]] | None) -> dict[str, str]:
    return {item["Name"]: str(item["Value"]) for item in items or []}


def _queries(properties: Mapping[str, Any]) -> tuple[Query, ...]:
    if "Metrics" not in properties:
        stat = properties.get("ExtendedStatistic") or properties.get("Statistic")
        if stat is None or (percentile_of(stat) is None and stat not in NAMED_STATISTICS):
            raise metric_math.UnsupportedExpression(f"statistic {stat} is not supported")
        metric = MetricId.of(
            properties["Namespace"], properties["MetricName"], _dimensions(properties.get("Dimensions"))
        )
        return (Query("m1", metric, stat, int(properties["Period"])),)
    queries = []
    for query in properties["Metrics"]:
        returned = bool(query.get("ReturnData", True))
        if "MetricStat" in query:
            stat = query["MetricStat"]
            metric = stat["Metric"]
            metric_id = MetricId.of(
                metric["Namespace"], metric["MetricName"], _dimensions(metric.get("Dimensions"))
            )
            queries.append(
                Query(query["Id"], metric_id, stat["Stat"], int(stat["Period"]), return_data=returned)
            )
        else:
            expression = metric_math.parse(query["Expression"])
            queries.append(
                Query(query["Id"], expression=expression, period=query.get("Period"), return_data=returned)
            )
    if sum(q.return_data for q in queries) != 1:
        raise metric_math.UnsupportedExpression("exactly one query must return data")
    return tuple(queries)


def decide(slots: Sequence[Slot], spec: AlarmSpec, current: State) -> State:  # noqa: PLR0911
    """The state for an evaluation range's datapoints, oldest first (the guide's tables)."""
    n, m = spec.evaluation_periods, spec.datapoints_to_alarm
    real = [slot for slot in slots if slot != "-"]
    if not real:
        empty: dict[str, State] = {"missing": "INSUFFICIENT_DATA", "ignore": current, "breaching": "ALARM"}
        return empty.get(spec.treat_missing_data, "OK")
    if len(real) >= n:  # enough real datapoints: how missing data is treated does not matter
        return "ALARM" if real[-n:].count("X") >= m else "OK"
    breaching, fills = real.count("X"), n - len(real)
    match spec.treat_missing_data:
        case "breaching":
            return "ALARM" if breaching + fills >= m else "OK"
        case "notBreaching":
            return "ALARM" if breaching >= m else "OK"
    if breaching >= m:
        return "ALARM"
    if "0" in real:
        return "OK"
    if spec.treat_missing_data == "ignore":
        return current
    # "missing": ALARM only if the oldest datapoint evaluated is a real (breaching) one.
    oldest_real = next(index for index, slot in enumerate(slots) if slot != "-")
    return "ALARM" if oldest_real <= len(slots) - n else "INSUFFICIENT_DATA"


@dataclass(frozen=True)
class Evaluation:
    """An alarm's evaluation: its new state, why, and the datapoints that decided it."""

    state: State
    reason: str
    datapoints: list[tuple[float, float | None]] = field(default_factory=list)

    def reason_data(self, spec: AlarmSpec, at: float) -> str:
        """StateReasonData, as CloudWatch writes it."""
        return json.dumps(
            {
                "version": "1.0",
                "queryDate": _when(at),
                "period": spec.period,
                "threshold": spec.threshold,
                "evaluatedDatapoints": [
                    {"timestamp": _when(t), "value": v} for t, v in self.datapoints if v is not None
                ],
            }
        )


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _series(
    query: Query, store: MetricStore, grid: Sequence[float], period: int
) -> tuple[dict[float, float], dict[float, int]]:
    values, samples = {}, {}
    for start in grid:
        found = store.values(query.metric, start, start + period)  # type: ignore[arg-type]
        result = statistic(found, query.stat or "Sum")
        if result is not None:
            values[start], samples[start] = result, len(found)
    return values, samples


def evaluate(spec: AlarmSpec, store: MetricStore, now: float, current: State) -> Evaluation:
    """Evaluate ``spec`` at ``now`` over its evaluation range, the current period included."""
    period = spec.period
    newest = float(math.floor(now / period) * period)
    grid = [newest - period * back for back in range(spec.evaluation_periods + EXTRA_PERIODS - 1, -1, -1)]
    variables: dict[str, metric_math.Value] = {}
    samples: dict[float, int] = {}
    for query in spec.queries:
        if query.metric is not None:
            variables[query.id], counted = _series(query, store, grid, period)
            variables[f"__m_{query.id}"] = variables[query.id]
            if query.return_data:
                samples = counted
    for query in spec.queries:
        if query.expression is not None:
            variables[query.id] = metric_math.evaluate(query.expression, variables, grid)
    result = variables[spec.returned.id]
    series = result if isinstance(result, dict) else {}
    datapoints = [(t, series.get(t)) for t in grid]
    p = percentile_of(spec.returned.stat or "")
    if p is not None and spec.low_sample_percentile == "ignore":
        latest = [t for t, v in datapoints if v is not None][-1:]
        if latest and low_sample_count(samples.get(latest[0], 0), p):
            return Evaluation(
                current, "Too few samples for the percentile; the alarm keeps its state", datapoints
            )
    compare = COMPARISONS[spec.comparison]
    slots: list[Slot] = [
        "-" if v is None else ("X" if compare(v, spec.threshold) else "0") for _, v in datapoints
    ]
    state = decide(slots, spec, current)
    evaluated = [v for v in (v for _, v in datapoints) if v is not None][-spec.evaluation_periods :]
    shown = ", ".join(f"{v:g}" for v in evaluated) or "no datapoints"
    reason = (
        f"{spec.datapoints_to_alarm} of {spec.evaluation_periods} datapoints must be "
        f"{SYMBOLS[spec.comparison]} the threshold ({spec.threshold:g}); latest: [{shown}]; "
        f"missing data: {spec.treat_missing_data}"
    )
    return Evaluation(state, reason, datapoints)
