"""Helpers for the tests that talk to a running stack, local or deployed, over the network."""

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Reply:
    """An HTTP answer, its body parsed as JSON."""

    status: int
    headers: dict[str, str]
    body: Any


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
    """One request; a string body is sent as it is, anything else as JSON. Any status is returned."""
    data = (
        body.encode() if isinstance(body, str) else (json.dumps(body).encode() if body is not None else None)
    )
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    if data is not None and "Content-Type" not in (headers or {}):
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            raw, status, answer_headers = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw, status, answer_headers = error.read(), error.code, dict(error.headers)
    return Reply(status, answer_headers, json.loads(raw) if raw else None)


def eventually[T](probe: Callable[[], T | None], seconds: float = 20, interval: float = 0.2) -> T:
    """Poll until ``probe`` returns something truthy, or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := probe():
            return result
        time.sleep(interval)
    raise AssertionError(f"nothing within {seconds} s")
