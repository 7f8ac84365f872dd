"""Local data kept across restarts: table items and queue messages, saved to a git-ignored folder."""

import json
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from moto.dynamodb.models import dynamodb_backends
from moto.sqs.models import sqs_backends

from devkit.template.intrinsics import ACCOUNT_ID

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger("devkit.local")


SAVE_EVERY_SECONDS = 5  # at most this often while functions write
RESCAN_EVERY_SECONDS = 30  # catches writes made straight to the endpoint (the AWS CLI, boto3)


class LocalState:
    """Saves the tables' items and the queues' messages to ``path`` and puts them back at start.

    The snapshot reads moto's in-process store directly: a scan through the API would stall the
    gateway under load, and SQS has no API that lists messages without receiving them. Messages
    come back as new messages with the same body and attributes (receive counts start at zero).
    A save happens on stop, and at most every few seconds after a function ran.
    """

    def __init__(
        self,
        *,
        path: Path,
        dynamodb: "DynamoDBClient",
        sqs: "SQSClient",
        tables: dict[str, str],
        queues: dict[str, str],
        region: str,
    ) -> None:
        self._path = path
        self._dynamodb = dynamodb
        self._sqs = sqs
        self._tables = tables  # logical id -> table name
        self._queues = queues  # logical id -> queue URL
        self._region = region
        self._last = ""
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="state-saver", daemon=True)

    def restore(self) -> tuple[int, int]:
        """Put saved items and messages back; return how many of each."""
        if not self._path.exists():
            return 0, 0
        saved = json.loads(self._path.read_text())
        items = messages = 0
        for logical_id, table_items in saved.get("tables", {}).items():
            if logical_id not in self._tables:
                continue
            for start in range(0, len(table_items), 25):
                chunk = table_items[start : start + 25]
                self._dynamodb.batch_write_item(
                    RequestItems={
                        self._tables[logical_id]: [{"PutRequest": {"Item": item}} for item in chunk]
                    }
                )
                items += len(chunk)
        for logical_id, queue_messages in saved.get("queues", {}).items():
            for message in queue_messages if logical_id in self._queues else []:
                self._sqs.send_message(
                    QueueUrl=self._queues[logical_id],
                    MessageBody=message["body"],
                    MessageAttributes=message["attributes"],
                )
                messages += 1
        self._last = self._snapshot()
        return items, messages

    def start(self) -> None:
        """Save in the background from now on."""
        self._thread.start()

    def changed(self) -> None:
        """Note that a function ran and may have written something."""
        self._dirty.set()

    def stop(self) -> None:
        """Save one last time and stop."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self.save()

    def save(self) -> None:
        """Write the current state if it changed since the last write."""
        snapshot = self._snapshot()
        if snapshot != self._last:
            temporary = self._path.with_suffix(".tmp")
            temporary.write_text(snapshot)
            temporary.replace(self._path)
            self._last = snapshot

    def _run(self) -> None:
        last_scan = time.monotonic()
        while not self._stopping.wait(SAVE_EVERY_SECONDS):
            if time.monotonic() - last_scan >= RESCAN_EVERY_SECONDS:
                last_scan = time.monotonic()
                self._dirty.set()
            if not self._dirty.is_set():
                continue
            self._dirty.clear()
            try:
                self.save()
            except Exception:  # the next round tries again
                self._dirty.set()
                logger.exception("Saving local data failed")

    def _snapshot(self) -> str:
        database = dynamodb_backends[ACCOUNT_ID][self._region]
        tables = {
            logical_id: [item.to_json()["Attributes"] for item in database.get_table(name).all_items()]
            for logical_id, name in self._tables.items()
        }
        backend = sqs_backends[ACCOUNT_ID][self._region]
        queues = {}
        for logical_id, url in self._queues.items():
            queue = backend.queues[url.rsplit("/", 1)[-1]]
            queues[logical_id] = [
                {"body": message.body, "attributes": message.message_attributes}
                for message in list(queue._messages)  # noqa: SLF001 (no public listing, see the class)
            ]
        return json.dumps({"tables": tables, "queues": queues}, sort_keys=True)
