"""Tests against a deployed stack, found through its CloudFormation outputs.

Set STACK_NAME (and AWS_REGION, or a profile's region) to run them; without it they are skipped.
Each test writes under its own uuid-named user and deletes what it wrote.
"""

import json
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

STACK_NAME = os.environ.get("STACK_NAME", "")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.enable_socket)
            if not STACK_NAME:
                item.add_marker(pytest.mark.skip(reason="no deployed stack: set STACK_NAME and AWS_REGION"))


@dataclass(frozen=True)
class Stack:
    outputs: dict[str, str]
    api_key: str

    def url(self, path: str) -> str:
        return self.outputs["ApiUrl"].rstrip("/") + path


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: Any


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> HttpResponse:
    """One HTTPS request; any status is returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return HttpResponse(
                response.status, dict(response.headers), json.loads(response.read() or b"null")
            )
    except urllib.error.HTTPError as error:
        return HttpResponse(error.code, dict(error.headers), json.loads(error.read() or b"null"))


@pytest.fixture(scope="session")
def stack() -> Stack:
    (description,) = boto3.client("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
    key = boto3.client("apigateway").get_api_key(apiKey=outputs["ApiKeyId"], includeValue=True)["value"]
    return Stack(outputs, key)


@pytest.fixture
def test_user(stack: Stack) -> Iterator[str]:
    """A user name no one else writes; its messages are deleted afterwards."""
    user = f"integration-test-{uuid.uuid4().hex}"
    yield user
    dynamodb = boto3.client("dynamodb")
    table = stack.outputs["TableName"]
    items = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"USER#{user}"}},
        ProjectionExpression="pk, sk",
    )["Items"]
    for item in items:
        dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
