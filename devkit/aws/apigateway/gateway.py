"""API Gateway (REST, proxy and mock integrations) as the local stack serves it, from the expanded template.

Routes, methods, API-key requirements and gateway responses come from the RestApi's OpenAPI body;
each request becomes the proxy event API Gateway would send, and the function's answer becomes
the HTTP response API Gateway would return. A mock integration answers without a function, from
its integration response.
"""

import base64
import json
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import Headers
from werkzeug.wrappers import Request, Response

from devkit.aws.apigateway.apis import MockAnswer, Resource, RestApi
from devkit.aws.responses import json_response
from devkit.template.intrinsics import ACCOUNT_ID

logger = logging.getLogger(__name__)
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's REST payload quota


def proxy_event(
    request: Request,
    api: RestApi,
    resource: Resource,
    path_parameters: dict[str, str],
    api_key: str | None,
    *,
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The REST API proxy event for ``request``, as API Gateway builds it."""
    now = datetime.now(UTC)
    raw_path = request.environ.get("RAW_URI", request.path).split("?", 1)[0]
    pairs = parse_qsl(request.query_string.decode(), keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        multi_query.setdefault(name, []).append(value)
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        multi_headers.setdefault(name, []).append(value)
    # The API declares no binary media types, so API Gateway passes bodies as text; only bytes
    # that are not UTF-8 text come base64-encoded.
    data = request.get_data()
    try:
        body: str | None = data.decode() if data else None
        encoded = False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(data).decode(), True
    request_id = str(uuid.uuid4())
    return {
        "resource": resource.path,
        "path": raw_path,
        "httpMethod": request.method,
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "resourceId": "local",
            "resourcePath": resource.path,
            "httpMethod": request.method,
            "path": f"/{api.stage}{raw_path}",
            "stage": api.stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "domainName": request.host,
            "identity": {
                "sourceIp": request.remote_addr,
                "userAgent": request.headers.get("User-Agent"),
                "apiKey": api_key,
                "apiKeyId": "local-api-key" if api_key else None,
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
            },
            **({"authorizer": {"claims": claims}} if claims is not None else {}),
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def proxy_response(result: Any) -> Response:
    """The HTTP response for a proxy integration's result; a malformed one is a 502, as deployed."""
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        return json_response(502, {"message": "Internal server error"})
    headers = Headers()
    for name, value in (result.get("headers") or {}).items():
        headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.remove(name)
        for value in values:
            headers.add(name, str(value))
    body = result.get("body") or ""
    payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return Response(payload, status=result["statusCode"], headers=headers)


def gateway_response(api: RestApi, kind: str, request: Request, default: tuple[int, str]) -> Response:
    """One of API Gateway's own responses, customised by the template's gateway responses if it says so."""
    custom = api.gateway_responses.get(kind)
    if custom is None:
        return json_response(default[0], {"message": default[1]})
    template = custom.get("responseTemplates", {}).get(
        "application/json", json.dumps({"message": default[1]})
    )
    body = template.replace("$context.httpMethod", request.method).replace(
        "$context.path", f"/{api.stage}{request.path}"
    )
    return Response(body, status=int(custom.get("statusCode", default[0])), content_type="application/json")


Invoke = Callable[[str, dict[str, Any], str], Any]
# The verified claims of an Authorization header for an authorizer's pools; raises when refused.
VerifyToken = Callable[[str | None, tuple[str, ...]], dict[str, str]]
Observe = Callable[[int, float, float | None], None]


def handle(
    api: RestApi,
    request: Request,
    expected_key: str,
    invoke: Invoke,
    *,
    observe: Observe | None = None,
    verify_token: VerifyToken | None = None,
) -> Response:
    """Serve one request as API Gateway would, and report its status, latency and integration latency."""
    started = time.monotonic()
    integration: list[float] = []
    response = _handle(api, request, expected_key, invoke, integration=integration, verify_token=verify_token)
    if observe is not None:
        observe(
            response.status_code, (time.monotonic() - started) * 1000, integration[0] if integration else None
        )
    return response


def _mock(api: RestApi, mock: MockAnswer, request: Request, resource_path: str) -> Response:
    answer = mock.render(request, resource_path, api.stage)
    if answer is not None:
        return answer
    if mock.passthrough == "NEVER":
        return gateway_response(api, "UNSUPPORTED_MEDIA_TYPE", request, (415, "Unsupported Media Type"))
    return json_response(500, {"message": "Internal server error"})


def _handle(  # noqa: PLR0911 (one return per answer API Gateway gives)
    api: RestApi,
    request: Request,
    expected_key: str,
    invoke: Invoke,
    *,
    integration: list[float],
    verify_token: VerifyToken | None,
) -> Response:
    if (request.content_length or 0) > MAX_PAYLOAD_BYTES:
        return gateway_response(api, "REQUEST_TOO_LARGE", request, (413, "Request Too Long"))
    raw_path = request.environ.get("RAW_URI", request.path).split("?", 1)[0]
    matched = api.match(raw_path)
    if matched is None:
        return gateway_response(
            api, "MISSING_AUTHENTICATION_TOKEN", request, (403, "Missing Authentication Token")
        )
    resource, parameters = matched
    operation = resource.operations.get(request.method) or resource.operations.get("ANY")
    if operation is None:
        return gateway_response(
            api, "MISSING_AUTHENTICATION_TOKEN", request, (403, "Missing Authentication Token")
        )
    claims = None
    if operation.user_pools:  # API Gateway runs the authorizer before it checks the API key
        if verify_token is None:
            raise RuntimeError("the API has a Cognito authorizer and the gateway no token verifier")
        try:
            claims = verify_token(request.headers.get("Authorization"), operation.user_pools)
        except Exception:
            logger.info("Token refused", exc_info=True)
            return gateway_response(api, "UNAUTHORIZED", request, (401, "Unauthorized"))
    api_key = request.headers.get("x-api-key")
    if operation.api_key_required and api_key != expected_key:
        return gateway_response(api, "INVALID_API_KEY", request, (403, "Forbidden"))
    if isinstance(operation.integration, MockAnswer):
        return _mock(api, operation.integration, request, resource.path)
    key = api_key if operation.api_key_required else None
    event = proxy_event(request, api, resource, parameters, key, claims=claims)
    called = time.monotonic()
    try:
        result = invoke(operation.integration, event, event["requestContext"]["requestId"])
    except Exception:  # noqa: BLE001 (a failed invocation is a 502 to the caller, as deployed)
        return json_response(502, {"message": "Internal server error"})
    finally:
        integration.append((time.monotonic() - called) * 1000)
    return proxy_response(result)
