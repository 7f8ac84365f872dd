"""The message store and the translation cache, in one DynamoDB table.

Keys (``pk``, ``sk``):
- a message: ``USER#<user>`` / ``MSG#<received at, UTC, ms>#<id>``: newest first per user by ``sk``,
  and two messages of one user in one millisecond differ by id; a message sent without signing in
  is under ``ANON#<name>``, which no history reads;
- a translation: ``TRANSLATION#<language>`` / SHA-256 of the source text;
- an idempotency claim: ``IDEMPOTENCY#<user>`` / ``KEY#<client's key>``, expiring through the
  table's TTL attribute ``expiresAt``.
"""

import hashlib
import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from store_reply.errors import StorageUnavailable
from store_reply.models import CachedTranslation, Claim, MessageKey, StoredMessage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, QueryInputTypeDef

MESSAGE_PREFIX = "MSG#"
BATCH_WRITE_ITEMS = 25  # BatchWriteItem's limit
BATCH_GET_ITEMS = 100  # BatchGetItem's limit
WRITE_ATTEMPTS = 4  # the first write and three retries of what DynamoDB left unprocessed
IDEMPOTENCY_WINDOW = timedelta(hours=24)


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def user_partition(user: str, *, anonymous: bool = False) -> str:
    """The partition key that holds a user's messages (or those sent anonymously under a name)."""
    return f"{'ANON' if anonymous else 'USER'}#{user}"


def message_key(
    user: str, received_at: datetime, message_id: str, *, anonymous: bool = False
) -> dict[str, "AttributeValueTypeDef"]:
    """The primary key of a stored message."""
    return {
        "pk": {"S": user_partition(user, anonymous=anonymous)},
        "sk": {"S": f"{MESSAGE_PREFIX}{_timestamp(received_at)}#{message_id}"},
    }


def message_item(
    message: StoredMessage, writer: str | None = None, written_at: float | None = None
) -> dict[str, "AttributeValueTypeDef"]:
    """A stored message as a DynamoDB item; ``writer`` names the function version that wrote it,
    ``written_at`` (epoch seconds) when.

    Both are for the table's independent readers (the persistence witness counts what each version
    really wrote, in the minute it wrote it); no answer shows them.
    """
    return {
        **({"writer": {"S": writer}} if writer else {}),
        **({"writtenAt": {"N": str(int(written_at * 1000))}} if written_at is not None else {}),
        **message_key(message.user, message.received_at, message.id, anonymous=message.anonymous),
        "id": {"S": message.id},
        "user": {"S": message.user},
        "message": {"S": message.message},
        "language": {"S": message.language},
        "reply": {"S": message.reply},
        "translated": {"BOOL": message.translated},
        "receivedAt": {"S": _timestamp(message.received_at)},
    }


def _message_from(item: dict[str, "AttributeValueTypeDef"]) -> StoredMessage:
    return StoredMessage(
        id=item["id"]["S"],
        user=item["user"]["S"],
        message=item["message"]["S"],
        language=item["language"]["S"],
        reply=item["reply"]["S"],
        translated=item["translated"]["BOOL"],
        received_at=datetime.fromisoformat(item["receivedAt"]["S"]),
    )


class DynamoMessageStore:
    """Stores messages and reads a user's history, newest first."""

    def __init__(
        self,
        client: "DynamoDBClient",
        table_name: str,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        writer: str | None = None,
    ) -> None:
        self._client = client
        self._table = table_name
        self._sleep = sleep
        self._clock = clock
        self._writer = writer

    def save(self, message: StoredMessage) -> bool:
        """Store one message; True when nothing was stored under its key before."""
        try:
            response = self._client.put_item(
                TableName=self._table,
                Item=message_item(message, self._writer, self._clock()),
                ReturnValues="ALL_OLD",
            )
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(str(error)) from error
        return not response.get("Attributes")

    def stored_already(self, messages: Sequence[StoredMessage]) -> set[str]:
        """The ids of those messages already in the table (``BatchGetItem``, 100 keys a call)."""
        found: set[str] = set()
        keys = [message_key(m.user, m.received_at, m.id, anonymous=m.anonymous) for m in messages]
        for start in range(0, len(keys), BATCH_GET_ITEMS):
            pending: Any = {
                self._table: {"Keys": keys[start : start + BATCH_GET_ITEMS], "ProjectionExpression": "id"}
            }
            for attempt in range(WRITE_ATTEMPTS):
                if attempt:
                    self._sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 (jitter, not secrecy)
                try:
                    response = self._client.batch_get_item(RequestItems=pending)
                except (ClientError, BotoCoreError) as error:
                    raise StorageUnavailable(str(error)) from error
                found.update(item["id"]["S"] for item in response.get("Responses", {}).get(self._table, []))
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
            if pending:
                raise StorageUnavailable("some keys stayed unprocessed")
        return found

    def save_all(self, messages: Sequence[StoredMessage]) -> set[str]:
        """Store messages with ``BatchWriteItem``, 25 a call; return the ids not stored.

        What DynamoDB leaves unprocessed is retried with jittered exponential backoff; what is
        still unprocessed after the last attempt, or in a call that failed, is not stored.
        """
        not_stored: set[str] = set()
        for start in range(0, len(messages), BATCH_WRITE_ITEMS):
            chunk = messages[start : start + BATCH_WRITE_ITEMS]
            # Typed loosely: requests go out as WriteRequestTypeDef and come back as its Output twin.
            now = self._clock()
            pending: Sequence[Any] = [
                {"PutRequest": {"Item": message_item(m, self._writer, now)}} for m in chunk
            ]
            for attempt in range(WRITE_ATTEMPTS):
                if attempt:
                    self._sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 (jitter, not secrecy)
                try:
                    response = self._client.batch_write_item(RequestItems={self._table: pending})
                except (ClientError, BotoCoreError):
                    break
                pending = response.get("UnprocessedItems", {}).get(self._table, [])
                if not pending:
                    break
            not_stored.update(str(request["PutRequest"]["Item"]["id"]["S"]) for request in pending)
        return not_stored

    def claim(self, user: str, idempotency_key: str, candidate: Claim) -> Claim:
        """Bind an idempotency key to ``candidate`` with a conditional write; return the binding."""
        expires_at = int(self._clock() + IDEMPOTENCY_WINDOW.total_seconds())
        item: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": f"IDEMPOTENCY#{user}"},
            "sk": {"S": f"KEY#{idempotency_key}"},
            "messageId": {"S": candidate.key.id},
            "receivedAt": {"S": _timestamp(candidate.key.received_at)},
            "fingerprint": {"S": candidate.fingerprint},
            "expiresAt": {"N": str(expires_at)},
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                # An expired claim the TTL sweeper has not removed yet is free again.
                ConditionExpression="attribute_not_exists(pk) OR expiresAt < :now",
                ExpressionAttributeValues={":now": {"N": str(int(self._clock()))}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self._client.exceptions.ConditionalCheckFailedException as taken:
            bound: dict[str, Any] = cast("dict[str, Any]", taken.response).get("Item", {})
            if not bound:
                raise StorageUnavailable("idempotency claim taken but unreadable") from taken
            return Claim(
                key=MessageKey(
                    received_at=datetime.fromisoformat(bound["receivedAt"]["S"]), id=bound["messageId"]["S"]
                ),
                fingerprint=bound["fingerprint"]["S"],
            )
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(str(error)) from error
        return candidate

    def history(
        self, user: str, limit: int, after: MessageKey | None
    ) -> tuple[Sequence[StoredMessage], bool]:
        """Return up to ``limit`` messages older than ``after`` and whether more follow.

        DynamoDB ends a query page at 1 MB whatever its ``Limit``, with a ``LastEvaluatedKey``: the
        query goes on from there until it holds one message more than asked (another page exists)
        or the partition ends. Reads are strongly consistent, so a message just stored is in the
        history read right after it.
        """
        query: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": {"S": user_partition(user)},
                ":prefix": {"S": MESSAGE_PREFIX},
            },
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if after is not None:
            query["ExclusiveStartKey"] = message_key(user, after.received_at, after.id)
        items: list[dict[str, AttributeValueTypeDef]] = []
        while True:
            # One more than asked tells whether another page exists, so no page is ever empty.
            query["Limit"] = limit + 1 - len(items)
            try:
                response = self._client.query(**query)
            except (ClientError, BotoCoreError) as error:
                raise StorageUnavailable(str(error)) from error
            items += response["Items"]
            last = response.get("LastEvaluatedKey")
            if len(items) > limit or last is None:
                break
            query["ExclusiveStartKey"] = last
        return [_message_from(item) for item in items[:limit]], len(items) > limit


class DynamoTranslationCache:
    """Keeps every translation of the reply for the lifetime of the table."""

    def __init__(self, client: "DynamoDBClient", table_name: str) -> None:
        self._client = client
        self._table = table_name

    @staticmethod
    def _key(text: str, target: str) -> dict[str, "AttributeValueTypeDef"]:
        digest = hashlib.sha256(text.encode()).hexdigest()
        return {"pk": {"S": f"TRANSLATION#{target}"}, "sk": {"S": digest}}

    def get(self, text: str, target: str) -> CachedTranslation | None:
        """Return what is cached of ``text`` in ``target``, if anything."""
        try:
            response = self._client.get_item(TableName=self._table, Key=self._key(text, target))
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(str(error)) from error
        item = response.get("Item")
        if not item:
            return None
        return CachedTranslation(text=item["translation"]["S"] if "translation" in item else None)

    def put(self, text: str, target: str, translation: CachedTranslation) -> None:
        """Remember the translation of ``text`` into ``target``, or that there is none."""
        item: dict[str, AttributeValueTypeDef] = {**self._key(text, target), "source": {"S": text}}
        if translation.text is None:
            item["untranslatable"] = {"BOOL": True}
        else:
            item["translation"] = {"S": translation.text}
        try:
            self._client.put_item(TableName=self._table, Item=item)
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(str(error)) from error
