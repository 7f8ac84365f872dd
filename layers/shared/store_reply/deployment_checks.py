"""Deployment checks: the traffic hooks' own messages, under users no caller of the API can be.

User names beginning with ``__`` are reserved. The API and the queue refuse them, except:

- in an invocation whose Lambda client context carries ``deploymentCheck``: only a principal
  allowed to invoke the function directly (the hooks) can set it; API Gateway and the SQS event
  source mapping never do;
- through the API, for a caller whose ID token was issued to the pool's deployment-check app
  client (its only sign-in flow is the admin one, which needs the post-traffic hook's IAM
  permissions): someone who signed themselves up under a reserved name through the public client
  is still refused;
- through the queue, for a record carrying the ``deploymentCheck`` message attribute: whoever may
  send to the queue is trusted with it already, and such messages are never counted or kept.

Each deployment checks under a user of its own, so hooks of deployments running in parallel never
delete each other's messages.
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


def is_check_client_token(claims: Any, check_client_id: str | None) -> bool:
    """True when verified ID-token claims were issued to the deployment-check app client."""
    return bool(check_client_id) and isinstance(claims, dict) and claims.get("aud") == check_client_id


def is_deployment_check(context: Any) -> bool:
    """True when a Lambda invocation's client context marks it as a deployment check."""
    client_context = getattr(context, "client_context", None)
    custom = getattr(client_context, "custom", None) or {}
    return bool(custom.get(CLIENT_CONTEXT_KEY))
