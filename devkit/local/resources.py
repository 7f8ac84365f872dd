"""The template's tables, queues, user pools and SSM parameters, made as template.yaml defines them.

Tests (on moto) and the local stack use these, so neither keeps a second copy of a key schema,
a redrive policy or a visibility timeout.
"""

import json
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from devkit.template import Template, resources_of_type, table_definitions
from devkit.template.intrinsics import Resolver

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.literals import QueueAttributeNameType

logger = logging.getLogger("devkit.local")

# The user pool settings moto keeps and enforces (password policy, user name case, sign-up).
POOL_PROPERTIES = (
    "Policies",
    "UsernameConfiguration",
    "AutoVerifiedAttributes",
    "Schema",
    "AdminCreateUserConfig",
)
# SQS attributes that CloudFormation and CreateQueue spell alike.
QUEUE_ATTRIBUTES: "tuple[QueueAttributeNameType, ...]" = (
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
)


def create_tables(client: "DynamoDBClient", template: Template, names: Mapping[str, str]) -> None:
    """Create each table of the template under ``names[logical id]`` (kept if it exists)."""
    existing = set(client.list_tables()["TableNames"])
    for logical_id, definition in table_definitions(template).items():
        if names[logical_id] not in existing:
            client.create_table(TableName=names[logical_id], **definition)


def create_queues(client: "SQSClient", template: Template, names: Mapping[str, str]) -> dict[str, str]:
    """Create each queue of the template that ``names`` names, under ``names[logical id]``; return
    their URLs by logical id.

    Dead-letter queues are created first, so a redrive policy can name its target's ARN.
    """
    queues = resources_of_type(template, "AWS::SQS::Queue")
    urls: dict[str, str] = {}

    def target_of(properties: dict[str, Any]) -> str | None:
        arn = properties.get("RedrivePolicy", {}).get("deadLetterTargetArn")
        return arn["Fn::GetAtt"][0] if isinstance(arn, dict) else None

    ordered = sorted(queues, key=lambda name: target_of(queues[name].get("Properties", {})) is not None)
    for logical_id in (name for name in ordered if name in names):  # the queues the caller names
        properties = queues[logical_id].get("Properties", {})
        attributes: dict[QueueAttributeNameType, str] = {
            name: str(properties[name]) for name in QUEUE_ATTRIBUTES if name in properties
        }
        target = target_of(properties)
        if target is not None:
            target_arn = client.get_queue_attributes(QueueUrl=urls[target], AttributeNames=["QueueArn"])
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": target_arn["Attributes"]["QueueArn"],
                    "maxReceiveCount": int(properties["RedrivePolicy"]["maxReceiveCount"]),
                }
            )
        urls[logical_id] = client.create_queue(QueueName=names[logical_id], Attributes=attributes)["QueueUrl"]
    return urls


def queue_arn(client: "SQSClient", url: str) -> str:
    """The ARN of the queue at ``url``."""
    return client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def create_user_pools(
    client: "CognitoIdentityProviderClient", template: Template, resolve: Callable[[Any], Any]
) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The template's Cognito user pools and app clients, with their settings that moto keeps.

    Returns each pool's ``Ref`` and attributes by logical id, and each client's id.
    """
    pools: dict[str, dict[str, str]] = {}
    for name, resource in resources_of_type(template, "AWS::Cognito::UserPool").items():
        properties = resolve(resource.get("Properties", {}))
        kept = {key: properties[key] for key in POOL_PROPERTIES if key in properties}
        if "Policies" in kept:  # template parameters are strings; CreateUserPool wants numbers
            policy = kept["Policies"]["PasswordPolicy"]
            kept["Policies"] = {
                "PasswordPolicy": {k: int(v) if str(v).isdigit() else v for k, v in policy.items()}
            }
        created = client.create_user_pool(PoolName=properties["UserPoolName"], **kept)["UserPool"]
        url = created["Arn"].split(":")[3]  # the region
        provider = f"cognito-idp.{url}.amazonaws.com/{created['Id']}"
        pools[name] = {
            "Ref": created["Id"],
            "Arn": created["Arn"],
            "ProviderName": provider,
            "ProviderURL": f"https://{provider}",
        }
    clients: dict[str, str] = {}
    for name, resource in resources_of_type(template, "AWS::Cognito::UserPoolClient").items():
        pool_ref = resource["Properties"]["UserPoolId"]
        pool = pools[pool_ref["Ref"]]["Ref"] if isinstance(pool_ref, dict) and "Ref" in pool_ref else pool_ref
        properties = resolve({**resource["Properties"], "UserPoolId": pool})
        made = client.create_user_pool_client(
            UserPoolId=properties["UserPoolId"],
            ClientName=properties["ClientName"],
            GenerateSecret=bool(properties.get("GenerateSecret", False)),
            ExplicitAuthFlows=properties.get("ExplicitAuthFlows", []),
        )
        clients[name] = made["UserPoolClient"]["ClientId"]
    return pools, clients


def put_parameters(ssm: Any, source: Template, resolver: Resolver, api_url: str) -> dict[str, str]:
    """The template's SSM parameters, resolved; a value naming the REST API is the local API's URL."""
    apis = resources_of_type(source, "AWS::Serverless::Api")
    values = {}
    for parameter in resources_of_type(source, "AWS::SSM::Parameter").values():
        properties = parameter["Properties"]
        value = properties["Value"]
        text = value.get("Fn::Sub", "") if isinstance(value, dict) else ""
        names_api = isinstance(text, str) and any("${" + name + "}" in text for name in apis)
        name = str(resolver.resolve(properties["Name"]))
        values[name] = api_url if names_api else str(resolver.resolve(value))
        ssm.put_parameter(Name=name, Value=values[name], Type="String", Overwrite=True)
        logger.debug("SSM parameter %s = %s", name, values[name])
    return values
