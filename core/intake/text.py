"""Text normalisation shared by every rule: folding, template lines, masking, yes / no / skip."""

from __future__ import annotations

import re
import unicodedata

#: Rules read at most this much of a message: chat messages are far shorter, and the regexes stay fast.
MAX_RULES_CHARS = 20_000

_DEACCENT = str.maketrans("ąćęłńóśźż", "acelnoszz")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "`": "'"})
# An output-template line such as `Q: <sentence>` or `Intent: <intent>`: describes the format, not the order.
_TEMPLATE_LINE = re.compile(r"""^[ \t]*[^\n:<>]{0,30}:[ \t]*["']?<[^<>\n]{0,60}>["']?[ \t]*$""", re.M)


def fold(text: str) -> str:
    """Lower-case and fold Polish diacritics, keeping every character's position."""
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text).translate(_DEACCENT)


def prepare(text: str) -> tuple[str, str]:
    """(original, folded): NFKC, quotes unified, template lines blanked; both of equal length."""
    text = text[:MAX_RULES_CHARS]
    if not text.isascii():
        text = "".join(_not_a_digit(ch) for ch in text)
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _TEMPLATE_LINE.sub(lambda m: " " * len(m.group(0)), text)
    return text, fold(text)


def _not_a_digit(ch: str) -> str:
    # "²", "①", "½" are numeric to Python (isdigit() may be true, int() fails) but not numbers anyone
    # orders with, and NFKC would turn them into "2", "1", "1⁄2". U+FFFD keeps "10²" from reading as 10.
    # Decimal digits of any script ("٣", full-width "３") stay numbers.
    if ch.isnumeric() and not ch.isdecimal() and any(c.isdigit() for c in unicodedata.normalize("NFKC", ch)):
        return "\ufffd"
    return ch


def mask(folded: str, start: int, end: int) -> str:
    return folded[:start] + " " * (end - start) + folded[end:]


# --- yes / no --------------------------------------------------------------------------------

YES_WORDS = {
    "yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "okey", "k", "go", "go ahead", "do it", "let's go",
    "lets go", "sounds good", "looks good", "correct", "right", "confirm", "confirmed", "fine", "great", "perfect",
    "yes please", "ok go", "go on", "proceed", "tak", "dobrze", "jasne", "pewnie", "zgoda", "dawaj", "git",
    "smialo", "oczywiscie", "potwierdzam", "tak jest", "w porzadku", "moze byc", "super", "okej", "jedziemy",
    "tak prosze", "👍", "✅", "ja",
}
NO_WORDS = {
    "no", "n", "nope", "nah", "not yet", "no thanks", "no thank you", "nie", "nie teraz", "nie dziekuje",
    "raczej nie", "👎", "❌",
}
SKIP_WORDS = {
    "skip", "any", "none", "no topic", "any topic", "whatever", "doesn't matter", "does not matter", "nothing",
    "no preference", "pomin", "dowolny", "dowolna", "dowolne", "obojetnie", "bez tematu", "dowolny temat",
    "wszystko jedno", "brak", "-", "nie ma znaczenia", "general", "ogolny", "ogolne",
}


def bare_form(folded: str) -> str:
    """The message without surrounding punctuation/space, folded: for whole-message matches."""
    return re.sub(r"\s+", " ", folded).strip(" \t\n.!?,;:()[]\"'")


def yes_no(bare: str) -> bool | None:
    if bare in YES_WORDS:
        return True
    if bare in NO_WORDS:
        return False
    words = bare.split()
    if len(words) > 1 and all(word in YES_WORDS for word in words):
        return True  # "yes go", "ok sure"
    head = re.split(r"[,;.!\-–—]", bare, maxsplit=1)[0].strip()
    if head != bare:
        if head in YES_WORDS:
            return True
        if head in NO_WORDS:
            return False
    return None


def starts_with_yes_no(bare: str) -> bool:
    head = re.split(r"[,;.!\-–—]", bare, maxsplit=1)[0].strip()
    return head in YES_WORDS or head in NO_WORDS

