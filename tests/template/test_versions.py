"""A change that reaches a guarded function publishes a version; one that does not, publishes none.

CodeDeploy releases a function by moving its live alias to a new version, and SAM publishes a
version only when the version's logical id changes. SAM derives that id from the function's
properties as written, where a parameter is only its name, so the template names versions by the
digest `make package` writes per environment (devkit/release/package.py) instead.
"""

import copy
import tomllib
from typing import Any

import pytest
from samcli.cli.types import CfnParameterOverridesType

from devkit.release.package import VERSION_DIGESTS, version_digests
from devkit.template import ROOT, expand, resources_of_type

REGION, STACK = "us-east-1", "store-and-reply-prod"
PROD = {"Environment": "prod", "SnapStart": "PublishedVersions"}


def versions(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, str]:
    """The logical id of each guarded function's version, deployed with ``parameters`` and their digests."""
    digests = version_digests(template, parameters, REGION, STACK)
    expanded = expand(template, {**parameters, **digests})
    by_function = {}
    for function in VERSION_DIGESTS:
        (version,) = (
            name
            for name, resource in resources_of_type(expanded, "AWS::Lambda::Version").items()
            if resource["Properties"]["FunctionName"] == {"Ref": function}
        )
        by_function[function] = version
    return by_function


@pytest.fixture(scope="module")
def released(template: dict[str, Any]) -> dict[str, str]:
    return versions(template, PROD)


def test_the_same_configuration_names_the_same_versions(
    template: dict[str, Any], released: dict[str, str]
) -> None:
    assert versions(template, dict(PROD)) == released


@pytest.mark.parametrize(
    "change",
    [
        {"ReplyMessage": "Thanks, we read every message."},
        {"ReplyLanguage": "de"},
        {"LanguageDetection": "comprehend"},
        {"LanguageConfidence": "0.95"},
        {"SnapStart": "None"},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_parameter_both_functions_read_publishes_both(
    template: dict[str, Any], released: dict[str, str], change: dict[str, str]
) -> None:
    changed = versions(template, {**PROD, **change})

    for function in VERSION_DIGESTS:
        assert changed[function] != released[function], function


def test_a_parameter_only_the_api_reads_publishes_only_the_api(
    template: dict[str, Any], released: dict[str, str]
) -> None:
    changed = versions(template, {**PROD, "AnonymousSend": "enabled"})

    assert changed["ApiFunction"] != released["ApiFunction"]
    assert changed["QueueConsumerFunction"] == released["QueueConsumerFunction"]


@pytest.mark.parametrize(
    "change",
    [{"ApiDurationP99ThresholdMs": "900"}, {"LogRetentionDays": "90"}, {"PasswordMinimumLength": "16"}],
    ids=lambda change: next(iter(change)),
)
def test_a_parameter_no_function_reads_publishes_nothing(
    template: dict[str, Any], released: dict[str, str], change: dict[str, str]
) -> None:
    assert versions(template, {**PROD, **change}) == released


def test_new_code_publishes_its_function_and_a_new_layer_publishes_both(
    template: dict[str, Any], released: dict[str, str]
) -> None:
    new_code = copy.deepcopy(template)
    new_code["Resources"]["QueueConsumerFunction"]["Properties"]["CodeUri"] = "s3://artifacts/consumer-2"
    new_layer = copy.deepcopy(template)
    new_layer["Resources"]["SharedLayer"]["Properties"]["ContentUri"] = "s3://artifacts/shared-2"

    after_code = versions(new_code, PROD)
    after_layer = versions(new_layer, PROD)

    assert after_code["ApiFunction"] == released["ApiFunction"]
    assert after_code["QueueConsumerFunction"] != released["QueueConsumerFunction"]
    assert all(after_layer[function] != released[function] for function in VERSION_DIGESTS)


def test_sams_own_hash_misses_a_change_to_a_parameter(template: dict[str, Any]) -> None:
    # Why the digests exist: without them (a plain `sam deploy`), a parameter alone publishes no
    # version. Should SAM start resolving parameters here, this fails and the digests can go.
    def sam_versions(parameters: dict[str, str]) -> set[str]:
        return set(resources_of_type(expand(template, parameters), "AWS::Lambda::Version"))

    assert sam_versions(PROD) == sam_versions({**PROD, "LanguageDetection": "comprehend"})


def test_the_digest_names_the_version_and_rides_in_the_description(template: dict[str, Any]) -> None:
    digests = version_digests(template, PROD, REGION, STACK)
    expanded = expand(template, {**PROD, **digests})

    for function, parameter in VERSION_DIGESTS.items():
        assert f"{function}Version{digests[parameter][:10]}" in expanded["Resources"]
        # A new description is a configuration change, so Lambda publishes even when nothing else differs.
        assert expanded["Resources"][function]["Properties"]["Description"].endswith(digests[parameter])


def test_what_the_pipeline_adds_at_deploy_time_reaches_no_function(template: dict[str, Any]) -> None:
    # The pipeline passes PermissionsBoundaryArn beside the packaged configuration (pipeline.yaml);
    # the digests are computed without it, which is right only while no function's properties read it.
    boundary = {"PermissionsBoundaryArn": "arn:aws:iam::123456789012:policy/store-and-reply-boundary"}

    assert version_digests(template, {**PROD, **boundary}, REGION, STACK) == version_digests(
        template, PROD, REGION, STACK
    )


@pytest.mark.parametrize("section", ["default", "staging", "prod"])
def test_a_hand_deploy_sends_empty_digests(section: str) -> None:
    # `sam deploy` keeps the previous value of a parameter it is not given (UsePreviousValue): on a
    # stack the pipeline deployed, a stale digest would name every later version alike, and new code
    # would publish nothing. samconfig.toml sends them empty, so SAM's own hash applies.
    samconfig = tomllib.loads((ROOT / "samconfig.toml").read_text())
    overrides = CfnParameterOverridesType().convert(
        samconfig[section]["deploy"]["parameters"]["parameter_overrides"], None, None
    )

    assert {parameter: overrides.get(parameter) for parameter in VERSION_DIGESTS.values()} == dict.fromkeys(
        VERSION_DIGESTS.values(), ""
    )


@pytest.mark.parametrize(
    ("resource", "replacing", "readers"),
    [
        # A new key schema replaces the table: a new name in TABLE_NAME, which both functions read.
        (
            "MessagesTable",
            {"KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]},
            {"ApiFunction", "QueueConsumerFunction"},
        ),
        # A FIFO queue is a new queue: a new URL in DEAD_LETTER_QUEUE_URL, which the consumer reads.
        ("MessagesDeadLetterQueue", {"FifoQueue": True}, {"QueueConsumerFunction"}),
    ],
    ids=["table", "dead-letter-queue"],
)
def test_replacing_a_resource_a_function_names_publishes_that_function(
    template: dict[str, Any],
    released: dict[str, str],
    resource: str,
    replacing: dict[str, Any],
    readers: set[str],
) -> None:
    replaced = copy.deepcopy(template)
    replaced["Resources"][resource]["Properties"].update(replacing)

    after = versions(replaced, PROD)

    assert {function for function in VERSION_DIGESTS if after[function] != released[function]} == readers


def test_changing_a_resource_in_place_publishes_nothing(
    template: dict[str, Any], released: dict[str, str]
) -> None:
    # Neither changes a name or an ARN: the functions read the same resources.
    changed = copy.deepcopy(template)
    changed["Resources"]["MessagesDeadLetterQueue"]["Properties"]["MessageRetentionPeriod"] = 345600
    changed["Resources"]["MessagesTable"]["Properties"]["PointInTimeRecoverySpecification"] = {
        "PointInTimeRecoveryEnabled": False
    }

    assert versions(changed, PROD) == released
