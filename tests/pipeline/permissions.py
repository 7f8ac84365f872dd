"""What the pipeline's deploy role must be allowed: every call CloudFormation's handlers make.

For each resource of the expanded application template, each handler (create, read, update,
delete, list) and each action the resource provider schema lists, the requests are the action on
each resource of the stack it applies to: the resource itself, the resources it refers to and its
code objects, matched against the action's ARN formats; ``*`` for an action without resource
types (or unknown to the Service Authorization Reference). Each request carries the context IAM
would see: the stack's system tag, the resource's tags, its permissions boundary, the service a
role is passed to, the function an event source mapping is for.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from devkit.release.iam import (
    Request,
    handler_permissions,
    is_known,
    listed,
    matches_format,
    resource_formats,
)
from devkit.template import ROOT, expand, load_template
from devkit.template.deployed import DeployedStack

PIPELINE_STACK = "store-and-reply-pipeline"
PIPELINE_PARAMETERS = {
    "ConnectionArn": "arn:aws:codeconnections:us-east-1:123456789012:connection/0000",
    "RepositoryId": "owner/store-and-reply",
}
PACKAGE_PREFIX = "store-and-reply"  # make package's --s3-prefix


@dataclass(frozen=True)
class Need:
    """One request a handler makes, and why."""

    resource_type: str
    logical_id: str
    handler: str
    request: Request

    def __str__(self) -> str:
        return f"{self.resource_type} {self.handler}: {self.request.action} on {self.request.resource}"


def pipeline_stack() -> DeployedStack:
    return DeployedStack(
        load_template(ROOT / "pipeline" / "pipeline.yaml"), PIPELINE_STACK, PIPELINE_PARAMETERS
    )


def stage_stack(environment: str, pipeline: DeployedStack) -> DeployedStack:
    """pipeline/stage.yaml as an environment's account deploys it (here: the pipeline's account)."""
    parameters = {
        "Environment": environment,
        "ArtifactBucketName": pipeline.resources["ArtifactBucket"].ref,
        "ArtifactKeyArn": pipeline.resources["ArtifactKey"].attributes["Arn"],
    }
    template = load_template(ROOT / "pipeline" / "stage.yaml")
    return DeployedStack(template, f"store-and-reply-{environment}-account", parameters)


def role_statements(stack: DeployedStack, role: str) -> list[dict[str, Any]]:
    """A role's statements, inline and from the template's managed policies, resolved."""
    properties = stack.template["Resources"][role]["Properties"]
    documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
    for arn in properties.get("ManagedPolicyArns", []):
        name = arn.get("Ref") if isinstance(arn, dict) else None
        if name in stack.template["Resources"]:
            documents.append(stack.template["Resources"][name]["Properties"]["PolicyDocument"])
    return [statement for document in documents for statement in stack.resolve(document)["Statement"]]


def application_stack(environment: str, pipeline: DeployedStack) -> DeployedStack:
    """An application stack as the pipeline deploys it: its parameters, and code in the artifact bucket."""
    overrides = pipeline.resolve(
        production_action(pipeline, environment)["Configuration"]["ParameterOverrides"]
    )

    parameters = {"Environment": environment, **json.loads(overrides)}
    template = expand(load_template(), parameters)
    bucket = pipeline.resources["ArtifactBucket"].ref
    for resource in template["Resources"].values():
        location = resource.get("Properties", {}).get("Code") or resource.get("Properties", {}).get("Content")
        if isinstance(location, dict) and "S3Bucket" in location:
            location["S3Bucket"], location["S3Key"] = bucket, f"{PACKAGE_PREFIX}/{location['S3Key']}"
    prefix = pipeline.resolve({"Ref": "AppStackPrefix"})
    return DeployedStack(template, f"{prefix}-{environment}", parameters)


def production_action(pipeline: DeployedStack, environment: str) -> dict[str, Any]:
    """The pipeline's CHANGE_SET_REPLACE action for an environment."""
    stage = "Staging" if environment == "staging" else "Production"
    (stage_actions,) = [
        s["Actions"]
        for s in pipeline.template["Resources"]["Pipeline"]["Properties"]["Stages"]
        if s["Name"] == stage
    ]
    for action in stage_actions:
        if (
            isinstance(action, dict)
            and action.get("Configuration", {}).get("ActionMode") == "CHANGE_SET_REPLACE"
        ):
            return action
    raise LookupError(stage)


def _tags(stack: DeployedStack, logical_id: str) -> dict[str, str]:
    properties = stack.template["Resources"][logical_id].get("Properties", {})
    tags = {tag["Key"]: str(stack.resolve(tag["Value"])) for tag in properties.get("Tags", []) or []}
    # Cognito user pools take their tags as a map.
    return tags | {
        key: str(stack.resolve(value)) for key, value in (properties.get("UserPoolTags") or {}).items()
    }


def resource_tags(stack: DeployedStack, target: str) -> dict[str, Any]:
    """``aws:ResourceTag`` keys of the stack resource ``target`` (an ARN) is, as IAM sees them."""
    for name, deployed in stack.resources.items():
        if target in deployed.arns:
            tags = _tags(stack, name)
            return {f"aws:ResourceTag/{key}": value for key, value in tags.items()}
    return {}


def _context(stack: DeployedStack, logical_id: str, target: str) -> dict[str, Any]:
    resource = stack.template["Resources"][logical_id]
    properties = resource.get("Properties", {})
    tags = _tags(stack, logical_id)
    context: dict[str, Any] = {"aws:ResourceTag/aws:cloudformation:stack-name": stack.stack_name}
    for key, value in tags.items():
        context[f"aws:ResourceTag/{key}"] = context[f"aws:RequestTag/{key}"] = value
    if tags:
        context["aws:TagKeys"] = sorted(tags)
    # A call on another resource (a client's calls on its user pool) is judged by that one's tags.
    context |= resource_tags(stack, target)
    roles = {
        deployed.arns[0]: name
        for name, deployed in stack.resources.items()
        if stack.template["Resources"][name]["Type"] == "AWS::IAM::Role"
    }
    if target in roles:
        role = stack.template["Resources"][roles[target]]["Properties"]
        if "PermissionsBoundary" in role:
            context["iam:PermissionsBoundary"] = stack.resolve(role["PermissionsBoundary"])
        services = [
            service
            for statement in role["AssumeRolePolicyDocument"]["Statement"]
            for service in listed(statement.get("Principal", {}).get("Service", []))
        ]
        context["iam:PassedToService"] = services
    if resource["Type"] == "AWS::Lambda::EventSourceMapping":
        context["lambda:FunctionArn"] = stack.resolve(properties["FunctionName"])
    return context


def needs(stack: DeployedStack) -> Iterator[Need]:
    """Every request CloudFormation's handlers make for the stack's resources."""
    for logical_id, resource in stack.template["Resources"].items():
        kind = resource["Type"]
        candidates = list(stack.resources[logical_id].arns)
        for other in sorted(stack.references(logical_id)):
            candidates += stack.resources[other].arns
        candidates += stack.code_objects(logical_id)
        for handler, actions in handler_permissions(kind).items():
            for action in actions:
                formats = resource_formats(action)
                if not is_known(action) or not formats:
                    targets = ["*"]
                else:
                    targets = [arn for arn in candidates if any(matches_format(arn, f) for f in formats)]
                for target in dict.fromkeys(targets):
                    yield Need(
                        kind,
                        logical_id,
                        handler,
                        Request(action, target, _context(stack, logical_id, target)),
                    )
