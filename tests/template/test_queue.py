"""The queue path as deployed: queue, dead-letter queue, event source mapping, consumer permissions."""

from typing import Any

from devkit.template import resources_of_type


def resource(expanded: dict[str, Any], name: str) -> dict[str, Any]:
    properties: dict[str, Any] = expanded["Resources"][name]["Properties"]
    return properties


def queue_mapping(expanded: dict[str, Any]) -> dict[str, Any]:
    """The event source mapping that reads the message queue."""
    (mapping,) = [
        m
        for m in resources_of_type(expanded, "AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["MessagesQueue", "Arn"]}
    ]
    return mapping


def subscribed_function(expanded: dict[str, Any]) -> str:
    """The function the queue's event source mapping invokes, through its alias."""
    target = queue_mapping(expanded)["Properties"]["FunctionName"]["Ref"]
    if expanded["Resources"][target]["Type"] == "AWS::Lambda::Alias":
        target = expanded["Resources"][target]["Properties"]["FunctionName"]["Ref"]
    return str(target)


def consumer_timeout(expanded: dict[str, Any]) -> int:
    return int(resource(expanded, subscribed_function(expanded))["Timeout"])


def test_the_queue_is_encrypted_and_redrives_to_a_dead_letter_queue(expanded: dict[str, Any]) -> None:
    queue = resource(expanded, "MessagesQueue")

    assert queue["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["MessagesDeadLetterQueue", "Arn"]}
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 5


def test_the_dead_letter_queue_keeps_messages_14_days_encrypted(expanded: dict[str, Any]) -> None:
    dead_letters = resource(expanded, "MessagesDeadLetterQueue")

    assert dead_letters["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert dead_letters["SqsManagedSseEnabled"] is True


def test_the_visibility_timeout_is_at_least_six_consumer_timeouts(expanded: dict[str, Any]) -> None:
    # cfn-lint's E3505 compares them only when the mapping names the function itself; this one
    # names the live alias (so batches follow the canary), hence this check, on the expanded template.
    assert resource(expanded, "MessagesQueue")["VisibilityTimeout"] >= 6 * consumer_timeout(expanded)


def test_batches_go_to_the_live_alias_of_the_consumer(expanded: dict[str, Any]) -> None:
    mapping = queue_mapping(expanded)
    alias = expanded["Resources"][mapping["Properties"]["FunctionName"]["Ref"]]

    assert alias["Type"] == "AWS::Lambda::Alias"
    assert alias["Properties"]["Name"] == "live"
    assert subscribed_function(expanded) == "QueueConsumerFunction"


def test_the_consumer_is_subscribed_in_batches_reporting_item_failures(expanded: dict[str, Any]) -> None:
    properties = queue_mapping(expanded)["Properties"]

    assert properties["EventSourceArn"] == {"Fn::GetAtt": ["MessagesQueue", "Arn"]}
    assert properties["BatchSize"] == 10
    assert properties["MaximumBatchingWindowInSeconds"] > 0
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["ScalingConfig"]["MaximumConcurrency"] >= 2


def test_the_consumer_reads_only_its_queue_and_writes_only_the_dead_letter_queue(
    expanded: dict[str, Any],
) -> None:
    role = resource(expanded, "QueueConsumerFunctionRole")
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    sqs = {s["Sid"]: s for s in statements if any(a.startswith("sqs:") for a in _actions(s))}

    assert sqs["ReadTheQueue"]["Resource"] == {"Fn::GetAtt": ["MessagesQueue", "Arn"]}
    assert sqs["SetRejectedRecordsAside"]["Resource"] == {"Fn::GetAtt": ["MessagesDeadLetterQueue", "Arn"]}
    assert _actions(sqs["SetRejectedRecordsAside"]) == ["sqs:SendMessage"]
    assert not any("SQSQueueExecutionRole" in str(arn) for arn in role["ManagedPolicyArns"])


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_both_queues_refuse_unencrypted_transport(expanded: dict[str, Any]) -> None:
    (policy,) = resources_of_type(expanded, "AWS::SQS::QueuePolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]

    assert policy["Properties"]["Queues"] == [{"Ref": "MessagesQueue"}, {"Ref": "MessagesDeadLetterQueue"}]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_the_consumer_knows_where_rejected_records_go(expanded: dict[str, Any]) -> None:
    variables = resource(expanded, "QueueConsumerFunction")["Environment"]["Variables"]

    assert variables["DEAD_LETTER_QUEUE_URL"] == {"Ref": "MessagesDeadLetterQueue"}


def test_outputs_name_the_queues(template: dict[str, Any]) -> None:
    assert {"QueueUrl", "DeadLetterQueueUrl"} <= set(template["Outputs"])


def test_the_consumer_counts_dead_letters_with_the_queue_s_own_max_receive_count(
    expanded: dict[str, Any],
) -> None:
    variables = resource(expanded, "QueueConsumerFunction")["Environment"]["Variables"]
    redrive = resource(expanded, "MessagesQueue")["RedrivePolicy"]

    assert int(variables["MAX_RECEIVE_COUNT"]) == redrive["maxReceiveCount"]
