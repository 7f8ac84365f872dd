"""The one place that builds AWS clients, with retries and timeouts bounded below the function timeout.

Worst case per call: (connect + read timeout) x attempts = 3 s x 2 for Comprehend and Translate,
3 s x 3 for DynamoDB, each below the functions' timeout.
"""

from typing import TYPE_CHECKING, Any

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


class AwsClients:
    """The clients the service talks to, each made from ``session`` when first used.

    Clients given by name are used as they are (tests, benchmarks).
    """

    def __init__(
        self,
        session: boto3.Session | None = None,
        *,
        dynamodb: "DynamoDBClient | None" = None,
        comprehend: "ComprehendClient | None" = None,
        translate: "TranslateClient | None" = None,
    ) -> None:
        self._session = session
        given: dict[str, Any] = {"dynamodb": dynamodb, "comprehend": comprehend, "translate": translate}
        self._clients = {name: client for name, client in given.items() if client is not None}

    @property
    def made(self) -> frozenset[str]:
        """The services whose clients exist so far."""
        return frozenset(self._clients)

    @property
    def session(self) -> boto3.Session:
        """The session the clients are made from."""
        if self._session is None:
            self._session = boto3.Session()
        return self._session

    @property
    def dynamodb(self) -> "DynamoDBClient":
        """The DynamoDB client."""
        client: DynamoDBClient = self._client("dynamodb", DATABASE)
        return client

    @property
    def comprehend(self) -> "ComprehendClient":
        """The Amazon Comprehend client."""
        client: ComprehendClient = self._client("comprehend", LANGUAGE_SERVICES)
        return client

    @property
    def translate(self) -> "TranslateClient":
        """The Amazon Translate client."""
        client: TranslateClient = self._client("translate", LANGUAGE_SERVICES)
        return client

    def _client(self, service: str, config: Config) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, config=config)  # type: ignore[call-overload]
        return self._clients[service]


def build_clients(session: boto3.Session | None = None) -> AwsClients:
    """The service's clients, made from ``session`` (a new default session when None) on first use."""
    return AwsClients(session or boto3.Session())


def build_sqs_client(session: boto3.Session | None = None) -> "SQSClient":
    """The SQS client the queue consumer sets rejected records aside with."""
    return (session or boto3.Session()).client("sqs", config=QUEUE)
