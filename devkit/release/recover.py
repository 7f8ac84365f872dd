"""Recover an application stack whose first release failed, so that the pipeline can retry it.

A first create that fails rolls back to ``ROLLBACK_COMPLETE``: a stack that can only be deleted.
The pipeline's ``CHANGE_SET_REPLACE`` cannot update it, so every later release fails at once. Its
retained resources (``DeletionPolicy: Retain``: the table, the user pool) were kept by the rollback
(``DELETE_SKIPPED``) and outlive the stack: the next create makes new ones under new generated
names, and these are orphans. A failed first create never served anyone, so they hold nothing a
user sent; they are named, with the commands that remove them, and left for a person to remove.

Run: ``make recover-stack STACK=<name>`` (``CONFIRM=yes`` deletes the stack; without it, a dry run).
"""

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

FAILED_FIRST_CREATE = "ROLLBACK_COMPLETE"
REMOVE_COMMANDS: dict[str, Callable[[str], str]] = {
    "AWS::DynamoDB::Table": lambda name: f"aws dynamodb delete-table --table-name {name}",
    "AWS::Cognito::UserPool": lambda pool: f"aws cognito-idp delete-user-pool --user-pool-id {pool}",
}


class NotRecoverable(Exception):
    """The stack is not one whose first release failed: a change set can update it, or it is busy."""


@dataclass(frozen=True)
class Orphan:
    """A retained resource the deleted stack leaves behind."""

    logical_id: str
    resource_type: str
    physical_id: str

    def remove_command(self) -> str:
        command = REMOVE_COMMANDS.get(self.resource_type)
        return command(self.physical_id) if command else f"remove {self.resource_type} {self.physical_id}"


def orphans(cloudformation: "CloudFormationClient", stack: str) -> list[Orphan]:
    """The stack's retained resources, if its first create failed; else ``NotRecoverable``."""
    try:
        (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        raise NotRecoverable(f"{stack}: {error}") from error
    status = described["StackStatus"]
    if status != FAILED_FIRST_CREATE:
        raise NotRecoverable(
            f"{stack} is {status}, not {FAILED_FIRST_CREATE}: the pipeline's change sets can update it"
        )
    kept: list[Orphan] = []
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceStatus"] == "DELETE_SKIPPED" and resource.get("PhysicalResourceId"):
                kept.append(
                    Orphan(
                        resource["LogicalResourceId"],
                        resource["ResourceType"],
                        resource["PhysicalResourceId"],
                    )
                )
    return kept


def recover(
    cloudformation: "CloudFormationClient", stack: str, *, confirm: bool, out: Any = sys.stdout
) -> int:
    """Delete a stack whose first create failed (with ``confirm``) and name what it leaves behind."""
    try:
        kept = orphans(cloudformation, stack)
    except NotRecoverable as error:
        print(f"Nothing to recover: {error}", file=out)
        return 1
    print(f"{stack} is {FAILED_FIRST_CREATE}: its first release failed and it can only be deleted.", file=out)
    for orphan in kept:
        print(f"  retained, left behind: {orphan.logical_id} ({orphan.physical_id})", file=out)
    if not confirm:
        print("Dry run: CONFIRM=yes deletes the stack.", file=out)
        return 0
    cloudformation.delete_stack(StackName=stack)
    cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack)
    print(
        f"Deleted {stack}; release again (aws codepipeline start-pipeline-execution --name <pipeline>).",
        file=out,
    )
    if kept:
        print("The retained resources hold nothing a user sent; once checked, remove them:", file=out)
        for orphan in kept:
            print(f"  {orphan.remove_command()}", file=out)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    parser.add_argument("--confirm", action="store_true")
    arguments = parser.parse_args()
    sys.exit(recover(boto3.client("cloudformation"), arguments.stack, confirm=arguments.confirm))
