"""ID tokens verified as API Gateway's Cognito user pool authorizer verifies them, for the local gateway.

The pools live in the embedded endpoint (moto signs their tokens with RS256 and publishes the keys
at ``/<pool id>/.well-known/jwks.json``). A token is accepted only if, as AWS documents for
verifying a Cognito JSON web token: its signature verifies with a key of its pool's JWKS; its
issuer is ``https://cognito-idp.<region>.amazonaws.com/<pool id>`` for a pool the operation's
authorizer names; it is an ID token (``token_use`` is ``id``: an authorizer without OAuth scopes
takes ID tokens); its audience is an app client of that pool; and it has not expired. What passes
becomes ``requestContext.authorizer.claims``, every value a string, as API Gateway passes them.
"""

import base64
import binascii
import json
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient


def bearer_token(authorization: str) -> str:
    """The token of an ``Authorization`` header: the ID token alone, or ``Bearer <token>`` as OAuth
    clients send it (the scheme in any case). API Gateway's Cognito authorizer takes both."""
    scheme, _, rest = authorization.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest.strip() else authorization.strip()


class TokenRefused(Exception):
    """The token is missing or fails a check; the reason is for logs, never for the caller."""


def _unverified_claims(token: str) -> dict[str, Any]:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error) as error:
        raise TokenRefused("not a JSON web token") from error
    if not isinstance(claims, dict):
        raise TokenRefused("not a JSON web token")
    return claims


class CognitoTokens:
    """Verifies tokens against the user pools of the embedded endpoint."""

    def __init__(
        self,
        client: "CognitoIdentityProviderClient",
        endpoint_url: str,
        region: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._endpoint = endpoint_url.rstrip("/")
        self._region = region
        self._clock = clock
        self._keys: dict[str, KeySet] = {}

    def claims(self, authorization: str | None, pool_arns: Sequence[str]) -> dict[str, str]:
        """The verified claims of the ``Authorization`` header's token; raise ``TokenRefused``."""
        if not authorization:
            raise TokenRefused("no Authorization header")
        token = bearer_token(authorization)
        issuer = str(_unverified_claims(token).get("iss", ""))
        pools = {arn.rsplit("/", 1)[-1] for arn in pool_arns}
        pool = issuer.rsplit("/", 1)[-1]
        if pool not in pools or issuer != f"https://cognito-idp.{self._region}.amazonaws.com/{pool}":
            raise TokenRefused(f"issuer {issuer!r} is not a pool of this authorizer")
        try:
            verified = jwt.decode(token, self._key_set(pool), algorithms=["RS256"])
        except (JoseError, ValueError) as error:
            raise TokenRefused(f"signature: {error}") from error
        claims = verified.claims
        if claims.get("token_use") != "id":
            raise TokenRefused(f"token_use {claims.get('token_use')!r}, the authorizer takes ID tokens")
        if claims.get("aud") not in self._client_ids(pool):
            raise TokenRefused(f"audience {claims.get('aud')!r} is not an app client of the pool")
        if not isinstance(claims.get("exp"), int) or claims["exp"] <= self._clock():
            raise TokenRefused("expired")
        return {name: str(value) for name, value in claims.items()}

    def _key_set(self, pool: str) -> KeySet:
        if pool not in self._keys:
            url = f"{self._endpoint}/{pool}/.well-known/jwks.json"
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (the loopback endpoint)
                self._keys[pool] = KeySet.import_key_set(json.loads(response.read()))
        return self._keys[pool]

    def _client_ids(self, pool: str) -> set[str]:
        clients = self._client.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"]
        return {client["ClientId"] for client in clients}
