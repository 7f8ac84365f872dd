"""The one place that builds AWS clients, with retries and timeouts bounded below the function timeout.

Worst case per call: (connect + read timeout) x attempts = 3 s x 2 for Comprehend and Translate,
3 s x 3 for DynamoDB, each below the functions' timeout.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_comprehend import ComprehendClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_translate import TranslateClient

LANGUAGE_SERVICES = Config(
    connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2}
)
DATABASE = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 3})
QUEUE = DATABASE


@dataclass(frozen=True)
class AwsClients:
    """The clients the service talks to."""

    dynamodb: "DynamoDBClient"
    comprehend: "ComprehendClient"
    translate: "TranslateClient"


def build_clients(session: boto3.Session | None = None) -> AwsClients:
    """Create the service's clients from ``session`` (the default session when None)."""
    session = session or boto3.Session()
    return AwsClients(
        dynamodb=session.client("dynamodb", config=DATABASE),
        comprehend=session.client("comprehend", config=LANGUAGE_SERVICES),
        translate=session.client("translate", config=LANGUAGE_SERVICES),
    )


def build_sqs_client(session: boto3.Session | None = None) -> "SQSClient":
    """The SQS client the queue consumer sets rejected records aside with."""
    return (session or boto3.Session()).client("sqs", config=QUEUE)
