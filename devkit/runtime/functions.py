"""Functions of the template run in worker processes, restarted when their code changes."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

WORKER_START_SECONDS = 60


class InvocationFailed(Exception):
    """The function raised, timed out or could not start; the message says which."""


@dataclass(frozen=True)
class FunctionSpec:
    """A function of the template, as the local stack runs it."""

    logical_id: str
    name: str
    arn: str  # unqualified, as Lambda reports the invoked function's ARN
    handler: str
    timeout: int
    memory: int
    environment: Mapping[str, str]
    code_paths: Sequence[Path]  # the function's CodeUri, then its layers' ContentUri


def code_fingerprint(paths: Sequence[Path]) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of the code files: it changes when any file does."""
    entries = []
    for root in paths:
        for folder, folders, files in os.walk(root):
            folders[:] = [f for f in folders if f != "__pycache__"]
            for file in files:
                stat = Path(folder, file).stat()
                entries.append((str(Path(folder, file)), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(entries))


@dataclass(frozen=True)
class Outcome:
    """One invocation: its result or its error (as Lambda reports it), what it printed, how long it took."""

    result: Any
    error: str | None
    logs: list[str]
    milliseconds: float

    @property
    def error_message(self) -> str | None:
        """Lambda's ``errorMessage``: the last line of the error's traceback."""
        if self.error is None:
            return None
        lines = self.error.strip().splitlines()
        return lines[-1] if lines else "error"

    def error_payload(self) -> dict[str, Any]:
        """The payload Lambda's Invoke answers for a function error (``X-Amz-Function-Error: Unhandled``)."""
        return {
            "errorMessage": self.error_message,
            "errorType": "Unhandled",
            "stackTrace": (self.error or "").strip().splitlines(),
        }

    def value(self) -> Any:
        """The handler's result; ``InvocationFailed`` if it raised, timed out or could not start."""
        if self.error is not None:
            raise InvocationFailed(self.error)
        return self.result


class FunctionRunner:
    """Runs one function: one worker process, one invocation at a time, a fresh worker after a code edit."""

    def __init__(
        self,
        spec: FunctionSpec,
        on_restart: Callable[[FunctionSpec], None] | None = None,
        *,
        quiet: bool = False,
    ) -> None:
        self.spec = spec
        self._quiet = quiet
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._connection: Connection | None = None
        self._fingerprint = code_fingerprint(spec.code_paths)
        self._on_restart = on_restart

    def start(self) -> None:
        """Start the worker and wait until the handler module is imported."""
        with self._lock:
            self._ensure_started()

    def stop(self) -> None:
        """Stop the worker."""
        with self._lock:
            self._stop()

    def invoke(self, event: Mapping[str, Any], request_id: str | None = None) -> Any:
        """Invoke the handler with ``event``; raise ``InvocationFailed`` as Lambda would report it."""
        return self.run(event, request_id).value()

    def run(
        self,
        event: Mapping[str, Any],
        request_id: str | None = None,
        qualifier: str | None = None,
        client_context: Mapping[str, Any] | None = None,
    ) -> Outcome:
        """Invoke the handler with ``event``: the outcome, a function error included.

        Its Duration is Lambda's: the handler's run (timed in the worker), a timeout's limit, or for
        a worker that could not start or exited, the time from when it was this request's (never
        the wait for the worker while it serves another request, which Lambda would not make).
        """
        request = {
            "event": event,
            "request_id": request_id,
            "timeout": self.spec.timeout,
            "function_arn": self.spec.arn,
            "qualifier": qualifier,
            "client_context": dict(client_context) if client_context else None,
        }
        turn: list[float] = []  # when the worker became this request's
        try:
            reply = self._request(request, turn)
        except InvocationFailed as error:
            timed_out = str(error).startswith("Task timed out")
            ran_ms = self.spec.timeout * 1000 if timed_out else (time.monotonic() - turn[0]) * 1000
            return Outcome(None, str(error), [], ran_ms)
        ran_ms = float(reply.get("ran_ms", (time.monotonic() - turn[0]) * 1000))
        milliseconds = ran_ms + float(reply.get("extra_ms", 0.0))
        return Outcome(reply.get("result"), reply.get("error"), reply.get("logs", []), milliseconds)

    def openapi(self, options: Mapping[str, str]) -> str:
        """The OpenAPI document of the function's Powertools resolver."""
        reply = self._request({"openapi": dict(options)})
        if "error" in reply:
            raise InvocationFailed(reply["error"])
        result: str = reply["result"]
        return result

    def _request(self, request: dict[str, Any], turn: list[float] | None = None) -> dict[str, Any]:
        with self._lock:
            if turn is not None:
                turn.append(time.monotonic())
            fingerprint = code_fingerprint(self.spec.code_paths)
            if fingerprint != self._fingerprint:
                self._fingerprint = fingerprint
                self._stop()
                if self._on_restart:
                    self._on_restart(self.spec)
            connection = self._ensure_started()
            connection.send(request)
            timeout = request.get("timeout", WORKER_START_SECONDS)
            if not connection.poll(timeout):
                self._stop()
                raise InvocationFailed(f"Task timed out after {timeout:.2f} seconds")
            try:
                reply: dict[str, Any] = connection.recv()
            except EOFError:
                self._stop()
                raise InvocationFailed("the function's process exited") from None
            return reply

    def _ensure_started(self) -> Connection:
        if self._connection is not None and self._process is not None and self._process.poll() is None:
            return self._connection
        self._stop()
        ours, theirs = socket.socketpair()
        environment = {
            **self.spec.environment,
            "PYTHONPATH": os.pathsep.join(str(path) for path in self.spec.code_paths),
        }
        self._process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "devkit.runtime.worker", str(theirs.fileno()), self.spec.handler],
            env=environment,
            pass_fds=[theirs.fileno()],
            stdout=subprocess.DEVNULL if self._quiet else None,
            stderr=subprocess.DEVNULL if self._quiet else None,
        )
        theirs.close()
        connection = Connection(ours.detach())
        try:
            if not connection.poll(WORKER_START_SECONDS):
                raise InvocationFailed(f"{self.spec.logical_id} did not start in {WORKER_START_SECONDS} s")
            hello = connection.recv()
        except (EOFError, InvocationFailed) as error:
            connection.close()
            self._stop()
            raise InvocationFailed(f"{self.spec.logical_id} exited while starting") from error
        if not hello.get("ready"):
            connection.close()
            self._stop()
            raise InvocationFailed(f"{self.spec.logical_id} failed to import its handler:\n{hello['error']}")
        self._connection = connection
        return connection

    def _stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self._process = None


def wait_all(runners: Sequence[FunctionRunner]) -> None:
    """Start every runner at once (their cold starts overlap), raising the first failure."""
    errors: list[BaseException] = []

    def start(runner: FunctionRunner) -> None:
        try:
            runner.start()
        except BaseException as error:  # noqa: BLE001 (re-raised below, in the caller's thread)
            errors.append(error)

    threads = [threading.Thread(target=start, args=(runner,), daemon=True) for runner in runners]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, WORKER_START_SECONDS - (time.monotonic() - started)))
    if errors:
        raise errors[0]
