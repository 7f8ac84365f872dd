"""A client of a running local stack, as its users and developers call it.

One way to sign in as a user of the stack's pool, call the API and send to the queue, shared by
``make token`` and ``make send``, the rehearsal's load, the local tests and the benchmarks.
"""

import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from devkit.aws.cognito.users import LOCAL_PASSWORD, id_token
from devkit.local.options import LocalOptions

DEFAULTS = LocalOptions()


@dataclass
class Reply:
    """An HTTP answer, its body parsed as JSON (``None`` when empty)."""

    status: int
    headers: dict[str, str]
    body: Any


def http(
    method: str, url: str, body: Any = None, headers: dict[str, str] | None = None, timeout: float = 30
) -> Reply:
    """One request; a string body is sent as it is, anything else as JSON. Any status is returned."""
    data = (
        body.encode() if isinstance(body, str) else (json.dumps(body).encode() if body is not None else None)
    )
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    if data is not None and "Content-Type" not in (headers or {}):
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw, status, answer_headers = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw, status, answer_headers = error.read(), error.code, dict(error.headers)
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return Reply(status, answer_headers, parsed)


class LocalClient:
    """The local stack's API and embedded AWS endpoint, called as its users and developers do.

    ``pool`` is the user pool's id where the caller knows it; otherwise it is found by the stack's
    name. ID tokens are kept per user and password (they last an hour). Safe to share between
    threads: the boto3 clients come from this client's own session, each built once, and a user
    is signed up and in by one thread at a time.
    """

    def __init__(
        self,
        api_url: str,
        aws_endpoint: str,
        *,
        stack_name: str = DEFAULTS.stack_name,
        region: str = DEFAULTS.region,
        pool: str | None = None,
    ) -> None:
        self.api_url, self.aws_endpoint = api_url.rstrip("/"), aws_endpoint.rstrip("/")
        self.stack_name, self.region, self.pool = stack_name, region, pool
        self._tokens: dict[tuple[str, str], str] = {}
        self._clients: dict[str, Any] = {}
        self._session: Any = None
        self._lock = threading.Lock()
        self._signing_in = threading.Lock()

    @classmethod
    def of(cls, options: LocalOptions) -> "LocalClient":
        """A client of the stack ``options`` describe (its ports, name and region)."""
        return cls(
            options.api_url, options.aws_endpoint, stack_name=options.stack_name, region=options.region
        )

    def aws(self, service: str) -> Any:
        """A boto3 client of the embedded endpoint (any credentials do)."""
        with self._lock:
            if service not in self._clients:
                if self._session is None:  # boto3's default session is not safe between threads
                    import boto3  # noqa: PLC0415 (only the callers that reach AWS pay for it)

                    self._session = boto3.session.Session()
                self._clients[service] = self._session.client(
                    service,
                    endpoint_url=self.aws_endpoint,
                    region_name=self.region,
                    aws_access_key_id="local",
                    aws_secret_access_key="local",  # noqa: S106 (moto accepts any key)
                )
            return self._clients[service]

    def id_token(self, user: str, password: str = LOCAL_PASSWORD) -> str:
        """An ID token for ``user`` from the pool's public app client, signed up first if needed."""
        key = (user, password)
        with self._signing_in:
            if key not in self._tokens:
                cognito = self.aws("cognito-idp")
                self._tokens[key] = id_token(cognito, self.stack_name, user, password, pool=self.pool)
            return self._tokens[key]

    def headers_of(self, user: str | None = None, api_key: str | None = None) -> dict[str, str]:
        """The headers of a request signed in as ``user`` (if any), with the API key (if any)."""
        return {
            **({"Authorization": self.id_token(user)} if user else {}),
            **({"x-api-key": api_key} if api_key else {}),
        }

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        user: str | None = None,
        api_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """A request to the local API, signed in as ``user`` where one is named."""
        return http(method, self.api_url + path, body, {**self.headers_of(user, api_key), **(headers or {})})

    def post_message(self, user: str, message: str) -> Reply:
        """``POST /messages`` as ``user``, signed in: what a client of the API sends."""
        return self.request("POST", "/messages", {"message": message}, user=user)

    def queue_url(self, logical_id: str = "MessagesQueue") -> str:
        url: str = self.aws("sqs").get_queue_url(QueueName=f"{self.stack_name}-{logical_id}")["QueueUrl"]
        return url

    def send_to_queue(self, body: str, queue_url: str | None = None) -> str:
        """Send one message body to the stack's queue (``MessagesQueue`` unless named); its id."""
        sent = self.aws("sqs").send_message(QueueUrl=queue_url or self.queue_url(), MessageBody=body)
        message_id: str = sent["MessageId"]
        return message_id
