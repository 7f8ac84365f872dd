"""Assembles the service from settings and clients: the only module that knows every concrete piece."""

from store_reply.adapters.clients import AwsClients
from store_reply.adapters.dynamodb import DynamoMessageStore, DynamoTranslationCache
from store_reply.adapters.language import AmazonTranslator, ComprehendLanguageDetector
from store_reply.ports import LanguageDetector, Translator
from store_reply.replies import ReplyTranslator
from store_reply.service import StoreAndReply
from store_reply.settings import Settings


def _language_services(settings: Settings, clients: AwsClients) -> tuple[LanguageDetector, Translator]:
    if settings.language_services == "offline":
        from store_reply.adapters.offline import (  # noqa: PLC0415 (never loaded on Lambda)
            CatalogueTranslator,
            FastTextLanguageDetector,
        )

        return FastTextLanguageDetector(), CatalogueTranslator()
    return ComprehendLanguageDetector(clients.comprehend), AmazonTranslator(clients.translate)


def build_service(settings: Settings, clients: AwsClients) -> StoreAndReply:
    """The service: DynamoDB, with Comprehend and Translate or, when configured, their offline stand-ins."""
    detector, translator = _language_services(settings, clients)
    replies = ReplyTranslator(
        text=settings.reply_message,
        language=settings.reply_language,
        translator=translator,
        cache=DynamoTranslationCache(clients.dynamodb, settings.table_name),
    )
    return StoreAndReply(
        detector=detector,
        replies=replies,
        store=DynamoMessageStore(clients.dynamodb, settings.table_name),
    )
