"""The message store and the translation cache, in one DynamoDB table.

Keys (``pk``, ``sk``):
- a message: ``USER#<user>`` / ``MSG#<received at, UTC, ms>#<id>``: newest first per user by ``sk``,
  and two messages of one user in one millisecond differ by id;
- a translation: ``TRANSLATION#<language>`` / SHA-256 of the source text.
"""

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from store_reply.errors import StorageUnavailable
from store_reply.models import PagePosition, StoredMessage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, QueryInputTypeDef

MESSAGE_PREFIX = "MSG#"


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def message_key(user: str, received_at: datetime, message_id: str) -> dict[str, "AttributeValueTypeDef"]:
    """The primary key of a stored message."""
    return {
        "pk": {"S": f"USER#{user}"},
        "sk": {"S": f"{MESSAGE_PREFIX}{_timestamp(received_at)}#{message_id}"},
    }


def message_item(message: StoredMessage) -> dict[str, "AttributeValueTypeDef"]:
    """A stored message as a DynamoDB item."""
    return {
        **message_key(message.user, message.received_at, message.id),
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

    def __init__(self, client: "DynamoDBClient", table_name: str) -> None:
        self._client = client
        self._table = table_name

    def save(self, message: StoredMessage) -> None:
        """Store one message."""
        try:
            self._client.put_item(TableName=self._table, Item=message_item(message))
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(str(error)) from error

    def history(
        self, user: str, limit: int, after: PagePosition | None
    ) -> tuple[Sequence[StoredMessage], bool]:
        """Return up to ``limit`` messages older than ``after`` and whether more follow."""
        query: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": f"USER#{user}"}, ":prefix": {"S": MESSAGE_PREFIX}},
            "ScanIndexForward": False,
            # One more than asked tells whether another page exists, so no page is ever empty.
            "Limit": limit + 1,
        }
        if after is not None:
            query["ExclusiveStartKey"] = message_key(user, after.received_at, after.id)
        try:
            items = self._client.query(**query)["Items"]
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(str(error)) from error
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

    def get(self, text: str, target: str) -> str | None:
        """Return the cached translation of ``text`` into ``target``, if any."""
        try:
            response = self._client.get_item(TableName=self._table, Key=self._key(text, target))
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(str(error)) from error
        item = response.get("Item")
        return item["translation"]["S"] if item else None

    def put(self, text: str, target: str, translation: str) -> None:
        """Remember the translation of ``text`` into ``target``."""
        item = {**self._key(text, target), "translation": {"S": translation}, "source": {"S": text}}
        try:
            self._client.put_item(TableName=self._table, Item=item)
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(str(error)) from error
