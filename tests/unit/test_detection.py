"""The language policy: the local model first, Comprehend only for what it is unsure of."""

import pytest

from devkit.runtime.language_model import model_path
from store_reply.adapters.fasttext import FastTextLanguageIdentifier
from store_reply.detection import SERVICE_MINIMUM_CHARS, LanguageDecision, LanguagePolicy
from store_reply.models import UNDETERMINED_LANGUAGE, DecidedBy, NewMessage
from store_reply.replies import ReplyTranslator
from store_reply.service import StoreAndReply
from tests.unit.fakes import FakeCache, FakeDetector, FakeIdentifier, FakeStore, FakeTranslator

CONFIDENT = "Merci beaucoup pour votre aide"
UNSURE = "ok ok ok, see you then at the place"  # 20 characters or more, the model unsure
SHORT_UNSURE = "ok ok"


def hybrid(service: FakeDetector, confidence: float = 0.9) -> LanguagePolicy:
    local = FakeIdentifier({CONFIDENT: ("fr", 0.99), UNSURE: ("en", 0.4), SHORT_UNSURE: ("en", 0.3)})
    return LanguagePolicy("hybrid", local=local, service=service, confidence=confidence)


def test_a_confident_text_is_decided_locally_without_comprehend() -> None:
    service = FakeDetector("de")

    decision = hybrid(service).decide(CONFIDENT)

    assert decision == LanguageDecision("fr", DecidedBy.LOCAL)
    assert service.calls == 0


def test_an_uncertain_text_goes_to_comprehend() -> None:
    service = FakeDetector("en")

    assert hybrid(service).decide(UNSURE) == LanguageDecision("en", DecidedBy.SERVICE)
    assert service.texts == [UNSURE]


def test_an_uncertain_text_shorter_than_comprehend_reads_well_is_undetermined_not_degraded() -> None:
    service = FakeDetector("en")

    decision = hybrid(service).decide(SHORT_UNSURE)

    assert len(SHORT_UNSURE) < SERVICE_MINIMUM_CHARS
    assert decision == LanguageDecision(UNDETERMINED_LANGUAGE, DecidedBy.UNDETERMINED, degraded=False)
    assert service.calls == 0


def test_the_threshold_decides_what_is_confident() -> None:
    service = FakeDetector("fr")

    assert hybrid(service, confidence=0.995).decide(CONFIDENT).decided_by is DecidedBy.SERVICE


def test_a_batch_sends_only_its_uncertain_texts_in_one_call() -> None:
    service = FakeDetector("en")

    decisions = hybrid(service).decide_all([CONFIDENT, UNSURE, SHORT_UNSURE, UNSURE])

    assert [d.decided_by for d in decisions] == [
        DecidedBy.LOCAL,
        DecidedBy.SERVICE,
        DecidedBy.UNDETERMINED,
        DecidedBy.SERVICE,
    ]
    assert (service.calls, service.texts) == (1, [UNSURE, UNSURE])


def test_a_batch_where_all_are_confident_makes_no_comprehend_call() -> None:
    service = FakeDetector("en")

    decisions = hybrid(service).decide_all([CONFIDENT] * 10)

    assert {d.language for d in decisions} == {"fr"}
    assert service.calls == 0


def test_comprehend_failing_degrades_only_the_texts_it_was_asked_about() -> None:
    service = FakeDetector(fails=True)

    decisions = hybrid(service).decide_all([CONFIDENT, UNSURE])

    assert decisions == [
        LanguageDecision("fr", DecidedBy.LOCAL),
        LanguageDecision(UNDETERMINED_LANGUAGE, DecidedBy.UNDETERMINED, degraded=True),
    ]


def test_local_mode_never_asks_comprehend() -> None:
    local = FakeIdentifier({CONFIDENT: ("fr", 0.99)})
    policy = LanguagePolicy("local", local=local, service=None, confidence=0.9)

    assert [d.decided_by for d in policy.decide_all([CONFIDENT, UNSURE])] == [
        DecidedBy.LOCAL,
        DecidedBy.UNDETERMINED,
    ]


def test_comprehend_mode_asks_for_every_text_however_confident_the_model() -> None:
    service = FakeDetector("fr")
    policy = LanguagePolicy("comprehend", local=None, service=service, confidence=0.9)

    assert policy.decide_all([CONFIDENT, SHORT_UNSURE]) == [LanguageDecision("fr", DecidedBy.SERVICE)] * 2
    assert service.calls == 1


@pytest.mark.parametrize(
    ("mode", "local", "service"), [("hybrid", None, FakeDetector()), ("local", None, None)]
)
def test_a_mode_without_what_it_needs_is_refused(
    mode: str, local: FakeIdentifier | None, service: FakeDetector | None
) -> None:
    with pytest.raises(ValueError, match="needs"):
        LanguagePolicy(mode, local=local, service=service, confidence=0.9)  # type: ignore[arg-type]


def test_the_receipt_says_who_decided_and_a_degraded_decision_degrades_the_reply() -> None:
    service = StoreAndReply(
        hybrid(FakeDetector(fails=True)),
        ReplyTranslator("Thanks", "en", FakeTranslator(), FakeCache()),
        FakeStore(),
    )

    local = service.accept(NewMessage(user="a", message=CONFIDENT))
    failed = service.accept(NewMessage(user="a", message=UNSURE))

    assert (local.language_decided_by, local.degraded) == (DecidedBy.LOCAL, False)
    assert (failed.language_decided_by, failed.degraded) == (DecidedBy.UNDETERMINED, True)
    assert failed.stored.language == UNDETERMINED_LANGUAGE


class TestTheShippedModel:
    """fastText's lid.176 through the adapter the functions use."""

    def test_identifies_with_a_probability(self) -> None:
        language, probability = FastTextLanguageIdentifier(model_path()).identify(
            "Muchas gracias por tu ayuda"
        )

        assert language == "es"
        assert 0.9 < probability <= 1.0

    def test_reads_text_over_several_lines(self) -> None:
        identifier = FastTextLanguageIdentifier(model_path())

        assert identifier.identify("Vielen Dank\nfür Ihre Hilfe")[0] == "de"

    def test_loads_nothing_until_first_asked(self) -> None:
        identifier = FastTextLanguageIdentifier(model_path().with_name("absent.ftz"))

        with pytest.raises(ValueError, match=r"absent\.ftz"):
            identifier.identify("hello")
