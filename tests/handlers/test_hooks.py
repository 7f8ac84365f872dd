"""The CodeDeploy traffic hooks: what they send, what they accept, and the status they report.

CodeDeploy's PutLifecycleEventHookExecutionStatus is not in moto, so a Stubber checks the exact
status of every report. The new version is either the real handler, run in-process (the hook's
checks must pass against the code of this commit), or a Stubber standing in for Lambda.
"""

import base64
import io
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber
from moto import mock_aws

from store_reply.adapters.clients import AwsClients
from store_reply.adapters.dynamodb import user_partition
from store_reply.deployment_checks import CLIENT_CONTEXT_KEY, check_user
from store_reply.settings import Settings
from store_reply.wiring import build_service
from store_reply_api.app import create_handler as create_api_handler
from store_reply_consumer.app import create_handler as create_consumer_handler
from store_reply_consumer.batch import QueueConsumer
from store_reply_hooks.app import CONTROL, INVOKE, REPORT, HookSettings, build_hook, create_handler
from store_reply_hooks.aws import (
    REPORT_ATTEMPTS,
    AlarmWatch,
    CheckDataCleaner,
    CheckIdentity,
    CleanupIncomplete,
    CodeDeployReporter,
    Invocation,
    LambdaInvoker,
)
from store_reply_hooks.checks import API_CHECKS, QUEUE_CHECKS
from store_reply_hooks.hook import CONTROL_CALL_MS, INVOKE_MS, REPORT_MS, TrafficHook
from tests.support.aws import (
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
CHECK_USER = check_user(HOOK_EVENT["DeploymentId"])


def plenty_of_time() -> int:
    return 300_000  # the hooks' timeout


class InProcess:
    """The new version, played by the real handler of this commit."""

    def __init__(self, handler: Callable[[dict[str, Any], Any], dict[str, Any]]) -> None:
        self._handler = handler

    def invoke(self, event: dict[str, Any], deployment_id: str) -> Invocation:
        started = time.monotonic()
        marked = SimpleNamespace(custom={CLIENT_CONTEXT_KEY: deployment_id})  # as Lambda passes ClientContext
        payload = self._handler(event, FakeLambdaContext(client_context=marked))
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
    return Settings.from_environ(
        {
            "TABLE_NAME": TABLE_NAME,
            "REPLY_MESSAGE": REPLY,
            "REPLY_LANGUAGE": "en",
            "LANGUAGE_DETECTION": "comprehend",
        }
    )


@pytest.fixture
def real_api(dynamodb: "DynamoDBClient", comprehend: Any, translate: Any) -> InProcess:
    clients = AwsClients(dynamodb=dynamodb, comprehend=comprehend.client, translate=translate.client)
    # A dev stage, where the demo route takes anonymous messages (what API_CHECKS expects).
    return InProcess(
        create_api_handler(lambda: build_service(settings(), clients), anonymous_send=lambda: True)
    )


def api_hook(invoker: Any, dynamodb: "DynamoDBClient", codedeploy: Stubber, **extra: Any) -> TrafficHook:
    return TrafficHook(
        checks=API_CHECKS,
        events_dir=EVENTS,
        invoker=invoker,
        cleaner=CheckDataCleaner(dynamodb, TABLE_NAME),
        reporter=reporter(codedeploy),
        max_milliseconds=5_000,
        **extra,
    )


def reserved_items(dynamodb: "DynamoDBClient", user: str = CHECK_USER) -> list[Any]:
    return dynamodb.query(
        TableName=TABLE_NAME,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": user_partition(user)}},
    )["Items"]


def expect_the_api_checks(comprehend: Any, translate: Any) -> None:
    """What the API checks ask of the language services: two messages in French, one translation."""
    expect_language(comprehend, ("fr", 0.99))  # store a message
    expect_language(comprehend, ("fr", 0.99))  # the demo route
    expect_translation(translate, REPLY, "fr", "Merci pour votre message !")


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
        expect_the_api_checks(comprehend, translate)
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
        marker = json.dumps({"custom": {CLIENT_CONTEXT_KEY: HOOK_EVENT["DeploymentId"]}}).encode()
        stubber.add_response(
            "invoke",
            response,
            {"FunctionName": NEW_VERSION, "Payload": ANY, "ClientContext": base64.b64encode(marker).decode()},
        )
    stubber.activate()
    return LambdaInvoker(client, NEW_VERSION)


def proxy(status: int, body: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {}, "body": json.dumps(body)}


GOOD_MESSAGE = {
    "id": "x",
    "user": CHECK_USER,
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
            proxy(200, {"messages": [GOOD_MESSAGE], "next": None}),
            proxy(422, {}),
            proxy(400, {}),
            proxy(405, {}),
        ]
        expect_report(codedeploy, "Failed")

        verdict = run(api_hook(lambda_answering(*answers), dynamodb, codedeploy))

        assert verdict.problems == [
            "store a message: missing fields ['language', 'receivedAt', 'reply', 'translated', 'user']",
            "store a message: user None, expected the deployment's check user",
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
        hook.cleaner = CheckDataCleaner(dynamodb, "no-such-table")
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

    def test_only_alarms_whose_state_is_alarm_count_as_firing(self) -> None:
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        with Stubber(cloudwatch) as alarms:
            alarms.add_response(
                "describe_alarms",
                {
                    "MetricAlarms": [
                        {"AlarmName": "ApiErrorsAlarm", "StateValue": "OK"},
                        {"AlarmName": "Api5xxRateAlarm", "StateValue": "ALARM"},
                    ]
                },
                {"AlarmNames": ["ApiErrorsAlarm", "Api5xxRateAlarm"], "StateValue": "ALARM"},
            )

            firing = AlarmWatch(cloudwatch, ["ApiErrorsAlarm", "Api5xxRateAlarm"]).firing()

        assert firing == ["Api5xxRateAlarm"]

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
                    "USER_POOL_ID": "us-east-1_EXAMPLE",
                    "CHECK_CLIENT_ID": "checks",
                    "ALARM_NAMES": "a,b",
                    "GOLDEN_SET": "entry",
                    "TEST_EVENTS_DIR": str(EVENTS),
                }
            )
        )

        assert hook.endpoint is not None
        assert hook.endpoint._url == "https://example.invalid/v1/messages"  # noqa: SLF001
        assert hook.alarms is not None


def store_as(dynamodb: "DynamoDBClient", user: str, count: int) -> None:
    for index in range(count):
        dynamodb.put_item(
            TableName=TABLE_NAME,
            Item={"pk": {"S": user_partition(user)}, "sk": {"S": f"MSG#{index:05d}"}, "message": {"S": "x"}},
        )


class TestParallelDeployments:
    def test_each_deployment_checks_as_its_own_user_and_keeps_out_of_the_others_data(
        self,
        real_api: InProcess,
        dynamodb: "DynamoDBClient",
        comprehend: Any,
        translate: Any,
        codedeploy: Stubber,
    ) -> None:
        # A change to the shared layer deploys both functions at once, each in its own deployment.
        other = check_user("d-OTHERDEPLOY")
        store_as(dynamodb, other, 3)
        expect_the_api_checks(comprehend, translate)
        expect_report(codedeploy, "Succeeded")

        verdict = run(api_hook(real_api, dynamodb, codedeploy))

        assert verdict.status == "Succeeded"
        assert reserved_items(dynamodb) == []
        assert len(reserved_items(dynamodb, other)) == 3
        assert other != CHECK_USER


class TestCleanup:
    def test_a_large_partition_is_deleted_25_items_a_call(self, dynamodb: "DynamoDBClient") -> None:
        store_as(dynamodb, CHECK_USER, 120)
        calls: list[str] = []
        dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))

        deleted = CheckDataCleaner(dynamodb, TABLE_NAME).clean(user_partition(CHECK_USER), lambda: True)

        assert deleted == 120
        assert reserved_items(dynamodb) == []
        assert calls.count("BatchWriteItem") == 5
        assert "DeleteItem" not in calls

    def test_it_stops_when_the_time_is_up_and_says_what_is_left(self, dynamodb: "DynamoDBClient") -> None:
        store_as(dynamodb, CHECK_USER, 120)
        answers = iter([True, True, True, False])

        with pytest.raises(CleanupIncomplete, match="out of time after deleting 25 items"):
            CheckDataCleaner(dynamodb, TABLE_NAME).clean(user_partition(CHECK_USER), lambda: next(answers))

        assert len(reserved_items(dynamodb)) == 95


def countdown(*values: int) -> Callable[[], int]:
    """remaining_ms: each value in turn, then the last one for ever."""
    queue = list(values)
    return lambda: queue.pop(0) if len(queue) > 1 else queue[0]


class TestTimeBudget:
    def test_the_alarms_are_read_only_if_their_worst_case_fits_before_the_report(
        self,
        real_api: InProcess,
        dynamodb: "DynamoDBClient",
        comprehend: Any,
        translate: Any,
        codedeploy: Stubber,
    ) -> None:
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        expect_the_api_checks(comprehend, translate)
        expect_report(codedeploy, "Failed")
        hook = api_hook(real_api, dynamodb, codedeploy, alarms=AlarmWatch(cloudwatch, ["ApiErrorsAlarm"]))
        enough_for_checks = REPORT_MS + CONTROL_CALL_MS + INVOKE_MS

        with Stubber(cloudwatch):  # any DescribeAlarms call would fail the test
            verdict = run(
                hook, countdown(*[enough_for_checks] * len(API_CHECKS), REPORT_MS + CONTROL_CALL_MS)
            )

        assert verdict.problems == ["out of time before reading the alarms"]
        assert reserved_items(dynamodb) == []

    def test_a_hook_out_of_time_still_cleans_up_what_it_stored_and_reports(
        self,
        real_api: InProcess,
        dynamodb: "DynamoDBClient",
        comprehend: Any,
        translate: Any,
        codedeploy: Stubber,
    ) -> None:
        expect_language(comprehend, ("fr", 0.99))
        expect_translation(translate, REPLY, "fr", "Merci pour votre message !")
        expect_report(codedeploy, "Failed")
        enough_for_one_check = REPORT_MS + CONTROL_CALL_MS + INVOKE_MS

        verdict = run(
            api_hook(real_api, dynamodb, codedeploy),
            countdown(enough_for_one_check, REPORT_MS + CONTROL_CALL_MS),
        )

        assert verdict.problems == ["out of time before 'the demo route'"]
        assert reserved_items(dynamodb) == []

    def test_the_budget_covers_the_clients_worst_cases(self) -> None:
        def worst_ms(config: Any, attempts: int = 1) -> int:
            tries = config.retries["total_max_attempts"] * attempts
            return int((config.connect_timeout + config.read_timeout) * 1000 * tries)

        assert worst_ms(INVOKE) <= INVOKE_MS
        assert worst_ms(CONTROL) <= CONTROL_CALL_MS
        # The reporter's attempts, one HTTP try each, and its back-off (0.5 + 1 + 2 s) between them.
        assert worst_ms(REPORT, REPORT_ATTEMPTS) + 3_500 <= REPORT_MS


def test_the_check_identity_is_a_real_user_of_the_pool_only_while_the_hook_runs() -> None:
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool, ClientName="checks", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        identity = CheckIdentity(cognito, pool, client)

        token = identity.sign_in(CHECK_USER)
        claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        identity.remove(CHECK_USER)
        identity.remove(CHECK_USER)  # already gone: fine

        assert (claims["cognito:username"], claims["token_use"], claims["aud"]) == (CHECK_USER, "id", client)
        assert cognito.list_users(UserPoolId=pool)["Users"] == []
