"""The packaged template's code pinned to object versions: what a later upload cannot change."""

from typing import Any

import pytest

from devkit.release.pins import UnpinnedCode, pin, unpinned


def packaged(*, layer: Any = "s3://artifacts/store-and-reply/layer-md5") -> dict[str, Any]:
    return {
        "Resources": {
            "ApiFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"CodeUri": "s3://artifacts/store-and-reply/api-md5"},
            },
            "SharedLayer": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": layer}},
            "MessagesTable": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        }
    }


def test_each_location_names_the_version_current_when_packaged() -> None:
    versions = {"store-and-reply/api-md5": "v-api", "store-and-reply/layer-md5": "v-layer"}

    pinned = pin(packaged(), lambda bucket, key: versions[key] if bucket == "artifacts" else None)

    resources = pinned["Resources"]
    assert resources["ApiFunction"]["Properties"]["CodeUri"] == {
        "Bucket": "artifacts",
        "Key": "store-and-reply/api-md5",
        "Version": "v-api",
    }
    assert resources["SharedLayer"]["Properties"]["ContentUri"]["Version"] == "v-layer"
    assert unpinned(pinned) == []


def test_an_unversioned_bucket_or_an_unpackaged_template_fails_the_package() -> None:
    with pytest.raises(UnpinnedCode, match="versioned"):
        pin(packaged(), lambda *_: "null")  # S3's version id in a bucket without versioning
    for local in ("layers/shared", "s3://artifacts"):
        with pytest.raises(UnpinnedCode, match="sam package"):
            pin(packaged(layer=local), lambda *_: "v")
    with pytest.raises(UnpinnedCode, match="not an S3 URI"):
        pin(packaged(layer={"Bucket": "artifacts", "Key": "store-and-reply/layer-md5"}), lambda *_: "v")


def test_unpinned_names_what_would_read_whatever_is_current() -> None:
    assert unpinned(packaged()) == ["ApiFunction", "SharedLayer"]
