"""Pin a packaged template's code to the object versions ``sam package`` uploaded.

``sam package`` names each function's and layer's code by an S3 URI, and CloudFormation reads the
object at deploy time: whatever is current under that key then. The artifact bucket is versioned,
and a later build may write the same key, so the package a release tested in staging could deploy
other bytes to production. Every ``CodeUri`` and ``ContentUri`` becomes ``Bucket``, ``Key`` and
``Version`` (SAM passes the version on as ``S3ObjectVersion``): the stacks read exactly the objects
the build uploaded, whatever is written after.

Run after ``sam package``: ``python -m devkit.release.pins dist/packaged.yaml`` (S3 credentials and
endpoint from the environment, as the AWS CLI takes them).
"""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import yaml

from devkit.template import Template, load_template

# Where SAM's resources name their code, and the form a pinned location takes.
CODE_PROPERTIES = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}
VersionOf = Callable[[str, str], str | None]  # (bucket, key) -> the object's current version id


class UnpinnedCode(Exception):
    """A code location that cannot be pinned: not uploaded to S3, or in a bucket without versioning."""


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not key:
        raise UnpinnedCode(f"{uri!r} is not an uploaded object (run sam package first)")
    return bucket, key


def pin(template: Template, version_of: VersionOf) -> Template:
    """``template`` with every function's and layer's code pinned to its current object version."""
    for name, resource in template.get("Resources", {}).items():
        field = CODE_PROPERTIES.get(resource.get("Type", ""))
        if field is None:
            continue
        location: Any = resource["Properties"].get(field)
        if isinstance(location, dict) and "Version" in location:
            continue
        if not isinstance(location, str):
            raise UnpinnedCode(f"{name}: {field} is {location!r}, not an S3 URI")
        bucket, key = _split(location)
        version = version_of(bucket, key)
        if not version or version == "null":
            raise UnpinnedCode(f"{name}: s3://{bucket}/{key} has no version id (is the bucket versioned?)")
        resource["Properties"][field] = {"Bucket": bucket, "Key": key, "Version": version}
    return template


def unpinned(template: Template) -> list[str]:
    """The functions and layers whose code is not pinned to an object version."""
    return [
        name
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") in CODE_PROPERTIES
        and not (
            isinstance(location := resource["Properties"].get(CODE_PROPERTIES[resource["Type"]]), dict)
            and location.get("Version")
        )
    ]


def pin_file(path: Path, version_of: VersionOf) -> None:
    """Pin the packaged template at ``path`` in place."""
    pinned = pin(load_template(path), version_of)
    path.write_text(yaml.safe_dump(pinned, sort_keys=False, width=120))


def _s3_version_of() -> VersionOf:
    s3 = boto3.client("s3")

    def version_of(bucket: str, key: str) -> str | None:
        version: str | None = s3.head_object(Bucket=bucket, Key=key).get("VersionId")
        return version

    return version_of


if __name__ == "__main__":
    try:
        pin_file(Path(sys.argv[1]), _s3_version_of())
    except UnpinnedCode as error:
        sys.exit(f"devkit.release.pins: {error}")
    print(f"pinned the code of {sys.argv[1]} to its object versions")
