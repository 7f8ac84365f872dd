"""Deployment checks: the traffic hooks' own messages, under users no caller of the API can be.

User names beginning with ``__`` are reserved. The API and the queue refuse them, except in an
invocation whose Lambda client context carries ``deploymentCheck``: only a principal allowed to
invoke the function directly (the hooks) can set it; API Gateway and the SQS event source mapping
never do. Each deployment checks under a user of its own, so hooks of deployments running in
parallel never delete each other's messages.
"""

from typing import Any

RESERVED_USER_PREFIX = "__"
CLIENT_CONTEXT_KEY = "deploymentCheck"


def is_reserved(user: str) -> bool:
    """True for user names in the namespace kept for deployment checks."""
    return user.startswith(RESERVED_USER_PREFIX)


def check_user(deployment_id: str) -> str:
    """The user a deployment's hooks send their messages as."""
    return f"{RESERVED_USER_PREFIX}deployment-check__{deployment_id}"


def is_deployment_check(context: Any) -> bool:
    """True when a Lambda invocation's client context marks it as a deployment check."""
    client_context = getattr(context, "client_context", None)
    custom = getattr(client_context, "custom", None) or {}
    return bool(custom.get(CLIENT_CONTEXT_KEY))
