"""The proxy event the local gateway builds, field by field, as API Gateway's REST proxy sends it."""

import base64
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from devkit.aws.apigateway.apis import RestApi, rest_apis
from devkit.aws.apigateway.gateway import MAX_PAYLOAD_BYTES, handle, proxy_event, proxy_response
from devkit.template import expand


@pytest.fixture(scope="module")
def api(template: dict[str, Any]) -> RestApi:
    (only,) = rest_apis(expand(template), {"ApiFunctionAliaslive": "ApiFunction"})
    return only


def event_for(api: RestApi, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    path, _, query = url.partition("?")
    environ = EnvironBuilder(method=method, path=path, query_string=query, **kwargs)
    request = Request(environ.get_environ())
    request.environ["RAW_URI"] = url
    matched = api.match(path)
    assert matched is not None
    resource, parameters = matched
    return proxy_event(request, api, resource, parameters, api_key=None)


def test_query_parameters_and_headers_single_and_multi_valued(api: RestApi) -> None:
    event = event_for(api, "GET", "/send?user=ana&message=hi&tag=a&tag=b", headers=[("X-Trace", "1")])

    assert event["queryStringParameters"] == {"user": "ana", "message": "hi", "tag": "b"}
    assert event["multiValueQueryStringParameters"]["tag"] == ["a", "b"]
    assert event["headers"]["X-Trace"] == "1"
    assert event["multiValueHeaders"]["X-Trace"] == ["1"]


def test_path_parameters_stay_percent_encoded_and_name_the_resource(api: RestApi) -> None:
    event = event_for(api, "GET", "/messages/Zo%C3%AB%20B")

    assert event["resource"] == "/messages/{user}"
    assert event["pathParameters"] == {"user": "Zo%C3%AB%20B"}


def test_the_request_context_has_a_request_id_and_the_stage(api: RestApi) -> None:
    first, second = event_for(api, "GET", "/send"), event_for(api, "GET", "/send")

    assert first["requestContext"]["stage"] == "v1"
    assert first["requestContext"]["path"] == "/v1/send"
    assert first["requestContext"]["requestId"] != second["requestContext"]["requestId"]


def test_text_bodies_pass_as_text_and_other_bytes_as_base64(api: RestApi) -> None:
    text = event_for(api, "POST", "/messages", data='{"user": "ana"}', content_type="application/json")
    binary = event_for(api, "POST", "/messages", data=b"\xff\xfe", content_type="application/octet-stream")

    assert (text["body"], text["isBase64Encoded"]) == ('{"user": "ana"}', False)
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\xff\xfe"


def test_responses_merge_headers_and_decode_base64_bodies() -> None:
    response = proxy_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b'{"ok": true}').decode(),
            "isBase64Encoded": True,
        }
    )

    assert response.status_code == 201
    assert response.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.get_data() == b'{"ok": true}'


def test_a_malformed_function_result_is_a_502() -> None:
    assert proxy_response({"body": "no status"}).status_code == 502


def test_a_body_over_api_gateway_s_10_mb_is_refused_with_413_without_invoking(api: RestApi) -> None:
    invoked: list[str] = []
    environ = EnvironBuilder(method="POST", path="/messages", data=b"x" * (MAX_PAYLOAD_BYTES + 1))
    request = Request(environ.get_environ())

    def invoke(function: str, event: dict[str, Any], request_id: str) -> None:
        invoked.append(function)

    response = handle(api, request, "key", invoke)

    assert (response.status_code, response.get_json()) == (413, {"message": "Request Too Long"})
    assert invoked == []
