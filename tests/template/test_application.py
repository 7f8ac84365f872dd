"""What template.yaml deploys: storage, functions, permissions, logs and the API."""

import json
import tomllib
from typing import Any

import pytest

from devkit.template import ROOT, resources_of_type


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
                assert statement["Resource"] == {"Fn::GetAtt": ["MessagesTable", "Arn"]}
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


def test_every_function_logs_to_a_group_with_retention(expanded: dict[str, Any]) -> None:
    groups = resources_of_type(expanded, "AWS::Logs::LogGroup")
    named = {
        json.dumps(group["Properties"].get("LogGroupName")): group["Properties"] for group in groups.values()
    }
    for name in functions(expanded):
        group = named[json.dumps({"Fn::Sub": f"/aws/lambda/${{{name}}}"})]
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
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


def test_only_the_history_route_requires_an_api_key(expanded: dict[str, Any]) -> None:
    keyed = {
        (path, method)
        for path, methods in api_paths(expanded).items()
        for method, operation in methods.items()
        if {"api_key": []} in operation.get("security", [])
    }

    assert keyed == {("/messages/{user}", "get")}


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
