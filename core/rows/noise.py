"""Erroneous data: an exact share of rows written messy, with a `noise` column naming the kind.

"Make 20% of the rows messy" gives exactly round(20% of count) rows whose `noise` is one of the
kinds below and the rest `clean`, so a classifier can be tested on noisy input. The engine asks
for messy rows in their own requests (one kind per request, named in the prompt); the kinds
that can be checked mechanically are checked (all caps, no punctuation, no diacritics).
"""

from __future__ import annotations

import math
import unicodedata

from core.rows.columns import Column, ColumnType

NOISE_COLUMN = "noise"
CLEAN = "clean"
#: The kinds, and how the prompt asks for each.
KINDS: dict[str, str] = {
    "typos": "with realistic typing mistakes (swapped, missing or doubled letters), as typed in a hurry",
    "no diacritics": "without any diacritics (e.g. 'zolw' for 'żółw', 'cafe' for 'café'), as typed on a "
                     "keyboard without them",
    "no punctuation": "without any punctuation at all, no full stops, commas or question marks",
    "slang": "in heavy informal slang and abbreviations, as in chat messages",
    "all caps": "ENTIRELY IN CAPITAL LETTERS",
    "mixed language": "mixing in words or phrases from English (or another language), as bilingual people do",
}
# Languages whose writing uses diacritics: "no diacritics" is a real error there only.
_DIACRITIC_LANGUAGES = {
    "polish", "czech", "slovak", "german", "french", "spanish", "portuguese", "italian", "hungarian",
    "romanian", "croatian", "slovenian", "turkish", "swedish", "norwegian", "danish", "finnish", "vietnamese",
    "polski", "czeski", "słowacki", "niemiecki", "francuski", "hiszpański", "portugalski", "włoski",
}


def kinds_for(language: str) -> list[str]:
    """The messy kinds that make sense for a dataset in `language`."""
    with_diacritics = language.strip().lower() in _DIACRITIC_LANGUAGES
    return [kind for kind in KINDS if kind != "no diacritics" or with_diacritics]


def noise_column(language: str) -> Column:
    return Column(name=NOISE_COLUMN, type=ColumnType.category, values=(CLEAN, *kinds_for(language)),
                  description="which kind of realistic error the text has, or clean")


def messy_total(share: float, count: int) -> int:
    """Exactly this many rows are messy: the share of the count, rounded half up."""
    return min(count, math.floor(share * count + 0.5))


def kind_for_batch(language: str, batch_index: int) -> str:
    """The messy kind a request asks for: round robin, so every kind appears."""
    kinds = kinds_for(language)
    return kinds[batch_index % len(kinds)]


def check_noise(text: str, kind: str) -> str | None:
    """Why `text` is not the `kind` of messy it claims to be, or None (unverifiable kinds pass)."""
    letters = [char for char in text if char.isalpha()]
    if kind == "all caps":
        cased = [char for char in letters if char.lower() != char.upper()]
        if not cased or any(char != char.upper() for char in cased):
            return "noise not as labeled"
    elif kind == "no punctuation":
        if any(unicodedata.category(char).startswith("P") for char in text):
            return "noise not as labeled"
    elif kind == "no diacritics":
        decomposed = unicodedata.normalize("NFD", text)
        if any(unicodedata.category(char) == "Mn" for char in decomposed) or any(c in "łŁøØđĐßæÆ" for c in text):
            return "noise not as labeled"
    return None


def noise_line(kind: str, column: str) -> str:
    """The prompt line of a request whose rows are `kind` (the fake server reads 'the noise "X"')."""
    if kind == CLEAN:
        return f'Every example must have the noise "{CLEAN}": well-written, without errors.'
    return (f'Every example must have the noise "{kind}": write the {column} {KINDS[kind]}. '
            f"It is still realistic, and every other column stays correct for the messy text.")
