"""The canary judges outcomes: what each version really wrote, and how it compares with its function.

- The persistence witness reads the table's stream (DynamoDB Streams, NEW_IMAGE) in a function
  of its own, deployed at once (no alias, no canary), with its own failure queue and alarms.
- Each deployment group stops on a version whose persisted / accepted messages fall below
  PersistedPercent, and on versions unlike their function (all versions, through the alias) in
  errors, latency, translated replies and the mix of language decisions.
"""

import json
from typing import Any

import pytest

from devkit.aws.awslambda.stream_poller import matches
from devkit.template import resources_of_type

GROUPS = {"ApiFunction": "Api", "QueueConsumerFunction": "Consumer"}


def properties(expanded: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = expanded["Resources"][name]["Properties"]
    return found


def group_alarms(expanded: dict[str, Any], function: str) -> set[str]:
    group = properties(expanded, f"{function}DeploymentGroup")
    return {alarm["Name"]["Ref"] for alarm in group["AlarmConfiguration"]["Alarms"]}


def witness_mapping(expanded: dict[str, Any]) -> dict[str, Any]:
    mapping: dict[str, Any]
    (mapping,) = [
        m["Properties"]
        for m in resources_of_type(expanded, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["MessagesTable", "StreamArn"]}
    ]
    return mapping


def stream_record(event: str, sk: str) -> dict[str, Any]:
    return {"eventName": event, "dynamodb": {"Keys": {"pk": {"S": "USER#alice"}, "sk": {"S": sk}}}}


def test_the_table_streams_new_items(template: dict[str, Any]) -> None:
    table = template["Resources"]["MessagesTable"]["Properties"]

    assert table["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}


def test_the_witness_is_deployed_at_once_outside_every_canary(template: dict[str, Any]) -> None:
    witness = template["Resources"]["PersistenceWitnessFunction"]["Properties"]

    assert "AutoPublishAlias" not in witness
    assert "DeploymentPreference" not in witness
    assert witness["CodeUri"] == "functions/witness"
    assert template["Resources"]["PersistenceWitnessFunctionLogGroup"]["Properties"]["RetentionInDays"] == {
        "Ref": "LogRetentionDays"
    }


def test_the_witness_reads_new_messages_from_the_oldest_record_the_stream_keeps(
    expanded: dict[str, Any],
) -> None:
    mapping = witness_mapping(expanded)

    assert mapping["FunctionName"] == {"Fn::GetAtt": ["PersistenceWitnessFunction", "Arn"]}
    # LATEST could miss records while a new or updated mapping's polling settles (Lambda's guide).
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["BisectBatchOnFunctionError"] is True
    assert 0 <= mapping["MaximumRetryAttempts"] <= 10
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["WitnessFailuresQueue", "Arn"]
    }
    # Lambda's event filtering, as the local stack applies it: only new messages are delivered.
    (pattern,) = [json.loads(f["Pattern"]) for f in mapping["FilterCriteria"]["Filters"]]
    assert matches(pattern, stream_record("INSERT", "MSG#2026-12-02T10:00:00.000Z#ab12"))
    assert not matches(pattern, stream_record("MODIFY", "MSG#2026-12-02T10:00:00.000Z#ab12"))
    assert not matches(pattern, stream_record("REMOVE", "MSG#2026-12-02T10:00:00.000Z#ab12"))
    assert not matches(pattern, stream_record("INSERT", "KEY#client-key"))


def test_the_witness_may_read_the_stream_and_set_failed_batches_aside_nothing_more(
    expanded: dict[str, Any],
) -> None:
    role = properties(expanded, "PersistenceWitnessFunctionRole")
    statements = [s for policy in role["Policies"] for s in policy["PolicyDocument"]["Statement"]]
    granted = {
        action: statement["Resource"]
        for statement in statements
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }

    assert granted == {
        "dynamodb:DescribeStream": {"Fn::GetAtt": ["MessagesTable", "StreamArn"]},
        "dynamodb:GetRecords": {"Fn::GetAtt": ["MessagesTable", "StreamArn"]},
        "dynamodb:GetShardIterator": {"Fn::GetAtt": ["MessagesTable", "StreamArn"]},
        "dynamodb:ListStreams": {"Fn::Sub": "${MessagesTable.Arn}/stream/*"},
        "sqs:SendMessage": {"Fn::GetAtt": ["WitnessFailuresQueue", "Arn"]},
    }


def test_the_witness_failures_are_kept_encrypted_and_page_without_stopping_releases(
    expanded: dict[str, Any],
) -> None:
    queue = properties(expanded, "WitnessFailuresQueue")
    guarding = set().union(*(group_alarms(expanded, function) for function in GROUPS))

    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 1209600
    for alarm in ("WitnessErrorsAlarm", "WitnessFailuresAlarm"):
        assert properties(expanded, alarm)["AlarmActions"] == [{"Ref": "DeploymentAlertsTopic"}]
        assert alarm not in guarding


@pytest.mark.parametrize("function", sorted(GROUPS))
def test_a_version_that_writes_less_than_it_accepts_is_rolled_back(
    expanded: dict[str, Any], template: dict[str, Any], function: str
) -> None:
    name = f"{GROUPS[function]}PersistenceAlarm"
    alarm = properties(expanded, name)
    metrics = {m["Id"]: m for m in alarm["Metrics"]}
    accepted, persisted = (metrics[i]["MetricStat"]["Metric"] for i in ("accepted", "persisted"))

    assert name in group_alarms(expanded, function)
    assert (accepted["MetricName"], persisted["MetricName"]) == ("MessagesAccepted", "MessagesPersisted")
    # Both for the new version of this function: what it counted, what the witness counted.
    assert accepted["Dimensions"] == persisted["Dimensions"]
    assert {d["Name"] for d in accepted["Dimensions"]} == {"FunctionName", "FunctionVersion", "service"}
    # Judged from a minimum sample and a minimum of missing messages: one message written at the end
    # of a period is accepted in the next, which alone must not roll a clean version back.
    assert metrics["ratio"]["Expression"]["Fn::Sub"].startswith(
        "IF(FILL(accepted, 0) >= ${RateAlarmMinimumSample} AND FILL(accepted, 0) - FILL(persisted, 0)"
        " >= ${UnpersistedMinimum} AND "
    )
    assert template["Parameters"]["UnpersistedMinimum"]["Default"] == 2
    # ... and only while the witness finds the other versions' messages: a witness behind its stream
    # is behind for all of them, and must not roll the new version back on counts still to come.
    everyone = {i: metrics[i]["MetricStat"]["Metric"] for i in ("allAccepted", "allPersisted")}
    assert {d["Name"] for d in everyone["allPersisted"]["Dimensions"]} == {"FunctionName", "service"}
    assert everyone["allAccepted"]["Dimensions"] == everyone["allPersisted"]["Dimensions"]
    assert "othersPersisted >= ${PersistedPercent}" in metrics["ratio"]["Expression"]["Fn::Sub"]
    # The newest period is short of the records still in the stream: two running decide, each of two
    # minutes, which a 10 % canary at a few messages a minute fills with its minimum sample.
    assert {metrics[i]["MetricStat"]["Period"] for i in ("accepted", "persisted")} == {120}
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (2, 2)
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
        {"Ref": "PersistedPercent"},
        "LessThanThreshold",
    )
    assert template["Parameters"]["PersistedPercent"]["Default"] == 99


BASELINED = {
    "ErrorsAlarm": ("AWS/Lambda", "Errors"),
    "DurationAlarm": ("AWS/Lambda", "Duration"),
    "TranslatedRepliesAlarm": ("StoreAndReply", "TranslatedReplies"),
    "LocalLanguageAlarm": ("StoreAndReply", "LanguageDecidedLocally"),
}


@pytest.mark.parametrize("function", sorted(GROUPS))
@pytest.mark.parametrize("suffix", sorted(BASELINED))
def test_the_new_version_is_compared_with_its_function_as_a_whole(
    expanded: dict[str, Any], function: str, suffix: str
) -> None:
    name = f"{GROUPS[function]}{suffix}"
    namespace, metric_name = BASELINED[suffix]
    read = [
        {d["Name"] for d in m["MetricStat"]["Metric"]["Dimensions"]}
        for m in properties(expanded, name)["Metrics"]
        if "MetricStat" in m
        and (m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"])
        == (namespace, metric_name)
    ]
    version = "ExecutedVersion" if namespace == "AWS/Lambda" else "FunctionVersion"

    assert name in group_alarms(expanded, function)
    assert any(version in dimensions for dimensions in read), f"{name}: the new version's own figure"
    assert any(version not in dimensions for dimensions in read), f"{name}: the function's, its baseline"


def test_a_latency_comparison_needs_both_a_ratio_and_an_absolute_floor(
    expanded: dict[str, Any], template: dict[str, Any]
) -> None:
    for prefix in GROUPS.values():
        (signal,) = [
            m for m in properties(expanded, f"{prefix}DurationAlarm")["Metrics"] if m.get("ReturnData")
        ]
        text = signal["Expression"]["Fn::Sub"]
        assert "p90 > baseline * (100 + ${LatencyRegressionPercent}) / 100" in text
        assert "p90 - baseline > ${LatencyRegressionFloorMs}" in text
    assert template["Parameters"]["LatencyRegressionFloorMs"]["Default"] >= 100  # 3 ms vs 6 ms never fires
