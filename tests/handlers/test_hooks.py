"""The CodeDeploy traffic hooks: what they send, what they accept, and the status they report.

CodeDeploy's PutLifecycleEventHookExecutionStatus is not in moto, so a Stubber checks the exact
status of every report. The new version is either the real handler, run in-process (the hook's
checks must pass against the code of this commit), or a Stubber standing in for Lambda.
"""

import io
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from store_reply.adapters.clients import AwsClients
from store_reply.adapters.dynamodb import user_partition
from store_reply.settings import Settings
from store_reply.wiring import build_service
from store_reply_api.app import create_handler as create_api_handler
from store_reply_consumer.app import create_handler as create_consumer_handler
from store_reply_consumer.batch import QueueConsumer
from store_reply_hooks.app import HookSettings, build_hook, create_handler
from store_reply_hooks.aws import (
    AlarmWatch,
    CodeDeployReporter,
    Invocation,
    LambdaInvoker,
    ReservedUserCleaner,
)
from store_reply_hooks.checks import API_CHECKS, QUEUE_CHECKS, RESERVED_USER
from store_reply_hooks.hook import TrafficHook
from tests.conftest import (
    EVENTS,
    REGION,
    TABLE_NAME,
    FakeLambdaContext,
    Queues,
    expect_language,
    expect_languages,
    expect_translation,
    load_event,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REPLY = "Thank you for your message!"
HOOK_EVENT = load_event("codedeploy/traffic-hook")
NEW_VERSION = "arn:aws:lambda:us-east-1:123456789012:function:store-and-reply-ApiFunction:7"


def plenty_of_time() -> int:
    return 100_000


class InProcess:
    """The new version, played by the real handler of this commit."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], dict[str, Any]]) -> None:
        self._handler = handler

    def invoke(self, event: dict[str, Any]) -> Invocation:
        started = time.monotonic()
        payload = self._handler(event, FakeLambdaContext())
        return Invocation(payload, (time.monotonic() - started) * 1000)


@pytest.fixture
def codedeploy() -> Iterator[Stubber]:
    with Stubber(boto3.client("codedeploy", region_name=REGION)) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def expect_report(codedeploy: Stubber, status: str) -> None:
    codedeploy.add_response(
        "put_lifecycle_event_hook_execution_status",
        {"lifecycleEventHookExecutionId": HOOK_EVENT["LifecycleEventHookExecutionId"]},
        {
            "deploymentId": HOOK_EVENT["DeploymentId"],
            "lifecycleEventHookExecutionId": HOOK_EVENT["LifecycleEventHookExecutionId"],
            "status": status,
        },
    )


def reporter(codedeploy: Stubber) -> CodeDeployReporter:
    return CodeDeployReporter(codedeploy.client, sleep=lambda _: None)  # type: ignore[arg-type]


def settings() -> Settings:
    return Settings.from_environ({"TABLE_NAME": TABLE_NAME, "REPLY_MESSAGE": REPLY, "REPLY_LANGUAGE": "en"})


@pytest.fixture
def real_api(dynamodb: "DynamoDBClient", comprehend: Any, translate: Any) -> InProcess:
    clients = AwsClients(dynamodb=dynamodb, comprehend=comprehend.client, translate=translate.client)
    return InProcess(create_api_handler(lambda: build_service(settings(), clients)))


def api_hook(invoker: Any, dynamodb: "DynamoDBClient", codedeploy: Stubber, **extra: Any) -> TrafficHook:
    return TrafficHook(
        checks=API_CHECKS,
        events_dir=EVENTS,
        invoker=invoker,
        cleaner=ReservedUserCleaner(dynamodb, TABLE_NAME, user_partition(RESERVED_USER)),
        reporter=reporter(codedeploy),
        max_milliseconds=5_000,
        **extra,
    )


def reserved_items(dynamodb: "DynamoDBClient") -> list[Any]:
    return dynamodb.query(
        TableName=TABLE_NAME,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": user_partition(RESERVED_USER)}},
    )["Items"]


def run(hook: TrafficHook, remaining: Callable[[], int] = plenty_of_time) -> Any:
    return hook.run(HOOK_EVENT["DeploymentId"], HOOK_EVENT["LifecycleEventHookExecutionId"], remaining)


class TestPreTrafficOnTheRealHandler:
    def test_the_current_code_passes_and_leaves_no_test_data(
        self,
        real_api: InProcess,
        dynamodb: "DynamoDBClient",
        comprehend: Any,
        translate: Any,
        codedeploy: Stubber,
    ) -> None:
        expect_language(comprehend, ("fr", 0.99))  # store a message
        expect_language(comprehend, ("fr", 0.99))  # the demo route
        expect_translation(translate, REPLY, "fr", "Merci pour votre message !")
        expect_report(codedeploy, "Succeeded")

        verdict = run(api_hook(real_api, dynamodb, codedeploy))

        assert verdict.problems == []
        assert verdict.status == "Succeeded"
        assert reserved_items(dynamodb) == []

    def test_the_queue_checks_pass_on_the_real_consumer(
        self, dynamodb: "DynamoDBClient", queues: Queues, comprehend: Any, translate: Any, codedeploy: Stubber
    ) -> None:
        from store_reply.adapters.sqs import DeadLetterQueue  # noqa: PLC0415

        clients = AwsClients(dynamodb=dynamodb, comprehend=comprehend.client, translate=translate.client)
        consumer = QueueConsumer(
            build_service(settings(), clients), DeadLetterQueue(queues.client, queues.dead_letter_url), 5
        )
        expect_languages(comprehend, "en", "en", "en")
        expect_report(codedeploy, "Succeeded")
        hook = api_hook(InProcess(create_consumer_handler(lambda: consumer)), dynamodb, codedeploy)
        hook.checks = QUEUE_CHECKS

        assert run(hook).status == "Succeeded"
        assert reserved_items(dynamodb) == []


def lambda_answering(*payloads: Any, error: str | None = None) -> LambdaInvoker:
    client = boto3.client("lambda", region_name=REGION)
    stubber = Stubber(client)
    for payload in payloads:
        data = json.dumps(payload).encode()
        response: dict[str, Any] = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(data), len(data))}
        if error:
            response["FunctionError"] = error
        stubber.add_response("invoke", response, {"FunctionName": NEW_VERSION, "Payload": ANY})
    stubber.activate()
    return LambdaInvoker(client, NEW_VERSION)


def proxy(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {}, "body": json.dumps(body)}


GOOD_MESSAGE = {
    "id": "x",
    "user": RESERVED_USER,
    "language": "fr",
    "reply": "r",
    "translated": True,
    "receivedAt": "t",
}


class TestPreTrafficFailures:
    def test_a_version_answering_500_fails_the_deployment(
        self, dynamodb: "DynamoDBClient", codedeploy: Stubber
    ) -> None:
        invoker = lambda_answering(*[proxy(500, {"message": "Internal server error"})] * len(API_CHECKS))
        expect_report(codedeploy, "Failed")

        verdict = run(api_hook(invoker, dynamodb, codedeploy))

        assert verdict.status == "Failed"
        assert any("status 500" in problem for problem in verdict.problems)

    def test_a_wrong_body_fails_the_deployment(self, dynamodb: "DynamoDBClient", codedeploy: Stubber) -> None:
        answers = [
            proxy(201, {"id": "x"}),  # fields missing
            proxy(200, {**GOOD_MESSAGE, "message": "r"}),
            proxy(200, {"messages": [GOOD_MESSAGE], "next": None}),
            proxy(422, {}),
            proxy(400, {}),
            proxy(405, {}),
        ]
        expect_report(codedeploy, "Failed")

        verdict = run(api_hook(lambda_answering(*answers), dynamodb, codedeploy))

        assert verdict.problems == [
            "store a message: missing fields ['language', 'receivedAt', 'reply', 'translated', 'user']",
            "store a message: user None, expected the reserved test user",
        ]

    def test_a_function_error_fails_the_deployment(
        self, dynamodb: "DynamoDBClient", codedeploy: Stubber
    ) -> None:
        invoker = lambda_answering(*[{"errorMessage": "boom"}] * len(API_CHECKS), error="Unhandled")
        expect_report(codedeploy, "Failed")

        verdict = run(api_hook(invoker, dynamodb, codedeploy))

        assert verdict.status == "Failed"
        assert "raised" in verdict.problems[0]

    def test_an_invoke_call_that_fails_fails_the_deployment(
        self, dynamodb: "DynamoDBClient", codedeploy: Stubber
    ) -> None:
        client = boto3.client("lambda", region_name=REGION)
        stubber = Stubber(client)
        for _ in API_CHECKS:
            stubber.add_client_error("invoke", "AccessDeniedException", http_status_code=403)
        stubber.activate()
        expect_report(codedeploy, "Failed")

        verdict = run(api_hook(LambdaInvoker(client, NEW_VERSION), dynamodb, codedeploy))

        assert verdict.status == "Failed"
        assert "AccessDeniedException" in verdict.problems[0]

    def test_the_hooks_own_exception_is_reported_as_failed(
        self, real_api: InProcess, dynamodb: "DynamoDBClient", codedeploy: Stubber
    ) -> None:
        hook = api_hook(real_api, dynamodb, codedeploy)
        hook.events_dir = Path("/nonexistent")
        expect_report(codedeploy, "Failed")

        verdict = run(hook)

        assert verdict.status == "Failed"
        assert verdict.problems[0].startswith("the hook itself failed")

    def test_running_out_of_time_is_reported_as_failed(
        self, real_api: InProcess, dynamodb: "DynamoDBClient", codedeploy: Stubber
    ) -> None:
        expect_report(codedeploy, "Failed")

        verdict = run(api_hook(real_api, dynamodb, codedeploy), remaining=lambda: 5_000)

        assert verdict.problems == ["out of time before 'store a message'"]

    def test_test_data_left_behind_fails_the_deployment(
        self,
        real_api: InProcess,
        dynamodb: "DynamoDBClient",
        comprehend: Any,
        translate: Any,
        codedeploy: Stubber,
    ) -> None:
        hook = api_hook(real_api, dynamodb, codedeploy)
        hook.cleaner = ReservedUserCleaner(dynamodb, "no-such-table", user_partition(RESERVED_USER))
        expect_language(comprehend, ("en", 0.99))
        expect_language(comprehend, ("en", 0.99))
        expect_report(codedeploy, "Failed")

        verdict = run(hook)

        assert verdict.status == "Failed"
        assert verdict.problems[-1].startswith("test data was not deleted")


class TestReporting:
    def test_a_status_call_failing_once_is_retried(
        self, real_api: InProcess, dynamodb: "DynamoDBClient", comprehend: Any, codedeploy: Stubber
    ) -> None:
        expect_language(comprehend, ("en", 0.99))
        expect_language(comprehend, ("en", 0.99))
        codedeploy.add_client_error("put_lifecycle_event_hook_execution_status", "ThrottlingException")
        expect_report(codedeploy, "Succeeded")

        assert run(api_hook(real_api, dynamodb, codedeploy)).status == "Succeeded"

    def test_a_hook_that_cannot_start_still_reports_failed(self, codedeploy: Stubber) -> None:
        expect_report(codedeploy, "Failed")

        def broken() -> TrafficHook:
            return build_hook(HookSettings.model_validate({"CHECKS": "api"}))  # settings missing

        handler = create_handler(broken, lambda: reporter(codedeploy))
        answer = handler(HOOK_EVENT, FakeLambdaContext())  # type: ignore[arg-type]

        assert answer["status"] == "Failed"
        assert answer["problems"][0].startswith("the hook could not start")


class TestPostTraffic:
    def test_a_firing_rollback_alarm_fails_the_deployment(
        self, real_api: InProcess, dynamodb: "DynamoDBClient", comprehend: Any, codedeploy: Stubber
    ) -> None:
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        with Stubber(cloudwatch) as alarms:
            alarms.add_response(
                "describe_alarms",
                {"MetricAlarms": [{"AlarmName": "ApiErrorsAlarm", "StateValue": "ALARM"}]},
                {"AlarmNames": ["ApiErrorsAlarm", "Api5xxRateAlarm"], "StateValue": "ALARM"},
            )
            expect_language(comprehend, ("en", 0.99))
            expect_language(comprehend, ("en", 0.99))
            expect_report(codedeploy, "Failed")
            hook = api_hook(
                real_api,
                dynamodb,
                codedeploy,
                alarms=AlarmWatch(cloudwatch, ["ApiErrorsAlarm", "Api5xxRateAlarm"]),
            )

            verdict = run(hook)

        assert verdict.problems == ["rollback alarm ApiErrorsAlarm is in ALARM"]

    def test_the_production_wiring_reads_the_api_url_from_its_parameter(
        self, moto: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name="/store-and-reply/test/api-url", Value="https://example.invalid/v1", Type="String"
        )
        hook = build_hook(
            HookSettings.model_validate(
                {
                    "TARGET_FUNCTION": f"{NEW_VERSION.rsplit(':', 1)[0]}:live",
                    "CHECKS": "api",
                    "TABLE_NAME": TABLE_NAME,
                    "API_URL_PARAMETER": "/store-and-reply/test/api-url",
                    "ALARM_NAMES": "a,b",
                }
            )
        )

        assert hook.endpoint is not None
        assert hook.endpoint._url == "https://example.invalid/v1/messages"  # noqa: SLF001
        assert hook.alarms is not None
