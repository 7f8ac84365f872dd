"""A stack whose first release failed is deleted on request, and what it retained is named."""

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from devkit.release.recover import Orphan, orphans, recover

STACK = "store-and-reply-staging"
TABLE = "store-and-reply-staging-MessagesTable-ABC"


@pytest.fixture
def cloudformation() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber


def described(stubber: Stubber, status: str) -> None:
    stubber.add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": STACK, "StackStatus": status, "CreationTime": "2026-12-01T00:00:00Z"}]},
        {"StackName": STACK},
    )


def resources(stubber: Stubber) -> None:
    summary = {"LastUpdatedTimestamp": "2026-12-01T00:00:00Z"}
    stubber.add_response(
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                {**summary, "LogicalResourceId": "MessagesTable", "PhysicalResourceId": TABLE,
                 "ResourceType": "AWS::DynamoDB::Table", "ResourceStatus": "DELETE_SKIPPED"},
                {**summary, "LogicalResourceId": "UserPool", "PhysicalResourceId": "us-east-1_abc",
                 "ResourceType": "AWS::Cognito::UserPool", "ResourceStatus": "DELETE_SKIPPED"},
                {**summary, "LogicalResourceId": "MessagesQueue", "PhysicalResourceId": "https://sqs/q",
                 "ResourceType": "AWS::SQS::Queue", "ResourceStatus": "DELETE_COMPLETE"},
            ]
        },
        {"StackName": STACK},
    )  # fmt: skip


def test_a_failed_first_create_names_the_retained_resources(cloudformation: tuple[Any, Stubber]) -> None:
    client, stubber = cloudformation
    described(stubber, "ROLLBACK_COMPLETE")
    resources(stubber)

    kept = orphans(client, STACK)

    assert kept == [
        Orphan("MessagesTable", "AWS::DynamoDB::Table", TABLE),
        Orphan("UserPool", "AWS::Cognito::UserPool", "us-east-1_abc"),
    ]
    assert kept[1].remove_command() == "aws cognito-idp delete-user-pool --user-pool-id us-east-1_abc"


def test_without_confirmation_nothing_is_deleted(cloudformation: tuple[Any, Stubber]) -> None:
    client, stubber = cloudformation
    described(stubber, "ROLLBACK_COMPLETE")
    resources(stubber)
    out = io.StringIO()

    assert recover(client, STACK, confirm=False, out=out) == 0

    stubber.assert_no_pending_responses()  # no delete_stack was stubbed: none was called
    assert "Dry run" in out.getvalue()


def test_confirmed_it_deletes_the_stack_and_says_how_to_remove_what_is_left(
    cloudformation: tuple[Any, Stubber],
) -> None:
    client, stubber = cloudformation
    described(stubber, "ROLLBACK_COMPLETE")
    resources(stubber)
    stubber.add_response("delete_stack", {}, {"StackName": STACK})
    stubber.add_client_error("describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist")
    out = io.StringIO()

    assert recover(client, STACK, confirm=True, out=out) == 0

    stubber.assert_no_pending_responses()
    assert (
        "aws dynamodb delete-table --table-name store-and-reply-staging-MessagesTable-ABC" in out.getvalue()
    )


@pytest.mark.parametrize("status", ["UPDATE_ROLLBACK_COMPLETE", "CREATE_COMPLETE", "UPDATE_IN_PROGRESS"])
def test_a_stack_a_change_set_can_update_is_left_alone(
    cloudformation: tuple[Any, Stubber], status: str
) -> None:
    client, stubber = cloudformation
    described(stubber, status)
    out = io.StringIO()

    assert recover(client, STACK, confirm=True, out=out) == 1

    stubber.assert_no_pending_responses()
    assert f"is {status}" in out.getvalue()
