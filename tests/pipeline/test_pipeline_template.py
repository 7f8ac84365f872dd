"""pipeline/pipeline.yaml: the release, stage by stage, and who may do what."""

from typing import Any

import pytest

from devkit.template import ROOT, load_template, resources_of_type

PIPELINE = ROOT / "pipeline" / "pipeline.yaml"
STAGE = load_template(ROOT / "pipeline" / "stage.yaml")


@pytest.fixture(scope="module")
def pipeline() -> dict[str, Any]:
    return load_template(PIPELINE)


def resource(pipeline: dict[str, Any], name: str) -> dict[str, Any]:
    properties: dict[str, Any] = pipeline["Resources"][name]["Properties"]
    return properties


def stages(pipeline: dict[str, Any]) -> dict[str, list[Any]]:
    return {stage["Name"]: stage["Actions"] for stage in resource(pipeline, "Pipeline")["Stages"]}


def test_releases_through_staging_and_tests_before_production(pipeline: dict[str, Any]) -> None:
    assert list(stages(pipeline)) == ["Source", "Build", "Staging", "Production"]


def test_a_push_to_the_branch_starts_it(pipeline: dict[str, Any]) -> None:
    (trigger,) = resource(pipeline, "Pipeline")["Triggers"]
    (source,) = stages(pipeline)["Source"]

    assert source["ActionTypeId"]["Provider"] == "CodeStarSourceConnection"
    assert source["Configuration"]["ConnectionArn"] == {"Ref": "ConnectionArn"}
    assert trigger["GitConfiguration"]["Push"] == [{"Branches": {"Includes": [{"Ref": "BranchName"}]}}]


@pytest.mark.parametrize(("stage", "environment"), [("Staging", "staging"), ("Production", "prod")])
def test_each_environment_gets_a_change_set_from_the_one_package(
    pipeline: dict[str, Any], stage: str, environment: str
) -> None:
    actions = [a for a in stages(pipeline)[stage] if isinstance(a, dict) and "ActionTypeId" in a]
    create, execute = (a for a in actions if a["ActionTypeId"]["Provider"] == "CloudFormation")

    assert create["Configuration"]["ActionMode"] == "CHANGE_SET_REPLACE"
    assert create["Configuration"]["TemplatePath"] == "Package::packaged.yaml"
    assert create["Configuration"]["TemplateConfiguration"] == f"Package::config/{environment}.json"
    # The environment's own deploy role, assumed through its own pipeline-execution role (stage.yaml).
    assert create["Configuration"]["RoleArn"]["Fn::Sub"][0].endswith(
        f"role/${{AppStackPrefix}}-{environment}-deploy"
    )
    for action in (create, execute):
        assert action["RoleArn"]["Fn::Sub"][0].endswith(
            f"role/${{AppStackPrefix}}-{environment}-pipeline-execution"
        )
    assert execute["Configuration"]["ActionMode"] == "CHANGE_SET_EXECUTE"
    assert execute["RunOrder"] > create["RunOrder"]


def test_production_waits_for_an_optional_approval(pipeline: dict[str, Any]) -> None:
    approval = stages(pipeline)["Production"][0]["Fn::If"]

    assert approval[0] == "WithApproval"
    assert approval[1]["ActionTypeId"]["Provider"] == "Manual"
    assert approval[2] == {"Ref": "AWS::NoValue"}


def test_integration_tests_run_against_staging(pipeline: dict[str, Any]) -> None:
    project = resource(pipeline, "IntegrationTestProject")
    variables = {v["Name"]: v["Value"] for v in project["Environment"]["EnvironmentVariables"]}

    assert project["Source"]["BuildSpec"] == "buildspec-integration.yml"
    assert variables["STACK_NAME"] == {"Fn::Sub": "${AppStackPrefix}-staging"}


def test_the_artifact_bucket_is_versioned_encrypted_and_tls_only(pipeline: dict[str, Any]) -> None:
    bucket = resource(pipeline, "ArtifactBucket")
    statement, *grants = resource(pipeline, "ArtifactBucketPolicy")["PolicyDocument"]["Statement"]

    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert (statement["Effect"], statement["Condition"]) == (
        "Deny",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    # The stages' accounts read the package, nothing more.
    assert [(g["Effect"], g["Action"]) for g in grants] == [
        ("Allow", ["s3:GetObject", "s3:GetObjectVersion"])
    ]


@pytest.mark.parametrize("project", ["BuildProject", "IntegrationTestProject"])
def test_builds_are_encrypted_and_log_with_retention(pipeline: dict[str, Any], project: str) -> None:
    properties = resource(pipeline, project)
    group = properties["LogsConfig"]["CloudWatchLogs"]["GroupName"]["Ref"]

    assert properties["EncryptionKey"] == {"Fn::GetAtt": ["ArtifactKey", "Arn"]}
    assert resource(pipeline, group)["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_failures_and_successes_are_notified(pipeline: dict[str, Any]) -> None:
    rule = resource(pipeline, "PipelineNotificationRule")

    assert {
        "codepipeline-pipeline-pipeline-execution-failed",
        "codepipeline-pipeline-pipeline-execution-succeeded",
    } <= set(rule["EventTypeIds"])
    assert rule["Targets"] == [{"TargetType": "SNS", "TargetAddress": {"Ref": "PipelineNotificationsTopic"}}]


def test_a_nightly_release_is_optional(pipeline: dict[str, Any]) -> None:
    rule = pipeline["Resources"]["NightlyReleaseRule"]

    assert rule["Condition"] == "WithNightlyRelease"
    assert rule["Properties"]["ScheduleExpression"] == {"Ref": "NightlySchedule"}


def test_pipeline_build_and_deploy_have_separate_roles_and_no_wildcard_actions(
    pipeline: dict[str, Any],
) -> None:
    roles = resources_of_type(pipeline, "AWS::IAM::Role") | resources_of_type(STAGE, "AWS::IAM::Role")
    assert {"PipelineRole", "BuildRole", "IntegrationTestRole", "DeployRole", "PipelineExecutionRole"} <= set(
        roles
    )
    assert resource(pipeline, "Pipeline")["RoleArn"] == {"Fn::GetAtt": ["PipelineRole", "Arn"]}
    assert resource(pipeline, "BuildProject")["ServiceRole"] == {"Fn::GetAtt": ["BuildRole", "Arn"]}

    for name, role in roles.items():
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                assert all(action != "*" and not action.endswith(":*") for action in actions), name


def test_the_deploy_role_cannot_change_its_own_permissions() -> None:
    role = resource(STAGE, "DeployRole")
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    (roles,) = [s for s in statements if "iam:PutRolePolicy" in s["Action"]]

    assert role["RoleName"] == {"Fn::Sub": "${AppStackPrefix}-${Environment}-deploy"}
    # Only roles under its own environment's stack path: not itself, nor the other environment's.
    assert roles["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AppStackPrefix}-${Environment}/*"}
    ]


def test_no_object_a_deployed_stack_may_reference_ever_expires(pipeline: dict[str, Any]) -> None:
    # sam package skips code whose content-hash key already exists, so a stack, its rollback or a
    # release waiting for approval may reference an object uploaded long ago: only replaced
    # versions (never referenced by key) may expire.
    bucket = resource(pipeline, "ArtifactBucket")
    rules = bucket["LifecycleConfiguration"]["Rules"]

    assert rules, "replaced versions and failed uploads are still cleaned up"
    for rule in rules:
        assert not {"ExpirationInDays", "ExpirationDate", "ExpiredObjectDeleteMarker"} & set(rule), rule["Id"]
        assert not rule.get("Transitions"), rule["Id"]
    assert any("NoncurrentVersionExpiration" in rule for rule in rules)
