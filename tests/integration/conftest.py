"""Tests against a deployed stack, found through its CloudFormation outputs.

Set STACK_NAME (and AWS_REGION, or a profile's region) to run them; without it they are skipped.
Each test writes under its own uuid-named user and deletes what it wrote.
"""

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

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
