"""Every CodeBuild project's role holds what its buildspec and project settings make CodeBuild do.

CodeBuild acts with the project's service role: it writes the build log, reads the source and
writes the artifacts in the pipeline's bucket, encrypts with the project's key, reads and writes
an S3 cache, and publishes each report of the buildspec to the report group
``<project>-<report>``. A missing permission fails the build even when every test passed.
"""

import pytest
import yaml

from devkit.release.iam import Request, decide
from devkit.template import ROOT
from devkit.template.deployed import DeployedStack
from tests.pipeline.permissions import pipeline_stack, role_statements

COVERAGE_FORMATS = {"CLOVERXML", "COBERTURAXML", "JACOCOXML", "SIMPLECOV"}


@pytest.fixture(scope="module")
def pipeline() -> DeployedStack:
    return pipeline_stack()


def projects() -> list[str]:
    stack = pipeline_stack()
    return [name for name, r in stack.template["Resources"].items() if r["Type"] == "AWS::CodeBuild::Project"]


def uses(stack: DeployedStack, project: str) -> list[Request]:
    """The calls CodeBuild makes with the project's role."""
    settings = stack.resolve(stack.template["Resources"][project]["Properties"])
    buildspec = settings["Source"]["BuildSpec"]
    spec = yaml.safe_load(buildspec if "\n" in buildspec else (ROOT / buildspec).read_text())
    bucket = stack.resources["ArtifactBucket"].ref
    name = settings["Name"]
    group = settings["LogsConfig"]["CloudWatchLogs"]["GroupName"]
    log_stream = stack.arn("logs", f"log-group:{group}:log-stream:build-1")
    calls = [Request("logs:CreateLogStream", log_stream), Request("logs:PutLogEvents", log_stream)]
    if settings["Source"]["Type"] == "CODEPIPELINE":
        calls.append(Request("s3:GetObject", f"arn:aws:s3:::{bucket}/{stack.stack_name[:20]}/Source/abc"))
    if settings["Artifacts"]["Type"] == "CODEPIPELINE" and spec.get("artifacts"):
        calls.append(Request("s3:PutObject", f"arn:aws:s3:::{bucket}/{stack.stack_name[:20]}/Package/abc"))
    if "EncryptionKey" in settings:
        calls += [
            Request(action, settings["EncryptionKey"]) for action in ("kms:Decrypt", "kms:GenerateDataKey")
        ]
    cache = settings.get("Cache", {})
    if cache.get("Type") == "S3":
        location = f"arn:aws:s3:::{cache['Location']}/cache.zip"
        calls += [Request("s3:GetObject", location), Request("s3:PutObject", location)]
    if clones(stack, project):
        calls.append(Request("codeconnections:UseConnection", stack.resolve({"Ref": "ConnectionArn"})))
    for report, definition in (spec.get("reports") or {}).items():
        report_group = stack.arn("codebuild", f"report-group/{name}-{report}")
        actions = ["codebuild:CreateReportGroup", "codebuild:CreateReport", "codebuild:UpdateReport"]
        coverage = definition.get("file-format") in COVERAGE_FORMATS
        actions.append("codebuild:BatchPutCodeCoverages" if coverage else "codebuild:BatchPutTestCases")
        calls += [Request(action, report_group) for action in actions]
    return calls


def clones(stack: DeployedStack, project: str) -> bool:
    """True when the project's pipeline action gets the Source artifact as a git clone reference."""
    stages = stack.template["Resources"]["Pipeline"]["Properties"]["Stages"]
    actions = [a for stage in stages for a in stage["Actions"] if isinstance(a, dict) and "ActionTypeId" in a]
    clone = {
        artifact["Name"]
        for action in actions
        if action["Configuration"].get("OutputArtifactFormat") == "CODEBUILD_CLONE_REF"
        for artifact in action.get("OutputArtifacts", [])
    }
    return any(
        action["Configuration"].get("ProjectName") == {"Ref": project}
        and clone & {artifact["Name"] for artifact in action.get("InputArtifacts", [])}
        for action in actions
    )


def test_the_released_commit_is_written_after_production_and_read_by_the_build(
    pipeline: DeployedStack,
) -> None:
    parameter = (
        "arn:aws:ssm:us-east-1:123456789012:parameter/store-and-reply/store-and-reply-prod/released-commit"
    )
    record = role_statements(pipeline, "RecordReleaseRole")
    build = role_statements(pipeline, "BuildRole")
    production = next(
        stage["Actions"]
        for stage in pipeline.template["Resources"]["Pipeline"]["Properties"]["Stages"]
        if stage["Name"] == "Production"
    )
    order = {
        action["Name"]: action["RunOrder"]
        for action in production
        if isinstance(action, dict) and "Name" in action
    }

    assert decide(record, Request("ssm:PutParameter", parameter)) == "Allow"
    assert decide(build, Request("ssm:GetParameter", parameter)) == "Allow"
    assert decide(build, Request("ssm:PutParameter", parameter)) != "Allow"
    assert order["RecordRelease"] > order["ExecuteChangeSet"]
    assert clones(pipeline, "BuildProject")


@pytest.mark.parametrize("project", projects())
def test_the_project_role_allows_what_its_buildspec_and_settings_use(
    pipeline: DeployedStack, project: str
) -> None:
    role = pipeline.template["Resources"][project]["Properties"]["ServiceRole"]["Fn::GetAtt"][0]
    statements = role_statements(pipeline, role)

    refused = [
        f"{call.action} on {call.resource}"
        for call in uses(pipeline, project)
        if decide(statements, call) != "Allow"
    ]

    assert refused == []


def test_both_projects_publish_reports() -> None:
    # The check above must have reports to check, or it proves nothing about them.
    for name in ("buildspec.yml", "buildspec-integration.yml"):
        assert yaml.safe_load((ROOT / name).read_text())["reports"], name
