"""The AWS calls of a hook: invoke the function, report to CodeDeploy, read alarms, clean up."""

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient

Status = Literal["Succeeded", "Failed"]
REPORT_ATTEMPTS = 4


class InvocationError(Exception):
    """The function could not be invoked, or raised."""


@dataclass(frozen=True)
class Invocation:
    """A function's answer and how long it took."""

    payload: dict[str, Any]
    milliseconds: float


class LambdaInvoker:
    """Invokes one qualified function ARN: the new version before traffic, the alias after."""

    def __init__(self, client: "LambdaClient", target: str) -> None:
        self._client = client
        self._target = target

    def invoke(self, event: dict[str, Any]) -> Invocation:
        """Invoke synchronously; raise ``InvocationError`` if the call or the function failed."""
        started = time.monotonic()
        try:
            response = self._client.invoke(FunctionName=self._target, Payload=json.dumps(event).encode())
        except (ClientError, BotoCoreError) as error:
            raise InvocationError(f"invoking {self._target} failed: {error}") from error
        milliseconds = (time.monotonic() - started) * 1000
        body = response["Payload"].read()
        if "FunctionError" in response:
            raise InvocationError(f"{self._target} raised: {body[:300]!r}")
        return Invocation(json.loads(body or b"null") or {}, milliseconds)


class CodeDeployReporter:
    """Reports the hook's verdict, retrying the call: an unreported hook stalls a deployment for an hour."""

    def __init__(self, client: "CodeDeployClient", sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._sleep = sleep

    def report(self, deployment_id: str, execution_id: str, status: Status) -> None:
        """Send the status; raise the last error if every attempt failed."""
        for attempt in range(REPORT_ATTEMPTS):
            try:
                self._client.put_lifecycle_event_hook_execution_status(
                    deploymentId=deployment_id, lifecycleEventHookExecutionId=execution_id, status=status
                )
                return
            except (ClientError, BotoCoreError):
                if attempt == REPORT_ATTEMPTS - 1:
                    raise
                self._sleep(0.5 * 2**attempt)


class AlarmWatch:
    """Tells which of the rollback alarms are firing."""

    def __init__(self, client: "CloudWatchClient", names: Sequence[str]) -> None:
        self._client = client
        self._names = list(names)

    def firing(self) -> list[str]:
        """The names of the alarms in ALARM."""
        if not self._names:
            return []
        alarms = self._client.describe_alarms(AlarmNames=self._names, StateValue="ALARM")
        return [
            alarm["AlarmName"] for alarm in alarms.get("MetricAlarms", []) + alarms.get("CompositeAlarms", [])
        ]


class ReservedUserCleaner:
    """Deletes every item stored under the reserved test user."""

    def __init__(self, client: "DynamoDBClient", table_name: str, partition: str) -> None:
        self._client = client
        self._table = table_name
        self._partition = partition

    def clean(self) -> int:
        """Delete the reserved user's items; return how many there were."""
        deleted = 0
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": self._partition}},
            ProjectionExpression="pk, sk",
        )
        for page in pages:
            for item in page["Items"]:
                self._client.delete_item(TableName=self._table, Key={"pk": item["pk"], "sk": item["sk"]})
                deleted += 1
        return deleted
