"""The AWS calls of a hook: invoke the function, report to CodeDeploy, read alarms, clean up."""

import base64
import contextlib
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from store_reply.deployment_checks import CLIENT_CONTEXT_KEY

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_sqs import SQSClient

Status = Literal["Succeeded", "Failed"]
REPORT_ATTEMPTS = 4
DELETE_BATCH_ITEMS = 25  # BatchWriteItem's limit


class InvocationError(Exception):
    """The function could not be invoked, or raised."""


@dataclass(frozen=True)
class Invocation:
    """A function's answer and how long it took."""

    payload: dict[str, Any]
    milliseconds: float


class Invoker(Protocol):
    """Sends an event to the function under check."""

    def invoke(self, event: dict[str, Any], deployment_id: str) -> Invocation:
        """The function's answer; raise ``InvocationError`` on any failure."""
        ...


class LambdaInvoker:
    """Invokes one qualified function ARN: the new version before traffic, the alias after."""

    def __init__(self, client: "LambdaClient", target: str) -> None:
        self._client = client
        self._target = target

    def invoke(self, event: dict[str, Any], deployment_id: str) -> Invocation:
        """Invoke synchronously as a deployment check; raise ``InvocationError`` on any failure.

        The client context marks the invocation as the deployment's check, which alone may use its
        reserved check user.
        """
        marker = json.dumps({"custom": {CLIENT_CONTEXT_KEY: deployment_id}}).encode()
        started = time.monotonic()
        try:
            response = self._client.invoke(
                FunctionName=self._target,
                Payload=json.dumps(event).encode(),
                ClientContext=base64.b64encode(marker).decode(),
            )
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
        # Each state is checked here too: an endpoint that ignores the StateValue filter must not
        # make every alarm look firing.
        found = [*alarms.get("MetricAlarms", []), *alarms.get("CompositeAlarms", [])]
        return [alarm["AlarmName"] for alarm in found if alarm.get("StateValue") == "ALARM"]


class CleanupIncomplete(Exception):
    """Test data is left: the time ran out, or DynamoDB kept refusing some deletes."""


class CheckDataCleaner:
    """Deletes every item of a check user's partition, 25 a call, while time remains."""

    def __init__(self, client: "DynamoDBClient", table_name: str) -> None:
        self._client = client
        self._table = table_name

    def clean(self, partition: str, has_time: Callable[[], bool]) -> int:
        """Delete the partition's items; return how many. Raise ``CleanupIncomplete`` if some are left.

        ``has_time`` is asked before every call, so a large partition cannot keep the hook from
        reporting before its timeout.
        """
        deleted = 0
        start: dict[str, Any] | None = None
        while True:
            if not has_time():
                raise CleanupIncomplete(f"out of time after deleting {deleted} items")
            query: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": partition}},
                "ProjectionExpression": "pk, sk",
                "ConsistentRead": True,
                "Limit": DELETE_BATCH_ITEMS,
            }
            if start is not None:
                query["ExclusiveStartKey"] = start
            page = self._client.query(**query)
            pending: Any = [{"DeleteRequest": {"Key": {"pk": i["pk"], "sk": i["sk"]}}} for i in page["Items"]]
            for _ in range(REPORT_ATTEMPTS if pending else 0):
                if not has_time():
                    raise CleanupIncomplete(f"out of time after deleting {deleted} items")
                response = self._client.batch_write_item(RequestItems={self._table: pending})
                pending = response.get("UnprocessedItems", {}).get(self._table, [])
                if not pending:
                    break
            if pending:
                raise CleanupIncomplete(f"{len(pending)} items could not be deleted")
            deleted += len(page["Items"])
            start = page.get("LastEvaluatedKey")
            if start is None:
                return deleted


class CheckDataReader:
    """Reads a check user's messages straight from the table: what was really stored."""

    def __init__(self, client: "DynamoDBClient", table_name: str) -> None:
        self._client = client
        self._table = table_name

    def messages(self, partition: str) -> list[dict[str, Any]]:
        """Every message item of the partition (strongly consistent: a write just answered is there)."""
        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :messages)",
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":messages": {"S": "MSG#"}},
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**query)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class CheckMessageSender:
    """Sends the check user's messages to the real queue, marked as a deployment check."""

    def __init__(self, client: "SQSClient", queue_url: str) -> None:
        self._client = client
        self._url = queue_url

    def send(self, user: str, messages: Sequence[str], deployment_id: str) -> None:
        """Send each message as ``user``; raise ``InvocationError`` if any was not accepted."""
        entries: Any = [
            {
                "Id": str(index),
                "MessageBody": json.dumps({"user": user, "message": message}),
                "MessageAttributes": {
                    CLIENT_CONTEXT_KEY: {"DataType": "String", "StringValue": deployment_id}
                },
            }
            for index, message in enumerate(messages)
        ]
        for start in range(0, len(entries), 10):  # SendMessageBatch's limit
            try:
                response = self._client.send_message_batch(
                    QueueUrl=self._url, Entries=entries[start : start + 10]
                )
            except (ClientError, BotoCoreError) as error:
                raise InvocationError(f"sending to {self._url} failed: {error}") from error
            if response.get("Failed"):
                raise InvocationError(f"{len(response['Failed'])} messages were refused by {self._url}")


class CheckIdentity:
    """A user of the stack's pool for one deployment's check, made and signed in with Cognito's admin API.

    The user is named after the check user (``__deployment-check__<id>``), a name the API refuses
    to write as; it exists only while the hook runs. The app client used allows only the admin
    password flow, which needs the hook's IAM permissions, on this pool alone.
    """

    CALLS = 4  # create, set the password, sign in, delete

    def __init__(self, client: "CognitoIdentityProviderClient", user_pool_id: str, client_id: str) -> None:
        self._client = client
        self._pool = user_pool_id
        self._app_client = client_id

    def sign_in(self, user: str) -> str:
        """Create ``user`` with a random password and return an ID token for them."""
        password = f"Aa1!{secrets.token_urlsafe(32)}"
        self._client.admin_create_user(UserPoolId=self._pool, Username=user, MessageAction="SUPPRESS")
        self._client.admin_set_user_password(
            UserPoolId=self._pool, Username=user, Password=password, Permanent=True
        )
        signed_in = self._client.admin_initiate_auth(
            UserPoolId=self._pool,
            ClientId=self._app_client,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": user, "PASSWORD": password},
        )
        token: str = signed_in["AuthenticationResult"]["IdToken"]
        return token

    def remove(self, user: str) -> None:
        """Delete ``user``; one already gone is fine."""
        with contextlib.suppress(self._client.exceptions.UserNotFoundException):
            self._client.admin_delete_user(UserPoolId=self._pool, Username=user)
