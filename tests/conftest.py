"""Fixtures shared by every test: events from events/, a Lambda context, AWS doubles."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.stub import Stubber
from moto import mock_aws

from devkit.language_model import model_path
from devkit.resources import create_queues, create_tables, queue_arn
from devkit.template import ROOT, load_template

if TYPE_CHECKING:
    from mypy_boto3_comprehend import ComprehendClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_translate import TranslateClient

EVENTS = ROOT / "events"
REGION = "us-east-1"
TABLE_NAME = "store-and-reply-test"


def load_event(name: str) -> dict[str, Any]:
    """An event from ``events/``, e.g. ``load_event("api/send")``."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


@dataclass
class FakeLambdaContext:
    """The parts of the Lambda context the functions read."""

    function_name: str = "store-and-reply-test"
    function_version: str = "7"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:store-and-reply-test:live"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture(autouse=True)
def aws_environment(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test but the integration tests reaches real AWS: dummy credentials, one region, no profile."""
    if request.node.get_closest_marker("integration"):
        return
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "StoreAndReply")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "store-and-reply")
    # Where the shared layer puts the language model on Lambda, the development copy of the same file.
    monkeypatch.setenv("LANGUAGE_MODEL", str(model_path()))


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml as written."""
    return load_template()


@pytest.fixture
def moto() -> Iterator[None]:
    """moto's in-memory AWS, for DynamoDB and SQS."""
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(moto: None, template: dict[str, Any]) -> "DynamoDBClient":
    """A moto DynamoDB holding the template's table, created from its definition in template.yaml."""
    client = boto3.client("dynamodb", region_name=REGION)
    create_tables(client, template, {"MessagesTable": TABLE_NAME})
    return client


@dataclass(frozen=True)
class Queues:
    """The template's queues in moto."""

    client: "SQSClient"
    url: str
    arn: str
    dead_letter_url: str


@pytest.fixture
def queues(moto: None, template: dict[str, Any]) -> Queues:
    """moto SQS queues created from template.yaml: the message queue and its dead-letter queue."""
    client = boto3.client("sqs", region_name=REGION)
    names = {"MessagesQueue": "test-messages", "MessagesDeadLetterQueue": "test-messages-dlq"}
    urls = create_queues(client, template, {**names, "WitnessFailuresQueue": "test-witness-failures"})
    return Queues(
        client,
        urls["MessagesQueue"],
        queue_arn(client, urls["MessagesQueue"]),
        urls["MessagesDeadLetterQueue"],
    )


@dataclass
class Stubbed[ClientT: BaseClient]:
    """A real boto3 client whose responses are queued on a botocore Stubber; ``calls`` lists the calls."""

    client: ClientT
    stubber: Stubber
    calls: list[str]


def _stubbed[ClientT: BaseClient](client: ClientT) -> Iterator[Stubbed[ClientT]]:
    calls: list[str] = []
    client.meta.events.register("before-parameter-build", lambda model, **_: calls.append(model.name))
    with Stubber(client) as stubber:
        yield Stubbed(client, stubber, calls)
        stubber.assert_no_pending_responses()


@pytest.fixture
def comprehend() -> Iterator[Stubbed["ComprehendClient"]]:
    yield from _stubbed(boto3.client("comprehend", region_name=REGION))


@pytest.fixture
def translate() -> Iterator[Stubbed["TranslateClient"]]:
    yield from _stubbed(boto3.client("translate", region_name=REGION))


def expect_language(comprehend: Stubbed["ComprehendClient"], *scores: tuple[str, float]) -> None:
    """Queue one DetectDominantLanguage answer with these (language, score) pairs."""
    comprehend.stubber.add_response(
        "detect_dominant_language",
        {"Languages": [{"LanguageCode": code, "Score": score} for code, score in scores]},
    )


def expect_languages(comprehend: Stubbed["ComprehendClient"], *codes: str | None) -> None:
    """Queue one BatchDetectDominantLanguage answer: a language per document, None for a document error."""
    comprehend.stubber.add_response(
        "batch_detect_dominant_language",
        {
            "ResultList": [
                {"Index": index, "Languages": [{"LanguageCode": code, "Score": 0.98}]}
                for index, code in enumerate(codes)
                if code is not None
            ],
            "ErrorList": [
                {"Index": index, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "failed"}
                for index, code in enumerate(codes)
                if code is None
            ],
        },
    )


def expect_translation(translate: Stubbed["TranslateClient"], text: str, target: str, result: str) -> None:
    """Queue one TranslateText answer, checking it translates ``text`` from English to ``target``."""
    translate.stubber.add_response(
        "translate_text",
        {"TranslatedText": result, "SourceLanguageCode": "en", "TargetLanguageCode": target},
        {"Text": text, "SourceLanguageCode": "en", "TargetLanguageCode": target},
    )


def path_of(path: str) -> Path:
    """A path inside the repository."""
    return ROOT / path


def emitted_metrics(output: str) -> list[dict[str, Any]]:
    """The EMF documents Powertools Metrics printed."""
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]


def metric(document: dict[str, Any], name: str) -> float:
    """A metric's total in one EMF document (Powertools writes a list when a metric has several values)."""
    value = document[name]
    return float(sum(value)) if isinstance(value, list) else float(value)
