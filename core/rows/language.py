"""Is this text in that language? lingua-language-detector (statistical n-gram models, offline).

A detector over all 75 languages in high-accuracy mode takes ~920 MB and 17 s to load, and in
low-accuracy mode calls "Where is my parcel?" Slovak. So one detector is built per set of
candidate languages that matter for an order (the wanted one, the source one and five a model
often slips into), in high-accuracy mode (~150 MB, loaded only by translation jobs), and the check rejects only a text that is clearly another
candidate language: a translation left in the source language is caught, a short or mixed text
is not thrown away on a guess.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.language import detector_for  # the one cache of detectors

if TYPE_CHECKING:
    from lingua import Language

#: Another candidate language this many times as likely as the wanted one: wrong language.
#: ("Where is my parcel now?" as Polish: English 0.72 vs Polish 0.28; a short "OK" stays undecided.)
MIN_RATIO = 2.0

# Polish names of languages users type in Polish chats (the engine gets what the spec says).
_POLISH_NAMES = {
    "polski": "polish", "angielski": "english", "niemiecki": "german", "francuski": "french",
    "hiszpański": "spanish", "włoski": "italian", "portugalski": "portuguese", "ukraiński": "ukrainian",
    "rosyjski": "russian", "czeski": "czech", "słowacki": "slovak", "niderlandzki": "dutch",
}
#: Always candidates: the languages a model most often slips into (and the seed's Polish).
_USUAL_NAMES = ("ENGLISH", "POLISH", "GERMAN", "SPANISH", "FRENCH")


def lingua_language(name: str) -> "Language | None":
    """"Polish" / "polski" / "pl" -> Language.POLISH; None for a language lingua does not know."""
    from lingua import IsoCode639_1, Language

    key = name.strip().lower()
    key = _POLISH_NAMES.get(key, key)
    try:
        return Language.from_str(key)
    except ValueError:
        pass
    if len(key) == 2:
        try:
            return Language.from_iso_code_639_1(IsoCode639_1.from_str(key))
        except ValueError:
            return None
    return None


def warm_up(wanted: str, others: tuple[str, ...] = ()) -> None:
    """Build the detector and load its models now (seconds of CPU): the engine calls this from
    a worker thread when a job starts, so the first checked row does not stall the event loop."""
    wrong_language("warm up", wanted, others)


def wrong_language(text: str, wanted: str, others: tuple[str, ...] = ()) -> str | None:
    """The name of the language `text` is clearly in instead of `wanted`, else None (also when
    `wanted` is a language the detector does not know: then nothing can be checked)."""
    from lingua import Language

    target = lingua_language(wanted)
    if target is None:
        return None
    candidates = {target, *(getattr(Language, name) for name in _USUAL_NAMES)}
    for other in others:
        language = lingua_language(other)
        if language is not None:
            candidates.add(language)
    detector = detector_for(candidates)
    values = detector.compute_language_confidence_values(text)
    if not values or values[0].language == target:
        return None
    wanted = next((item.value for item in values if item.language == target), 0.0)
    if values[0].value < MIN_RATIO * wanted:
        return None
    return values[0].language.name.capitalize()
