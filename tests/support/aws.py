"""AWS doubles for the tests: events from events/, a Lambda context, stubbed clients, EMF readers."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.client import BaseClient
from botocore.stub import Stubber

from devkit.template import ROOT

if TYPE_CHECKING:
    from mypy_boto3_comprehend import ComprehendClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_translate import TranslateClient


EVENTS = ROOT / "events"
REGION = "us-east-1"
TABLE_NAME = "store-and-reply-test"


def load_event(name: str) -> dict[str, Any]:
    """An event from ``events/``, e.g. ``load_event("api/send")``."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


@dataclass
class FakeLambdaContext:
    """The parts of the Lambda context the functions read."""

    function_name: str = "store-and-reply-test"
    function_version: str = "7"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:store-and-reply-test:live"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass(frozen=True)
class Queues:
    """The template's queues in moto."""

    client: "SQSClient"
    url: str
    arn: str
    dead_letter_url: str


@dataclass
class Stubbed[ClientT: BaseClient]:
    """A real boto3 client whose responses are queued on a botocore Stubber; ``calls`` lists the calls."""

    client: ClientT
    stubber: Stubber
    calls: list[str]


def stubbed[ClientT: BaseClient](client: ClientT) -> Iterator[Stubbed[ClientT]]:
    calls: list[str] = []
    client.meta.events.register("before-parameter-build", lambda model, **_: calls.append(model.name))
    with Stubber(client) as stubber:
        yield Stubbed(client, stubber, calls)
        stubber.assert_no_pending_responses()


def expect_language(comprehend: Stubbed["ComprehendClient"], *scores: tuple[str, float]) -> None:
    """Queue one DetectDominantLanguage answer with these (language, score) pairs."""
    comprehend.stubber.add_response(
        "detect_dominant_language",
        {"Languages": [{"LanguageCode": code, "Score": score} for code, score in scores]},
    )


def expect_languages(comprehend: Stubbed["ComprehendClient"], *codes: str | None) -> None:
    """Queue one BatchDetectDominantLanguage answer: a language per document, None for a document error."""
    comprehend.stubber.add_response(
        "batch_detect_dominant_language",
        {
            "ResultList": [
                {"Index": index, "Languages": [{"LanguageCode": code, "Score": 0.98}]}
                for index, code in enumerate(codes)
                if code is not None
            ],
            "ErrorList": [
                {"Index": index, "ErrorCode": "INTERNAL_SERVER_ERROR", "ErrorMessage": "failed"}
                for index, code in enumerate(codes)
                if code is None
            ],
        },
    )


def expect_translation(translate: Stubbed["TranslateClient"], text: str, target: str, result: str) -> None:
    """Queue one TranslateText answer, checking it translates ``text`` from English to ``target``."""
    translate.stubber.add_response(
        "translate_text",
        {"TranslatedText": result, "SourceLanguageCode": "en", "TargetLanguageCode": target},
        {"Text": text, "SourceLanguageCode": "en", "TargetLanguageCode": target},
    )


def path_of(path: str) -> Path:
    """A path inside the repository."""
    return ROOT / path


def emitted_metrics(output: str) -> list[dict[str, Any]]:
    """The EMF documents Powertools Metrics printed."""
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"_aws"')]


def metric(document: dict[str, Any], name: str) -> float:
    """A metric's total in one EMF document (Powertools writes a list when a metric has several values)."""
    value = document[name]
    return float(sum(value)) if isinstance(value, list) else float(value)
