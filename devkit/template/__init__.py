"""template.yaml, read and expanded offline the way CloudFormation's SAM transform expands it."""

import copy
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
ARTIFACT_BUCKET = "store-and-reply-artifacts"

Template = dict[str, Any]


def load_template(path: Path = TEMPLATE) -> Template:
    """Parse a SAM template, short-form intrinsics (``!Ref``) included."""
    parsed: Template = yaml_parse(path.read_text())
    return parsed


def code_digest(folder: Path) -> str:
    """SHA-256 over a code folder's files (names and bytes), as a stand-in for the uploaded zip's key."""
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(file.relative_to(folder).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


class _NoManagedPolicies:
    """The translator's managed-policy loader; the template names policies by ARN only."""

    def load(self) -> dict[str, str]:
        return {}


def _as_packaged(template: Template, root: Path) -> Template:
    """Point every local CodeUri/ContentUri at S3, keyed by the folder's content, as ``sam package`` does."""
    packaged = copy.deepcopy(template)
    for resource in packaged.get("Resources", {}).values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            location = properties.get(key)
            if isinstance(location, str) and not location.startswith("s3://"):
                properties[key] = f"s3://{ARTIFACT_BUCKET}/{code_digest(root / location)}"
    return packaged


def expand(
    template: Template | None = None,
    parameters: Mapping[str, str] | None = None,
    region: str = "us-east-1",
    root: Path = ROOT,
) -> Template:
    """Expand the SAM resources into plain CloudFormation, offline."""
    # Imported here: the translator takes about a second to import, and reading a template does not need it.
    from samtranslator.translator.transform import transform  # noqa: PLC0415

    source = template if template is not None else load_template()
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    logging.getLogger("samtranslator").setLevel(logging.ERROR)  # it logs its feature toggles at INFO
    expanded: Template = transform(_as_packaged(source, root), dict(parameters or {}), _NoManagedPolicies())
    return expanded


def resources_of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    """The resources of one type, by logical id."""
    return {
        name: resource
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }


def table_definitions(template: Template) -> dict[str, dict[str, Any]]:
    """``CreateTable`` arguments for each DynamoDB table of the template, by logical id."""
    tables = {}
    for name, resource in resources_of_type(template, "AWS::DynamoDB::Table").items():
        properties = resource["Properties"]
        definition: dict[str, Any] = {
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "KeySchema": properties["KeySchema"],
            "BillingMode": properties.get("BillingMode", "PROVISIONED"),
        }
        if "GlobalSecondaryIndexes" in properties:
            definition["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        if "StreamSpecification" in properties:
            view = properties["StreamSpecification"]["StreamViewType"]
            definition["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
        tables[name] = definition
    return tables


def write_expanded(path: Path, template: Path = TEMPLATE) -> None:
    """Write the expanded template as JSON, for the linters and scanners that read files."""
    path.write_text(json.dumps(expand(load_template(template)), indent=1, default=str))
