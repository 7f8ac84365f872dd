"""make start's embedded endpoint carries what a release needs: metrics, alarms, versions, aliases.

The stack runs with its clock sped up twenty times (a simulated minute every three seconds) and
faults injected into the API function's live version by the local runtime: events containing one
marker raise, events containing another answer 500, and the local language model decides nothing
for a third. The alarms are the template's own.
"""

import json
import math
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from devkit.runtime.language_model import model_path
from store_reply.adapters.fasttext import FastTextLanguageIdentifier
from store_reply.settings import Settings
from tests.support.http import eventually
from tests.support.local_stack import RunningStack, start_stack

SPEED = 20.0
RAISE = "please-raise-now"
ANSWER_503 = "please-fail-the-write"
UNDECIDED = "vraiment"  # a word of the texts below: the fault strikes them, and they stay French
API_FUNCTION = "store-and-reply-local-ApiFunction"
ALARM = "store-and-reply-local-{}"


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    faults = f"ApiFunction=errors=1@{RAISE},http5xx=1@{ANSWER_503},nolocal=1@{UNDECIDED}"
    options = ("--speed", str(SPEED), "--faults", faults)
    running = start_stack(tmp_path_factory.mktemp("observed"), options=options)
    yield running
    running.stop()


def post(stack: RunningStack, text: str) -> int:
    return stack.http("POST", "/messages", {"message": text}, headers=stack.as_user("olivia")).status


def described(stack: RunningStack, alarm: str) -> dict[str, Any]:
    """The alarm of that logical id: a rollback alarm carries the version it judges (here 1)."""
    found = stack.client("cloudwatch").describe_alarms(AlarmNamePrefix=ALARM.format(alarm))["MetricAlarms"]
    (match,) = [a for a in found if a["AlarmName"] in {ALARM.format(alarm), ALARM.format(alarm) + "-v1"}]
    return dict(match)


def state(stack: RunningStack, alarm: str) -> str:
    return str(described(stack, alarm)["StateValue"])


def test_a_function_error_fires_the_template_s_errors_alarm_and_it_clears_again(
    observed: RunningStack,
) -> None:
    assert post(observed, "Bonjour tout le monde") == 201

    assert post(observed, f"This one fails: {RAISE}") == 502

    eventually(lambda: state(observed, "ApiErrorsAlarm") == "ALARM", seconds=60 / SPEED * 2)

    # Good traffic brings datapoints of 0 errors; the newest ones decide, and the alarm clears.
    def clears() -> bool:
        post(observed, "Merci beaucoup")
        return state(observed, "ApiErrorsAlarm") == "OK"

    eventually(clears, seconds=60 / SPEED * 5, interval=0.5)
    # Named after the version it judges: this stack's only one, 1.
    assert any("ApiErrorsAlarm-v1: " in line and " -> ALARM at " in line for line in observed.output)
    assert any("ApiErrorsAlarm-v1: ALARM -> OK" in line for line in observed.output)


def test_a_version_whose_local_model_decides_nothing_fires_the_local_language_alarm(
    observed: RunningStack,
) -> None:
    # The local stack detects with the local model alone, so these messages are stored as
    # undetermined and answered in the configured language, which no other alarm counts as a fault;
    # with hybrid detection they would go to Comprehend. Only the share the model decided shows it.
    texts = [
        f"Merci beaucoup pour votre aide numéro {index}, c'est {UNDECIDED} très gentil" for index in range(20)
    ]
    model = FastTextLanguageIdentifier(model_path())
    confidence = Settings.model_fields["language_confidence"].default  # the template's default too
    assert all(model.identify(text)[1] >= confidence for text in texts), "the model decides them"

    statuses = [post(observed, text) for text in texts]

    assert set(statuses) == {201}
    eventually(lambda: state(observed, "ApiLocalLanguageAlarm") == "ALARM", seconds=60 / SPEED * 2)
    assert state(observed, "ApiDegradedAlarm") == "OK"


def test_the_5xx_rate_alarm_follows_the_answers_api_gateway_gives(observed: RunningStack) -> None:
    # Twenty requests fall in at most two one-minute periods, so one of them holds the ten
    # requests the rate needs before it judges (RateAlarmMinimumSample). The failed writes are
    # answered 503 by the function's own error table.
    statuses = [post(observed, f"Answer {index}: {ANSWER_503 if index % 2 else 'ok'}") for index in range(20)]

    assert Counter(statuses) == {201: 10, 503: 10}
    eventually(lambda: state(observed, "Api5xxRateAlarm") == "ALARM", seconds=60 / SPEED * 2)
    # The version's own 5XX, unstored messages, are what its rollback alarm judges.
    eventually(lambda: state(observed, "ApiDegradedAlarm") == "ALARM", seconds=60 / SPEED * 2)
    data = json.loads(described(observed, "Api5xxRateAlarm")["StateReasonData"])
    assert (
        max(point["value"] for point in data["evaluatedDatapoints"]) > 5
    )  # percent, the template's threshold


def test_api_gateway_and_lambda_metrics_carry_the_dimensions_aws_uses(observed: RunningStack) -> None:
    post(observed, "Hallo zusammen")
    metrics = observed.client("cloudwatch").list_metrics()["Metrics"]
    dimension_sets = {
        (m["Namespace"], m["MetricName"], tuple(sorted(d["Name"] for d in m["Dimensions"]))) for m in metrics
    }

    for name in ("Invocations", "Errors", "Duration"):
        for dimensions in [
            ("FunctionName",),
            ("FunctionName", "Resource"),
            ("ExecutedVersion", "FunctionName", "Resource"),
        ]:
            assert ("AWS/Lambda", name, dimensions) in dimension_sets
    for name in ("Count", "4XXError", "5XXError", "Latency", "IntegrationLatency"):
        assert ("AWS/ApiGateway", name, ("ApiName", "Stage")) in dimension_sets
    # The function's own figures by version, and all its versions together (a canary's baseline).
    assert ("StoreAndReply", "Replies", ("FunctionName", "FunctionVersion", "service")) in dimension_sets
    assert ("StoreAndReply", "Replies", ("FunctionName", "service")) in dimension_sets


def test_queue_metrics_are_sampled_every_period(observed: RunningStack) -> None:
    def sampled() -> list[Any]:
        metrics = observed.client("cloudwatch").list_metrics(Namespace="AWS/SQS")["Metrics"]
        return [m for m in metrics if m["MetricName"] == "ApproximateNumberOfMessagesVisible"]

    queues = {m["Dimensions"][0]["Value"] for m in eventually(sampled, seconds=60 / SPEED * 2)}

    assert queues == {
        "store-and-reply-local-MessagesQueue",
        "store-and-reply-local-MessagesDeadLetterQueue",
        "store-and-reply-local-WitnessFailuresQueue",
    }


def test_invoking_a_version_number_reaches_that_version_s_worker(observed: RunningStack) -> None:
    functions = observed.client("lambda")
    version = functions.publish_version(FunctionName=API_FUNCTION)["Version"]
    event = {"httpMethod": "GET", "path": "/nowhere", "resource": "/nowhere", "requestContext": {}}

    answer = functions.invoke(FunctionName=f"{API_FUNCTION}:{version}", Payload=json.dumps(event))
    live = functions.invoke(FunctionName=f"{API_FUNCTION}:live", Payload=json.dumps(event))

    assert (version, answer["ExecutedVersion"], live["ExecutedVersion"]) == ("2", "2", "1")
    assert [
        v["Version"] for v in functions.list_versions_by_function(FunctionName=API_FUNCTION)["Versions"]
    ] == [
        "$LATEST",
        "1",
        "2",
    ]


def test_weighted_alias_routing_over_2000_invocations_stays_within_binomial_bounds(
    observed: RunningStack,
) -> None:
    functions = observed.client("lambda")
    version = functions.publish_version(FunctionName=API_FUNCTION)["Version"]
    functions.update_alias(
        FunctionName=API_FUNCTION,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {version: 0.3}},
    )
    event = json.dumps(
        {"httpMethod": "GET", "path": "/nowhere", "resource": "/nowhere", "requestContext": {}}
    )
    try:
        with ThreadPoolExecutor(4) as pool:
            executed = list(
                pool.map(
                    lambda _: functions.invoke(FunctionName=f"{API_FUNCTION}:live", Payload=event)[
                        "ExecutedVersion"
                    ],
                    range(2000),
                )
            )
    finally:
        functions.update_alias(FunctionName=API_FUNCTION, Name="live", FunctionVersion="1", RoutingConfig={})

    share = Counter(executed)[version]
    spread = 4.5 * math.sqrt(
        2000 * 0.3 * 0.7
    )  # 4.5 standard deviations: a false failure once in 150,000 runs
    assert abs(share - 600) <= spread, share
    assert set(executed) == {"1", version}


def test_an_alias_routes_to_one_published_version_at_most(observed: RunningStack) -> None:
    functions = observed.client("lambda")
    with pytest.raises(functions.exceptions.InvalidParameterValueException):
        functions.update_alias(
            FunctionName=API_FUNCTION,
            Name="live",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"99": 0.1}},
        )


def test_codedeploy_hook_status_for_an_unknown_deployment_is_refused_as_codedeploy_does(
    observed: RunningStack,
) -> None:
    codedeploy = observed.client("codedeploy")

    with pytest.raises(codedeploy.exceptions.DeploymentDoesNotExistException):
        codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId="d-ABCDE1234", lifecycleEventHookExecutionId="x", status="Succeeded"
        )


def test_the_post_traffic_hook_s_parameter_holds_the_local_api_url(observed: RunningStack) -> None:
    parameter = observed.client("ssm").get_parameter(Name="/store-and-reply/store-and-reply-local/api-url")

    assert parameter["Parameter"]["Value"] == observed.api
