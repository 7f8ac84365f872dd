"""EMF lines read as CloudWatch Logs reads them (Embedded Metric Format specification)."""

import json
import logging

import pytest

from devkit.aws.cloudwatch.emf import InvalidEmf, parse, read_lines
from devkit.aws.cloudwatch.metrics import MetricId

AT = 1_800_000_000.0


def emf(**root: object) -> str:
    return json.dumps(root)


def test_every_dimension_set_is_a_metric_of_its_own_and_every_value_a_datapoint() -> None:
    line = emf(
        _aws={
            "Timestamp": 1,
            "CloudWatchMetrics": [
                {
                    "Namespace": "StoreAndReply",
                    "Dimensions": [["FunctionVersion", "service"], ["service"]],
                    "Metrics": [
                        {"Name": "Replies", "Unit": "Count"},
                        {"Name": "Latency", "Unit": "Milliseconds"},
                    ],
                }
            ],
        },
        FunctionVersion="3",
        service="store-and-reply",
        Replies=1,
        Latency=[12.5, 30, 7],
    )

    data = parse(line, AT)

    by_version = MetricId.of(
        "StoreAndReply", "Latency", {"FunctionVersion": "3", "service": "store-and-reply"}
    )
    by_service = MetricId.of("StoreAndReply", "Replies", {"service": "store-and-reply"})
    assert [d.value for d in data if d.metric == by_version] == [12.5, 30.0, 7.0]
    assert [(d.value, d.unit) for d in data if d.metric == by_service] == [(1.0, "Count")]
    assert len(data) == 8
    assert {d.timestamp for d in data} == {AT}


def test_several_directives_in_one_line_each_with_its_namespace() -> None:
    directives = [
        {"Namespace": "A", "Dimensions": [[]], "Metrics": [{"Name": "x"}]},
        {"Namespace": "B", "Dimensions": [[]], "Metrics": [{"Name": "y"}]},
    ]

    data = parse(emf(_aws={"Timestamp": 1, "CloudWatchMetrics": directives}, x=1, y=2), AT)

    assert {(d.metric.namespace, d.metric.name, d.value) for d in data} == {("A", "x", 1.0), ("B", "y", 2.0)}


@pytest.mark.parametrize(
    "line",
    [
        '{"_aws": {"CloudWatchMetrics": [',  # not JSON
        emf(_aws={"Timestamp": 1}),  # no directives
        emf(
            _aws={
                "CloudWatchMetrics": [
                    {"Namespace": "A", "Dimensions": [["missing"]], "Metrics": [{"Name": "x"}]}
                ]
            },
            x=1,
        ),
        emf(
            _aws={"CloudWatchMetrics": [{"Namespace": "A", "Dimensions": [[]], "Metrics": [{"Name": "x"}]}]},
            x="one",
        ),
    ],
    ids=["not JSON", "no directives", "dimension without a value", "value not a number"],
)
def test_malformed_emf_is_refused(line: str) -> None:
    with pytest.raises(InvalidEmf):
        parse(line, AT)


def test_a_malformed_line_is_skipped_with_a_warning_and_the_rest_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    good = emf(
        _aws={"CloudWatchMetrics": [{"Namespace": "A", "Dimensions": [[]], "Metrics": [{"Name": "x"}]}]}, x=5
    )

    with caplog.at_level(logging.WARNING, logger="devkit.local"):
        data = read_lines(['{"_aws": broken', "a plain log line", good], AT)

    assert [d.value for d in data] == [5.0]
    assert "malformed EMF" in caplog.text
