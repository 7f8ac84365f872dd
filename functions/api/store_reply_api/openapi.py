"""The API's OpenAPI document, generated from the routes (Powertools' OpenAPI support).

Served by the local stack at /openapi.json, written to dist/openapi.json by ``make openapi`` for
clients, fuzzed by tests/local/test_contract.py. Not imported by the handler: building the
document costs time no request needs.
"""

import json
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, Server, ServerVariable, Tag

from store_reply_api import contract
from store_reply_api.app import TAG, app

TITLE = "Store & Reply"
DESCRIPTION = (
    "Send a message: the service detects its language, replies with a thank-you text in that "
    "language and stores the message; read a user's messages back. Errors have one JSON shape, "
    "`ApiError`, whether the function or API Gateway answers."
)
DEPLOYED = Server(
    url="https://{restApiId}.execute-api.{region}.amazonaws.com/v1",
    description="A deployed stack (its ApiUrl output)",
    variables={
        "restApiId": ServerVariable(default="restApiId", description="The stack's REST API id"),
        "region": ServerVariable(default="us-east-1", description="The stack's region"),
    },
)


def openapi_document(server_url: str | None = None, version: str = "1.0.0") -> dict[str, Any]:
    """The document, with ``server_url`` as its server (a deployed stack's URL pattern when None)."""
    document: str = app.get_openapi_json_schema(
        title=TITLE,
        version=version,
        description=DESCRIPTION,
        servers=[Server(url=server_url)] if server_url else [DEPLOYED],
        tags=[Tag(name=TAG, description="Messages and their replies")],
        security_schemes={
            contract.API_KEY_SCHEME: APIKey(
                name="x-api-key",
                in_=APIKeyIn.header,
                description="An API key of the stack's usage plan (make start prints the local one)",
            ),
            contract.USER_POOL_SCHEME: APIKey(
                name="Authorization",
                in_=APIKeyIn.header,
                description="A Cognito ID token of the stack's user pool, as it is (no 'Bearer'): "
                "`make token AS=alice` locally; docs/api.md, 'Users and tokens'",
            ),
        },
    )
    parsed: dict[str, Any] = json.loads(document)
    _drop_unreferenced_schemas(parsed)
    return parsed


def _drop_unreferenced_schemas(document: dict[str, Any]) -> None:
    """Powertools adds the schemas of its own validation errors; this API answers ApiError instead."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    prefix = "#/components/schemas/"
    reached: set[str] = set()
    pending = [document["paths"]]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith(prefix):
                name = reference.removeprefix(prefix)
                if name not in reached:
                    reached.add(name)
                    pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    for name in set(schemas) - reached:
        del schemas[name]


if __name__ == "__main__":
    import sys
    from pathlib import Path

    Path(sys.argv[1]).write_text(json.dumps(openapi_document(), indent=2) + "\n")
