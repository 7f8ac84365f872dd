"""AWS calls the queue consumer makes per message, for batches of 1, 10 and 25 records.

The translation cache is warmed first (one batch in every language used), then each batch size
is measured on its own. DynamoDB and SQS run in moto; Comprehend and Translate are answered by
botocore's Stubber. Calls are counted by wrapping botocore's API call.

Run: .venv/bin/python bench/queue_calls_per_message.py
"""

import collections
import contextlib
import io
import json
import os
import uuid
from typing import Any
from unittest import mock

import boto3
from botocore.client import BaseClient
from botocore.stub import Stubber
from moto import mock_aws

from devkit.resources import create_queues, create_tables
from devkit.template import load_template
from store_reply.adapters.clients import AwsClients
from store_reply.adapters.sqs import DeadLetterQueue
from store_reply.settings import Settings
from store_reply.wiring import build_service
from store_reply_consumer.app import create_handler
from store_reply_consumer.batch import QueueConsumer

DEMO_CALLS_PER_MESSAGE = 4
LANGUAGES = ["fr", "de", "es", "en", "ja"]
REPLY = "Thank you for your message!"


class Context:
    function_name = "bench"
    function_version = "1"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"


def batch(size: int) -> dict[str, Any]:
    records = []
    for index in range(size):
        message_id = str(uuid.uuid4())
        records.append(
            {
                "messageId": message_id,
                "receiptHandle": message_id,
                "body": json.dumps({"user": f"user{index}", "message": f"message {index}"}),
                "attributes": {"SentTimestamp": "1764158400000", "ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def main() -> None:
    calls: collections.Counter[str] = collections.Counter()
    real_call = BaseClient._make_api_call  # type: ignore[attr-defined]  # noqa: SLF001 (the one funnel of every call)

    def counting(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls[f"{client.meta.service_model.service_name}:{operation}"] += 1
        return real_call(client, operation, params)

    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    with mock_aws(), mock.patch.object(BaseClient, "_make_api_call", counting):
        template = load_template()
        dynamodb, sqs = boto3.client("dynamodb"), boto3.client("sqs")
        create_tables(dynamodb, template, {"MessagesTable": "bench"})
        urls = create_queues(
            sqs, template, {"MessagesQueue": "bench", "MessagesDeadLetterQueue": "bench-dlq"}
        )
        comprehend, translate = boto3.client("comprehend"), boto3.client("translate")
        settings = Settings.from_environ(
            {"TABLE_NAME": "bench", "REPLY_MESSAGE": REPLY, "REPLY_LANGUAGE": "en"}
        )
        clients = AwsClients(dynamodb=dynamodb, comprehend=comprehend, translate=translate)
        consumer = QueueConsumer(
            build_service(settings, clients), DeadLetterQueue(sqs, urls["MessagesDeadLetterQueue"])
        )
        handler = create_handler(lambda: consumer)

        def run(size: int) -> None:
            languages = [LANGUAGES[i % len(LANGUAGES)] for i in range(size)]
            detect.add_response(
                "batch_detect_dominant_language",
                {
                    "ResultList": [
                        {"Index": i, "Languages": [{"LanguageCode": code, "Score": 0.99}]}
                        for i, code in enumerate(languages)
                    ],
                    "ErrorList": [],
                },
            )
            with contextlib.redirect_stdout(io.StringIO()):
                response = handler(batch(size), Context())  # type: ignore[arg-type]
            assert response["batchItemFailures"] == [], response

        with Stubber(comprehend) as detect, Stubber(translate) as translator:
            for language in LANGUAGES[:-2] + LANGUAGES[-1:]:
                translator.add_response(
                    "translate_text",
                    {
                        "TranslatedText": f"{REPLY} ({language})",
                        "SourceLanguageCode": "en",
                        "TargetLanguageCode": language,
                    },
                )
            run(len(LANGUAGES))  # warms the translation cache
            print("AWS calls per message, queue consumer, warm translation cache")
            for size in (1, 10, 25):
                calls.clear()
                run(size)
                print(f"  batch of {size:2d}: {sum(calls.values()) / size:.2f}  {dict(calls)}")
    print("  target for a batch of 10: <= 0.50")
    print(f"  the original demo: {DEMO_CALLS_PER_MESSAGE:.2f}")


if __name__ == "__main__":
    main()
