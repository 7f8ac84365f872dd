"""How well the local language model decides, and what the hybrid detection costs, on real text.

Three categories of texts people wrote, none for this project (provenance in tests/data/*.md):

- sentences: the Universal Declaration of Human Rights in 61 languages, about 100 characters
  (tests/data/udhr_sentences_evaluation.tsv);
- phrases: two or three words of the same (tests/data/udhr_phrases_evaluation.tsv);
- labels: Django's translated UI messages, under 80 characters (tests/data/language_evaluation.tsv).

With the model, the adapter and the language policy the functions ship (hybrid), per category and
per language: the share of texts the local model keeps, its precision on them (target >= 99.5 % on
sentences, >= 99 % on phrases), the share sent to Comprehend, the share left undetermined (target
<= 20 % on phrases) and the cost per million messages (target <= $40 on sentences), every
language weighing the same; then the same by confidence threshold, and the cost of
`comprehend`, `hybrid` and the original demo, from the cost model below.

Run: .venv/bin/python bench/language_detection.py [threshold] [evaluation.tsv ...]
(threshold: default the functions' own, 0.9; files: default the three categories' evaluation
splits, each file its own category)
"""

import math
import statistics
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from devkit.runtime.language_model import labelled_texts, model_path
from store_reply.adapters.fasttext import FastTextLanguageIdentifier
from store_reply.detection import LanguagePolicy
from store_reply.models import DecidedBy
from store_reply.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CATEGORIES = {
    "sentences": DATA / "udhr_sentences_evaluation.tsv",
    "phrases": DATA / "udhr_phrases_evaluation.tsv",
    "labels": DATA / "language_evaluation.tsv",
}
THRESHOLDS = [round(0.5 + 0.05 * step, 2) for step in range(10)]

# Prices, us-east-1, on-demand. The pricing pages themselves cannot be fetched from here; in 2026-11
# these were compared with what could be read: Comprehend's units and 3-unit minimum on its
# pricing page, $0.0001 a unit, Lambda's arm64 rates, DynamoDB's halved on-demand write price
# and the SnapStart rates (docs/configuration.md) in secondary sources quoting AWS. API Gateway, Translate,
# CloudWatch Logs and PutMetricData are the list prices as last known, not compared again.
COMPREHEND_UNIT = 0.0001  # $ per 100-character unit of DetectDominantLanguage (batch: the same per text)
COMPREHEND_MINIMUM_UNITS = 3  # every text is billed at least 3 units
TRANSLATE_PER_CHAR = 15 / 1_000_000  # $15 per million characters; same-language calls are free
API_GATEWAY_REQUEST = 3.50 / 1_000_000  # REST API, first 333 million requests a month
LAMBDA_REQUEST = 0.20 / 1_000_000
LAMBDA_GB_SECOND_ARM = 0.0000133334
LAMBDA_GB_SECONDS = 0.5 * 0.060  # 512 MB for about 60 ms a message (warm, measured locally)
DYNAMODB_WRITE = 0.625 / 1_000_000  # on-demand write request unit; a message item is under 1 KB
LOG_BYTES_PER_MESSAGE = 2_000  # the request's log lines and its EMF metrics document
LOGS_INGESTION_PER_GB = 0.50
PUT_METRIC_DATA = 0.01 / 1_000  # the demo's PutMetricData call per message
REPLY_CHARS = len("Thank you for your message!")
REPLY_LANGUAGE = "en"
MILLION = 1_000_000


@dataclass(frozen=True)
class Scored:
    """A labelled text, the local model's best guess and how the shipped policy decided it."""

    language: str
    text: str
    guess: str
    probability: float
    decided_by: DecidedBy
    decided: str


class Asked:
    """Comprehend's place in the policy: it answers, but its answers are not what is measured here."""

    ANSWER = "asked"

    def detect(self, _text: str) -> str:
        return self.ANSWER

    def detect_all(self, texts: Sequence[str]) -> list[str | None]:
        return [self.ANSWER for _ in texts]


def comprehend_cost(text: str) -> float:
    return max(COMPREHEND_MINIMUM_UNITS, math.ceil(len(text) / 100)) * COMPREHEND_UNIT


def base_cost() -> float:
    """What every message costs whichever way its language is decided."""
    lambda_cost = LAMBDA_REQUEST + LAMBDA_GB_SECONDS * LAMBDA_GB_SECOND_ARM
    logs = LOG_BYTES_PER_MESSAGE / 1e9 * LOGS_INGESTION_PER_GB
    return API_GATEWAY_REQUEST + lambda_cost + DYNAMODB_WRITE + logs


def demo_cost(item: Scored) -> float:
    """The original demo: DetectDominantLanguage, TranslateText, PutItem and PutMetricData per message."""
    translate = REPLY_CHARS * TRANSLATE_PER_CHAR if item.language != REPLY_LANGUAGE else 0.0
    return base_cost() + comprehend_cost(item.text) + translate + PUT_METRIC_DATA


def hybrid_cost(item: Scored) -> float:
    return base_cost() + (comprehend_cost(item.text) if item.decided_by == DecidedBy.SERVICE else 0.0)


def load(path: Path, identifier: FastTextLanguageIdentifier, threshold: float) -> list[Scored]:
    policy = LanguagePolicy("hybrid", local=identifier, service=Asked(), confidence=threshold)
    scored = []
    for language, text in labelled_texts(path):
        decision = policy.decide(text)
        scored.append(
            Scored(language, text, *identifier.identify(text), decision.decided_by, decision.language)
        )
    return scored


def rescored(scored: list[Scored], threshold: float) -> list[Scored]:
    """The same texts decided by the policy at another threshold (the model's answers are kept)."""
    answers = {item.text: (item.guess, item.probability) for item in scored}

    class Remembered:
        def identify(self, text: str) -> tuple[str, float]:
            return answers[text]

    policy = LanguagePolicy("hybrid", local=Remembered(), service=Asked(), confidence=threshold)
    return [replace(item, decided_by=policy.decide(item.text).decided_by) for item in scored]


@dataclass(frozen=True)
class Figures:
    """A set of texts' figures, every language weighing the same."""

    texts: int
    languages: int
    alone: float  # the model's best guess right, always kept
    kept: float
    precision: float
    comprehend: float
    undetermined: float
    cost: float  # $ per message, hybrid

    @classmethod
    def of(cls, scored: list[Scored]) -> "Figures":
        by_language: dict[str, list[Scored]] = defaultdict(list)
        for item in scored:
            by_language[item.language].append(item)
        weight = {language: 1 / len(items) / len(by_language) for language, items in by_language.items()}

        def share(test: Callable[[Scored], bool]) -> float:
            return sum(weight[item.language] for item in scored if test(item))

        kept = share(lambda item: item.decided_by == DecidedBy.LOCAL)
        right = share(lambda item: item.decided_by == DecidedBy.LOCAL and item.guess == item.language)
        return cls(
            texts=len(scored),
            languages=len(by_language),
            alone=share(lambda item: item.guess == item.language),
            kept=kept,
            precision=right / kept if kept else 1.0,
            comprehend=share(lambda item: item.decided_by == DecidedBy.SERVICE),
            undetermined=share(lambda item: item.decided_by == DecidedBy.UNDETERMINED),
            cost=sum(weight[item.language] * hybrid_cost(item) for item in scored),
        )

    def row(self) -> str:
        return (
            f"{self.texts:6d} {self.alone:7.1%} {self.kept:7.1%} {self.precision:9.2%} "
            f"{self.comprehend:10.1%} {self.undetermined:12.1%} {self.cost * MILLION:8.2f}"
        )


HEADER = " texts   alone    kept precision Comprehend undetermined  $ per M"


def summary(categories: dict[str, list[Scored]], threshold: float) -> None:
    print(f"\nBy category, hybrid at {threshold:.2f} (every language weighing the same)")
    print(f"  {'category':10s}{'langs':>6s} {HEADER}")
    for name, scored in categories.items():
        figures = Figures.of(scored)
        print(f"  {name:10s}{figures.languages:6d} {figures.row()}")


def per_threshold(name: str, scored: list[Scored]) -> None:
    print(f"\n{name}: hybrid by confidence threshold")
    print(f"  threshold {HEADER}")
    for threshold in THRESHOLDS:
        print(f"  {threshold:9.2f} {Figures.of(rescored(scored, threshold)).row()}")


def per_language(name: str, scored: list[Scored], threshold: float) -> None:
    print(f"\n{name}: per language at {threshold:.2f}")
    print(f"  lang {HEADER}")
    by_language: dict[str, list[Scored]] = defaultdict(list)
    for item in scored:
        by_language[item.language].append(item)
    for language, items in sorted(by_language.items()):
        print(f"  {language:4s} {Figures.of(items).row()}")


def costs(name: str, scored: list[Scored], threshold: float) -> None:
    figures = Figures.of(scored)
    comprehend_only = base_cost() + statistics.fmean(comprehend_cost(s.text) for s in scored)
    print(f"\n{name}: $ per million messages (HTTP API; cost model in this file)")
    print(f"  original demo (4 calls a message): {statistics.fmean(map(demo_cost, scored)) * MILLION:8.2f}")
    print(f"  comprehend (every message):        {comprehend_only * MILLION:8.2f}")
    print(f"  hybrid at {threshold:.2f}:                 {figures.cost * MILLION:8.2f}")
    print(f"  local (never Comprehend):          {base_cost() * MILLION:8.2f}")


def main(threshold: float, files: dict[str, Path]) -> None:
    identifier = FastTextLanguageIdentifier(model_path())
    categories = {name: load(path, identifier, threshold) for name, path in files.items()}
    for name, scored in categories.items():
        languages = len({s.language for s in scored})
        print(f"{name}: {len(scored)} texts in {languages} languages ({files[name].name})")
    summary(categories, threshold)
    for name, scored in categories.items():
        per_threshold(name, scored)
        per_language(name, scored, threshold)
        costs(name, scored, threshold)


def arguments(argv: list[str]) -> tuple[float, dict[str, Path]]:
    """``[threshold] [evaluation.tsv ...]``: by default the functions' threshold and the three categories."""
    default = float(Settings.model_fields["language_confidence"].default)
    threshold = float(argv[1]) if len(argv) > 1 else default
    files = {Path(name).stem: Path(name) for name in argv[2:]} or CATEGORIES
    return threshold, files


if __name__ == "__main__":
    main(*arguments(sys.argv))
