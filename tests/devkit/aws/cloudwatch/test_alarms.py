"""The local alarm evaluator against the CloudWatch User Guide.

Tables: "How alarm state is evaluated when data is missing" (AlarmThatSendsEmail, alarms-and-missing-data):
datapoints oldest first, 0 not breaching, X breaching, - missing; "retain" keeps the current state.
Percentiles: "Percentile-based CloudWatch alarms and low data samples" (percentiles-with-low-samples).
Metric math: "Using metric math" (using-metric-math).
"""

from typing import Any

import pytest

from devkit.aws.cloudwatch.alarms import AlarmSpec, UnsupportedAlarm, decide, evaluate
from devkit.aws.cloudwatch.metrics import Datum, MetricId, MetricStore, low_sample_count, statistic

ERRORS = MetricId.of("AWS/Lambda", "Errors", {"FunctionName": "api"})
NOW = 1_800_000_030.0  # 30 s into a minute
MINUTE = 60.0
TREATMENTS = ["missing", "ignore", "breaching", "notBreaching"]


def spec(n: int = 3, m: int = 3, treat: str = "missing", **extra: Any) -> AlarmSpec:
    properties = {
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": "api"}],
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": n,
        "DatapointsToAlarm": m,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": treat,
        **extra,
    }
    return AlarmSpec.from_properties("test-alarm", properties)


def expect(row: str, missing: str, ignore: str, breaching: str, not_breaching: str) -> list[Any]:
    return [
        pytest.param(row, treat, state, id=f"{row}-{treat}")
        for treat, state in zip(TREATMENTS, [missing, ignore, breaching, not_breaching], strict=True)
    ]


# First table: Datapoints to Alarm and Evaluation Periods both 3; the 5 most recent datapoints.
THREE_OF_THREE = [
    *expect("0 - X - X", "OK", "OK", "OK", "OK"),
    *expect("0 - - - -", "OK", "OK", "OK", "OK"),
    *expect("- - - - -", "INSUFFICIENT_DATA", "retain", "ALARM", "OK"),
    *expect("0 X X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    *expect("- - - - X", "INSUFFICIENT_DATA", "retain", "ALARM", "OK"),
    *expect("X - - - -", "ALARM", "retain", "ALARM", "OK"),
]
# Second table: 2 out of 3.
TWO_OF_THREE = [
    *expect("0 - X - X", "ALARM", "ALARM", "ALARM", "ALARM"),
    *expect("0 0 X 0 X", "ALARM", "ALARM", "ALARM", "ALARM"),
    *expect("0 - X - -", "OK", "OK", "ALARM", "OK"),
    *expect("- - - - 0", "OK", "OK", "ALARM", "OK"),
    *expect("- - - - X", "INSUFFICIENT_DATA", "retain", "ALARM", "OK"),
]


@pytest.mark.parametrize(("row", "treat", "state"), THREE_OF_THREE)
def test_the_guide_s_first_table_three_out_of_three(row: str, treat: str, state: str) -> None:
    for current in ("OK", "ALARM"):
        expected = current if state == "retain" else state
        assert decide(row.split(), spec(3, 3, treat), current) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("row", "treat", "state"), TWO_OF_THREE)
def test_the_guide_s_second_table_two_out_of_three(row: str, treat: str, state: str) -> None:
    for current in ("OK", "ALARM"):
        expected = current if state == "retain" else state
        assert decide(row.split(), spec(3, 2, treat), current) == expected  # type: ignore[arg-type]


def test_m_out_of_n_breaching_datapoints_need_not_be_consecutive() -> None:
    # "The breaching data points do not have to be consecutive, they just must all be within the
    # last number of data points equal to Evaluation Period."
    assert decide(list("0X00X0"), spec(5, 3), "OK") == "OK"  # type: ignore[arg-type]  # 2 breaching among the last 5
    assert decide(list("0X0XX0"), spec(5, 3), "OK") == "ALARM"  # type: ignore[arg-type]


def put(store: MetricStore, minute_ago: int, *values: float, metric: MetricId = ERRORS) -> None:
    at = (NOW // MINUTE - minute_ago) * MINUTE + 1
    store.put(Datum(metric, at, value) for value in values)


def test_the_guide_s_figure_three_periods_above_three_units() -> None:
    # Threshold 3, 3 of 3: ALARM once the three most recent periods are above it; one period
    # below it returns the alarm to OK.
    store = MetricStore()
    above = spec(3, 3, "missing", Threshold=3, ComparisonOperator="GreaterThanThreshold")
    for minute_ago, value in [(4, 1), (3, 2), (2, 4), (1, 5), (0, 6)]:
        put(store, minute_ago, value)
    assert evaluate(above, store, NOW, "OK").state == "ALARM"

    put(store, -1, 2)  # the next minute dips below
    assert evaluate(above, store, NOW + MINUTE, "ALARM").state == "OK"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Sum", 10.0),
        ("Average", 2.5),
        ("Minimum", 1.0),
        ("Maximum", 4.0),
        ("SampleCount", 4.0),
        ("p50", 2.0),
        ("p99", 4.0),
    ],
)
def test_statistics_of_a_period(name: str, expected: float) -> None:
    assert statistic([3, 1, 4, 2], name) == expected


def test_a_percentile_is_the_nearest_rank_of_every_sample() -> None:
    values = [float(v) for v in range(1, 1001)]

    assert statistic(values, "p99") == 990.0
    assert statistic(values, "p99.9") == 999.0
    assert statistic(values, "p50") == 500.0


@pytest.mark.parametrize(
    ("samples", "p", "low"),
    [
        (999, 0.99, True),
        (1000, 0.99, False),
        (99, 0.9, True),
        (100, 0.9, False),
        (19, 0.5, True),
        (20, 0.5, False),
        (99, 0.1, True),
        (100, 0.1, False),
    ],
)
def test_the_low_sample_rule_is_10_over_1_minus_p_or_10_over_p(samples: int, p: float, low: bool) -> None:
    # "fewer than 1000 samples for an alarm on a p99 percentile"; under p50, 10/percentile.
    assert low_sample_count(samples, p) is low


def duration_alarm(low_sample: str) -> AlarmSpec:
    return spec(
        1,
        1,
        "notBreaching",
        MetricName="Duration",
        Statistic=None,
        ExtendedStatistic="p99",
        Threshold=8000,
        ComparisonOperator="GreaterThanThreshold",
        EvaluateLowSampleCountPercentile=low_sample,
    )


def test_a_p99_alarm_with_few_samples_keeps_its_state_when_told_to_ignore_them() -> None:
    store = MetricStore()
    duration = MetricId.of("AWS/Lambda", "Duration", {"FunctionName": "api"})
    put(store, 0, *[9_000.0] * 999, metric=duration)

    assert evaluate(duration_alarm("ignore"), store, NOW, "OK").state == "OK"
    assert evaluate(duration_alarm("evaluate"), store, NOW, "OK").state == "ALARM"
    put(store, 0, 9_000.0, metric=duration)  # the 1,000th sample
    assert evaluate(duration_alarm("ignore"), store, NOW, "OK").state == "ALARM"


def rate_alarm(expression: str) -> AlarmSpec:
    def stat(identifier: str, name: str) -> dict[str, Any]:
        metric = {
            "Namespace": "AWS/ApiGateway",
            "MetricName": name,
            "Dimensions": [{"Name": "ApiName", "Value": "a"}],
        }
        return {
            "Id": identifier,
            "ReturnData": False,
            "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"},
        }

    return AlarmSpec.from_properties(
        "rate",
        {
            "Metrics": [
                stat("errors", "5XXError"),
                stat("requests", "Count"),
                {"Id": "rate", "Expression": expression, "ReturnData": True},
            ],
            "EvaluationPeriods": 1,
            "Threshold": 5,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
        },
    )


def api(name: str) -> MetricId:
    return MetricId.of("AWS/ApiGateway", name, {"ApiName": "a"})


@pytest.mark.parametrize(
    ("requests", "errors", "state"),
    [(20, 2, "ALARM"), (20, 1, "OK"), (4, 1, "OK"), (20, 0, "OK")],
    ids=["10%", "5% is not above 5", "too few requests to judge", "no 5XX datapoint: FILL"],
)
def test_a_rate_with_a_minimum_sample_in_metric_math(requests: int, errors: int, state: str) -> None:
    store = MetricStore()
    put(store, 0, *[1.0] * requests, metric=api("Count"))
    if errors:
        put(store, 0, *[1.0] * errors, metric=api("5XXError"))

    alarm = rate_alarm("IF(requests >= 10, 100 * FILL(errors, 0) / requests, 0)")

    assert evaluate(alarm, store, NOW, "OK").state == state


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("SUM(METRICS())", 22.0),
        ("MAX([errors, requests])", 20.0),
        ("MIN([errors, requests])", 2.0),
        ("AVG([errors, requests])", 11.0),
        ("errors * 2 + requests / 4 - 1", 8.0),
        ("IF(errors > 1 AND requests >= 20, 100, 0)", 100.0),
        ("IF(errors < 1 || requests < 5, 100, 0)", 0.0),
        ("-errors + 2 ^ 3", 6.0),
    ],
)
def test_metric_math_arithmetic_comparisons_and_aggregates(expression: str, value: float) -> None:
    store = MetricStore()
    put(store, 0, *[1.0] * 20, metric=api("Count"))
    put(store, 0, 1.0, 1.0, metric=api("5XXError"))

    evaluation = evaluate(rate_alarm(expression), store, NOW, "OK")

    assert evaluation.datapoints[-1][1] == value


@pytest.mark.parametrize(
    "expression", ["ANOMALY_DETECTION_BAND(errors)", "errors + unknown", "LINEAR_FILL(errors)"]
)
def test_an_expression_the_evaluator_does_not_support_is_an_error_naming_the_alarm(expression: str) -> None:
    with pytest.raises(UnsupportedAlarm, match=r"^rate: "):
        rate_alarm(expression)
