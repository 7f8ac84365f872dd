"""HTTP answers the emulated services share."""

import json
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Response


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON body with its status and headers."""
    return Response(
        json.dumps(body), status=status, headers=dict(headers or {}), content_type="application/json"
    )
