"""`make package` for real, offline: sam build, then sam package to an S3 served by moto on loopback."""

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from devkit.local.options import free_port
from devkit.release.pins import CODE_PROPERTIES, unpinned
from devkit.template import ROOT, expand, load_template, resources_of_type

BUCKET = "store-and-reply-artifacts-test"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="module")
def packaged(s3_endpoint: str) -> dict[str, Any]:
    credentials = {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")  # fmt: skip
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )  # as the pipeline's
    environment = {**os.environ, **credentials, "AWS_ENDPOINT_URL_S3": s3_endpoint, "SAM_CLI_TELEMETRY": "0"}
    environment.pop("AWS_PROFILE", None)
    result = subprocess.run(  # noqa: S603
        ["make", "--no-print-directory", "package", f"ARTIFACT_BUCKET={BUCKET}"],  # noqa: S607
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=540, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    objects = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    versions = {
        (v["Key"], v["VersionId"])
        for v in s3.list_object_versions(Bucket=BUCKET).get("Versions", [])
        if v["IsLatest"]
    }
    return {"template": load_template(ROOT / "dist/packaged.yaml"), "objects": objects, "versions": versions}


def code_locations(template: dict[str, Any]) -> dict[str, str]:
    locations = {}
    for kind, key in (
        ("AWS::Serverless::Function", "CodeUri"),
        ("AWS::Serverless::LayerVersion", "ContentUri"),
    ):
        for name, resource in resources_of_type(template, kind).items():
            location = resource["Properties"][key]
            locations[name] = (
                f"s3://{location['Bucket']}/{location['Key']}" if isinstance(location, dict) else location
            )
    return locations


def test_every_function_and_layer_points_at_an_uploaded_object(packaged: dict[str, Any]) -> None:
    locations = code_locations(packaged["template"])

    assert set(locations) == set(code_locations(load_template()))
    for name, location in locations.items():
        assert location.startswith(f"s3://{BUCKET}/store-and-reply/"), name
        assert location.removeprefix(f"s3://{BUCKET}/") in packaged["objects"], name


def test_every_function_and_layer_is_pinned_to_the_object_version_the_build_uploaded(
    packaged: dict[str, Any],
) -> None:
    """CloudFormation reads the code at deploy time: unpinned, a later build writing the same key
    would change what production deploys after staging tested it."""
    template = packaged["template"]
    pins = {
        name: resource["Properties"][field]
        for kind, field in CODE_PROPERTIES.items()
        for name, resource in resources_of_type(template, kind).items()
    }

    assert unpinned(template) == []
    assert pins
    for name, location in pins.items():
        assert (location["Key"], location["Version"]) in packaged["versions"], name
    # ... and the pins reach CloudFormation: every Lambda function and layer reads one object version.
    expanded = expand(template, {"Environment": "prod"})
    for kind, field in (("AWS::Lambda::Function", "Code"), ("AWS::Lambda::LayerVersion", "Content")):
        for name, resource in resources_of_type(expanded, kind).items():
            assert resource["Properties"][field].get("S3ObjectVersion"), name


def test_one_upload_serves_every_environment(packaged: dict[str, Any]) -> None:
    distinct = set(code_locations(packaged["template"]).values())

    assert len(packaged["objects"]) == len(distinct)
    assert sorted(p.name for p in (ROOT / "dist").iterdir() if p.suffix == ".yaml") == ["packaged.yaml"]


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
def test_each_environment_has_its_template_configuration(packaged: dict[str, Any], environment: str) -> None:
    configuration = json.loads(Path(ROOT / f"dist/config/{environment}.json").read_text())

    assert configuration["Parameters"]["Environment"] == environment
    assert configuration["Tags"]["environment"] == environment
    # The versions are named after the package and this environment's parameters (test_versions.py).
    for parameter in ("ApiVersionDigest", "QueueConsumerVersionDigest"):
        assert re.fullmatch(r"[0-9a-f]{64}", configuration["Parameters"][parameter]), parameter


def test_the_layer_ships_arm64_binaries_and_compiled_bytecode(packaged: dict[str, Any]) -> None:
    # Lambda cannot write __pycache__ under /opt: bytecode not shipped is compiled on every cold start.
    layer = ROOT / ".aws-sam/build/SharedLayer/python"
    (extension,) = (layer / "pydantic_core").glob("_pydantic_core*.so")
    header = extension.read_bytes()[:20]

    assert int.from_bytes(header[18:20], "little") == 0xB7  # ELF e_machine: AArch64
    for package in ("store_reply", "pydantic", "aws_lambda_powertools"):
        sources = list((layer / package).rglob("*.py"))
        compiled = list((layer / package).rglob("__pycache__/*.cpython-313.pyc"))
        assert sources, package
        assert len(compiled) >= len(sources), package
