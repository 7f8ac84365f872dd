"""What the local stack runs instead of Comprehend and Translate: the local model and the catalogue."""

from collections import Counter
from pathlib import Path

import pytest

from devkit.language_model import labelled_texts, model_path
from store_reply.adapters.clients import build_clients
from store_reply.adapters.fasttext import FastTextLanguageIdentifier
from store_reply.adapters.offline import CatalogueTranslator
from store_reply.errors import TranslationFailed
from store_reply.models import NewMessage
from store_reply.settings import Settings
from store_reply.wiring import build_service
from tests.conftest import TABLE_NAME

CORPUS = Path(__file__).parent.parent / "data" / "chat_messages.tsv"
REPLY = "Thank you for your message!"


def corpus() -> list[tuple[str, str]]:
    return labelled_texts(CORPUS)


def test_the_corpus_covers_every_catalogue_language() -> None:
    per_language = Counter(language for language, _ in corpus())

    assert set(per_language) == {*CatalogueTranslator().languages, "en"}
    assert min(per_language.values()) >= 8


def test_detection_is_right_at_least_90_percent_of_the_time_on_short_chat_messages() -> None:
    identifier = FastTextLanguageIdentifier(model_path())
    messages = corpus()

    right = sum(identifier.identify(text)[0] == language for language, text in messages)

    assert right / len(messages) >= 0.90


def test_the_catalogue_holds_the_reply_in_at_least_15_languages() -> None:
    translator = CatalogueTranslator()

    assert len(translator.languages) >= 15
    assert translator.translate(REPLY, "en", "fr") == "Merci pour votre message !"


@pytest.mark.parametrize(("text", "target"), [(REPLY, "sv"), ("Another reply", "fr")])
def test_what_the_catalogue_lacks_fails_like_translate(text: str, target: str) -> None:
    with pytest.raises(TranslationFailed):
        CatalogueTranslator().translate(text, "en", target)


def test_configuration_selects_the_offline_services(dynamodb: object) -> None:
    settings = Settings.from_environ(
        {
            "TABLE_NAME": TABLE_NAME,
            "REPLY_MESSAGE": REPLY,
            "REPLY_LANGUAGE": "en",
            "LANGUAGE_SERVICES": "offline",
            "LANGUAGE_DETECTION": "local",
            "LANGUAGE_MODEL": str(model_path()),
        }
    )

    receipt = build_service(settings, build_clients()).accept(
        NewMessage(user="ana", message="Muchas gracias por tu ayuda")
    )

    assert (receipt.stored.language, receipt.reply.text) == ("es", "¡Gracias por tu mensaje!")
