"""Fixtures shared by every test: events from events/, a Lambda context, AWS doubles."""

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from devkit.local.resources import create_queues, create_tables, queue_arn
from devkit.runtime.language_model import model_path
from devkit.template import load_template
from tests.support.aws import REGION, TABLE_NAME, FakeLambdaContext, Queues, Stubbed, stubbed

if TYPE_CHECKING:
    from mypy_boto3_comprehend import ComprehendClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_translate import TranslateClient


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


@pytest.fixture
def comprehend() -> Iterator[Stubbed["ComprehendClient"]]:
    yield from stubbed(boto3.client("comprehend", region_name=REGION))


@pytest.fixture
def translate() -> Iterator[Stubbed["TranslateClient"]]:
    yield from stubbed(boto3.client("translate", region_name=REGION))
