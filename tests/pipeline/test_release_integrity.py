"""Release integrity, class by class: each test fails when its class of pipeline fault comes back.

Every request is decided by devkit.iam as IAM decides it, against the pipeline's resources as
CloudFormation names them (devkit.deployed).
"""

import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest

from devkit.deployed import ACCOUNT, DeployedStack
from devkit.iam import Request, decide, listed
from devkit.package import STATEFUL_TYPES, write_configurations
from devkit.template import expand, load_template
from tests.pipeline.permissions import pipeline_stack, role_statements

REGION = "us-east-1"
SAM_TRANSFORM = f"arn:aws:cloudformation:{REGION}:aws:transform/Serverless-2016-10-31"


@pytest.fixture(scope="module")
def pipeline() -> DeployedStack:
    return pipeline_stack()


def stack_arn(name: str) -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/0f1e2d3c-0000-4000-8000-000000000000"


def roles(stack: DeployedStack) -> dict[str, list[dict[str, Any]]]:
    names = [name for name, r in stack.template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    return {name: role_statements(stack, name) for name in names}


def change_set_actions(stack: DeployedStack) -> list[dict[str, Any]]:
    return [
        action
        for stage in stack.template["Resources"]["Pipeline"]["Properties"]["Stages"]
        for action in stage["Actions"]
        if isinstance(action, dict)
        and action.get("Configuration", {}).get("ActionMode") == "CHANGE_SET_REPLACE"
    ]


def test_every_role_that_creates_change_sets_may_use_the_sam_transform(pipeline: DeployedStack) -> None:
    """CloudFormation's IAM guide: a change set of an AWS::Serverless template is also authorized
    on the transform's ARN (aws/serverless-application-model#179), for the caller and for the
    service role CloudFormation expands it with."""
    callers = {
        name
        for name, statements in roles(pipeline).items()
        if any(
            decide(statements, Request("cloudformation:CreateChangeSet", stack_arn(f"store-and-reply-{env}")))
            == "Allow"
            for env in ("staging", "prod")
        )
    }
    service_roles = {a["Configuration"]["RoleArn"]["Fn::GetAtt"][0] for a in change_set_actions(pipeline)}
    creators = callers | service_roles

    assert "PipelineRole" in callers
    assert service_roles
    refused = {
        name
        for name in creators
        if decide(roles(pipeline)[name], Request("cloudformation:CreateChangeSet", SAM_TRANSFORM)) != "Allow"
    }
    assert not refused, f"may create change sets but not expand SAM templates: {sorted(refused)}"


def test_every_test_action_runs_in_the_stage_that_deployed_what_it_tests(pipeline: DeployedStack) -> None:
    """With ExecutionMode SUPERSEDED a newer execution may overtake an older one between stages:
    tests in a later stage could judge a newer deployment and pass the older package on."""
    stages = pipeline.template["Resources"]["Pipeline"]["Properties"]["Stages"]
    tests = 0
    for stage in stages:
        actions = [a for a in stage["Actions"] if isinstance(a, dict) and "ActionTypeId" in a]
        deploys = [a for a in actions if a.get("Configuration", {}).get("ActionMode") == "CHANGE_SET_EXECUTE"]
        for test in (a for a in actions if a["ActionTypeId"]["Category"] == "Test"):
            tests += 1
            assert deploys, f"{test['Name']} tests a deployment made in another stage ({stage['Name']})"
            assert all(test["RunOrder"] > d.get("RunOrder", 1) for d in deploys), test["Name"]
    assert tests, "the pipeline has no test action"


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_every_configuration_forbids_replacing_or_deleting_what_holds_data(
    tmp_path: Path, environment: str
) -> None:
    """A change set that would replace the table (a new, empty one) or the user pool (every user
    gone), or drop a queue or a key, fails instead of executing."""
    write_configurations(tmp_path)
    policy = json.loads((tmp_path / f"{environment}.json").read_text())["StackPolicy"]
    expanded = expand(load_template(), {"Environment": environment})
    stateful = {name for name, r in expanded["Resources"].items() if r["Type"] in STATEFUL_TYPES}

    def decided(action: str, logical_id: str) -> str:
        # Stack policies: an explicit Deny wins, then an Allow; nothing said is a Deny.
        matching = [
            s
            for s in policy["Statement"]
            if action in listed(s["Action"]) or "Update:*" in listed(s["Action"])
            if any(
                fnmatch.fnmatchcase(f"LogicalResourceId/{logical_id}", r) or r == "*"
                for r in listed(s["Resource"])
            )
        ]
        effects = {s["Effect"] for s in matching}
        return "Deny" if "Deny" in effects or not effects else "Allow"

    assert {"MessagesTable", "UserPool", "MessagesQueue", "MessagesDeadLetterQueue"} <= stateful
    for name in stateful:
        assert decided("Update:Replace", name) == "Deny", name
        assert decided("Update:Delete", name) == "Deny", name
        assert decided("Update:Modify", name) == "Allow", name
    assert decided("Update:Replace", "ApiFunction") == "Allow"
