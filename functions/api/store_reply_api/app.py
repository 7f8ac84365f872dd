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
from store_reply.deployment_checks import is_check_client_token, is_deployment_check
from store_reply.models import (
    MAX_USER_CHARS,
    PUBLIC_USER_PATTERN,
    IdempotencyKey,
    MessageText,
    NewMessage,
    UserName,
)
from store_reply.service import StoreAndReply
from store_reply.settings import ApiSettings
from store_reply.telemetry import (
    NAMESPACE,
    record_history_read,
    record_receipt,
    record_rejected_request,
    tag_version,
)
from store_reply.wiring import Configured
from store_reply_api import contract
from store_reply_api.http_errors import (
    Forbidden,
    Unauthorized,
    register_error_handlers,
    unsupported_media_type,
)
from store_reply_api.responses import History, MessageAccepted, MessageBody, SendAccepted

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
# Cognito's user name: unique in the pool, chosen at sign-up, never reassigned.
USERNAME_CLAIM = "cognito:username"
PUBLIC_USER_SCHEMA = {"minLength": 1, "maxLength": MAX_USER_CHARS, "pattern": PUBLIC_USER_PATTERN}
Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def _service() -> StoreAndReply:
    service: StoreAndReply = app.context["service"]
    return service


def _deployment_check() -> bool:
    """A hook's invocation, or a caller signed in through the deployment-check app client."""
    if app.context.get("deployment_check"):
        return True
    authorizer = app.current_event.request_context.authorizer
    claims = authorizer.claims if authorizer is not None else None
    return is_check_client_token(claims, app.context.get("check_client"))


def _caller() -> str:
    """The signed-in user, from the claims of the ID token API Gateway's Cognito authorizer verified."""
    claims = app.current_event.request_context.authorizer.claims
    name = claims.get(USERNAME_CLAIM)
    if not isinstance(name, str) or not name:
        raise Unauthorized("sign in: this route needs a Cognito ID token in the Authorization header")
    return name


def _json(status: HTTPStatus, body: Any) -> Response[Any]:
    return Response(status_code=status.value, content_type=content_types.APPLICATION_JSON, body=body)


@_route(
    "POST",
    "/messages",
    operation_id="postMessage",
    tags=[TAG],
    summary="Send a message as the signed-in user; get the reply in its language",
    description="Detects the message's language, replies with the thank-you text translated into it "
    "and stores the message under the signed-in user (the ID token's `cognito:username`). With an "
    "`Idempotency-Key`, a retry stores nothing new.",
    security=[{contract.USER_POOL_SCHEME: []}],
    responses=contract.responses(
        201,
        "Stored; the reply in the message's language",
        {
            400: contract.MALFORMED_JSON,
            401: contract.NOT_SIGNED_IN,
            403: contract.NOT_THE_CALLER,
            415: contract.NOT_JSON,
        },
        links={
            "ReadMyHistory": {
                "operationId": "readMyHistory",
                "description": "The signed-in user's history, where this message now is",
            },
            "ReadHistory": {
                "operationId": "readHistory",
                "parameters": {"user": "$response.body#/user"},
                "description": "The same history, named by its user",
            },
        },
    ),
)
def post_message(
    body: MessageBody,
    idempotency_key: Annotated[
        IdempotencyKey | None,
        Header(
            alias="Idempotency-Key",
            description="Resending a request with the same key within 24 hours stores nothing new "
            "and answers with the first message's id",
        ),
    ] = None,
) -> Response[MessageAccepted]:
    """Store a message from the signed-in user and reply in its language."""
    caller = _caller()
    if body.user is not None and body.user != caller:
        raise Forbidden("a message is sent as the signed-in user: leave out 'user', or give your own")
    message = NewMessage(user=caller, message=body.message)
    receipt = _service().accept(message, idempotency_key, allow_reserved=_deployment_check())
    record_receipt(metrics, receipt)
    return _json(HTTPStatus.CREATED, MessageAccepted.of(receipt).model_dump(mode="json"))


@_route(
    "GET",
    "/send",
    operation_id="sendMessage",
    tags=[TAG],
    summary="Send a message without signing in (the original demo's route)",
    description="Where the stage allows anonymous messages (dev), stores the message under the given "
    "name, apart from every signed-in user's history, and answers as the original demo did (the "
    "reply is also under `message`). Elsewhere it is refused with 403: sign in and `POST /messages`.",
    responses=contract.responses(
        200, "Stored anonymously; the reply in the message's language", {403: contract.NO_ANONYMOUS}
    ),
)
def send(
    user: Annotated[UserName, Query(description="The name to send under", examples=["alice"])],
    message: Annotated[MessageText, Query(description="The message", examples=["Gracias por todo"])],
) -> SendAccepted:
    """Store an anonymous message and reply in its language, as the original demo's ``GET /send``."""
    if not app.context.get("anonymous_send"):
        raise Forbidden(contract.NO_ANONYMOUS_MESSAGE)
    anonymous = NewMessage(user=user, message=message, anonymous=True)
    receipt = _service().accept(anonymous, allow_reserved=_deployment_check())
    record_receipt(metrics, receipt)
    return SendAccepted.of(receipt)


_HISTORY_LINKS = {
    "NextPage": {
        "operationId": "readMyHistory",
        "parameters": {"next": "$response.body#/next"},
        "description": "The following page, while `next` is not null",
    }
}
_HISTORY_ERRORS = {
    400: contract.BAD_PAGE_TOKEN,
    401: contract.NOT_SIGNED_IN,
    403: contract.NO_API_KEY,
    503: contract.HISTORY_UNAVAILABLE,
}
Limit = Annotated[int, Query(ge=1, le=100, description="Messages per page")]
PageToken = Annotated[str | None, Query(description="Token from the previous page")]


@_route(
    "GET",
    "/messages/me",
    operation_id="readMyHistory",
    tags=[TAG],
    summary="The signed-in user's messages, newest first (API key required)",
    description="A page of the signed-in user's messages, newest first; `next` reads the following page.",
    security=[{contract.USER_POOL_SCHEME: [], contract.API_KEY_SCHEME: []}],
    responses=contract.responses(200, "A page of your history", _HISTORY_ERRORS, links=_HISTORY_LINKS),
)
def my_history(limit: Limit = 20, next: PageToken = None) -> History:
    """Read a page of the signed-in user's history."""
    return _history_of(_caller(), limit, next)


@_route(
    "GET",
    "/messages/<user>",
    operation_id="readHistory",
    tags=[TAG],
    summary="A user's messages, newest first: only your own (API key required)",
    description="The same as `GET /messages/me` when `user` is the signed-in user; any other user is "
    "refused with 403.",
    security=[{contract.USER_POOL_SCHEME: [], contract.API_KEY_SCHEME: []}],
    responses=contract.responses(
        200,
        "A page of your history",
        {**_HISTORY_ERRORS, 403: contract.NOT_YOUR_HISTORY},
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
    limit: Limit = 20,
    next: PageToken = None,
) -> History:
    """Read a page of the signed-in user's history, named in the path."""
    # REST APIs pass path parameters still percent-encoded.
    name = _user.validate_python(unquote(user))
    if name != _caller():
        raise Forbidden("you can read only your own history")
    return _history_of(name, limit, next)


def _history_of(user: str, limit: int, page_token: str | None) -> History:
    page = _service().history(user, limit, page_token, allow_reserved=_deployment_check())
    record_history_read(metrics, len(page.messages))
    return History.of(user, page)


def create_handler(
    build: Callable[[], StoreAndReply],
    *,
    once: bool = True,
    anonymous_send: Callable[[], bool] = lambda: False,
    check_client: Callable[[], str | None] = lambda: None,
) -> Handler:
    """A Lambda handler whose service comes from ``build``: called once, or on every invocation
    when ``build`` keeps the service itself (``once=False``); ``anonymous_send`` says whether
    ``GET /send`` takes anonymous messages."""
    built: list[StoreAndReply] = []

    @logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        if not built or not once:
            built[:] = [build()]
        tag_version(metrics, context.function_name, context.function_version)
        if refused := unsupported_media_type(event):
            record_rejected_request(metrics)
            return refused
        app.append_context(
            service=built[0],
            deployment_check=is_deployment_check(context),
            anonymous_send=anonymous_send(),
            check_client=check_client(),
        )
        return app.resolve(event, context)

    return handler


CONFIGURED = Configured(lambda: ApiSettings.from_environ(os.environ))


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
lambda_handler = create_handler(
    PRODUCTION.get,
    once=False,
    anonymous_send=lambda: CONFIGURED.settings.anonymous_send,
    check_client=lambda: CONFIGURED.settings.deployment_check_client_id,
)
