"""One function's execution environment: a process with the function's own environment variables.

Started by ``functions.FunctionRunner`` as ``python -m devkit.local.worker FD HANDLER``, FD being its
end of a socket pair to the local stack; imports the handler
once (its cold start), then runs one invocation at a time, as a Lambda execution environment does.
"""

import importlib
import os
import sys
import time
import traceback
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any


@dataclass
class Context:
    """The Lambda context object, as much of it as handlers read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def _openapi(module: Any, options: dict[str, Any]) -> str:
    app = getattr(module, "app", None)
    if app is None or not hasattr(app, "get_openapi_json_schema"):
        raise LookupError("the handler module has no Powertools resolver named 'app'")
    from aws_lambda_powertools.event_handler.openapi.models import (  # noqa: PLC0415
        APIKey,
        APIKeyIn,
        Server,
    )

    schema: str = app.get_openapi_json_schema(
        title=options["title"],
        version=options["version"],
        servers=[Server(url=options["url"])],
        security_schemes={"api_key": APIKey(name="x-api-key", in_=APIKeyIn.header)},
    )
    return schema


def main() -> None:
    descriptor, handler_path = int(sys.argv[1]), sys.argv[2]
    connection = Connection(descriptor)
    module_name, _, attribute = handler_path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        handler = getattr(module, attribute)
    except Exception:  # noqa: BLE001 (reported to the caller, who shows it)
        connection.send({"ready": False, "error": traceback.format_exc()})
        return
    connection.send({"ready": True})
    name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    region = os.environ["AWS_REGION"]
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        if "openapi" in request:
            try:
                connection.send({"result": _openapi(module, request["openapi"])})
            except Exception:  # noqa: BLE001 (reported to the caller)
                connection.send({"error": traceback.format_exc()})
            continue
        context = Context(
            function_name=name,
            function_version=os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
            invoked_function_arn=f"arn:aws:lambda:{region}:123456789012:function:{name}",
            memory_limit_in_mb=int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
            aws_request_id=request.get("request_id") or str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{name}",
            log_stream_name="local",
            deadline=time.monotonic() + request["timeout"],
        )
        try:
            connection.send({"result": handler(request["event"], context)})
        except Exception:  # noqa: BLE001 (a handler error is the invocation's result, as on Lambda)
            traceback.print_exc()
            connection.send({"error": traceback.format_exc()})


if __name__ == "__main__":
    main()
