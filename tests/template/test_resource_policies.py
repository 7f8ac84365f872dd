"""Resource policies of both templates: a service principal acts only for this account's resources."""

from collections.abc import Iterator
from typing import Any

import pytest

from devkit.template import ROOT, load_template

# Conditions that bind a service principal's request to this account (the confused-deputy guard).
SOURCE_BINDINGS = {
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOwner",
    "kms:EncryptionContext:aws:logs:arn",
}
# AWS documents kms:ViaService, not the source keys, for CodeStar Notifications to an encrypted topic.
DOCUMENTED_EXCEPTIONS = {"codestar-notifications.amazonaws.com": {"kms:ViaService"}}
POLICY_PROPERTY = {
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::S3::BucketPolicy": "PolicyDocument",
}
TEMPLATES = ["template.yaml", "pipeline/pipeline.yaml"]


def service_grants(template: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for name, resource in template["Resources"].items():
        policy = resource.get("Properties", {}).get(POLICY_PROPERTY.get(resource["Type"], ""))
        for statement in (policy or {}).get("Statement", []):
            principal = statement.get("Principal", {})
            services = principal.get("Service", []) if isinstance(principal, dict) else []
            for service in [services] if isinstance(services, str) else services:
                if statement["Effect"] == "Allow":
                    yield name, service, statement


@pytest.mark.parametrize("path", TEMPLATES)
def test_every_service_principal_grant_is_bound_to_this_account(path: str) -> None:
    grants = list(service_grants(load_template(ROOT / path)))
    assert grants, "the check found nothing to check"
    for name, service, statement in grants:
        keys = {key for operator in statement.get("Condition", {}).values() for key in operator}
        accepted = SOURCE_BINDINGS | DOCUMENTED_EXCEPTIONS.get(service, set())
        assert keys & accepted, f"{name} {statement.get('Sid')}: {service} without a source condition"
