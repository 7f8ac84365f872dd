"""Where and how the local stack runs: its ports, data folder, template and what it injects."""

import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devkit.aws.clock import Clock
from devkit.template import TEMPLATE


class PortInUse(Exception):
    """A port the stack needs is taken."""


@dataclass(frozen=True)
class LocalOptions:
    """Where and how the local stack runs."""

    host: str = "127.0.0.1"
    api_port: int = 3000
    aws_port: int = 3001
    data_dir: Path = TEMPLATE.parent / ".local"
    template: Path = TEMPLATE
    region: str = "us-east-1"
    stack_name: str = "store-and-reply-local"
    parameters: Mapping[str, str] = field(default_factory=dict)
    clock: Clock = field(default_factory=Clock)
    # DEVKIT_FAULTS of a function's live version, by logical id (tests; the rehearsal's candidate).
    faults: Mapping[str, str] = field(default_factory=dict)
    alarm_interval: float = 10.0  # simulated seconds between alarm evaluations
    # A rehearsal: the live version is built from this tree (the released one), the template's
    # own tree is the candidate, published as a new version where it differs, and the traffic
    # hooks run as functions.
    base_root: Path | None = None
    # DEVKIT_FAULTS of the released version (version 1) in a rehearsal, by logical id.
    base_faults: Mapping[str, str] = field(default_factory=dict)
    quiet_functions: bool = False  # the functions' output is not echoed (a rehearsal's terminal)
    seed: int | None = None  # alias routing and injected faults draw from seeded generators

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"


def ensure_free(host: str, port: int) -> None:
    """Raise ``PortInUse`` if something listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            raise PortInUse(f"port {port} on {host} is in use") from None


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, for a stack started beside others (tests, benchmarks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def local_api_key(data_dir: Path) -> str:
    """The local API key: made once, kept with the local data."""
    path = data_dir / "api-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()
