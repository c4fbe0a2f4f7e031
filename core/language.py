"""Is a generated row written in the ordered language? (lingua-language-detector)

The usual failure is a model drifting into English (its strongest language) or copying the
language of the instructions, so each order's detector knows only the ordered language and
English: two models load in about 1 s and take about 120 MB; a row takes about 50 µs. lingua
was chosen over langid/fastText for its accuracy on sentence-length text (measured on our own
EN/PL message texts: 99.3% for 6+ words, 98.9% for 3-5 words, 97% for 1-2 words).

Rules:
- English orders and languages lingua does not know are not checked (nothing to tell apart).
- Rows of fewer than `MIN_WORDS` words are never rejected: "OK", "Super" or a product name
  are fine in any language, and detection that short is a coin toss.
- Otherwise a row is "wrong language" when the detector names the other language. When it
  cannot decide, the row stays.

Detectors are cached per set of languages, built once per process (`detector_for`, also used by
the translation check in core/rows/language.py); `prepare()` builds one ahead (call it from a
worker thread, loading the models takes about a second).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

MIN_WORDS = 3
REASON = "wrong language"

_WORD = re.compile(r"[^\W\d_]{2,}")  # a word: two letters or more, any script
# Names lingua spells differently from the English names our orders use.
_ALIASES: dict[str, tuple[Language, ...]] = {
    "norwegian": (Language.BOKMAL, Language.NYNORSK),
    "mandarin": (Language.CHINESE,),
    "farsi": (Language.PERSIAN,),
}
#: Detectors kept per process (~60 MB of models for an ordered language and English; ~150 MB for a
#: translation job's candidates).
MAX_DETECTORS = 8
_detectors: dict[tuple[frozenset[Language], bool], LanguageDetector] = {}
_build_lock = threading.Lock()


def languages_of(name: str | None) -> tuple[Language, ...]:
    """lingua's languages for an order's `language` ("Polish" -> POLISH), empty when unknown."""
    words = re.findall(r"[a-z]+", (name or "").lower())
    if not words:
        return ()
    word = words[0]
    if word in _ALIASES:
        return _ALIASES[word]
    try:
        return (Language.from_str(word),)
    except ValueError:
        return ()


def is_checked(language: str | None) -> bool:
    ordered = languages_of(language)
    return bool(ordered) and Language.ENGLISH not in ordered


def detector_for(languages: Iterable[Language], *, preload: bool = False) -> LanguageDetector:
    """The process's detector telling `languages` apart, built once; `preload`: load its models now
    rather than at the first text."""
    key = (frozenset(languages), preload)
    detector = _detectors.get(key)
    if detector is None:
        with _build_lock:  # two jobs starting at once must not each load the models
            detector = _detectors.get(key)
            if detector is None:
                builder = LanguageDetectorBuilder.from_languages(*key[0])
                detector = (builder.with_preloaded_language_models() if preload else builder).build()
                if len(_detectors) >= MAX_DETECTORS:
                    _detectors.pop(next(iter(_detectors)))  # the oldest; its models are freed with it
                _detectors[key] = detector
    return detector


def _detector(ordered: tuple[Language, ...]) -> LanguageDetector:
    return detector_for((*ordered, Language.ENGLISH), preload=True)


def prepare(language: str | None) -> None:
    """Load the detector for `language` now (slow: call it off the event loop)."""
    if is_checked(language):
        _detector(languages_of(language))


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def wrong_language(text: str, language: str | None) -> bool:
    """True when `text` is clearly not in `language` (see the module's rules)."""
    if not is_checked(language) or word_count(text) < MIN_WORDS:
        return False
    ordered = languages_of(language)
    detected = _detector(ordered).detect_language_of(text)
    return detected is not None and detected not in ordered


def language_share(texts: list[str], language: str | None) -> float | None:
    """Share of `texts` that pass the check, for the card; None when the language is not checked."""
    if not is_checked(language) or not texts:
        return None
    return sum(not wrong_language(text, language) for text in texts) / len(texts)
