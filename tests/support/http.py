"""Helpers for the tests that talk to a running stack, local or deployed, over the network."""

import time
from collections.abc import Callable

from devkit.local.client import Reply, http

__all__ = ["Reply", "eventually", "http"]


def eventually[T](probe: Callable[[], T | None], seconds: float = 20, interval: float = 0.2) -> T:
    """Poll until ``probe`` returns something truthy, or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := probe():
            return result
        time.sleep(interval)
    raise AssertionError(f"nothing within {seconds} s")
