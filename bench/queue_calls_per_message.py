"""AWS calls the queue consumer makes per message, for batches of 1, 10 and 25 records.

The translation cache is warmed first (one batch in every language used), then each batch size
is measured on its own. DynamoDB and SQS run in moto; Comprehend and Translate are answered by
botocore's Stubber. Calls are counted by wrapping botocore's API call.

Run: .venv/bin/python bench/queue_calls_per_message.py
"""

import contextlib
import io
import json
import uuid
from typing import Any

import boto3
from botocore.stub import Stubber

from bench.aws_calls import DEMO_CALLS_PER_MESSAGE, REPLY, Context, counted_aws, settings_and_clients
from devkit.local.resources import create_queues
from devkit.template import load_template
from store_reply.adapters.sqs import DeadLetterQueue
from store_reply.wiring import build_service
from store_reply_consumer.app import create_handler
from store_reply_consumer.batch import QueueConsumer

LANGUAGES = ["fr", "de", "es", "en", "ja"]


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
    with counted_aws() as calls:
        sqs = boto3.client("sqs")
        urls = create_queues(
            sqs, load_template(), {"MessagesQueue": "bench", "MessagesDeadLetterQueue": "bench-dlq"}
        )
        settings, clients = settings_and_clients()
        comprehend, translate = clients.comprehend, clients.translate
        consumer = QueueConsumer(
            build_service(settings, clients), DeadLetterQueue(sqs, urls["MessagesDeadLetterQueue"]), 5
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
