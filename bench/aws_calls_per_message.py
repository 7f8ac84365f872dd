"""AWS calls the HTTP API makes per message, counted by wrapping botocore's API call.

DynamoDB runs in moto; Comprehend and Translate are answered by botocore's Stubber, so nothing
leaves the machine. Messages cycle through five languages; the reply language is English.

Run: .venv/bin/python bench/aws_calls_per_message.py [messages]
"""

import contextlib
import io
import json
import sys
from typing import Any

from botocore.stub import Stubber

from bench.aws_calls import DEMO_CALLS_PER_MESSAGE, REPLY, Context, counted_aws, settings_and_clients
from store_reply.wiring import build_service
from store_reply_api.app import create_handler

LANGUAGES = ["fr", "de", "es", "en", "ja"]


def post(user: str, message: str) -> dict[str, Any]:
    return {
        "httpMethod": "POST",
        "path": "/messages",
        "resource": "/messages",
        "body": json.dumps({"message": message}),
        "isBase64Encoded": False,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        # As API Gateway passes it once the Cognito authorizer has verified the user's ID token.
        "requestContext": {
            "requestId": "bench",
            "stage": "v1",
            "authorizer": {"claims": {"cognito:username": user, "token_use": "id"}},
        },
    }


def main(messages: int) -> None:
    if messages <= len(LANGUAGES):
        raise SystemExit(
            f"messages: more than {len(LANGUAGES)}, one per language to fill the cache, then warm ones"
        )
    with counted_aws() as calls:
        settings, clients = settings_and_clients()
        handler = create_handler(lambda: build_service(settings, clients))
        with Stubber(clients.comprehend) as detect, Stubber(clients.translate) as translator:
            for index in range(messages):
                language = LANGUAGES[index % len(LANGUAGES)]
                detect.add_response(
                    "detect_dominant_language", {"Languages": [{"LanguageCode": language, "Score": 0.99}]}
                )
                if language != "en" and index < len(LANGUAGES):
                    translator.add_response(
                        "translate_text",
                        {"TranslatedText": f"{REPLY} ({language})", "SourceLanguageCode": "en",
                         "TargetLanguageCode": language},
                    )  # fmt: skip
                with contextlib.redirect_stdout(io.StringIO()):
                    response = handler(post(f"user{index}", f"message {index}"), Context())  # type: ignore[arg-type]
                assert response["statusCode"] == 201, response
                if index == len(LANGUAGES) - 1:
                    calls_cold = dict(calls)
        total, cold = sum(calls.values()), sum(calls_cold.values())
        warm = {k: v - calls_cold.get(k, 0) for k, v in calls.items() if v - calls_cold.get(k, 0)}
    print(f"AWS calls per message (HTTP API, {messages} messages over {len(LANGUAGES)} languages)")
    print(f"  first {len(LANGUAGES)} (cold translation cache): {cold / len(LANGUAGES):.2f}  {calls_cold}")
    warm_messages = messages - len(LANGUAGES)
    print(f"  next {warm_messages} (warm cache):              {(total - cold) / warm_messages:.2f}  {warm}")
    print("  target, warm:                      <= 2.00")
    print(f"  the original demo:                    {DEMO_CALLS_PER_MESSAGE:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
