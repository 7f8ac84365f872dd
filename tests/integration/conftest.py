"""Tests against a deployed stack, found through its CloudFormation outputs.

Set STACK_NAME (and AWS_REGION, or a profile's region) to run them; without it they are skipped.
With TEST_ROLE_ARN (the pipeline sets staging's test role, pipeline/stage.yaml) every call is made
as that role, assumed once.
Each test signs in as a user of its own, made in the stack's user pool, and deletes the user and
what it wrote.
"""

import secrets
import uuid
from collections.abc import Iterator

import boto3
import pytest

from tests.support.deployed import STACK_NAME, TEST_ROLE_ARN, SignedInUser, Stack


@pytest.fixture(scope="session", autouse=True)
def as_the_test_role() -> None:
    """Every boto3 client of the tests calls as TEST_ROLE_ARN, when it is set."""
    if not (STACK_NAME and TEST_ROLE_ARN):
        return
    credentials = boto3.client("sts").assume_role(RoleArn=TEST_ROLE_ARN, RoleSessionName="integration-tests")[
        "Credentials"
    ]
    boto3.setup_default_session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.enable_socket)
            if not STACK_NAME:
                item.add_marker(pytest.mark.skip(reason="no deployed stack: set STACK_NAME and AWS_REGION"))


@pytest.fixture(scope="session")
def stack() -> Stack:
    (description,) = boto3.client("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}
    key = boto3.client("apigateway").get_api_key(apiKey=outputs["ApiKeyId"], includeValue=True)["value"]
    return Stack(outputs, key)


@pytest.fixture
def test_user(stack: Stack) -> Iterator[SignedInUser]:
    """A user no one else is, made in the stack's pool and signed in; deleted afterwards, with every
    message stored under their name (their own, and those sent anonymously under it)."""
    name = f"integration-test-{uuid.uuid4().hex}"
    password = f"Aa1!{secrets.token_urlsafe(24)}"
    cognito = boto3.client("cognito-idp")
    pool, client = stack.outputs["UserPoolId"], stack.outputs["UserPoolClientId"]
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=name,
        MessageAction="SUPPRESS",
        UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
    )
    try:
        cognito.admin_set_user_password(UserPoolId=pool, Username=name, Password=password, Permanent=True)
        signed_in = cognito.initiate_auth(
            ClientId=client,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": name, "PASSWORD": password},
        )
        yield SignedInUser(name, signed_in["AuthenticationResult"]["IdToken"])
    finally:
        cognito.admin_delete_user(UserPoolId=pool, Username=name)
        dynamodb = boto3.client("dynamodb")
        table = stack.outputs["TableName"]
        for partition in (f"USER#{name}", f"ANON#{name}"):
            items = dynamodb.query(
                TableName=table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": partition}},
                ProjectionExpression="pk, sk",
            )["Items"]
            for item in items:
                dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
