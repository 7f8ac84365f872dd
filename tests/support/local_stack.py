"""The local stack, started as ``make start`` starts it, on free ports with its own data folder."""

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devkit.local.client import LocalClient
from devkit.local.options import free_port
from devkit.template import ROOT
from tests.support.http import Reply, http

START_SECONDS = 60


@dataclass
class RunningStack:
    """A ``python -m devkit.local start`` process and what it printed."""

    process: subprocess.Popen[str]
    api_port: int
    aws_port: int
    data_dir: Path
    output: list[str] = field(default_factory=list)
    local: LocalClient | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def api_key(self) -> str:
        return (self.data_dir / "api-key").read_text().strip()

    @property
    def users(self) -> LocalClient:
        """The stack called as its users call it, signed in through its pool (``make token``'s way)."""
        if self.local is None:
            self.local = LocalClient(self.api, f"http://127.0.0.1:{self.aws_port}")
        return self.local

    def http(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        return http(method, self.api + path, body, headers)

    def token(self, user: str) -> str:
        """An ID token for ``user``, signed up in the stack's user pool first, as ``make token`` does."""
        return self.users.id_token(user)

    def as_user(self, user: str, *, api_key: bool = False) -> dict[str, str]:
        """The headers of a request signed in as ``user`` (and with the API key)."""
        return self.users.headers_of(user, self.api_key if api_key else None)

    def client(self, service: str) -> Any:
        return self.users.aws(service)

    def queue_url(self, logical_id: str) -> str:
        return self.users.queue_url(logical_id)

    def stop(self) -> int:
        """Ctrl-C, as a developer stops it; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_stack(
    data_dir: Path,
    template: Path = ROOT / "template.yaml",
    api_port: int = 0,
    aws_port: int = 0,
    options: tuple[str, ...] = (),
) -> RunningStack:
    """Start the stack and wait for its banner."""
    api_port, aws_port = api_port or free_port(), aws_port or free_port()
    command = [
        sys.executable, "-m", "devkit.local", "start", "--port", str(api_port), "--aws-port", str(aws_port),
        "--data-dir", str(data_dir), "--template", str(template), *options,
    ]  # fmt: skip
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(  # noqa: S603
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment, cwd=ROOT
    )
    stack = RunningStack(process, api_port, aws_port, data_dir)
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            stack.output.append(line)
            if "is running locally" in line:
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + START_SECONDS
    while not ready.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            stack.stop()
            raise AssertionError("the local stack did not start:\n" + "".join(stack.output))
    return stack
