"""AWS calls per message with the hybrid detection, on the evaluation set's mix of texts.

The real handlers, the shipped model (fastText lid.176) and moto's DynamoDB and SQS. Comprehend
answers each text it is asked about with the text's label, Translate with a made-up translation
(neither is reachable here: both are answered on botocore's before-call event, after the call was
counted). Every text of the evaluation mix (by default the three categories of
bench/language_detection.py: sentences, phrases and labels) goes once through the HTTP API and once
through the queue, in batches of 10, in a seeded random order; the translation cache starts warm.

Run: .venv/bin/python bench/hybrid_calls_per_message.py [threshold] [evaluation.tsv ...]
"""

import contextlib
import io
import json
import random
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from bench.aws_calls import DEMO_CALLS_PER_MESSAGE, REPLY, TABLE, Context, counted_aws
from bench.aws_calls_per_message import post
from bench.language_detection import arguments
from bench.queue_calls_per_message import batch
from devkit.local.resources import create_queues
from devkit.runtime.language_model import labelled_texts, model_path
from devkit.template import load_template
from store_reply.adapters.clients import AwsClients
from store_reply.adapters.sqs import DeadLetterQueue
from store_reply.settings import Settings
from store_reply.wiring import build_service
from store_reply_api.app import create_handler as api_handler
from store_reply_consumer.app import create_handler as queue_handler
from store_reply_consumer.batch import QueueConsumer

OK = AWSResponse("https://bench", 200, {}, None)  # type: ignore[arg-type]  # the parsed answer is what counts


def answer_language_services(clients: AwsClients, labels: dict[str, str]) -> None:
    """Comprehend answers with each text's label; Translate with a tagged reply (params: the request)."""

    def detect(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        text = json.loads(params["body"])["Text"]
        return OK, {"Languages": [{"LanguageCode": labels[text], "Score": 0.99}]}

    def detect_all(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        results = [
            {"Index": i, "Languages": [{"LanguageCode": labels[text], "Score": 0.99}]}
            for i, text in enumerate(json.loads(params["body"])["TextList"])
        ]
        return OK, {"ResultList": results, "ErrorList": []}

    def translate(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        target = json.loads(params["body"])["TargetLanguageCode"]
        return OK, {
            "TranslatedText": f"{REPLY} ({target})",
            "SourceLanguageCode": "en",
            "TargetLanguageCode": target,
        }

    events = clients.comprehend.meta.events
    # botocore's stubs declare handlers as returning None; a before-call handler's answer is the response.
    events.register("before-call.comprehend.DetectDominantLanguage", detect)  # type: ignore[arg-type]
    events.register("before-call.comprehend.BatchDetectDominantLanguage", detect_all)  # type: ignore[arg-type]
    clients.translate.meta.events.register("before-call.translate.TranslateText", translate)  # type: ignore[arg-type]


def texts(files: dict[str, Path]) -> list[tuple[str, str]]:
    pairs = [pair for path in files.values() for pair in labelled_texts(path)]
    random.Random(7).shuffle(pairs)
    return pairs


def main(threshold: float, files: dict[str, Path]) -> None:
    pairs = texts(files)
    labels = {text: language for language, text in pairs}
    with counted_aws() as calls:
        settings = Settings.from_environ(
            {
                "TABLE_NAME": TABLE,
                "REPLY_MESSAGE": REPLY,
                "REPLY_LANGUAGE": "en",
                "LANGUAGE_DETECTION": "hybrid",
                "LANGUAGE_CONFIDENCE": str(threshold),
                "LANGUAGE_MODEL": str(model_path()),
            }
        )
        clients = AwsClients(
            dynamodb=boto3.client("dynamodb"),
            comprehend=boto3.client("comprehend"),
            translate=boto3.client("translate"),
        )
        answer_language_services(clients, labels)
        service = build_service(settings, clients)
        for language in sorted(set(labels.values())):  # a warm translation cache
            service._replies.reply_in(language)  # noqa: SLF001 (warming, not measuring)
        sqs = boto3.client("sqs")
        urls = create_queues(
            sqs, load_template(), {"MessagesQueue": "bench", "MessagesDeadLetterQueue": "bench-dlq"}
        )
        api = api_handler(lambda: service)
        consumer = QueueConsumer(service, DeadLetterQueue(sqs, urls["MessagesDeadLetterQueue"]), 5)
        queue = queue_handler(lambda: consumer)

        calls.clear()
        with contextlib.redirect_stdout(io.StringIO()):
            for index, (_, text) in enumerate(pairs):
                assert api(post(f"user{index}", text), Context())["statusCode"] == 201  # type: ignore[arg-type]
        api_calls = dict(calls)
        calls.clear()
        with contextlib.redirect_stdout(io.StringIO()):
            for start in range(0, len(pairs), 10):
                event = batch(len(pairs[start : start + 10]))
                for record, (_, text) in zip(event["Records"], pairs[start : start + 10], strict=True):
                    record["body"] = json.dumps({"user": "queue", "message": text})
                assert queue(event, Context())["batchItemFailures"] == []  # type: ignore[arg-type]
        queue_calls = dict(calls)
    messages = len(pairs)
    names = ", ".join(path.name for path in files.values())
    print(f"AWS calls per message, hybrid at {threshold:.2f}, {messages} texts of {names}")
    print(f"  HTTP API:              {sum(api_calls.values()) / messages:.3f}  {api_calls}  (target <= 1.10)")
    per_message = sum(queue_calls.values()) / messages
    print(f"  queue, batches of 10:  {per_message:.3f}  {queue_calls}  (target <= 0.12)")
    print(f"  the original demo:     {DEMO_CALLS_PER_MESSAGE:.2f}")


if __name__ == "__main__":
    main(*arguments(sys.argv))
