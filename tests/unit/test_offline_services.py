"""What the local stack runs instead of Comprehend and Translate: the local model and the catalogue."""

from collections import Counter
from pathlib import Path

import pytest

from devkit.runtime.language_model import labelled_texts, model_path
from store_reply.adapters.clients import build_clients
from store_reply.adapters.fasttext import FastTextLanguageIdentifier
from store_reply.adapters.offline import CatalogueTranslator, ModelLanguageDetector
from store_reply.detection import LanguagePolicy
from store_reply.errors import LanguageDetectionFailed, TranslationFailed
from store_reply.models import DecidedBy, NewMessage
from store_reply.settings import Settings
from store_reply.wiring import build_service
from tests.support.aws import TABLE_NAME

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


def offline_settings(detection: str) -> Settings:
    return Settings.from_environ(
        {
            "TABLE_NAME": TABLE_NAME,
            "REPLY_MESSAGE": REPLY,
            "REPLY_LANGUAGE": "en",
            "LANGUAGE_SERVICES": "offline",
            "LANGUAGE_DETECTION": detection,
            "LANGUAGE_MODEL": str(model_path()),
        }
    )


def test_comprehend_s_stand_in_is_the_model_s_best_guess_whatever_its_probability() -> None:
    identifier = FastTextLanguageIdentifier(model_path())
    unsure = "ciao, grazie per la risposta veloce"  # Italian, below the 0.9 threshold
    stand_in = ModelLanguageDetector(identifier)

    assert identifier.identify(unsure)[1] < 0.9
    assert stand_in.detect(unsure) == "it"
    assert stand_in.detect_all([unsure, "Vielen Dank für die schnelle Hilfe"]) == ["it", "de"]


class NoLanguage:
    """A model that finds no language in anything."""

    def identify(self, text: str) -> tuple[str, float]:
        return "und", 0.0


def test_the_stand_in_fails_as_comprehend_finding_no_language_would() -> None:
    stand_in = ModelLanguageDetector(NoLanguage())

    assert stand_in.detect_all(["anything at all, really"]) == [None]
    with pytest.raises(LanguageDetectionFailed):
        stand_in.detect("anything at all, really")


@pytest.mark.parametrize(
    ("detection", "decided_by"), [("hybrid", DecidedBy.SERVICE), ("local", DecidedBy.UNDETERMINED)]
)
def test_offline_a_text_the_model_is_unsure_of_takes_production_s_path(
    dynamodb: object, detection: str, decided_by: DecidedBy
) -> None:
    # hybrid asks the language service about a text of 20 characters or more the model is unsure
    # of, as in AWS; local never asks.
    service = build_service(offline_settings(detection), build_clients())

    receipt = service.accept(NewMessage(user="ana", message="ciao, grazie per la risposta veloce"))

    assert receipt.language_decided_by == decided_by
    assert receipt.stored.language == ("it" if decided_by == DecidedBy.SERVICE else "und")


def test_offline_the_chat_messages_are_answered_in_their_language_as_often_as_in_aws() -> None:
    # With the stand-in in Comprehend's place: every message of 20 characters or more gets the
    # model's best guess, the shorter ones only a confident answer (as hybrid does in AWS).
    identifier = FastTextLanguageIdentifier(model_path())
    policy = LanguagePolicy(
        "hybrid", local=identifier, service=ModelLanguageDetector(identifier), confidence=0.9
    )
    messages = corpus()

    right = sum(policy.decide(text).language == language for language, text in messages)

    assert right / len(messages) >= 0.95
