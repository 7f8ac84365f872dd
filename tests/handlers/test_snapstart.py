"""SnapStart: the functions prime themselves before the snapshot and take nothing unique from it.

A snapshot is restored into many execution environments. The test plays that: it primes once,
keeps the state a snapshot would hold (the random generator's state, the built service), then
restores twice from that same state, with the fresh credentials Lambda gives each environment,
and compares what each restore makes.
"""

import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import snapshot_restore_py
from botocore.client import BaseClient

from store_reply.adapters import snapstart
from store_reply.adapters.clients import AwsClients, build_clients
from store_reply_api import app as api
from store_reply_consumer import app as consumer
from tests.support.aws import TABLE_NAME, load_event

ENVIRONMENT = {
    "TABLE_NAME": TABLE_NAME,
    "REPLY_MESSAGE": "Thank you for your message!",
    "REPLY_LANGUAGE": "en",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dead-letters",
    "MAX_RECEIVE_COUNT": "5",
}


@pytest.fixture
def made_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[AwsClients]]:
    """Every set of clients the SnapStart hooks make, in order; the functions' settings from a clean cache."""
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    made: list[AwsClients] = []

    def recorded() -> AwsClients:
        made.append(build_clients())
        return made[-1]

    monkeypatch.setattr(snapstart, "build_clients", recorded)
    forget_configuration()
    yield made
    forget_configuration()


def forget_configuration() -> None:
    """Both functions read their settings and model again, from this test's environment."""
    for module in (api, consumer):
        for read_once in ("settings", "language_model"):
            vars(module.CONFIGURED).pop(read_once, None)


@pytest.fixture
def no_aws_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []

    def refuse(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        raise AssertionError(f"{operation} called while priming")

    monkeypatch.setattr(BaseClient, "_make_api_call", refuse)
    return calls


@pytest.mark.parametrize("module", [api, consumer], ids=["api", "consumer"])
def test_both_functions_register_their_hooks_with_the_runtime(module: Any) -> None:
    assert any(
        hook[0] == module.PRODUCTION.before_snapshot for hook in snapshot_restore_py.get_before_snapshot()
    )
    assert any(hook[0] == module.PRODUCTION.after_restore for hook in snapshot_restore_py.get_after_restore())


def test_priming_builds_loads_and_exercises_without_calling_aws(
    made_clients: list[AwsClients], no_aws_calls: list[str]
) -> None:
    api.PRODUCTION.before_snapshot()

    assert no_aws_calls == []
    (clients,) = made_clients
    assert clients.made == {"dynamodb", "comprehend", "translate"}  # made before the snapshot
    model = api.CONFIGURED.language_model
    assert model is not None
    assert model.loaded  # into the snapshot
    assert api.metrics.metric_set == {}  # the dry request left no metric to publish


def test_each_restore_makes_its_own_randomness_credentials_and_clients(
    made_clients: list[AwsClients], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA-AT-SNAPSHOT")
    api.PRODUCTION.before_snapshot()
    snapshot_service = api.PRODUCTION.get()
    snapshot_random = random.getstate()
    snapshot_draw = random.Random()  # noqa: S311 (the generator botocore's jitter uses)
    snapshot_draw.setstate(snapshot_random)
    restores = []
    for key in ("AKIA-RESTORE-ONE", "AKIA-RESTORE-TWO"):
        random.setstate(snapshot_random)  # each environment resumes from the same memory image
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
        api.PRODUCTION.after_restore()
        credentials = made_clients[-1].session.get_credentials()
        assert credentials is not None
        restores.append(
            {
                "draw": random.random(),  # noqa: S311 (the generator botocore's jitter uses)
                "id": uuid.uuid4().hex,
                "service": api.PRODUCTION.get(),
                "access_key": credentials.access_key,
            }
        )

    first, second = restores
    assert first["draw"] != second["draw"] != snapshot_draw.random()
    assert first["id"] != second["id"]
    assert first["service"] is not second["service"]
    assert snapshot_service not in (first["service"], second["service"])
    assert (first["access_key"], second["access_key"]) == ("AKIA-RESTORE-ONE", "AKIA-RESTORE-TWO")


def test_a_restored_function_answers_with_the_restored_service(
    made_clients: list[AwsClients], dynamodb: object, lambda_context: Any
) -> None:
    api.PRODUCTION.before_snapshot()
    api.PRODUCTION.after_restore()

    response = api.lambda_handler(load_event("api/post-message-english"), lambda_context)

    assert response["statusCode"] == 201
    assert len(made_clients) == 2
