"""The OpenAPI document: generated from the routes, valid OpenAPI, and true to the template."""

from typing import Any

import pytest
from openapi_spec_validator import validate

from devkit.aws.apigateway.apis import rest_apis
from store_reply_api.openapi import openapi_document

# What every operation can answer (docs/api.md, "The API"); the success and the operation's own follow.
EVERY_OPERATION = {404, 405, 413, 422, 429, 500, 502, 503, 504}
OWN = {
    ("post", "/messages"): {201, 400, 401, 403, 415},
    ("get", "/send"): {200, 403},
    ("get", "/messages/me"): {200, 400, 401, 403},
    ("get", "/messages/{user}"): {200, 400, 401, 403},
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document()


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method, path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


def test_every_route_of_the_template_is_documented_and_nothing_else(
    document: dict[str, Any], expanded: dict[str, Any]
) -> None:
    (api,) = rest_apis(expanded, {})
    # ANY routes are API Gateway's own 405 for the methods a path does not take.
    declared = {(method.lower(), path) for method, path in api.routes() if method != "ANY"}

    assert set(operations(document)) == declared


def test_the_api_key_and_the_token_are_required_where_the_template_requires_them(
    document: dict[str, Any], expanded: dict[str, Any]
) -> None:
    (api,) = rest_apis(expanded, {})
    declared = {
        (method.lower(), resource.path): operation
        for resource in api.resources
        for method, operation in resource.operations.items()
    }
    keyed = {key for key, operation in declared.items() if operation.api_key_required}
    signed_in = {key for key, operation in declared.items() if operation.user_pools}
    key_scheme = document["components"]["securitySchemes"]["apiKey"]
    token_scheme = document["components"]["securitySchemes"]["userPool"]

    def requiring(scheme: str) -> set[tuple[str, str]]:
        return {
            key
            for key, operation in operations(document).items()
            if any(scheme in requirement for requirement in operation.get("security", []))
        }

    assert (key_scheme["type"], key_scheme["in"], key_scheme["name"]) == ("apiKey", "header", "x-api-key")
    assert (token_scheme["type"], token_scheme["in"], token_scheme["name"]) == (
        "apiKey",
        "header",
        "Authorization",
    )
    assert requiring("apiKey") == keyed
    assert requiring("userPool") == signed_in


@pytest.mark.parametrize(("method", "path"), list(OWN))
def test_each_operation_declares_every_status_it_can_answer(
    document: dict[str, Any], method: str, path: str
) -> None:
    declared = {int(status) for status in operations(document)[(method, path)]["responses"]}

    assert declared == EVERY_OPERATION | OWN[(method, path)]


@pytest.mark.parametrize(("method", "path"), list(OWN))
def test_every_error_has_the_error_body_and_an_example(
    document: dict[str, Any], method: str, path: str
) -> None:
    for status, response in operations(document)[(method, path)]["responses"].items():
        content = response["content"]["application/json"]
        if int(status) >= 400:
            assert content["schema"] == {"$ref": "#/components/schemas/ApiError"}, status
            assert content["examples"], status
        else:
            assert content["schema"]["$ref"].startswith("#/components/schemas/"), status


def test_405_names_the_allow_header_and_503_retry_after(document: dict[str, Any]) -> None:
    responses = operations(document)[("post", "/messages")]["responses"]

    assert "Allow" in responses["405"]["headers"]
    assert "Retry-After" in responses["503"]["headers"]


def test_a_posted_message_links_to_its_history_and_a_page_to_the_next(document: dict[str, Any]) -> None:
    found = operations(document)
    created = found[("post", "/messages")]["responses"]["201"]["links"]["ReadMyHistory"]
    my_page = found[("get", "/messages/me")]["responses"]["200"]["links"]["NextPage"]
    page = found[("get", "/messages/{user}")]["responses"]["200"]["links"]["NextPage"]

    assert created["operationId"] == "readMyHistory"
    assert (my_page["operationId"], my_page["parameters"]) == (
        "readMyHistory",
        {"next": "$response.body#/next"},
    )
    assert page["parameters"] == {"user": "$request.path.user", "next": "$response.body#/next"}


def test_operations_have_ids_tags_and_descriptions(document: dict[str, Any]) -> None:
    for operation in operations(document).values():
        assert operation["operationId"] in {"postMessage", "sendMessage", "readMyHistory", "readHistory"}
        assert operation["tags"] == ["messages"]
        assert operation["summary"]
        assert operation["description"]
