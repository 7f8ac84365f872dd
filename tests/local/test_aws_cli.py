"""The embedded AWS endpoint, called with the AWS CLI as a developer calls it.

As docs/local-development.md ("The AWS CLI") shows them.

Each call is the real ``aws`` command against the running stack, with any credentials.
"""

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.local_stack import RunningStack

AWS = Path(sys.executable).with_name("aws")
STACK = "store-and-reply-local"
FUNCTIONS = {f"{STACK}-ApiFunction", f"{STACK}-QueueConsumerFunction", f"{STACK}-PersistenceWitnessFunction"}


def aws(stack: RunningStack, *arguments: str) -> Any:
    """The CLI's JSON answer; fails the test on an error, with the CLI's message."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")} | {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    endpoint = f"http://127.0.0.1:{stack.aws_port}"
    result = subprocess.run(  # noqa: S603 (the test's own arguments)
        [str(AWS), "--endpoint-url", endpoint, "--output", "json", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"aws {' '.join(arguments)}: {result.stderr}"
    return json.loads(result.stdout) if result.stdout.strip() else None


@pytest.fixture(scope="module")
def served(stack: RunningStack) -> RunningStack:
    """The stack after one anonymous message (dev takes them), so there are metrics to ask for."""
    reply = stack.http("GET", "/send?user=cli&message=Merci%20beaucoup%20pour%20votre%20aide")
    assert reply.status == 200, reply.body
    return stack


def test_lambda_lists_the_template_s_functions_and_their_configuration(stack: RunningStack) -> None:
    listed = aws(stack, "lambda", "list-functions")
    configuration = aws(
        stack,
        "lambda",
        "get-function-configuration",
        "--function-name",
        f"{STACK}-ApiFunction",
        "--qualifier",
        "live",
    )

    assert {function["FunctionName"] for function in listed["Functions"]} == FUNCTIONS
    assert (configuration["Version"], configuration["Handler"], configuration["State"]) == (
        "1",
        "store_reply_api.app.lambda_handler",
        "Active",
    )
    assert configuration["Environment"]["Variables"]["TABLE_NAME"] == f"{STACK}-MessagesTable"


def test_lambda_lists_aliases_and_versions(stack: RunningStack) -> None:
    name = f"{STACK}-ApiFunction"
    aliases = aws(stack, "lambda", "list-aliases", "--function-name", name)["Aliases"]
    versions = aws(stack, "lambda", "list-versions-by-function", "--function-name", name)["Versions"]

    assert [(alias["Name"], alias["FunctionVersion"]) for alias in aliases] == [("live", "1")]
    assert [version["Version"] for version in versions] == ["$LATEST", "1"]


def test_lambda_lists_the_event_source_mappings_by_function(stack: RunningStack) -> None:
    every = aws(stack, "lambda", "list-event-source-mappings")["EventSourceMappings"]
    consumer = aws(
        stack, "lambda", "list-event-source-mappings", "--function-name", f"{STACK}-QueueConsumerFunction"
    )["EventSourceMappings"]

    assert {
        (mapping["FunctionArn"].split(":")[6], mapping["EventSourceArn"].split(":")[2]) for mapping in every
    } == {
        (f"{STACK}-QueueConsumerFunction", "sqs"),
        (f"{STACK}-PersistenceWitnessFunction", "dynamodb"),
    }
    (queue,) = consumer
    assert queue["EventSourceArn"].endswith(f":{STACK}-MessagesQueue")
    assert (queue["BatchSize"], queue["FunctionResponseTypes"], queue["State"]) == (
        10,
        ["ReportBatchItemFailures"],
        "Enabled",
    )


def window() -> tuple[str, str]:
    now = datetime.now(UTC)
    return (now - timedelta(hours=1)).isoformat(), (now + timedelta(hours=1)).isoformat()


def test_cloudwatch_answers_statistics_of_a_recorded_metric(served: RunningStack) -> None:
    start, end = window()
    deadline = time.monotonic() + 10  # the invocation's metrics are recorded as it ends
    while True:
        answer = aws(
            served, "cloudwatch", "get-metric-statistics", "--namespace", "AWS/Lambda",
            "--metric-name", "Invocations", "--dimensions", f"Name=FunctionName,Value={STACK}-ApiFunction",
            "--start-time", start, "--end-time", end, "--period", "7200", "--statistics", "Sum",
        )  # fmt: skip
        if answer["Datapoints"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)

    assert sum(point["Sum"] for point in answer["Datapoints"]) >= 1


def test_cloudwatch_answers_metric_data_of_the_application_s_metrics(served: RunningStack) -> None:
    start, end = window()
    query = {
        "Id": "replies",
        "MetricStat": {
            "Metric": {
                "Namespace": "StoreAndReply",
                "MetricName": "Replies",
                "Dimensions": [
                    {"Name": "FunctionName", "Value": f"{STACK}-ApiFunction"},
                    {"Name": "FunctionVersion", "Value": "1"},
                    {"Name": "service", "Value": "store-and-reply"},
                ],
            },
            "Period": 7200,
            "Stat": "Sum",
        },
    }
    answer = aws(
        served, "cloudwatch", "get-metric-data", "--start-time", start, "--end-time", end,
        "--metric-data-queries", json.dumps([query]),
    )  # fmt: skip

    (result,) = answer["MetricDataResults"]
    assert sum(result["Values"]) >= 1


def test_cloudwatch_describes_the_template_s_alarms(stack: RunningStack) -> None:
    alarms = aws(stack, "cloudwatch", "describe-alarms")["MetricAlarms"]

    assert f"{STACK}-ApiPersistenceAlarm-v1" in {alarm["AlarmName"] for alarm in alarms}


def test_sqs_reads_the_dead_letter_queue_as_the_readme_shows(stack: RunningStack) -> None:
    url = stack.queue_url("MessagesDeadLetterQueue")

    answer = aws(stack, "sqs", "receive-message", "--queue-url", url)

    assert answer is None or answer.get("Messages", []) == []  # nothing dead-lettered in this stack
