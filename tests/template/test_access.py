"""Per-user access in the template: the user pool, its clients, the authorizer and the anonymous mode."""

from typing import Any

import pytest

from devkit.aws.apigateway.apis import rest_apis
from devkit.template.deployed import DeployedStack

SIGNED_IN_ROUTES = {("post", "/messages"), ("get", "/messages/me"), ("get", "/messages/{user}")}


def api_body(expanded: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = expanded["Resources"]["StoreAndReplyApi"]["Properties"]["Body"]
    return body


def test_the_cognito_authorizer_guards_every_route_that_names_a_user(expanded: dict[str, Any]) -> None:
    body = api_body(expanded)
    authorizer = body["components"]["securitySchemes"]["UserPoolAuthorizer"]
    guarded = {
        (method, path)
        for path, methods in body["paths"].items()
        for method, operation in methods.items()
        if {"UserPoolAuthorizer": []} in operation.get("security", [])
    }

    assert authorizer["x-amazon-apigateway-authorizer"] == {
        "type": "cognito_user_pools",
        "providerARNs": [{"Fn::GetAtt": ["UserPool", "Arn"]}],
    }
    assert authorizer["name"] == "Authorization"
    assert guarded == SIGNED_IN_ROUTES


def test_the_demo_route_takes_no_token_and_follows_the_anonymous_mode(
    template: dict[str, Any], expanded: dict[str, Any]
) -> None:
    function = template["Resources"]["ApiFunction"]["Properties"]
    mapping = template["Mappings"]["EnvironmentSettings"]
    (api,) = rest_apis(expanded, {})  # dev, by the parameters' defaults
    (send,) = [resource.operations["GET"] for resource in api.resources if resource.path == "/send"]

    assert (send.integration, send.user_pools, send.api_key_required) == ("ApiFunctionAliaslive", (), False)
    assert function["Environment"]["Variables"]["ANONYMOUS_SEND"] == {
        "Fn::If": ["TakesAnonymousMessages", "true", "false"]
    }
    assert {env: mapping[env]["AnonymousSend"] for env in mapping} == {
        "dev": "enabled",
        "staging": "disabled",
        "prod": "disabled",
    }
    assert template["Parameters"]["AnonymousSend"]["Default"] == "auto"


@pytest.mark.parametrize(("environment", "protection"), [("dev", "INACTIVE"), ("prod", "ACTIVE")])
def test_the_pool_is_kept_and_protected_from_deletion_in_prod(
    template: dict[str, Any], environment: str, protection: str
) -> None:
    pool = template["Resources"]["UserPool"]
    deployed = DeployedStack(template, f"store-and-reply-{environment}", {"Environment": environment})

    assert (pool["DeletionPolicy"], pool["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert deployed.resolve(pool["Properties"]["DeletionProtection"]) == protection


def test_mfa_sign_up_and_the_password_policy_are_parameters(template: dict[str, Any]) -> None:
    properties = template["Resources"]["UserPool"]["Properties"]
    parameters = template["Parameters"]

    assert properties["MfaConfiguration"] == {"Ref": "Mfa"}
    assert parameters["Mfa"]["AllowedValues"] == ["OFF", "OPTIONAL", "ON"]
    assert properties["EnabledMfas"] == {
        "Fn::If": ["MfaOff", {"Ref": "AWS::NoValue"}, ["SOFTWARE_TOKEN_MFA"]]
    }
    assert properties["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] == {
        "Fn::If": ["AdminsCreateUsers", True, False]
    }
    assert properties["Policies"]["PasswordPolicy"]["MinimumLength"] == {"Ref": "PasswordMinimumLength"}
    assert parameters["PasswordMinimumLength"]["MinValue"] >= 8


def test_threat_protection_puts_the_pool_on_the_plan_that_offers_it(template: dict[str, Any]) -> None:
    properties = template["Resources"]["UserPool"]["Properties"]

    assert properties["UserPoolTier"] == {"Fn::If": ["HasThreatProtection", "PLUS", "ESSENTIALS"]}
    assert properties["UserPoolAddOns"] == {
        "Fn::If": [
            "HasThreatProtection",
            {"AdvancedSecurityMode": {"Ref": "ThreatProtection"}},
            {"Ref": "AWS::NoValue"},
        ]
    }


def test_the_public_client_has_no_secret_and_the_checks_client_only_the_admin_flow(
    template: dict[str, Any],
) -> None:
    public = template["Resources"]["UserPoolClient"]["Properties"]
    checks = template["Resources"]["DeploymentCheckClient"]["Properties"]

    assert public["GenerateSecret"] is False
    assert "ALLOW_ADMIN_USER_PASSWORD_AUTH" not in public["ExplicitAuthFlows"]
    assert public["PreventUserExistenceErrors"] == "ENABLED"
    assert checks["ExplicitAuthFlows"] == ["ALLOW_ADMIN_USER_PASSWORD_AUTH"]


def test_only_the_post_traffic_hook_may_manage_users_and_only_in_the_stack_s_pool(
    expanded: dict[str, Any],
) -> None:
    granted = {
        name: statement
        for name, resource in expanded["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
        for policy in resource["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
        if any(str(action).startswith("cognito-idp:") for action in statement["Action"])
    }

    assert list(granted) == ["ApiPostTrafficHookRole"]
    assert granted["ApiPostTrafficHookRole"]["Resource"] == {"Fn::GetAtt": ["UserPool", "Arn"]}
