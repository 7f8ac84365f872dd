"""The template's REST APIs as API Gateway builds them: resources, methods, integrations, auth.

Read from each ``AWS::Serverless::Api``'s OpenAPI body in the expanded template: which function (or
mock answer) each route integrates, whether it needs the API key or a Cognito user, and the
gateway responses the API declares.
"""

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from devkit.template import Template, resources_of_type
from devkit.template.intrinsics import offline_resolver

ANY = "x-amazon-apigateway-any-method"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class MockAnswer:
    """A mock integration: the media types it has a request template for, and its default
    integration response (status, static headers, body template)."""

    status: int
    headers: Mapping[str, str]
    template: str
    media_types: frozenset[str] = frozenset({"application/json"})
    passthrough: str = "WHEN_NO_MATCH"

    @classmethod
    def of(cls, integration: Mapping[str, Any]) -> "MockAnswer":
        response = integration["responses"]["default"]
        headers = {
            name.removeprefix("method.response.header."): value.strip("'")
            for name, value in response.get("responseParameters", {}).items()
            # A quoted value is static; the mocks here map nothing from the request.
            if value.startswith("'")
        }
        template = response.get("responseTemplates", {}).get("application/json", "")
        return cls(
            int(response["statusCode"]),
            headers,
            template,
            frozenset(integration.get("requestTemplates", {})),
            str(integration.get("passthroughBehavior", "when_no_match")).upper(),
        )

    def render(self, request: Request, resource_path: str, stage: str) -> Response | None:
        """The mock's answer; None where API Gateway answers itself instead (415, or the 500 of a
        raw body passed to a mock that cannot read a status code from it)."""
        media_type = (request.mimetype or "application/json").lower()  # none: API Gateway's default
        if media_type not in self.media_types:
            return None
        body = (
            self.template.replace("$context.httpMethod", request.method)
            .replace("$context.resourcePath", resource_path)
            .replace("$context.path", f"/{stage}{request.path}")
        )
        return Response(body, status=self.status, headers=dict(self.headers), content_type="application/json")


@dataclass(frozen=True)
class Operation:
    """One method of one resource: what answers it (a function or a mock), and whether it needs an API key."""

    integration: str | MockAnswer  # the function's logical id, or the mock's answer
    api_key_required: bool
    user_pools: tuple[str, ...] = ()  # the Cognito authorizer's pools (ARNs); empty: no authorizer


@dataclass(frozen=True)
class Resource:
    """One resource path of the API, e.g. ``/messages/{user}``, with its methods."""

    path: str
    pattern: re.Pattern[str]
    operations: Mapping[str, Operation]  # "GET", ..., or "ANY"

    @property
    def specificity(self) -> tuple[int, int]:
        # API Gateway prefers literal segments over parameters, and parameters over a greedy one.
        segments = self.path.strip("/").split("/")
        return (sum("{" in s for s in segments), -len(segments))


@dataclass(frozen=True)
class RestApi:
    """The routes of one REST API and its stage."""

    name: str
    stage: str
    resources: tuple[Resource, ...]
    gateway_responses: Mapping[str, Any]

    def match(self, path: str) -> tuple[Resource, dict[str, str]] | None:
        """The resource a path reaches, and its path parameters (still percent-encoded)."""
        for resource in sorted(self.resources, key=lambda r: r.specificity):
            if match := resource.pattern.fullmatch(path):
                return resource, {name.replace("__", "+"): value for name, value in match.groupdict().items()}
        return None

    def routes(self) -> set[tuple[str, str]]:
        """Every (method, path) the API serves; ``ANY`` stands for any method."""
        return {(method, resource.path) for resource in self.resources for method in resource.operations}


def _function_of(integration: Mapping[str, Any], targets: Mapping[str, str]) -> str:
    uri = integration["uri"]
    text, variables = uri, {}
    if isinstance(uri, dict):  # Fn::Sub, as a string or as [string, variables]
        text, variables = (uri["Fn::Sub"], {}) if isinstance(uri["Fn::Sub"], str) else uri["Fn::Sub"]
    found = re.search(r"functions/\$\{([A-Za-z0-9]+)(?:\.Arn)?\}", text)
    if not found:
        raise ValueError(f"cannot tell which function integration {uri!r} invokes")
    name = found.group(1)
    if name in variables:  # a variable standing for Ref <function alias or version>
        name = variables[name]["Ref"]
    return targets.get(name, name)


def _pattern(path: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{([A-Za-z0-9_]+)\\\+\\\}", lambda m: f"(?P<{m.group(1)}__>.+)", re.escape(path))
    regex = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", regex)
    return re.compile(regex)


def _chosen(operation: Any, condition: Callable[[str], bool]) -> Any:
    """An operation written as ``Fn::If`` between two: the one its condition picks in this stack."""
    while isinstance(operation, dict) and set(operation) == {"Fn::If"}:
        name, when_true, when_false = operation["Fn::If"]
        operation = when_true if condition(name) else when_false
    return operation


def _operation(
    operation: Mapping[str, Any], targets: Mapping[str, str], authorizers: Mapping[str, Any]
) -> Operation:
    integration = operation["x-amazon-apigateway-integration"]
    mock = integration.get("type") == "mock"
    return Operation(
        integration=MockAnswer.of(integration) if mock else _function_of(integration, targets),
        api_key_required={"api_key": []} in operation.get("security", []),
        user_pools=tuple(
            arn
            for requirement in operation.get("security", [])
            for name in requirement
            for arn in authorizers.get(name, ())
        ),
    )


def rest_apis(
    expanded: Template,
    targets: Mapping[str, str],
    resolver: Any = None,
    *,
    condition: Callable[[str], bool] | None = None,
) -> list[RestApi]:
    """The REST APIs of an expanded template; ``targets`` says what each integration invokes.

    ``resolver`` resolves names and ARNs; ``condition`` decides conditional operations (by default
    the resolver's conditions, or without one the template's parameter defaults).
    """
    if condition is None:
        condition = (resolver or offline_resolver(expanded)).condition
    stages = {
        stage["Properties"]["RestApiId"]["Ref"]: stage["Properties"]["StageName"]
        for stage in resources_of_type(expanded, "AWS::ApiGateway::Stage").values()
    }
    apis = []
    for logical_id, api in resources_of_type(expanded, "AWS::ApiGateway::RestApi").items():
        body = api["Properties"]["Body"]
        schemes = body.get("components", {}).get("securitySchemes", {}) | body.get("securityDefinitions", {})
        authorizers = {
            name: tuple(
                str(resolver.resolve(arn)) if resolver is not None else json.dumps(arn)
                for arn in scheme["x-amazon-apigateway-authorizer"]["providerARNs"]
            )
            for name, scheme in schemes.items()
            if scheme.get("x-amazon-apigateway-authorizer", {}).get("type") == "cognito_user_pools"
        }
        resources = []
        for path, methods in body.get("paths", {}).items():
            operations = {
                ("ANY" if method == ANY else method.upper()): _operation(
                    _chosen(operation, condition), targets, authorizers
                )
                for method, operation in methods.items()
                if method == ANY or method in METHODS
            }
            resources.append(Resource(path, _pattern(path), operations))
        name = api["Properties"].get("Name", logical_id)
        apis.append(
            RestApi(
                name=str(resolver.resolve(name)) if resolver is not None else str(name),
                stage=stages.get(logical_id, "local"),
                resources=tuple(resources),
                gateway_responses=body.get("x-amazon-apigateway-gateway-responses", {}),
            )
        )
    return apis
