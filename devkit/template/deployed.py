"""A template's resources as CloudFormation would name them in a real account, offline.

Every resource gets the physical name CloudFormation gives it (its name property, resolved, or a
generated ``<stack>-<LogicalId>-<SUFFIX>``), what ``Ref`` and ``Fn::GetAtt`` return, and the ARNs
IAM authorizes its API calls against. Policies resolved against this model can be evaluated
(devkit.release.iam) as IAM would evaluate them for that stack.
"""

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from devkit.template.intrinsics import ACCOUNT_ID, LocalResource, Resolver, UnresolvedReference

SUFFIX = "ABCDEF123456"  # CloudFormation appends a random suffix to the names it generates

NAME_PROPERTY = {
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Lambda::LayerVersion": "LayerName",
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SSM::Parameter": "Name",
    "AWS::ApiGateway::RestApi": "Name",
    "AWS::CodeDeploy::Application": "ApplicationName",
    "AWS::CodeDeploy::DeploymentGroup": "DeploymentGroupName",
    "AWS::CodeBuild::Project": "Name",
    "AWS::CodePipeline::Pipeline": "Name",
    "AWS::S3::Bucket": "BucketName",
    "AWS::KMS::Alias": "AliasName",
}


@dataclass
class Deployed:
    """One resource as deployed: what Ref and GetAtt give, and the ARNs its calls are authorized on."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)
    arns: list[str] = field(default_factory=list)


@dataclass
class DeployedStack:
    """A template deployed as ``stack_name``: its parameters and its resources by logical id."""

    template: Mapping[str, Any]
    stack_name: str
    parameters: Mapping[str, str]
    region: str = "us-east-1"
    resources: dict[str, Deployed] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Names may refer to other resources (a log group named after its function): settle them
        # over a few rounds, each resolving against the names known so far.
        pending = dict(self.template["Resources"])
        for _ in range(4):
            for name in list(pending):
                try:
                    self.resources[name] = self._deploy(name, pending[name])
                except UnresolvedReference:
                    continue
                del pending[name]
        for name, resource in pending.items():  # names that cannot be settled: generated ones
            self.resources[name] = self._deploy(name, resource, generated=True)

    @property
    def resolver(self) -> Resolver:
        """Resolves intrinsics against the deployed names."""
        declared = self.template.get("Parameters", {})
        defaults = {name: str(definition.get("Default", "")) for name, definition in declared.items()}
        return Resolver(
            parameters={**defaults, **self.parameters},
            resources={name: LocalResource(d.ref, d.attributes) for name, d in self.resources.items()},
            conditions=self.template.get("Conditions", {}),
            region=self.region,
            stack_name=self.stack_name,
            stack_uuid="1a2b3c4d-0000-4000-8000-000000000000",
        )

    def resolve(self, value: Any) -> Any:
        """A template value with its intrinsics resolved, conditions included."""
        return self.resolver.resolve(value)

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        """An ARN of this stack's account (and region)."""
        return f"arn:aws:{service}:{self.region if region else ''}:{ACCOUNT_ID if account else ''}:{resource}"

    def references(self, logical_id: str) -> set[str]:
        """The logical ids a resource's properties refer to (Ref, GetAtt and Sub)."""
        found: set[str] = set()
        names = set(self.template["Resources"])

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                for key, item in value.items():
                    if key == "Ref" and item in names:
                        found.add(item)
                    elif key == "Fn::GetAtt":
                        found.add((item if isinstance(item, list) else item.split("."))[0])
                    elif key == "Fn::Sub":
                        text = item if isinstance(item, str) else item[0]
                        found.update(n for n in names if "${" + n + "}" in text or "${" + n + "." in text)
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(self.template["Resources"][logical_id].get("Properties", {}))
        return found

    def _name(self, logical_id: str, resource: Mapping[str, Any], *, generated: bool) -> str:
        prop = NAME_PROPERTY.get(resource["Type"])
        explicit = resource.get("Properties", {}).get(prop) if prop else None
        if explicit is not None and not generated:
            return str(self.resolve(explicit))
        return f"{self.stack_name}-{logical_id}-{SUFFIX}"

    def _deploy(  # noqa: C901, PLR0911, PLR0912, PLR0915 (one branch per resource type)
        self, logical_id: str, resource: Mapping[str, Any], *, generated: bool = False
    ) -> Deployed:
        kind, properties = resource["Type"], resource.get("Properties", {})
        name = self._name(logical_id, resource, generated=generated)
        physical_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.stack_name}/{logical_id}"))
        short_id = physical_id.replace("-", "")[:10]
        match kind:
            case "AWS::Lambda::Function":
                arn = self.arn("lambda", f"function:{name}")
                return Deployed(name, {"Arn": arn}, [arn, f"{arn}:1", f"{arn}:live"])
            case "AWS::Lambda::Version" | "AWS::Lambda::Alias":
                function = self._function_name(properties["FunctionName"])
                qualifier = "1" if kind == "AWS::Lambda::Version" else str(self.resolve(properties["Name"]))
                arn = self.arn("lambda", f"function:{function}:{qualifier}")
                return Deployed(
                    arn, {"Version": qualifier}, [arn, self.arn("lambda", f"function:{function}")]
                )
            case "AWS::Lambda::LayerVersion":
                arn = self.arn("lambda", f"layer:{name}")
                return Deployed(f"{arn}:1", {}, [arn, f"{arn}:1"])
            case "AWS::Lambda::EventSourceMapping":
                return Deployed(physical_id, {}, [self.arn("lambda", f"event-source-mapping:{physical_id}")])
            case "AWS::IAM::Role":
                path = str(self.resolve(properties.get("Path", "/")))
                arn = self.arn("iam", f"role{path}{name}", region=False)
                return Deployed(name, {"Arn": arn, "RoleId": short_id}, [arn])
            case "AWS::IAM::ManagedPolicy":
                path = str(self.resolve(properties.get("Path", "/")))
                arn = self.arn("iam", f"policy{path}{name}", region=False)
                return Deployed(arn, {"PolicyArn": arn}, [arn])
            case "AWS::DynamoDB::Table":
                arn = self.arn("dynamodb", f"table/{name}")
                return Deployed(name, {"Arn": arn, "StreamArn": f"{arn}/stream/x"}, [arn])
            case "AWS::SQS::Queue":
                arn = self.arn("sqs", name)
                url = f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT_ID}/{name}"
                return Deployed(url, {"Arn": arn, "QueueName": name, "QueueUrl": url}, [arn])
            case "AWS::SNS::Topic":
                arn = self.arn("sns", name)
                return Deployed(arn, {"TopicArn": arn, "TopicName": name}, [arn])
            case "AWS::KMS::Key":
                arn = self.arn("kms", f"key/{physical_id}")
                return Deployed(physical_id, {"Arn": arn, "KeyId": physical_id}, [arn])
            case "AWS::Cognito::UserPool":
                pool = f"{self.region}_{short_id}"
                arn = self.arn("cognito-idp", f"userpool/{pool}")
                url = f"cognito-idp.{self.region}.amazonaws.com/{pool}"
                return Deployed(
                    pool, {"Arn": arn, "ProviderName": url, "ProviderURL": f"https://{url}"}, [arn]
                )
            case "AWS::Cognito::UserPoolClient":
                pool = str(self.resolve(properties["UserPoolId"]))
                return Deployed(
                    short_id, {"ClientId": short_id}, [self.arn("cognito-idp", f"userpool/{pool}")]
                )
            case "AWS::KMS::Alias":
                return Deployed(name, {}, [self.arn("kms", name)])
            case "AWS::CloudWatch::Alarm":
                arn = self.arn("cloudwatch", f"alarm:{name}")
                return Deployed(name, {"Arn": arn}, [arn])
            case "AWS::CloudWatch::Dashboard":
                return Deployed(name, {}, [self.arn("cloudwatch", f"dashboard/{name}", region=False)])
            case "AWS::Logs::LogGroup":
                arn = self.arn("logs", f"log-group:{name}")
                return Deployed(name, {"Arn": f"{arn}:*"}, [arn, f"{arn}:*"])
            case "AWS::SSM::Parameter":
                parameter = self.arn("ssm", f"parameter/{name.lstrip('/')}")
                return Deployed(name, {"Type": "String"}, [parameter])
            case "AWS::S3::Bucket":
                arn = f"arn:aws:s3:::{name.lower()}"
                return Deployed(name.lower(), {"Arn": arn}, [arn, f"{arn}/*"])
            case "AWS::CodeBuild::Project":
                arn = self.arn("codebuild", f"project/{name}")
                return Deployed(name, {"Arn": arn}, [arn])
            case "AWS::CodeDeploy::Application":
                return Deployed(name, {}, [self.arn("codedeploy", f"application:{name}")])
            case "AWS::CodeDeploy::DeploymentGroup":
                application = self.resolve(properties["ApplicationName"])
                config = self.resolve(properties.get("DeploymentConfigName", "CodeDeployDefault.AllAtOnce"))
                return Deployed(
                    name,
                    {},
                    [
                        self.arn("codedeploy", f"deploymentgroup:{application}/{name}"),
                        self.arn("codedeploy", f"deploymentconfig:{config}"),
                    ],
                )
            case _ if kind.startswith("AWS::ApiGateway::"):
                return self._api_gateway(kind, properties, short_id)
            case _:
                return Deployed(name, {"Arn": self.arn(kind.split("::")[1].lower(), name)}, [])

    def _cognito(self, kind: str, properties: Mapping[str, Any], short_id: str) -> Deployed:
        if kind == "AWS::Cognito::UserPoolClient":  # IAM knows a client by its pool's ARN
            pool = str(self.resolve(properties["UserPoolId"]))
            return Deployed(short_id, {"ClientId": short_id}, [self.arn("cognito-idp", f"userpool/{pool}")])
        pool = f"{self.region}_{short_id}"
        arn = self.arn("cognito-idp", f"userpool/{pool}")
        url = f"cognito-idp.{self.region}.amazonaws.com/{pool}"
        return Deployed(pool, {"Arn": arn, "ProviderName": url, "ProviderURL": f"https://{url}"}, [arn])

    def _function_name(self, value: Any) -> str:
        resolved = str(self.resolve(value))
        return resolved.split(":")[6] if resolved.startswith("arn:") else resolved

    def _api_gateway(  # noqa: PLR0911 (one return per resource type)
        self, kind: str, properties: Mapping[str, Any], physical_id: str
    ) -> Deployed:
        def gateway(path: str) -> str:
            return self.arn("apigateway", path, account=False)

        def tags(path: str) -> str:
            return gateway(f"/tags/{quote(gateway(path), safe='')}")

        match kind.removeprefix("AWS::ApiGateway::"):
            case "RestApi":
                path = f"/restapis/{physical_id}"
                arns = [gateway("/restapis"), gateway(path), gateway(f"{path}/*"), tags(path)]
                return Deployed(physical_id, {"RootResourceId": "root"}, arns)
            case "Stage":
                api, stage = self.resolve(properties["RestApiId"]), self.resolve(properties["StageName"])
                path = f"/restapis/{api}/stages/{stage}"
                return Deployed(stage, {}, [gateway(f"/restapis/{api}/stages"), gateway(path), tags(path)])
            case "Deployment":
                api = self.resolve(properties["RestApiId"])
                deployments = f"/restapis/{api}/deployments"
                return Deployed(
                    physical_id, {}, [gateway(deployments), gateway(f"{deployments}/{physical_id}")]
                )
            case "ApiKey":
                return Deployed(
                    physical_id,
                    {},
                    [
                        gateway("/apikeys"),
                        gateway(f"/apikeys/{physical_id}"),
                        tags(f"/apikeys/{physical_id}"),
                    ],
                )
            case "UsagePlan":
                path = f"/usageplans/{physical_id}"
                return Deployed(physical_id, {}, [gateway("/usageplans"), gateway(path), tags(path)])
            case "UsagePlanKey":
                plan = self.resolve(properties["UsagePlanId"])
                key = self.resolve(properties["KeyId"])
                return Deployed(
                    physical_id,
                    {},
                    [gateway(f"/usageplans/{plan}/keys"), gateway(f"/usageplans/{plan}/keys/{key}")],
                )
            case _:
                return Deployed(physical_id, {}, [])

    def code_objects(self, logical_id: str) -> Iterator[str]:
        """The S3 objects a function's or layer's code is read from."""
        properties = self.template["Resources"][logical_id].get("Properties", {})
        location = properties.get("Code") or properties.get("Content") or {}
        if "S3Bucket" in location:
            yield f"arn:aws:s3:::{self.resolve(location['S3Bucket'])}/{self.resolve(location['S3Key'])}"
