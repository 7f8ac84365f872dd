"""What the witness counts: new messages in the table, by the function version that wrote them.

A stream record counts when it is an ``INSERT`` of a message item (``sk`` beginning ``MSG#``) of a
user outside the reserved namespace (deployment checks write there and delete after). Everything
else is not a new message: ``MODIFY`` (a retry or redelivery stored over itself; DynamoDB writes
no record at all for a write that changes nothing), ``REMOVE`` (a TTL expiry or a clean-up),
translations and idempotency claims. An item without a ``writer`` was written by a version that
does not name itself; it is counted as unattributed, never as any version's.

Counts are kept per ``writtenAt`` (the moment the writer wrote, in epoch milliseconds: one value
per write call), so a message lands in the same period as the ``MessagesAccepted`` its writer
counted, however late its stream record arrives.

Nothing here imports the application's code: the witness judges the versions, so it must not
share their mistakes.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MESSAGE_PREFIX = "MSG#"
RESERVED_USER_PREFIX = "__"
UNATTRIBUTED = ("", "")
Writer = tuple[str, str]


@dataclass(frozen=True)
class Tally:
    """New messages by writer (function name, version) and the moment written (epoch ms); what was
    skipped, and why, for the log."""

    persisted: Counter[tuple[Writer, int]]
    skipped: Counter[str]

    def by_writer(self) -> Counter[Writer]:
        """New messages by writer, whenever written."""
        totals: Counter[Writer] = Counter()
        for (writer, _), count in self.persisted.items():
            totals[writer] += count
        return totals


def writer_of(image: Mapping[str, Any]) -> tuple[str, str]:
    """(function name, version) from the item's ``writer`` (``<function>:<version>``)."""
    writer = image.get("writer", {}).get("S", "")
    function, separator, version = writer.rpartition(":")
    return (function, version) if separator and function and version else UNATTRIBUTED


def _skip_reason(record: Mapping[str, Any]) -> str | None:
    if record.get("eventName") != "INSERT":
        return str(record.get("eventName", "unknown")).lower()
    image = record.get("dynamodb", {}).get("NewImage") or {}
    partition = image.get("pk", {}).get("S", "")
    if not image.get("sk", {}).get("S", "").startswith(MESSAGE_PREFIX):
        return "not a message"
    _, _, user = partition.partition("#")
    if user.startswith(RESERVED_USER_PREFIX):
        return "deployment check"
    return None


def written_at(image: Mapping[str, Any], fallback_ms: int) -> int:
    """When the item was written (its ``writtenAt``, epoch ms), or ``fallback_ms`` if it does not say."""
    try:
        return int(image["writtenAt"]["N"])
    except (KeyError, TypeError, ValueError):
        return fallback_ms


def tally(records: Iterable[Mapping[str, Any]], now_ms: int) -> Tally:
    """Count a batch of DynamoDB stream records (``NEW_IMAGE`` or ``NEW_AND_OLD_IMAGES``)."""
    persisted: Counter[tuple[Writer, int]] = Counter()
    skipped: Counter[str] = Counter()
    for record in records:
        reason = _skip_reason(record)
        if reason is not None:
            skipped[reason] += 1
            continue
        image = record["dynamodb"]["NewImage"]
        persisted[writer_of(image), written_at(image, now_ms)] += 1
    return Tally(persisted, skipped)
