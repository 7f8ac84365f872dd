"""Release integrity, class by class: each test fails when its class of pipeline fault comes back.

Every request is decided by devkit.release.iam as IAM decides it, against the pipeline's resources as
CloudFormation names them (devkit.template.deployed).
"""

import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest

from devkit.release.iam import Request, decide, listed
from devkit.release.package import STATEFUL_TYPES, write_configurations
from devkit.template import expand, load_template
from devkit.template.deployed import DeployedStack
from devkit.template.intrinsics import ACCOUNT_ID as ACCOUNT
from tests.pipeline.permissions import (
    application_stack,
    needs,
    pipeline_stack,
    resource_tags,
    role_statements,
    stage_stack,
)

REGION = "us-east-1"
SAM_TRANSFORM = f"arn:aws:cloudformation:{REGION}:aws:transform/Serverless-2016-10-31"
ENVIRONMENTS = ("staging", "prod")


@pytest.fixture(scope="module")
def pipeline() -> DeployedStack:
    return pipeline_stack()


def stack_arn(name: str) -> str:
    return f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/0f1e2d3c-0000-4000-8000-000000000000"


def roles(stack: DeployedStack) -> dict[str, list[dict[str, Any]]]:
    names = [name for name, r in stack.template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    return {name: role_statements(stack, name) for name in names}


def test_every_role_that_creates_change_sets_may_use_the_sam_transform(pipeline: DeployedStack) -> None:
    """CloudFormation's IAM guide: a change set of an AWS::Serverless template is also authorized
    on the transform's ARN (aws/serverless-application-model#179), for the caller and for the
    service role CloudFormation expands it with."""
    stages = {env: stage_stack(env, pipeline) for env in ENVIRONMENTS}
    everyone = {f"pipeline {name}": s for name, s in roles(pipeline).items()}
    for env, stage in stages.items():
        everyone |= {f"{env} {name}": s for name, s in roles(stage).items()}
    callers = {
        name
        for name, statements in everyone.items()
        if any(
            decide(statements, Request("cloudformation:CreateChangeSet", stack_arn(f"store-and-reply-{env}")))
            == "Allow"
            for env in ENVIRONMENTS
        )
    }
    service_roles = {f"{env} DeployRole" for env in ENVIRONMENTS}  # the actions' Configuration.RoleArn

    assert callers == {f"{env} PipelineExecutionRole" for env in ENVIRONMENTS}
    refused = {
        name
        for name in callers | service_roles
        if decide(everyone[name], Request("cloudformation:CreateChangeSet", SAM_TRANSFORM)) != "Allow"
    }
    assert not refused, f"may create change sets but not expand SAM templates: {sorted(refused)}"


# What IAM cannot tell apart by name when both environments share one account: the traffic hooks
# (CodeDeploy requires CodeDeployHook_ names; theirs carry the stack's id, unknown to a role made
# before the stack), REST APIs and event source mappings' tags (ids are random), the log writes
# AWSLambdaBasicExecutionRole grants on "*", the deployment configurations every account shares,
# and the package both environments deploy (the pipeline's artifact bucket). In separate accounts
# IAM's own rule applies: a policy grants nothing on another account's resources unless that
# account's trust or resource policy names the caller, which the next test rules out.
SHARED_IN_ONE_ACCOUNT = (
    ":function:CodeDeployHook_",
    ":log-group:/aws/lambda/CodeDeployHook_",
    "arn:aws:apigateway:",
    ":event-source-mapping:",
    "logs:CreateLogGroup on ",
    "logs:CreateLogStream on ",
    "logs:PutLogEvents on ",
    ":deploymentconfig:CodeDeployDefault.",
    "-artifactbucket-",
)


@pytest.mark.parametrize(("mine", "theirs"), [("staging", "prod"), ("prod", "staging")])
def test_in_one_account_an_environment_reaches_the_other_only_where_iam_cannot_name_it(
    pipeline: DeployedStack, mine: str, theirs: str
) -> None:
    """Every call CloudFormation's handlers make on the other environment's resources, and every
    call its functions' roles make, decided for this environment's deploy, pipeline-execution and
    test roles and its boundary: a staging change set cannot change production."""
    stage = stage_stack(mine, pipeline)
    policies = dict(roles(stage))
    policies["ApplicationBoundary"] = stage.resolve(
        stage.template["Resources"]["ApplicationBoundary"]["Properties"]["PolicyDocument"]
    )["Statement"]
    other = application_stack(theirs, pipeline)
    requests = [need.request for need in needs(other) if need.request.resource != "*"]
    for resource in other.template["Resources"].values():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        for policy in other.resolve(resource["Properties"]).get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                for action in listed(statement["Action"]):
                    for target in listed(statement["Resource"]):
                        if target != "*":
                            requests.append(Request(action, target, resource_tags(other, target)))
    assert len(requests) > 500, "the other environment's requests were not found"

    reached = {
        f"{name}: {request.action} on {request.resource}"
        for name, statements in policies.items()
        for request in requests
        if decide(statements, request) == "Allow"
    }
    beyond = sorted(r for r in reached if not any(shared in r for shared in SHARED_IN_ONE_ACCOUNT))
    assert not beyond, "\n".join(beyond[:40])


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_an_environment_s_roles_trust_only_the_pipeline_s_own_roles(
    pipeline: DeployedStack, environment: str
) -> None:
    """In separate accounts, what one environment's roles can do in the other needs the other's
    trust: each stage's roles are assumed by CloudFormation or by the pipeline account's named
    role for that job, never by the other stage; the package is readable by each stage's roles."""
    stage = stage_stack(environment, pipeline)
    pipeline_roles = {
        "PipelineExecutionRole": f"arn:aws:iam::{ACCOUNT}:role/store-and-reply-pipeline-pipeline",
        "IntegrationTestRole": f"arn:aws:iam::{ACCOUNT}:role/store-and-reply-pipeline-integration-tests",
    }
    assert pipeline.resources["PipelineRole"].attributes["Arn"] == pipeline_roles["PipelineExecutionRole"]
    assert (
        pipeline.resources["IntegrationTestRole"].attributes["Arn"] == pipeline_roles["IntegrationTestRole"]
    )
    for name, resource in stage.template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        if "Condition" in resource and not stage.resolver.condition(resource["Condition"]):
            continue
        (trust,) = stage.resolve(resource["Properties"]["AssumeRolePolicyDocument"])["Statement"]
        if name == "DeployRole":
            assert trust["Principal"] == {"Service": "cloudformation.amazonaws.com"}
            continue
        assert trust["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, name
        assert trust["Condition"] == {"ArnEquals": {"aws:PrincipalArn": pipeline_roles[name]}}, name


def test_every_application_role_trusts_only_the_stack_s_own_services(pipeline: DeployedStack) -> None:
    """IAM has no condition key on a trust policy's principals: a role that trusted another account
    would lend it the boundary's permissions. The template names only Lambda and CodeDeploy."""
    for env in ENVIRONMENTS:
        application = application_stack(env, pipeline)
        for name, resource in application.template["Resources"].items():
            if resource["Type"] != "AWS::IAM::Role":
                continue
            for statement in resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
                principal = statement["Principal"]
                assert set(principal) == {"Service"}, name
                assert set(listed(principal["Service"])) <= {
                    "lambda.amazonaws.com",
                    "codedeploy.amazonaws.com",
                }


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
