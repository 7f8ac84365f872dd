"""Amazon Comprehend and Amazon Translate behind the domain's ports."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from store_reply.errors import LanguageDetectionFailed, LanguageNotTranslatable, TranslationFailed

if TYPE_CHECKING:
    from mypy_boto3_comprehend import ComprehendClient
    from mypy_boto3_comprehend.type_defs import DominantLanguageTypeDef
    from mypy_boto3_translate import TranslateClient

BATCH_DOCUMENTS = 25  # BatchDetectDominantLanguage's limit
BATCH_DOCUMENT_BYTES = 4_900  # each document must stay under 5,000 bytes of UTF-8
UNSUPPORTED_PAIR = "UnsupportedLanguagePairException"


def _clip(text: str, limit: int = BATCH_DOCUMENT_BYTES) -> str:
    """The longest prefix of ``text`` within ``limit`` UTF-8 bytes; plenty to tell a language."""
    return text.encode()[:limit].decode(errors="ignore")


def _best(languages: "Sequence[DominantLanguageTypeDef]") -> str | None:
    if not languages:
        return None
    return max(languages, key=lambda language: language.get("Score", 0.0)).get("LanguageCode")


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
        best = _best(response.get("Languages", []))
        if best is None:
            raise LanguageDetectionFailed("Comprehend found no language")
        return best

    def detect_all(self, texts: Sequence[str]) -> list[str | None]:
        """Detect with ``BatchDetectDominantLanguage``, 25 documents a call.

        A document Comprehend could not read comes back as None; a call that failed leaves its
        documents None; when every call failed, raise ``LanguageDetectionFailed``.
        """
        results: list[str | None] = [None] * len(texts)
        errors: list[Exception] = []
        for start in range(0, len(texts), BATCH_DOCUMENTS):
            chunk = [_clip(text) for text in texts[start : start + BATCH_DOCUMENTS]]
            try:
                response = self._client.batch_detect_dominant_language(TextList=chunk)
            except (ClientError, BotoCoreError) as error:
                errors.append(error)
                continue
            for result in response["ResultList"]:
                results[start + result["Index"]] = _best(result.get("Languages", []))
        if texts and len(errors) == -(-len(texts) // BATCH_DOCUMENTS):
            raise LanguageDetectionFailed(str(errors[-1])) from errors[-1]
        return results


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
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == UNSUPPORTED_PAIR:
                raise LanguageNotTranslatable(str(error)) from error
            raise TranslationFailed(str(error)) from error
        except BotoCoreError as error:
            raise TranslationFailed(str(error)) from error
        return response["TranslatedText"]
