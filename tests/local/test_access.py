"""Per-user access on the local stack: identity from verified Cognito ID tokens, as deployed.

The local gateway verifies tokens as API Gateway's Cognito authorizer does; every bad token is a
401 with a JSON body, never a 5xx.
"""

import gzip
import json
import time
from importlib import resources
from typing import Any
from urllib.parse import quote

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.support.local_stack import RunningStack

UNAUTHORIZED = (401, {"message": "Unauthorized"})


def test_a_user_reads_only_their_own_history(stack: RunningStack) -> None:
    alice, bob = stack.as_user("alice", api_key=True), stack.as_user("bob", api_key=True)
    stack.http("POST", "/messages", {"message": "Alice writes this"}, headers=alice)
    stack.http("POST", "/messages", {"message": "Bob writes this"}, headers=bob)

    mine = stack.http("GET", "/messages/me", headers=alice)
    bobs = stack.http("GET", "/messages/bob", headers=alice)

    assert [m["message"] for m in mine.body["messages"]] == ["Alice writes this"]
    assert (bobs.status, bobs.body) == (403, {"message": "you can read only your own history"})


def test_a_user_cannot_post_as_another(stack: RunningStack) -> None:
    alice = stack.as_user("alice", api_key=True)

    refused = stack.http("POST", "/messages", {"user": "bob", "message": "I am bob"}, headers=alice)
    bob = stack.http("GET", "/messages/me", headers=stack.as_user("bob", api_key=True))

    assert refused.status == 403
    assert "I am bob" not in [m["message"] for m in bob.body["messages"]]


def test_anonymous_messages_are_stored_where_no_signed_in_user_can_read(stack: RunningStack) -> None:
    sent = stack.http("GET", f"/send?user=nadia&message={quote('Muchas gracias por tu ayuda')}")
    nadia = stack.as_user("nadia", api_key=True)

    assert sent.status == 200
    assert stack.http("GET", "/messages/me", headers=nadia).body["messages"] == []
    assert stack.http("GET", "/messages/nadia", headers=nadia).body["messages"] == []


def moto_pool_key() -> RSAKey:
    """The key moto signs every pool's tokens with: it stands for the pool's own signing key."""
    packed = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    return RSAKey.import_key(json.loads(gzip.decompress(packed)))


def forged(claims: dict[str, Any], key: RSAKey, kid: str = "dummy") -> str:
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key)


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, moto_pool_key()).claims


def bad_tokens(stack: RunningStack) -> dict[str, str | None]:
    good = stack.token("erin")
    claims = claims_of(good)
    cognito = stack.client("cognito-idp")
    other = cognito.create_user_pool(PoolName="another-pool")["UserPool"]["Id"]
    other_client = cognito.create_user_pool_client(
        UserPoolId=other, ClientName="other", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=other, Username="erin", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=other, Username="erin", Password="Other-pool-1", Permanent=True
    )
    from_other_pool = cognito.admin_initiate_auth(
        UserPoolId=other,
        ClientId=other_client,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "erin", "PASSWORD": "Other-pool-1"},
    )["AuthenticationResult"]
    pool_key = moto_pool_key()
    return {
        "missing": None,
        "garbage": "not-a-token",
        "expired": forged({**claims, "exp": int(time.time()) - 60}, pool_key),
        "wrong signature": forged(claims, RSAKey.generate_key(2048)),
        "wrong audience": forged({**claims, "aud": "some-other-client"}, pool_key),
        "another pool": from_other_pool["IdToken"],
        "an access token": from_other_pool["AccessToken"].replace(
            from_other_pool["AccessToken"],
            forged({**claims, "token_use": "access", "client_id": claims["aud"]}, pool_key),
        ),
    }


@pytest.mark.parametrize(
    "case",
    ["missing", "garbage", "expired", "wrong signature", "wrong audience", "another pool", "an access token"],
)
def test_a_bad_token_is_a_401_with_a_json_body(stack: RunningStack, case: str) -> None:
    token = bad_tokens(stack)[case]
    headers = {"x-api-key": stack.api_key, **({"Authorization": token} if token else {})}

    posted = stack.http("POST", "/messages", {"message": "Hello"}, headers=headers)
    read = stack.http("GET", "/messages/me", headers=headers)

    assert (posted.status, posted.body) == UNAUTHORIZED
    assert (read.status, read.body) == UNAUTHORIZED


def test_the_good_token_passes_where_the_bad_ones_do_not(stack: RunningStack) -> None:
    headers = {"Authorization": stack.token("erin"), "x-api-key": stack.api_key}

    assert stack.http("GET", "/messages/me", headers=headers).status == 200


@pytest.mark.parametrize("scheme", ["", "Bearer ", "bearer "])
def test_the_id_token_is_taken_alone_or_after_the_bearer_scheme(stack: RunningStack, scheme: str) -> None:
    # The API's contract (docs/api.md): what API Gateway's Cognito authorizer
    # takes, pinned against a deployed stack by tests/integration/test_deployed_api.py.
    headers = {"Authorization": scheme + stack.token("erin"), "x-api-key": stack.api_key}

    assert stack.http("GET", "/messages/me", headers=headers).status == 200


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic {token}", "Bearer Bearer {token}"])
def test_a_scheme_without_the_token_or_another_scheme_is_401(stack: RunningStack, header: str) -> None:
    headers = {"Authorization": header.format(token=stack.token("erin")), "x-api-key": stack.api_key}

    assert stack.http("GET", "/messages/me", headers=headers).status == 401
