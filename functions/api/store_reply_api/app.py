"""HTTP API handler: routes to the Store & Reply service. No business rule lives here."""

import json
import os
import re
from collections.abc import Callable
from http import HTTPStatus
from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter

from store_reply.adapters.snapstart import Primed
from store_reply.deployment_checks import is_deployment_check
from store_reply.models import (
    MAX_USER_CHARS,
    PUBLIC_USER_PATTERN,
    IdempotencyKey,
    MessageText,
    NewMessage,
    UserName,
)
from store_reply.service import StoreAndReply
from store_reply.settings import Settings
from store_reply.telemetry import (
    NAMESPACE,
    record_history_read,
    record_receipt,
    record_rejected_request,
    tag_version,
)
from store_reply.wiring import Configured
from store_reply_api import contract
from store_reply_api.http_errors import register_error_handlers, unsupported_media_type
from store_reply_api.responses import History, MessageAccepted, SendAccepted

logger = Logger()
metrics = Metrics(namespace=NAMESPACE)
app = APIGatewayRestResolver(enable_validation=True)
# Each resource path's methods, as the routes below declare them: a 405 names them in Allow.
METHODS_BY_PATH: dict[str, list[str]] = {}
register_error_handlers(app, logger, metrics, METHODS_BY_PATH)


def _route(method: str, rule: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Powertools' route decorator, noting the method under the path's resource name."""
    METHODS_BY_PATH.setdefault(re.sub(r"<(\w+)>", r"{\1}", rule), []).append(method)
    return app.route(rule, method=method, **options)


_user = TypeAdapter(UserName)
TAG = "messages"
PUBLIC_USER_SCHEMA = {"minLength": 1, "maxLength": MAX_USER_CHARS, "pattern": PUBLIC_USER_PATTERN}
Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def _service() -> StoreAndReply:
    service: StoreAndReply = app.context["service"]
    return service


def _deployment_check() -> bool:
    return bool(app.context.get("deployment_check"))


def _json(status: HTTPStatus, body: Any) -> Response[Any]:
    return Response(status_code=status.value, content_type=content_types.APPLICATION_JSON, body=body)


@_route(
    "POST",
    "/messages",
    operation_id="postMessage",
    tags=[TAG],
    summary="Send a message; get the reply in its language",
    description="Detects the message's language, replies with the thank-you text translated into it "
    "and stores the message. With an `Idempotency-Key`, a retry stores nothing new.",
    responses=contract.responses(
        201,
        "Stored; the reply in the message's language",
        {400: contract.MALFORMED_JSON, 415: contract.NOT_JSON},
        links={
            "ReadHistory": {
                "operationId": "readHistory",
                "parameters": {"user": "$response.body#/user"},
                "description": "The sender's history, where this message now is",
            }
        },
    ),
)
def post_message(
    message: NewMessage,
    idempotency_key: Annotated[
        IdempotencyKey | None,
        Header(
            alias="Idempotency-Key",
            description="Resending a request with the same key within 24 hours stores nothing new "
            "and answers with the first message's id",
        ),
    ] = None,
) -> Response[MessageAccepted]:
    """Store a message and reply in its language."""
    receipt = _service().accept(message, idempotency_key, allow_reserved=_deployment_check())
    record_receipt(metrics, receipt)
    return _json(HTTPStatus.CREATED, MessageAccepted.of(receipt).model_dump(mode="json"))


@_route(
    "GET",
    "/send",
    operation_id="sendMessage",
    tags=[TAG],
    summary="Send a message (the original demo's route)",
    description="The same as `POST /messages`, with the message in the query string; the reply is "
    "also under `message`, as the original demo answered.",
    responses=contract.responses(
        200,
        "Stored; the reply in the message's language",
        links={
            "ReadHistory": {
                "operationId": "readHistory",
                "parameters": {"user": "$response.body#/user"},
                "description": "The sender's history, where this message now is",
            }
        },
    ),
)
def send(
    user: Annotated[UserName, Query(description="Who sends the message", examples=["alice"])],
    message: Annotated[MessageText, Query(description="The message", examples=["Gracias por todo"])],
) -> SendAccepted:
    """Store a message and reply in its language, as the original demo's ``GET /send``."""
    receipt = _service().accept(NewMessage(user=user, message=message), allow_reserved=_deployment_check())
    record_receipt(metrics, receipt)
    return SendAccepted.of(receipt)


@_route(
    "GET",
    "/messages/<user>",
    operation_id="readHistory",
    tags=[TAG],
    summary="A user's messages, newest first (API key required)",
    description="A page of the user's messages, newest first; `next` reads the following page.",
    security=[{contract.API_KEY_SCHEME: []}],
    responses=contract.responses(
        200,
        "A page of the user's history",
        {400: contract.BAD_PAGE_TOKEN, 403: contract.NO_API_KEY},
        links={
            "NextPage": {
                "operationId": "readHistory",
                "parameters": {"user": "$request.path.user", "next": "$response.body#/next"},
                "description": "The following page, while `next` is not null",
            }
        },
    ),
)
def history(
    # Validated as a UserName once decoded; documented as one.
    user: Annotated[str, Path(description="The user, URL-encoded", json_schema_extra=PUBLIC_USER_SCHEMA)],
    limit: Annotated[int, Query(ge=1, le=100, description="Messages per page")] = 20,
    next: Annotated[str | None, Query(description="Token from the previous page")] = None,
) -> History:
    """Read a page of a user's history."""
    # REST APIs pass path parameters still percent-encoded.
    name = _user.validate_python(unquote(user))
    page = _service().history(name, limit, next, allow_reserved=_deployment_check())
    record_history_read(metrics, len(page.messages))
    return History.of(name, page)


def create_handler(build: Callable[[], StoreAndReply], *, once: bool = True) -> Handler:
    """A Lambda handler whose service comes from ``build``: called once, or on every invocation
    when ``build`` keeps the service itself (``once=False``)."""
    built: list[StoreAndReply] = []

    @logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if not built or not once:
            built[:] = [build()]
        tag_version(metrics, context.function_version)
        if refused := unsupported_media_type(event):
            record_rejected_request(metrics)
            return refused
        app.append_context(service=built[0], deployment_check=is_deployment_check(context))
        return app.resolve(event, context)

    return handler


CONFIGURED = Configured(lambda: Settings.from_environ(os.environ))


DRY_REQUEST = {
    "httpMethod": "POST",
    "path": "/messages",
    "resource": "/messages",
    "headers": {"Content-Type": "application/json"},
    "body": json.dumps({"user": "__snapshot__", "message": ""}),
    "isBase64Encoded": False,
    "requestContext": {"requestId": "snapshot", "stage": "snapshot"},
}


def _dry_request(service: StoreAndReply) -> None:
    """One request through the router, validation and error mapping that reaches no AWS service (422)."""
    app.append_context(service=service, deployment_check=False)
    app.resolve(DRY_REQUEST, SimpleNamespace(function_version="snapshot"))  # type: ignore[arg-type]
    app.clear_context()
    metrics.clear_metrics()


PRODUCTION = Primed(CONFIGURED.service, touch=CONFIGURED.prepare, dry_run=_dry_request)
PRODUCTION.register()
lambda_handler = create_handler(PRODUCTION.get, once=False)
