"""The deployed HTTP API, called over HTTPS as a signed-in user would."""

from urllib.parse import quote

import pytest

from tests.support.deployed import SignedInUser, Stack
from tests.support.http import http


def test_a_message_is_answered_stored_and_read_back(stack: Stack, test_user: SignedInUser) -> None:
    signed_in = {"Authorization": test_user.token}
    keyed = {**signed_in, "x-api-key": stack.api_key}

    sent = http("POST", stack.url("/messages"), {"message": "Merci beaucoup pour tout"}, headers=signed_in)
    history = http("GET", stack.url("/messages/me"), headers=keyed)
    by_name = http("GET", stack.url(f"/messages/{quote(test_user.name)}"), headers=keyed)

    assert sent.status == 201
    assert sent.body["user"] == test_user.name
    assert sent.body["language"] in {"fr", "und"}
    assert history.status == by_name.status == 200
    assert [m["id"] for m in history.body["messages"]] == [sent.body["id"]]


@pytest.mark.parametrize("scheme", ["", "Bearer "])
def test_the_authorizer_takes_the_id_token_alone_or_after_bearer(
    stack: Stack, test_user: SignedInUser, scheme: str
) -> None:
    # Not in API Gateway's documentation: pinned here, and the local gateway does the same
    # (tests/local/test_access.py).
    headers = {"Authorization": scheme + test_user.token, "x-api-key": stack.api_key}

    assert http("GET", stack.url("/messages/me"), headers=headers).status == 200


def test_without_a_token_or_with_a_bad_one_writing_is_401(stack: Stack, test_user: SignedInUser) -> None:
    body = {"message": "Hello"}

    assert http("POST", stack.url("/messages"), body).status == 401
    assert (
        http("POST", stack.url("/messages"), body, headers={"Authorization": test_user.token[:-4]}).status
        == 401
    )


def test_another_user_s_history_is_403(stack: Stack, test_user: SignedInUser) -> None:
    headers = {"Authorization": test_user.token, "x-api-key": stack.api_key}

    assert http("GET", stack.url("/messages/someone-else"), headers=headers).status == 403


def test_the_demo_route_follows_the_stage_s_anonymous_mode(stack: Stack, test_user: SignedInUser) -> None:
    response = http("GET", stack.url(f"/send?user={quote(test_user.name)}&message={quote('Danke schön')}"))

    if stack.outputs["AnonymousSend"] == "enabled":
        assert response.status == 200
        assert response.body["message"] == response.body["reply"]
    else:
        assert response.status == 403


def test_history_without_the_api_key_is_forbidden(stack: Stack, test_user: SignedInUser) -> None:
    assert http("GET", stack.url("/messages/me"), headers={"Authorization": test_user.token}).status == 403


def test_bad_input_is_rejected_with_the_field_named(stack: Stack, test_user: SignedInUser) -> None:
    response = http("POST", stack.url("/messages"), {}, headers={"Authorization": test_user.token})

    assert response.status == 422
    assert "body.message" in [error["field"] for error in response.body["errors"]]


def test_unknown_paths_and_methods(stack: Stack) -> None:
    assert http("GET", stack.url("/no-such-route")).status == 404
    assert http("DELETE", stack.url("/messages")).status == 405
