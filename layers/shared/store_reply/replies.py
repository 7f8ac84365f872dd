"""The reply: the configured thank-you text in the sender's language, translated at most once."""

import logging

from store_reply.errors import LanguageNotTranslatable, StorageUnavailable, TranslationFailed
from store_reply.models import UNDETERMINED_LANGUAGE, CachedTranslation, Reply
from store_reply.ports import TranslationCache, Translator

logger = logging.getLogger(__name__)


class ReplyTranslator:
    """Gives the reply text in a language, from memory, then the shared cache, then the translator.

    Each (reply text, language) pair reaches the translator once per cache lifetime, and so does
    a language the translator offers no translation into (its reply stays in the configured
    language, not degraded); a reply in the configured language, or to a message of undetermined
    language, never does.
    """

    def __init__(self, text: str, language: str, translator: Translator, cache: TranslationCache) -> None:
        self._text = text
        self._language = language
        self._translator = translator
        self._cache = cache
        self._memory: dict[str, CachedTranslation] = {}

    def reply_in(self, language: str) -> Reply:
        """Return the reply for a message written in ``language``."""
        if language in (self._language, UNDETERMINED_LANGUAGE):
            return self._untranslated(degraded=False)
        known = self._memory.get(language) or self._cached(language)
        if known is None:
            try:
                known = CachedTranslation(
                    text=self._translator.translate(self._text, self._language, language)
                )
            except LanguageNotTranslatable as error:
                logger.info(
                    "No translation into %s exists; replying in %s: %s", language, self._language, error
                )
                known = CachedTranslation(text=None)
            except TranslationFailed as error:
                logger.warning("Reply not translated to %s: %s", language, error)
                return self._untranslated(degraded=True)
            self._remember(language, known)
        self._memory[language] = known
        if known.text is None:
            return self._untranslated(degraded=False)
        return Reply(text=known.text, language=language, translated=True, degraded=False)

    def _untranslated(self, *, degraded: bool) -> Reply:
        return Reply(text=self._text, language=self._language, translated=False, degraded=degraded)

    def _cached(self, language: str) -> CachedTranslation | None:
        try:
            return self._cache.get(self._text, language)
        except StorageUnavailable as error:
            logger.warning("Translation cache unreadable, translating instead: %s", error)
            return None

    def _remember(self, language: str, translation: CachedTranslation) -> None:
        try:
            self._cache.put(self._text, language, translation)
        except StorageUnavailable as error:
            logger.warning("Translation to %s not cached: %s", language, error)
