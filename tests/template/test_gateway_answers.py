"""What API Gateway answers itself, without invoking a function, and what it lets reach one.

API Gateway's ``x-amazon-apigateway-any-method`` "can coexist with other Operation objects and
catches any HTTP method that wasn't explicitly declared" (API Gateway developer guide, OpenAPI
extensions): each declared path's ANY is a mock answering 405 with the path's methods in ``Allow``,
as the function answers the same request. The function is invoked only for the routes it serves.
"""

import time
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from devkit.aws.apigateway.apis import MockAnswer, RestApi, rest_apis
from devkit.template import expand, resources_of_type
from devkit.template.intrinsics import offline_resolver
from store_reply_api.app import METHODS_BY_PATH
from store_reply_api.contract import NO_ANONYMOUS_MESSAGE

# The routes each stage lets reach the function: GET /send only where anonymous messages are taken.
SIGNED_IN_ROUTES = {("POST", "/messages"), ("GET", "/messages/me"), ("GET", "/messages/{user}")}
FUNCTION_ROUTES = {
    "dev": SIGNED_IN_ROUTES | {("GET", "/send")},
    "staging": SIGNED_IN_ROUTES,
    "prod": SIGNED_IN_ROUTES,
}


def the_api(environment: str) -> tuple[RestApi, dict[str, Any]]:
    expanded = expand(parameters={"Environment": environment})
    (api,) = rest_apis(
        expanded, {}, condition=offline_resolver(expanded, {"Environment": environment}).condition
    )
    return api, expanded


def mock_answer(api: RestApi, method: str, path: str) -> tuple[int, dict[str, str], str]:
    (resource,) = [resource for resource in api.resources if resource.path == path]
    operation = resource.operations.get(method) or resource.operations["ANY"]
    assert isinstance(operation.integration, MockAnswer), f"{method} {path} invokes {operation.integration}"
    request = Request(EnvironBuilder(method=method, path=path).get_environ())
    response = operation.integration.render(request, path, api.stage)
    assert response is not None, f"{method} {path}: the mock has no template for the request"
    return response.status_code, dict(response.headers), response.get_data(as_text=True)


@pytest.mark.parametrize("environment", list(FUNCTION_ROUTES))
def test_only_the_routes_the_function_serves_invoke_it(environment: str) -> None:
    api, _ = the_api(environment)
    invoking = {
        (method, resource.path)
        for resource in api.resources
        for method, operation in resource.operations.items()
        if isinstance(operation.integration, str)
    }

    assert invoking == FUNCTION_ROUTES[environment]


# Every other method API Gateway takes (HEAD answers the same, without a body).
OTHER_METHODS = [
    (path, method)
    for path in sorted(METHODS_BY_PATH)
    for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
    if method not in METHODS_BY_PATH[path]
]


@pytest.mark.parametrize(("path", "method"), OTHER_METHODS)
def test_a_method_a_path_does_not_take_is_answered_405_by_api_gateway_as_the_function_would(
    path: str, method: str
) -> None:
    api, _ = the_api("prod")

    status, headers, body = mock_answer(api, method, path)

    assert status == 405
    # The function's own answer to the same request (store_reply_api.http_errors).
    assert headers["Allow"] == ", ".join(METHODS_BY_PATH[path])
    assert body == f'{{"message": "{method} is not allowed on {path}"}}'
    assert headers["Content-Type"] == "application/json"


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_where_anonymous_messages_are_not_taken_get_send_is_answered_403_by_api_gateway(
    environment: str,
) -> None:
    api, _ = the_api(environment)

    status, _, body = mock_answer(api, "GET", "/send")

    assert (status, body) == (403, f'{{"message": "{NO_ANONYMOUS_MESSAGE}"}}')


def permitted_routes(expanded: dict[str, Any], environment: str) -> set[tuple[str, str]]:
    """The (method, path) each API Gateway permission on a function names, in this stage."""
    resolver = offline_resolver(expanded, {"Environment": environment})
    routes = set()
    for permission in resources_of_type(expanded, "AWS::Lambda::Permission").values():
        condition = permission.get("Condition")
        if permission["Properties"]["Principal"] != "apigateway.amazonaws.com" or (
            condition is not None and not resolver.condition(condition)
        ):
            continue
        source = permission["Properties"]["SourceArn"]["Fn::Sub"]
        text = source if isinstance(source, str) else source[0]
        # arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>
        _, _stage, method, path = text.split("/", 3)
        routes.add((method, "/" + path))
    return routes


@pytest.mark.parametrize("environment", list(FUNCTION_ROUTES))
def test_api_gateway_may_invoke_the_function_for_exactly_the_routes_it_serves(environment: str) -> None:
    _, expanded = the_api(environment)
    # A permission names a path parameter as *.
    expected = {(method, path.replace("{user}", "*")) for method, path in FUNCTION_ROUTES[environment]}

    assert permitted_routes(expanded, environment) == expected


def test_every_stack_update_redeploys_the_api(monkeypatch: pytest.MonkeyPatch) -> None:
    # SAM names the deployment by a hash of the OpenAPI document as written, where the conditional
    # GET /send is the same text in every stage: a stack update that only flips AnonymousSend would
    # leave the stage on its old routes. With AlwaysDeploy, each transform (each update, a second
    # apart at least) names a new deployment.
    def deployment(at: float, anonymous: str) -> set[str]:
        monkeypatch.setattr(time, "time", lambda: at)
        expanded = expand(parameters={"Environment": "prod", "AnonymousSend": anonymous})
        return set(resources_of_type(expanded, "AWS::ApiGateway::Deployment"))

    assert deployment(1_800_000_000.0, "enabled").isdisjoint(deployment(1_800_000_001.0, "disabled"))


@pytest.mark.parametrize(
    "media_type", [None, "application/json", "text/plain", "application/x-www-form-urlencoded"]
)
def test_a_mock_answers_whatever_the_body_s_media_type(media_type: str | None) -> None:
    # Without a request template for its media type, a mock gets the raw body, finds no status code
    # in it and answers 500: every type a client commonly sends has one.
    api, _ = the_api("prod")
    (resource,) = [resource for resource in api.resources if resource.path == "/messages"]
    mock = resource.operations["ANY"].integration
    assert isinstance(mock, MockAnswer)
    headers = [("Content-Type", media_type)] if media_type else []
    request = Request(EnvironBuilder(method="PUT", path="/messages", headers=headers, data="x").get_environ())

    assert mock.passthrough == "NEVER"  # any other type: API Gateway's 415, never a 500
    answer = mock.render(request, "/messages", api.stage)
    assert answer is not None
    assert answer.status_code == 405


def test_every_security_requirement_names_a_declared_scheme(expanded: dict[str, Any]) -> None:
    # SAM's MergeDefinitions keeps the routes' api_key requirement and drops the scheme: API
    # Gateway then ignores or refuses the key requirement (API keys with OpenAPI need api_key
    # defined in the security schemes).
    body = expanded["Resources"]["StoreAndReplyApi"]["Properties"]["Body"]
    schemes = body["components"]["securitySchemes"]
    named = {
        name
        for methods in body["paths"].values()
        for operation in methods.values()
        if isinstance(operation, dict)
        for requirement in operation.get("security", [])
        for name in requirement
    }

    assert named == {"api_key", "UserPoolAuthorizer"}
    assert named <= set(schemes)
    assert schemes["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
