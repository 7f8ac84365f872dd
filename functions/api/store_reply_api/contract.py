"""What each operation can answer, besides its success: declared once, for the OpenAPI document.

The statuses come from two places, and the document names which: the function itself (400, 422,
503) and API Gateway in front of it (403 without a valid API key, 404 for a path the API does not
declare, 405 for a method a declared path does not take, 413 for a body over 10 MB, 429 when the
stage or the usage plan throttles, 500, 502 when the function fails, 504 when it does not answer
within the integration timeout).
"""

from typing import Any

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from store_reply_api.responses import ApiError

JSON = "application/json"


def _error(description: str, *examples: tuple[str, dict[str, Any]], **extra: Any) -> OpenAPIResponse:
    response: OpenAPIResponse = {
        "description": description,
        "content": {
            JSON: {
                "model": ApiError,
                "examples": {name: {"value": value} for name, value in examples},
            }
        },
    }
    response.update(extra)  # type: ignore[typeddict-item]
    return response


_FIELD_ERRORS = _error(
    "A field is missing or not valid; `errors` names each field at fault",
    (
        "field",
        {
            "message": "The request is not valid",
            "errors": [{"field": "message", "problem": "String should have at least 1 character"}],
        },
    ),
)
_NO_ROUTE = _error(
    "No such route: a path the API does not declare (API Gateway)",
    ("unknown path", {"message": "No route for GET /nothing"}),
)
_METHOD = _error(
    "The path exists, not with this method; `Allow` lists its methods (API Gateway)",
    ("other method", {"message": "PUT is not allowed on /messages"}),
    headers={"Allow": {"description": "The path's methods", "schema": {"type": "string"}}},
)
_TOO_LARGE = _error(
    "The request is larger than API Gateway accepts (10 MB)", ("too large", {"message": "Request Too Long"})
)
_THROTTLED = _error(
    "Too many requests: the stage's rate or the usage plan's quota (API Gateway)",
    ("rate", {"message": "Too Many Requests"}),
    ("quota", {"message": "Limit Exceeded"}),
)
_GATEWAY_FAULT = _error("API Gateway failed", ("internal", {"message": "Internal server error"}))
_FUNCTION_FAULT = _error(
    "The function failed or answered malformed (API Gateway)",
    ("function failed", {"message": "Internal server error"}),
)
STORE_UNAVAILABLE_MESSAGE = "The message could not be stored; nothing was kept. Try again shortly."
_UNAVAILABLE = _error(
    "The message store is unavailable: nothing was stored; retry after `Retry-After` seconds",
    ("store down", {"message": STORE_UNAVAILABLE_MESSAGE}),
    headers={"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}},
)
HISTORY_UNAVAILABLE_MESSAGE = "The history could not be read; nothing was changed. Try again shortly."
HISTORY_UNAVAILABLE = _error(
    "The message store cannot be read: nothing was changed; retry after `Retry-After` seconds",
    ("store down", {"message": HISTORY_UNAVAILABLE_MESSAGE}),
    headers={"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}},
)
_TIMEOUT = _error(
    "The function did not answer in time (API Gateway)",
    ("timeout", {"message": "Endpoint request timed out"}),
)
# What every operation can answer.
_COMMON: dict[int, OpenAPIResponse] = {
    404: _NO_ROUTE,
    405: _METHOD,
    413: _TOO_LARGE,
    422: _FIELD_ERRORS,
    429: _THROTTLED,
    500: _GATEWAY_FAULT,
    502: _FUNCTION_FAULT,
    503: _UNAVAILABLE,
    504: _TIMEOUT,
}


def responses(
    success: int,
    description: str,
    more: dict[int, OpenAPIResponse] | None = None,
    *,
    links: dict[str, Any] | None = None,
) -> dict[int, OpenAPIResponse]:
    """An operation's responses: its success (its body is the route's return type), what every
    operation can answer, and the operation's own ``more``."""
    ok: OpenAPIResponse = {"description": description}
    if links:
        ok["links"] = links
    return dict(sorted({success: ok, **_COMMON, **(more or {})}.items()))


MALFORMED_JSON = _error(
    "The body is not JSON (or not UTF-8)", ("malformed", {"message": "The request body is not valid JSON"})
)
NOT_JSON = _error(
    "The body was sent as another media type than application/json",
    ("form", {"message": "The body must be application/json, not application/x-www-form-urlencoded"}),
)
BAD_PAGE_TOKEN = _error(
    "`next` is not a token this API gave",
    ("bad token", {"message": "The page token is not valid", "errors": [{"field": "query.next"}]}),
)
NO_API_KEY = _error(
    "The `x-api-key` header is missing or not a key of this API's usage plan (API Gateway)",
    ("forbidden", {"message": "Forbidden"}),
)
NOT_SIGNED_IN = _error(
    "No valid Cognito ID token in `Authorization`: missing, expired, badly signed, from another pool "
    "or client, or an access token (API Gateway's Cognito authorizer)",
    ("unauthorized", {"message": "Unauthorized"}),
)
NOT_THE_CALLER = _error(
    "The body names another user than the signed-in one",
    (
        "another user",
        {"message": "a message is sent as the signed-in user: leave out 'user', or give your own"},
    ),
)
# Answered by the function where GET /send is routed to it, and by API Gateway where it is not.
NO_ANONYMOUS_MESSAGE = "this stage takes no anonymous messages: sign in and POST /messages"
NO_ANONYMOUS = _error(
    "This stage takes no anonymous messages (only dev does): sign in and POST /messages",
    ("off", {"message": NO_ANONYMOUS_MESSAGE}),
)
NOT_YOUR_HISTORY = _error(
    "Another user's history (you can read only your own), or no valid API key (API Gateway)",
    ("another user", {"message": "you can read only your own history"}),
    ("forbidden", {"message": "Forbidden"}),
)
API_KEY_SCHEME = "apiKey"
USER_POOL_SCHEME = "userPool"
