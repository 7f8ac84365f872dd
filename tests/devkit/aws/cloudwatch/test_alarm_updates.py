"""The embedded CloudWatch applies PutMetricAlarm as CloudWatch documents it.

PutMetricAlarm (API reference): "When you update an existing alarm, its state is left unchanged,
but the update completely overwrites the previous configuration of the alarm." A new alarm starts
in INSUFFICIENT_DATA. CodeDeploy stops a deployment when an alarm of its group is in ALARM.
"""

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devkit.aws.clock import Clock
from devkit.aws.cloudwatch.metrics import Datum, MetricId, MetricStore
from devkit.aws.cloudwatch.observability import AlarmRunner

ERRORS = MetricId.of("AWS/Lambda", "Errors", {"FunctionName": "api", "ExecutedVersion": "1"})


def errors_alarm(version: str) -> dict[str, Any]:
    return {
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": [
            {"Name": "FunctionName", "Value": "api"},
            {"Name": "ExecutedVersion", "Value": version},
        ],
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
    }


@pytest.fixture
def runner() -> Iterator[tuple[AlarmRunner, MetricStore, Any]]:
    with mock_aws():
        cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
        store = MetricStore()
        yield AlarmRunner(cloudwatch, store, Clock(speed=1.0)), store, cloudwatch


def moto_state(cloudwatch: Any, name: str) -> str:
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return str(alarm["StateValue"])


def in_alarm_for_version_1(runner: AlarmRunner, store: MetricStore, name: str) -> None:
    runner.put(name, errors_alarm("1"))
    store.put([Datum(ERRORS, runner.clock.now(), 3.0)])
    runner.tick()
    assert runner.alarms[name].state == "ALARM"


def test_an_updated_alarm_keeps_its_state(runner: tuple[AlarmRunner, MetricStore, Any]) -> None:
    alarms, store, cloudwatch = runner
    in_alarm_for_version_1(alarms, store, "api-errors")

    alarms.put("api-errors", errors_alarm("2"))  # the release updates it in place, for version 2

    assert alarms.alarms["api-errors"].state == "ALARM"
    assert moto_state(cloudwatch, "api-errors") == "ALARM"  # what CodeDeploy's poll would read
    (query,) = alarms.alarms["api-errors"].spec.queries
    assert query.metric is not None
    assert dict(query.metric.dimensions)["ExecutedVersion"] == "2"  # it judges version 2 from now on


def test_an_alarm_named_after_its_version_starts_each_release_without_a_state(
    runner: tuple[AlarmRunner, MetricStore, Any],
) -> None:
    alarms, store, cloudwatch = runner
    in_alarm_for_version_1(alarms, store, "api-errors-v1")

    alarms.put("api-errors-v2", errors_alarm("2"))
    alarms.delete(["api-errors-v1"])  # as the stack update completes

    assert alarms.alarms["api-errors-v2"].state == "INSUFFICIENT_DATA"
    assert moto_state(cloudwatch, "api-errors-v2") == "INSUFFICIENT_DATA"
    assert set(alarms.alarms) == {"api-errors-v2"}
    assert cloudwatch.describe_alarms(AlarmNames=["api-errors-v1"])["MetricAlarms"] == []
