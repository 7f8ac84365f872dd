"""The deployed HTTP API, called over HTTPS as a user would."""

from urllib.parse import quote

from tests.integration.conftest import Stack
from tests.support import http


def test_a_message_is_answered_stored_and_read_back(stack: Stack, test_user: str) -> None:
    sent = http("POST", stack.url("/messages"), {"user": test_user, "message": "Merci beaucoup pour tout"})
    history = http("GET", stack.url(f"/messages/{quote(test_user)}"), headers={"x-api-key": stack.api_key})

    assert sent.status == 201
    assert sent.body["language"] in {"fr", "und"}
    assert history.status == 200
    assert [m["id"] for m in history.body["messages"]] == [sent.body["id"]]


def test_the_demo_route_answers_with_the_reply(stack: Stack, test_user: str) -> None:
    response = http("GET", stack.url(f"/send?user={quote(test_user)}&message={quote('Danke schön')}"))

    assert response.status == 200
    assert response.body["message"] == response.body["reply"]


def test_history_without_the_api_key_is_forbidden(stack: Stack, test_user: str) -> None:
    assert http("GET", stack.url(f"/messages/{quote(test_user)}")).status == 403


def test_bad_input_is_rejected_with_the_field_named(stack: Stack, test_user: str) -> None:
    response = http("POST", stack.url("/messages"), {"user": test_user})

    assert response.status == 422
    assert "body.message" in [error["field"] for error in response.body["errors"]]


def test_unknown_paths_and_methods(stack: Stack) -> None:
    assert http("GET", stack.url("/no-such-route")).status == 404
    assert http("DELETE", stack.url("/messages")).status == 405
