"""What the local stack reads from template.yaml: its routes and each function's environment."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.aws.apigateway.apis import rest_apis
from devkit.local.options import LocalOptions, free_port
from devkit.local.stack import LocalStack, running
from devkit.template import expand, load_template, resources_of_type


def declared_routes(template: dict[str, Any]) -> set[tuple[str, str]]:
    """The functions' Api events, and the routes the API's own document adds."""
    events = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for function in resources_of_type(template, "AWS::Serverless::Function").values()
        for event in function["Properties"].get("Events", {}).values()
        if event["Type"] == "Api"
    }
    document = template["Resources"]["StoreAndReplyApi"]["Properties"]["DefinitionBody"]["paths"]
    written = {
        ("ANY" if method == "x-amazon-apigateway-any-method" else method.upper(), path)
        for path, methods in document.items()
        for method in methods
    }
    return events | written


def test_the_routes_served_are_the_routes_declared(template: dict[str, Any]) -> None:
    (api,) = rest_apis(expand(template), {})

    assert api.routes() == declared_routes(template)


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    options = LocalOptions(
        api_port=free_port(), aws_port=free_port(), data_dir=tmp_path_factory.mktemp("wiring")
    )
    with running(options) as stack:
        yield stack


def test_every_function_has_its_environment_resolved(local: LocalStack) -> None:
    logical_ids = set(load_template()["Resources"])

    for function, environment in local.environments.items():
        for name, value in environment.items():
            assert value, f"{function}: {name} is empty"
            assert value not in logical_ids, f"{function}: {name} is the logical id {value}"
            assert not any(mark in value for mark in ("${", "Fn::", "'Ref'")), f"{function}: {name} = {value}"


def test_references_resolve_to_the_local_resources(local: LocalStack) -> None:
    api, consumer = local.environments["ApiFunction"], local.environments["QueueConsumerFunction"]
    sqs = local.client("sqs")

    assert api["TABLE_NAME"] == local.table_names["MessagesTable"]
    assert consumer["DEAD_LETTER_QUEUE_URL"] == local.queue_urls["MessagesDeadLetterQueue"]
    assert sqs.get_queue_attributes(QueueUrl=consumer["DEAD_LETTER_QUEUE_URL"], AttributeNames=["QueueArn"])
    assert api["REPLY_MESSAGE"] == load_template()["Parameters"]["ReplyMessage"]["Default"]
    assert api["AWS_ENDPOINT_URL"] == local.options.aws_endpoint


def test_functions_see_none_of_the_developers_aws_settings(local: LocalStack) -> None:
    for environment in local.environments.values():
        assert "AWS_PROFILE" not in environment
        assert environment["AWS_ACCESS_KEY_ID"] == "local"
        assert environment["AWS_CONFIG_FILE"] == environment["AWS_SHARED_CREDENTIALS_FILE"] == "/dev/null"
        assert environment["LANGUAGE_SERVICES"] == "offline"


def test_queues_and_tables_follow_their_definitions(local: LocalStack) -> None:
    sqs = local.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=local.queue_urls["MessagesQueue"], AttributeNames=["All"])[
        "Attributes"
    ]
    table = local.client("dynamodb").describe_table(TableName=local.table_names["MessagesTable"])["Table"]

    assert attributes["VisibilityTimeout"] == "180"
    assert '"maxReceiveCount": 5' in attributes["RedrivePolicy"]
    assert [key["AttributeName"] for key in table["KeySchema"]] == ["pk", "sk"]


def test_the_data_folder_is_the_one_given(local: LocalStack) -> None:
    assert Path(local.options.data_dir, "api-key").read_text().strip() == local.api_key
