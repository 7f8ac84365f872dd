"""What the call-counting benchmarks share: moto, the template's table, and a counter of AWS calls."""

import collections
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import boto3
from botocore.client import BaseClient
from moto import mock_aws

from devkit.local.resources import create_tables
from devkit.template import load_template
from store_reply.adapters.clients import AwsClients
from store_reply.settings import Settings

DEMO_CALLS_PER_MESSAGE = 4  # DetectDominantLanguage, TranslateText, PutItem, PutMetricData
REPLY = "Thank you for your message!"
TABLE = "bench"


class Context:
    """The Lambda context the handlers read."""

    function_name = "bench"
    function_version = "1"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"


@contextmanager
def counted_aws() -> Iterator[collections.Counter[str]]:
    """moto with the template's table, dummy credentials, and a count of every API call made inside."""
    calls: collections.Counter[str] = collections.Counter()
    real_call = BaseClient._make_api_call  # type: ignore[attr-defined]  # noqa: SLF001 (the one funnel of every call)

    def counting(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls[f"{client.meta.service_model.service_name}:{operation}"] += 1
        return real_call(client, operation, params)

    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    with mock_aws(), mock.patch.object(BaseClient, "_make_api_call", counting):
        create_tables(boto3.client("dynamodb"), load_template(), {"MessagesTable": TABLE})
        calls.clear()
        yield calls


def settings_and_clients() -> tuple[Settings, AwsClients]:
    """The service's settings (Comprehend for every message) and clients inside ``counted_aws``;
    Comprehend and Translate want a Stubber."""
    # Every message to Comprehend, as before the hybrid detection (bench/hybrid_calls_per_message.py
    # measures that one).
    settings = Settings.from_environ(
        {
            "TABLE_NAME": TABLE,
            "REPLY_MESSAGE": REPLY,
            "REPLY_LANGUAGE": "en",
            "LANGUAGE_DETECTION": "comprehend",
        }
    )
    clients = AwsClients(
        dynamodb=boto3.client("dynamodb"),
        comprehend=boto3.client("comprehend"),
        translate=boto3.client("translate"),
    )
    return settings, clients
