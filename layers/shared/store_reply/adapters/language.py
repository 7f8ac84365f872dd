"""Amazon Comprehend and Amazon Translate behind the domain's ports."""

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from store_reply.errors import LanguageDetectionFailed, TranslationFailed

if TYPE_CHECKING:
    from mypy_boto3_comprehend import ComprehendClient
    from mypy_boto3_translate import TranslateClient


class ComprehendLanguageDetector:
    """Detects the dominant language with ``DetectDominantLanguage``: the highest score wins."""

    def __init__(self, client: "ComprehendClient") -> None:
        self._client = client

    def detect(self, text: str) -> str:
        """Return the language code with the highest score."""
        try:
            response = self._client.detect_dominant_language(Text=text)
        except (ClientError, BotoCoreError) as error:
            raise LanguageDetectionFailed(str(error)) from error
        languages = response.get("Languages", [])
        if not languages:
            raise LanguageDetectionFailed("Comprehend found no language")
        best = max(languages, key=lambda language: language.get("Score", 0.0))
        return best["LanguageCode"]


class AmazonTranslator:
    """Translates with ``TranslateText``."""

    def __init__(self, client: "TranslateClient") -> None:
        self._client = client

    def translate(self, text: str, source: str, target: str) -> str:
        """Return ``text`` translated from ``source`` to ``target``."""
        try:
            response = self._client.translate_text(
                Text=text, SourceLanguageCode=source, TargetLanguageCode=target
            )
        except (ClientError, BotoCoreError) as error:
            raise TranslationFailed(str(error)) from error
        return response["TranslatedText"]
