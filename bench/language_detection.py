"""How well the local language model decides alone, and what the hybrid detection costs.

On tests/data/language_evaluation.tsv (short texts people wrote, in 61 languages; provenance in
tests/data/LANGUAGE_EVALUATION.md), with the model and the adapter the functions ship:

1. per language and overall: accuracy of the local model alone (its best guess, always kept);
2. per confidence threshold from 0.50 to 0.95: the share of texts the local model keeps, its
   precision on them (target >= 99.5 %), the share sent to Comprehend (uncertain, 20 characters
   or more) and the share left undetermined (uncertain and shorter);
3. the cost per million messages of `comprehend`, `hybrid` (at each threshold) and the original
   demo, from the cost model below.

Run: .venv/bin/python bench/language_detection.py [threshold] [evaluation.tsv]
(threshold: for the per-length and per-language tables and the cost summary; default, the
functions' own, 0.9)
"""

import math
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from devkit.runtime.language_model import labelled_texts, model_path
from store_reply.adapters.fasttext import FastTextLanguageIdentifier
from store_reply.detection import SERVICE_MINIMUM_CHARS
from store_reply.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EVALUATION = ROOT / "tests" / "data" / "language_evaluation.tsv"
THRESHOLDS = [round(0.5 + 0.05 * step, 2) for step in range(10)]
PRECISION_TARGET = 0.995

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
    language: str
    text: str
    guess: str
    probability: float


def comprehend_cost(text: str) -> float:
    return max(COMPREHEND_MINIMUM_UNITS, math.ceil(len(text) / 100)) * COMPREHEND_UNIT


def base_cost() -> float:
    """What every message costs whichever way its language is decided."""
    lambda_cost = LAMBDA_REQUEST + LAMBDA_GB_SECONDS * LAMBDA_GB_SECOND_ARM
    logs = LOG_BYTES_PER_MESSAGE / 1e9 * LOGS_INGESTION_PER_GB
    return API_GATEWAY_REQUEST + lambda_cost + DYNAMODB_WRITE + logs


def demo_cost(scored: list[Scored]) -> float:
    """The original demo: DetectDominantLanguage, TranslateText, PutItem and PutMetricData per message."""
    translate = statistics.fmean(
        REPLY_CHARS * TRANSLATE_PER_CHAR if s.language != REPLY_LANGUAGE else 0.0 for s in scored
    )
    comprehend = statistics.fmean(comprehend_cost(s.text) for s in scored)
    return base_cost() + comprehend + translate + PUT_METRIC_DATA


def load(evaluation: Path) -> list[Scored]:
    identifier = FastTextLanguageIdentifier(model_path())
    return [
        Scored(language, text, *identifier.identify(text)) for language, text in labelled_texts(evaluation)
    ]


def outcome(item: Scored, threshold: float) -> str:
    if item.probability >= threshold:
        return "kept"
    return "comprehend" if len(item.text.strip()) >= SERVICE_MINIMUM_CHARS else "undetermined"


def per_threshold(scored: list[Scored]) -> None:
    print("\nHybrid by confidence threshold (all texts)")
    print("  threshold  kept   precision  to Comprehend  undetermined  $ per million (hybrid)")
    for threshold in THRESHOLDS:
        outcomes = [outcome(s, threshold) for s in scored]
        kept = [s for s, o in zip(scored, outcomes, strict=True) if o == "kept"]
        precision = sum(s.guess == s.language for s in kept) / max(1, len(kept))
        sent = [s for s, o in zip(scored, outcomes, strict=True) if o == "comprehend"]
        undetermined = outcomes.count("undetermined")
        cost = base_cost() + sum(comprehend_cost(s.text) for s in sent) / len(scored)
        flag = "" if precision >= PRECISION_TARGET else "  (precision below target)"
        print(
            f"  {threshold:9.2f}  {len(kept) / len(scored):5.1%}  {precision:9.2%}  "
            f"{len(sent) / len(scored):13.1%}  {undetermined / len(scored):12.1%}  "
            f"{cost * MILLION:10.2f}{flag}"
        )


def per_length(scored: list[Scored], threshold: float) -> None:
    print(f"\nBy length at threshold {threshold:.2f}")
    for name, short in (("< 20 characters", True), (">= 20 characters", False)):
        band = [s for s in scored if (len(s.text) < SERVICE_MINIMUM_CHARS) == short]
        kept = [s for s in band if s.probability >= threshold]
        precision = sum(s.guess == s.language for s in kept) / max(1, len(kept))
        alone = sum(s.guess == s.language for s in band) / len(band)
        print(
            f"  {name:17s} {len(band):5d} texts  local alone {alone:6.1%}"
            f"  kept {len(kept) / len(band):6.1%}  precision {precision:7.2%}"
        )


def per_language(scored: list[Scored], threshold: float) -> None:
    print(f"\nPer language at threshold {threshold:.2f}")
    print("  lang  texts  local alone  kept    precision  to Comprehend")
    by_language: dict[str, list[Scored]] = defaultdict(list)
    for item in scored:
        by_language[item.language].append(item)
    for language, items in sorted(by_language.items()):
        kept = [s for s in items if outcome(s, threshold) == "kept"]
        sent = sum(outcome(s, threshold) == "comprehend" for s in items)
        accuracy = sum(s.guess == s.language for s in items) / len(items)
        precision = sum(s.guess == s.language for s in kept) / max(1, len(kept))
        print(
            f"  {language:4s}  {len(items):5d}  {accuracy:11.1%}  {len(kept) / len(items):6.1%}"
            f"  {precision:9.1%}  {sent / len(items):13.1%}"
        )


def main(threshold: float, evaluation: Path) -> None:
    scored = load(evaluation)
    languages = {s.language for s in scored}
    accuracy = sum(s.guess == s.language for s in scored) / len(scored)
    print(f"Evaluation set: {len(scored)} texts in {len(languages)} languages ({evaluation.name})")
    print(f"Local model alone (best guess always kept): accuracy {accuracy:.1%}")
    per_threshold(scored)
    per_length(scored, threshold)
    per_language(scored, threshold)
    comprehend_only = base_cost() + statistics.fmean(comprehend_cost(s.text) for s in scored)
    sent = [s for s in scored if outcome(s, threshold) == "comprehend"]
    hybrid = base_cost() + sum(comprehend_cost(s.text) for s in sent) / len(scored)
    print("\n$ per million messages (HTTP API; cost model in this file)")
    print(f"  original demo (4 calls a message): {demo_cost(scored) * MILLION:8.2f}")
    print(f"  comprehend (every message):        {comprehend_only * MILLION:8.2f}")
    print(f"  hybrid at {threshold:.2f}:                 {hybrid * MILLION:8.2f}  (target <= 40.00)")
    print(f"  local (never Comprehend):          {base_cost() * MILLION:8.2f}")


def arguments(argv: list[str]) -> tuple[float, Path]:
    """``[threshold] [evaluation.tsv]``: by default the functions' threshold and the evaluation set."""
    default = float(Settings.model_fields["language_confidence"].default)
    return (float(argv[1]) if len(argv) > 1 else default, Path(argv[2]) if len(argv) > 2 else EVALUATION)


if __name__ == "__main__":
    main(*arguments(sys.argv))
