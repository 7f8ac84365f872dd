"""Every error the API returns, mapped to its HTTP status in one place.

Bodies are JSON: ``{"message": ..., "errors": [{"field": ..., "problem": ...}]}``.
"""

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import ValidationError

from store_reply.errors import (
    IdempotencyKeyReused,
    InvalidPageToken,
    ReservedUserName,
    StorageUnavailable,
    StoreAndReplyError,
)
from store_reply.telemetry import record_rejected_request, record_store_failure

RETRY_AFTER_SECONDS = 2
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


def _field_errors(errors: Any) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(part) for part in error["loc"]), "problem": error.get("msg", error["type"])}
        for error in errors
    ]


def register_error_handlers(app: APIGatewayRestResolver, logger: Logger, metrics: Metrics) -> None:
    """Attach the error mapping to ``app``."""

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[Any]:
        record_rejected_request(metrics)
        problems = error.errors()
        if any(problem["type"] == "json_invalid" for problem in problems):
            return error_response(HTTPStatus.BAD_REQUEST, "The request body is not valid JSON")
        return error_response(
            HTTPStatus.UNPROCESSABLE_ENTITY, "The request is not valid", errors=_field_errors(problems)
        )

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

    @app.exception_handler(StorageUnavailable)
    def storage_down(error: StorageUnavailable) -> Response[Any]:
        logger.error("Message store unavailable", exc_info=error)
        record_store_failure(metrics)
        return error_response(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "The message could not be stored; nothing was kept. Try again shortly.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    # Methods by declared path, read from the routes' OpenAPI description on the first 404/405
    # (generating it costs ~150 ms) and kept for the container's life.
    methods_by_path: dict[str, list[str]] = {}

    @app.not_found
    def not_found(_: NotFoundError) -> Response[Any]:
        # A declared path asked with another method reaches the function through the template's
        # ANY fallback, whose resource names the path.
        record_rejected_request(metrics)
        event = app.current_event
        if not methods_by_path:
            methods_by_path.update(_methods_by_path(app))
        allowed = methods_by_path.get(event.resource, [])
        if allowed:
            return error_response(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"{event.http_method} is not allowed on {event.resource}",
                headers={"Allow": ", ".join(allowed)},
            )
        return error_response(HTTPStatus.NOT_FOUND, f"No route for {event.http_method} {event.path}")


def _methods_by_path(app: APIGatewayRestResolver) -> dict[str, list[str]]:
    methods = ("get", "put", "post", "delete", "patch", "head", "options")
    return {
        path: [method.upper() for method in methods if getattr(operations, method, None) is not None]
        for path, operations in (app.get_openapi_schema().paths or {}).items()
    }
