"""The real-text yardstick (tests/data/udhr_*.tsv): two splits that share nothing, in enough languages."""

from collections import Counter

import pytest

from devkit.runtime.language_model import labelled_texts
from devkit.template import ROOT

DATA = ROOT / "tests" / "data"
LABELS = {language for language, _ in labelled_texts(DATA / "language_evaluation.tsv")}


@pytest.mark.parametrize("category", ["sentences", "phrases"])
def test_calibration_and_evaluation_share_no_text(category: str) -> None:
    calibration = {text for _, text in labelled_texts(DATA / f"udhr_{category}_calibration.tsv")}
    evaluation = {text for _, text in labelled_texts(DATA / f"udhr_{category}_evaluation.tsv")}

    assert calibration
    assert evaluation
    assert not calibration & evaluation


@pytest.mark.parametrize("split", ["calibration", "evaluation"])
def test_each_split_holds_at_least_40_languages_of_the_labels_set(split: str) -> None:
    for category, least in (("sentences", 25), ("phrases", 50)):
        counts = Counter(language for language, _ in labelled_texts(DATA / f"udhr_{category}_{split}.tsv"))

        assert len(counts) >= 40
        assert set(counts) <= LABELS  # languages Comprehend detects and Translate replies in
        assert min(counts.values()) >= least, counts.most_common()[-3:]


def test_sentences_are_about_100_characters_and_phrases_two_or_three_words() -> None:
    sentences = [text for _, text in labelled_texts(DATA / "udhr_sentences_evaluation.tsv")]
    phrases = [(lang, text) for lang, text in labelled_texts(DATA / "udhr_phrases_evaluation.tsv")]

    assert 80 <= sum(map(len, sentences)) / len(sentences) <= 120
    spaced = [text for lang, text in phrases if lang not in {"zh", "ja", "th"}]
    assert all(2 <= len(text.split()) <= 3 for text in spaced)
