"""Assembles the service from settings and clients: the only module that knows every concrete piece."""

from store_reply.adapters.clients import AwsClients
from store_reply.adapters.dynamodb import DynamoMessageStore, DynamoTranslationCache
from store_reply.adapters.language import AmazonTranslator, ComprehendLanguageDetector
from store_reply.replies import ReplyTranslator
from store_reply.service import StoreAndReply
from store_reply.settings import Settings


def build_service(settings: Settings, clients: AwsClients) -> StoreAndReply:
    """The production service: Comprehend, Translate and DynamoDB."""
    replies = ReplyTranslator(
        text=settings.reply_message,
        language=settings.reply_language,
        translator=AmazonTranslator(clients.translate),
        cache=DynamoTranslationCache(clients.dynamodb, settings.table_name),
    )
    return StoreAndReply(
        detector=ComprehendLanguageDetector(clients.comprehend),
        replies=replies,
        store=DynamoMessageStore(clients.dynamodb, settings.table_name),
    )
