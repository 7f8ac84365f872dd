"""Assembles the service from settings and clients: the only module that knows every concrete piece.

Amazon Comprehend and Amazon Translate are reached through clients made on first use: a process
whose messages the local model decides, in the reply's own language, never builds them.
"""

from collections.abc import Callable, Sequence
from functools import cached_property

from store_reply.adapters.clients import AwsClients
from store_reply.adapters.dynamodb import DynamoMessageStore, DynamoTranslationCache
from store_reply.adapters.fasttext import FastTextLanguageIdentifier
from store_reply.adapters.language import AmazonTranslator, ComprehendLanguageDetector
from store_reply.detection import LanguagePolicy
from store_reply.ports import LanguageDetector, Translator
from store_reply.replies import ReplyTranslator
from store_reply.service import StoreAndReply
from store_reply.settings import Settings


class _DetectorOnFirstUse:
    """A language detector built when first asked."""

    def __init__(self, build: Callable[[], LanguageDetector]) -> None:
        self._build = build
        self._built: LanguageDetector | None = None

    def _detector(self) -> LanguageDetector:
        if self._built is None:
            self._built = self._build()
        return self._built

    def detect(self, text: str) -> str:
        return self._detector().detect(text)

    def detect_all(self, texts: Sequence[str]) -> list[str | None]:
        return self._detector().detect_all(texts)


class _TranslatorOnFirstUse:
    """A translator built when first asked."""

    def __init__(self, build: Callable[[], Translator]) -> None:
        self._build = build
        self._built: Translator | None = None

    def translate(self, text: str, source: str, target: str) -> str:
        if self._built is None:
            self._built = self._build()
        return self._built.translate(text, source, target)


def build_identifier(settings: Settings) -> FastTextLanguageIdentifier | None:
    """The local language model, where the detection uses one (it loads on first use)."""
    if settings.language_detection == "comprehend":
        return None
    return FastTextLanguageIdentifier(settings.language_model)


def build_service(
    settings: Settings, clients: AwsClients, identifier: FastTextLanguageIdentifier | None = None
) -> StoreAndReply:
    """The service: DynamoDB, the configured language detection, and Translate or the offline catalogue.

    ``identifier`` is a local model already made (and perhaps loaded), to share between services.
    """
    translator: Translator
    local = identifier or build_identifier(settings)
    service: LanguageDetector | None = None
    if settings.language_services == "offline":
        # Never loaded on Lambda.
        from store_reply.adapters.offline import CatalogueTranslator, ModelLanguageDetector  # noqa: PLC0415

        translator = CatalogueTranslator()
        if settings.language_detection != "local":
            service = ModelLanguageDetector(local or FastTextLanguageIdentifier(settings.language_model))
    else:
        translator = _TranslatorOnFirstUse(lambda: AmazonTranslator(clients.translate))
        if settings.language_detection != "local":
            service = _DetectorOnFirstUse(lambda: ComprehendLanguageDetector(clients.comprehend))
    languages = LanguagePolicy(
        settings.language_detection,
        local=local,
        service=service,
        confidence=settings.language_confidence,
    )
    replies = ReplyTranslator(
        text=settings.reply_message,
        language=settings.reply_language,
        translator=translator,
        cache=DynamoTranslationCache(clients.dynamodb, settings.table_name),
    )
    return StoreAndReply(
        languages=languages,
        replies=replies,
        store=DynamoMessageStore(clients.dynamodb, settings.table_name, writer=settings.writer),
    )


class Configured[S: Settings]:
    """A function's settings, read when first needed, and the local model they select: one of each
    per process, shared by every service built from them (a SnapStart restore builds a new one)."""

    def __init__(self, read: Callable[[], S]) -> None:
        self._read = read

    @cached_property
    def settings(self) -> S:
        """The settings, validated once."""
        return self._read()

    @cached_property
    def language_model(self) -> FastTextLanguageIdentifier | None:
        """The local model, where the detection uses one."""
        return build_identifier(self.settings)

    def service(self, clients: AwsClients) -> StoreAndReply:
        """The service on ``clients``."""
        return build_service(self.settings, clients, self.language_model)

    def prepare(self, clients: AwsClients) -> None:
        """Make ready what a first message may need: the model loaded, the language services' clients."""
        if self.language_model is not None:
            self.language_model.load()
        if self.settings.language_services == "aws":
            _ = clients.translate
            if self.settings.language_detection != "local":
                _ = clients.comprehend
