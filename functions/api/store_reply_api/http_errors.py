"""Every error the API returns, mapped to its HTTP status in one place.

Bodies are JSON: ``{"message": ..., "errors": [{"field": ..., "problem": ...}]}``.
"""

import json
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from store_reply.errors import (
    HistoryUnavailable,
    IdempotencyKeyReused,
    InvalidPageToken,
    ReservedUserName,
    StorageUnavailable,
    StoreAndReplyError,
)
from store_reply.telemetry import record_history_failure, record_rejected_request, record_store_failure
from store_reply_api.contract import HISTORY_UNAVAILABLE_MESSAGE, STORE_UNAVAILABLE_MESSAGE

RETRY_AFTER_SECONDS = 2


class Unauthorized(Exception):
    """The route needs a signed-in user and the request has none."""


class Forbidden(Exception):
    """The signed-in user (or anonymous caller) may not do this."""


# The store's outages, by operation: what the caller is told, and how it is counted.
UNAVAILABLE: dict[type[StoreAndReplyError], tuple[str, Callable[[Metrics], None]]] = {
    StorageUnavailable: (STORE_UNAVAILABLE_MESSAGE, record_store_failure),
    HistoryUnavailable: (HISTORY_UNAVAILABLE_MESSAGE, record_history_failure),
}
ACCESS_ERRORS = {Unauthorized: HTTPStatus.UNAUTHORIZED, Forbidden: HTTPStatus.FORBIDDEN}


# Domain errors the caller can fix: the status and the field at fault.
CALLER_ERRORS: dict[type[StoreAndReplyError], tuple[HTTPStatus, str]] = {
    InvalidPageToken: (HTTPStatus.BAD_REQUEST, "query.next"),
    ReservedUserName: (HTTPStatus.UNPROCESSABLE_ENTITY, "user"),
    # Named as request validation names header fields.
    IdempotencyKeyReused: (HTTPStatus.UNPROCESSABLE_ENTITY, "header.idempotency-key"),
}


def error_response(status: HTTPStatus, message: str, **extra: Any) -> Response[Any]:
    """A JSON error response."""
    headers = extra.pop("headers", None)
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body={"message": message, **extra},
        headers=headers,
    )


JSON_MEDIA_TYPE = "application/json"


def unsupported_media_type(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The 415 answer to a body sent as anything but JSON, or None.

    Answered before the resolver parses the body: Powertools would otherwise read forms and
    multipart bodies, and fail on a multipart type without a boundary.
    """
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    media_type = str(headers.get("content-type", "")).split(";", 1)[0].strip().lower()
    if not event.get("body") or media_type in ("", JSON_MEDIA_TYPE):
        return None
    body = {"message": f"The body must be {JSON_MEDIA_TYPE}, not {media_type}"}
    return {
        "statusCode": HTTPStatus.UNSUPPORTED_MEDIA_TYPE.value,
        "multiValueHeaders": {"Content-Type": [JSON_MEDIA_TYPE]},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def _field_errors(errors: Any) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]), "problem": error.get("msg", error["type"])}
        for error in errors
    ]


def register_error_handlers(
    app: APIGatewayRestResolver, logger: Logger, metrics: Metrics, methods_by_path: Mapping[str, list[str]]
) -> None:
    """Attach the error mapping to ``app``; ``methods_by_path`` (resource path to methods) answers 405s."""

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[Any]:
        record_rejected_request(metrics)
        problems = error.errors()
        if any(problem["type"] == "json_invalid" for problem in problems):
            return error_response(HTTPStatus.BAD_REQUEST, "The request body is not valid JSON")
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY, "The request is not valid", errors=_field_errors(problems)
        )

    @app.exception_handler(UnicodeDecodeError)
    def undecodable_body(_: UnicodeDecodeError) -> Response[Any]:
        record_rejected_request(metrics)
        return error_response(HTTPStatus.BAD_REQUEST, "The request body is not valid JSON")

    @app.exception_handler(ValidationError)
    def invalid_value(error: ValidationError) -> Response[Any]:
        record_rejected_request(metrics)
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY, "The request is not valid", errors=_field_errors(error.errors())
        )

    @app.exception_handler(list(CALLER_ERRORS))
    def caller_error(error: StoreAndReplyError) -> Response[Any]:
        record_rejected_request(metrics)
        status, field = CALLER_ERRORS[type(error)]
        return error_response(status, str(error), errors=[{"field": field}])

    @app.exception_handler([Unauthorized, Forbidden])
    def refused_access(error: Unauthorized | Forbidden) -> Response[Any]:
        record_rejected_request(metrics)
        return error_response(ACCESS_ERRORS[type(error)], str(error))

    @app.exception_handler(list(UNAVAILABLE))
    def store_down(error: StoreAndReplyError) -> Response[Any]:
        # By operation: a write that kept nothing counts against the messages, a read does not.
        message, count = UNAVAILABLE[type(error)]
        logger.error("Message store unavailable", exc_info=error)
        count(metrics)
        return error_response(
            HTTPStatus.SERVICE_UNAVAILABLE, message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )

    @app.not_found
    def not_found(_: NotFoundError) -> Response[Any]:
        # API Gateway answers other methods on a declared path itself (the template's ANY mocks);
        # where an event reaches the function anyway (sam local), the resource names the path.
        record_rejected_request(metrics)
        event = app.current_event
        allowed = methods_by_path.get(event.resource, [])
        if allowed:
            return error_response(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"{event.http_method} is not allowed on {event.resource}",
                headers={"Allow": ", ".join(allowed)},
            )
        return error_response(HTTPStatus.NOT_FOUND, f"No route for {event.http_method} {event.path}")
