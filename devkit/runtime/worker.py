"""One function's execution environment: a process with the function's own environment variables.

Started by ``functions.FunctionRunner`` as ``python -m devkit.runtime.worker FD HANDLER``, FD being its
end of a socket pair to the local stack; imports the handler
once (its cold start), then runs one invocation at a time, as a Lambda execution environment does.
What the handler prints is echoed and also returned with the result, so the stack can read its
EMF metrics as CloudWatch Logs would. ``DEVKIT_FAULTS`` (see ``devkit.runtime.faults``) makes this environment
fail on purpose, around the real handler: the function's own code knows nothing of it.
"""

import importlib
import io
import json
import os
import random
import sys
import time
import traceback
import uuid
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from devkit.runtime.faults import Faults, InjectedFault, install_port_faults, with_faults


@dataclass
class ClientContext:
    """The client context an invoker passed (Lambda's ``context.client_context``)."""

    custom: dict[str, Any] = field(default_factory=dict)
    env: dict[str, Any] = field(default_factory=dict)
    client: Any = None


class _Tee(io.TextIOBase):
    """Writes through to the real stream and keeps the lines of the current invocation."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.lines: list[str] = []
        self._partial = ""

    def write(self, text: str) -> int:
        self._stream.write(text)
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        self.lines += complete
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def take(self) -> list[str]:
        lines, self.lines = [*self.lines, *([self._partial] if self._partial else [])], []
        self._partial = ""
        return lines


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
    client_context: ClientContext | None = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def _openapi(module: Any, options: dict[str, Any]) -> str:
    """The document the function's package generates (``<package>.openapi.openapi_document``)."""
    generator = importlib.import_module(f"{module.__package__}.openapi")
    return json.dumps(generator.openapi_document(server_url=options["url"], version=options["version"]))


def main() -> None:
    descriptor, handler_path = int(sys.argv[1]), sys.argv[2]
    connection = Connection(descriptor)
    module_name, _, attribute = handler_path.rpartition(".")
    try:
        faults = Faults.parse(os.environ.get("DEVKIT_FAULTS", ""))
        if faults.crash:
            raise InjectedFault("DEVKIT_FAULTS: crash at import")
        module = importlib.import_module(module_name)
        handler = with_faults(getattr(module, attribute), faults)
        install_port_faults(faults)
    except Exception:  # noqa: BLE001 (reported to the caller, who shows it)
        connection.send({"ready": False, "error": traceback.format_exc()})
        return
    if seed := os.environ.get("DEVKIT_SEED"):  # reproducible faults, per function and version
        random.seed(
            f"{seed}/{os.environ['AWS_LAMBDA_FUNCTION_NAME']}/{os.environ['AWS_LAMBDA_FUNCTION_VERSION']}"
        )
    connection.send({"ready": True})
    output = _Tee(sys.stdout)
    sys.stdout = output
    name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
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
        qualifier = request.get("qualifier")
        invoked = request["function_arn"]
        context = Context(
            function_name=name,
            function_version=os.environ["AWS_LAMBDA_FUNCTION_VERSION"],
            invoked_function_arn=f"{invoked}:{qualifier}" if qualifier else invoked,
            memory_limit_in_mb=int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
            aws_request_id=request.get("request_id") or str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{name}",
            log_stream_name="local",
            deadline=time.monotonic() + request["timeout"],
            client_context=ClientContext(**request["client_context"])
            if request.get("client_context")
            else None,
        )
        output.take()
        started = time.monotonic()
        try:
            result = handler(request["event"], context)
        except Exception:  # noqa: BLE001 (a handler error is the invocation's result, as on Lambda)
            traceback.print_exc()
            sys.stdout.flush()
            ran_ms = (time.monotonic() - started) * 1000
            connection.send({"error": traceback.format_exc(), "logs": output.take(), "ran_ms": ran_ms})
            continue
        ran_ms = (time.monotonic() - started) * 1000
        sys.stdout.flush()
        reply = {"result": result, "logs": output.take(), "ran_ms": ran_ms, "extra_ms": faults.latency}
        connection.send(reply)


if __name__ == "__main__":
    main()
