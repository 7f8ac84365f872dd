"""What template.yaml deploys: storage, functions, permissions, logs and the API."""

import json
import tomllib
from typing import Any

import boto3
import pytest

from devkit.template import ROOT, expand, resources_of_type


def functions(expanded: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of_type(expanded, "AWS::Lambda::Function")


def statements(expanded: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = expanded["Resources"][functions(expanded)[function]["Properties"]["Role"]["Fn::GetAtt"][0]]
    return [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def test_every_function_runs_python_313_on_arm64_with_tracing(expanded: dict[str, Any]) -> None:
    for name, function in functions(expanded).items():
        properties = function["Properties"]
        assert properties["Runtime"] == "python3.13", name
        assert properties["Architectures"] == ["arm64"], name
        assert properties["TracingConfig"] == {"Mode": "Active"}, name


def test_the_table_is_on_demand_recoverable_encrypted_and_retained(expanded: dict[str, Any]) -> None:
    (table,) = resources_of_type(expanded, "AWS::DynamoDB::Table").values()

    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["Properties"]["SSESpecification"] == {"SSEEnabled": True}


def test_table_access_is_scoped_to_the_table(expanded: dict[str, Any]) -> None:
    for name in functions(expanded):
        for statement in statements(expanded, name):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(action.startswith("dynamodb:") for action in actions):
                assert statement["Resource"] in (
                    {"Fn::GetAtt": ["MessagesTable", "Arn"]},
                    {"Fn::GetAtt": ["MessagesTable", "StreamArn"]},  # the witness reads the stream only
                    {"Fn::Sub": "${MessagesTable.Arn}/stream/*"},
                ), name
                assert "dynamodb:*" not in actions
                assert "dynamodb:Scan" not in actions


def test_only_comprehend_and_translate_are_granted_on_every_resource(expanded: dict[str, Any]) -> None:
    wildcard_actions = {
        statement["Action"]
        for name in functions(expanded)
        for statement in statements(expanded, name)
        if statement["Resource"] == "*"
    }

    assert wildcard_actions <= {
        "comprehend:DetectDominantLanguage",
        "comprehend:BatchDetectDominantLanguage",
        "translate:TranslateText",
    }


def test_every_function_logs_to_its_own_group_made_before_it_with_retention(expanded: dict[str, Any]) -> None:
    """Publishing a SnapStart version runs INIT, which creates /aws/lambda/<function> if nothing has:
    a group that waits for its function (a Ref to it) then fails to create. Each function names its
    group (LoggingConfig.LogGroup), so CloudFormation creates the group first."""
    groups = resources_of_type(expanded, "AWS::Logs::LogGroup")
    for name in functions(expanded):
        function = expanded["Resources"][name]["Properties"]
        reference = function["LoggingConfig"]["LogGroup"]
        assert set(reference) == {"Ref"}, name
        assert reference["Ref"] in groups, name
        group = groups[reference["Ref"]]["Properties"]
        assert name not in json.dumps(group), f"{name}'s log group waits for {name}"
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
        # Where Lambda's console and CLI look: /aws/lambda/<function name>.
        assert json.dumps(group["LogGroupName"]).replace("/aws/lambda/", "") == json.dumps(
            function["FunctionName"]
        ), name
    for group in groups.values():
        assert "RetentionInDays" in group["Properties"]


def test_the_stage_is_throttled_traced_and_access_logged(expanded: dict[str, Any]) -> None:
    (stage,) = resources_of_type(expanded, "AWS::ApiGateway::Stage").values()
    properties = stage["Properties"]

    assert properties["TracingEnabled"] is True
    assert properties["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    json.loads(properties["AccessLogSetting"]["Format"])
    (settings,) = properties["MethodSettings"]
    assert settings["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}


def api_paths(expanded: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (api,) = resources_of_type(expanded, "AWS::ApiGateway::RestApi").values()
    paths: dict[str, dict[str, Any]] = api["Properties"]["Body"]["paths"]
    return paths


def test_only_the_history_routes_require_an_api_key(expanded: dict[str, Any]) -> None:
    keyed = {
        (path, method)
        for path, methods in api_paths(expanded).items()
        for method, operation in methods.items()
        if {"api_key": []} in operation.get("security", [])
    }

    assert keyed == {("/messages/{user}", "get"), ("/messages/me", "get")}


@pytest.mark.parametrize(
    ("path", "method"), [("/send", "get"), ("/messages", "post"), ("/messages/{user}", "get")]
)
def test_declares_the_route(expanded: dict[str, Any], path: str, method: str) -> None:
    assert method in api_paths(expanded)[path]


def test_a_usage_plan_holds_the_api_key(expanded: dict[str, Any]) -> None:
    (plan,) = resources_of_type(expanded, "AWS::ApiGateway::UsagePlan").values()
    (plan_key,) = resources_of_type(expanded, "AWS::ApiGateway::UsagePlanKey").values()

    assert plan["Properties"]["Throttle"]
    assert plan_key["Properties"]["KeyId"] == {"Ref": "StoreAndReplyApiApiKey"}


def test_an_undeclared_path_is_a_json_404_without_a_function(expanded: dict[str, Any]) -> None:
    (api,) = resources_of_type(expanded, "AWS::ApiGateway::RestApi").values()
    responses = api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]

    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert "application/json" in responses["MISSING_AUTHENTICATION_TOKEN"]["responseTemplates"]


def test_outputs_name_the_api_url_and_the_table(template: dict[str, Any]) -> None:
    assert {"ApiUrl", "TableName", "ApiKeyId"} <= set(template["Outputs"])


def test_the_layer_ships_the_versions_the_tests_run() -> None:
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    layer = (ROOT / "layers/shared/requirements.txt").read_text().splitlines()

    assert set(pinned) <= set(layer)


def test_the_expanded_template_has_exactly_the_stages_the_template_declares(
    template: dict[str, Any], expanded: dict[str, Any]
) -> None:
    # SAM adds a stage named "Stage" unless Globals.Api.OpenApiVersion is set: the same routes
    # without the declared stage's throttling, access logs, tracing and alarms.
    declared = {
        resource["Properties"]["StageName"]
        for resource in resources_of_type(template, "AWS::Serverless::Api").values()
    }
    stages = [
        stage["Properties"]["StageName"]
        for stage in resources_of_type(expanded, "AWS::ApiGateway::Stage").values()
    ]

    assert sorted(stages) == sorted(declared)


def test_each_stack_publishes_its_own_layers(template: dict[str, Any]) -> None:
    # A layer's name defaults to its logical id: dev, staging and prod would publish into one layer.
    for name, layer in resources_of_type(template, "AWS::Serverless::LayerVersion").items():
        assert "${AWS::StackName}" in layer["Properties"]["LayerName"]["Fn::Sub"], name


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-2"])
def test_a_region_with_both_language_services_is_accepted(template: dict[str, Any], region: str) -> None:
    (rule,) = template["Rules"].values()
    (assertion,) = rule["Assertions"]

    assert region in assertion["Assert"]["Fn::Contains"][0]


def test_the_stack_is_refused_where_comprehend_or_translate_is_not_offered(template: dict[str, Any]) -> None:
    # Every message needs both services in the stack's own region; botocore's endpoint data says where.
    session = boto3.session.Session()
    offered = set(session.get_available_regions("comprehend")) & set(
        session.get_available_regions("translate")
    )
    (rule,) = template["Rules"].values()
    (assertion,) = rule["Assertions"]
    regions, tested = assertion["Assert"]["Fn::Contains"]

    assert tested == {"Ref": "AWS::Region"}
    assert set(regions) == offered
    assert "eu-north-1" not in regions  # Translate without Comprehend


def test_the_rules_survive_the_transform(template: dict[str, Any]) -> None:
    assert expand(template)["Rules"] == template["Rules"]
