"""Passages: the pieces of the user's documents that questions are asked about, each with its
source ("manual.pdf p. 3", "guide.md § Setup"), and which passages a request gets.

A leaf module (pydantic only): core.spec stores the passages with a documents job, so a job
resumes without the files.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict

#: A passage is cut at paragraph ends near this size; a longer paragraph is cut at sentence ends.
TARGET_CHARS = 1000
MAX_CHARS = 1600
#: Shorter pieces (a lone heading, a page number) are merged into their neighbour.
MIN_CHARS = 200
#: Between the two passages of a reasoning question, in its `context` and `source`.
CONTEXT_SEPARATOR = "\n\n---\n\n"
SOURCE_SEPARATOR = " + "
#: The expected answer of an unanswerable question (kept in English in every language: tools match it).
NOT_IN_DOCUMENTS = "not in the documents"
QUESTION_TYPES = ("factual", "reasoning", "unanswerable")
#: How users name the question types (English and Polish, as the intake reads counts: "10 factual").
_TYPE_WORDS = {
    "factual": ("factual", "fact", "facts", "faktograficzne", "faktograficznych", "faktyczne", "faktycznych",
                "fakty", "faktów"),
    "reasoning": ("reasoning", "reasoning questions", "rozumowanie", "rozumowania", "wnioskowanie",
                  "wnioskowania", "wnioskujące", "wnioskujących"),
    "unanswerable": ("unanswerable", "no answer", "without answer", "bez odpowiedzi", "nieodpowiadalne",
                     "nieodpowiadalnych", "podchwytliwe", "podchwytliwych"),
}
#: The golden ratio's fraction: request k looks at position frac(k * PHI) of all the text, so the
#: positions spread evenly over the documents whatever the number of requests (a low-discrepancy sequence).
PHI = 0.6180339887498949


def question_type(word: str) -> str | None:
    """The question type a user's word names ("Factual", "bez odpowiedzi"), None for any other word."""
    folded = " ".join(str(word).casefold().replace("_", " ").split())
    return next((kind for kind, words in _TYPE_WORDS.items() if folded in words), None)


def _type_counts_re() -> re.Pattern[str]:
    words = sorted((w for ws in _TYPE_WORDS.values() for w in ws), key=len, reverse=True)
    return re.compile(r"(?<![\w.,])(\d{1,6})\s+(" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)


_TYPE_COUNTS = _type_counts_re()


def question_type_counts(text: str) -> dict[str, int]:
    """Counts per question type a message names: "10 factual, 5 reasoning", "5 bez odpowiedzi"."""
    counts: dict[str, int] = {}
    for number, word in _TYPE_COUNTS.findall(text):
        kind = question_type(word)
        if kind is not None:
            counts[kind] = counts.get(kind, 0) + int(number)
    return counts


class Passage(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    document: str  # the file name
    source: str  # the file and where in it: "manual.pdf p. 3", "guide.md § Setup"
    text: str


class Section(BaseModel):
    """A converted piece of a document before splitting: a PDF page, a Markdown section."""

    document: str
    location: str  # "p. 3", "§ Setup", "" (a text file without headings)
    text: str


def _units(text: str) -> list[str]:
    """Paragraphs; a paragraph longer than MAX_CHARS split at sentence ends (hard cut as a last resort)."""
    units: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= MAX_CHARS:
            units.append(paragraph)
            continue
        sentence_pieces = re.split(r"(?<=[.!?])\s+", paragraph)
        current = ""
        for piece in sentence_pieces:
            while len(piece) > MAX_CHARS:
                units.append(piece[:MAX_CHARS])
                piece = piece[MAX_CHARS:]
            if current and len(current) + 1 + len(piece) > TARGET_CHARS:
                units.append(current)
                current = piece
            else:
                current = f"{current} {piece}".strip()
        if current:
            units.append(current)
    return units


def split_section(section: Section) -> list[Passage]:
    """A section's text in passages of about TARGET_CHARS, cut at paragraph ends."""
    source = f"{section.document} {section.location}".strip()
    chunks: list[str] = []
    current = ""
    for unit in _units(section.text):
        joined = len(current) + 2 + len(unit)
        # A short start (a heading, a one-line intro) stays with what follows it.
        if current and (joined > MAX_CHARS or (joined > TARGET_CHARS and len(current) >= MIN_CHARS)):
            chunks.append(current)
            current = unit
        else:
            current = f"{current}\n\n{unit}" if current else unit
    if current:
        if chunks and len(current) < MIN_CHARS and len(chunks[-1]) + len(current) <= MAX_CHARS:
            chunks[-1] = f"{chunks[-1]}\n\n{current}"
        else:
            chunks.append(current)
    return [Passage(document=section.document, source=source, text=chunk) for chunk in chunks]


def split_sections(sections: Iterable[Section]) -> list[Passage]:
    """Every section's passages, in document order; a too-short section (a heading on its own,
    a nearly empty page) is merged into the next one of the same document."""
    passages: list[Passage] = []
    carry: Section | None = None
    for section in sections:
        if carry is not None and carry.document == section.document:
            section = Section(document=section.document, location=section.location,
                              text=f"{carry.text}\n\n{section.text}")
        elif carry is not None:
            passages += split_section(carry)
        carry = None
        if len(section.text.strip()) < MIN_CHARS:
            carry = section
            continue
        passages += split_section(section)
    if carry is not None and carry.text.strip():
        passages += split_section(carry)
    return passages


class Coverage:
    """Which passages request k gets: positions spread over all the text, so each document and
    each section gets questions in proportion to its length (not all from the first pages)."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        if not passages:
            raise ValueError("no passages")
        self.passages = list(passages)
        self._starts: list[int] = []
        total = 0
        for passage in self.passages:
            self._starts.append(total)
            total += len(passage.text)
        self.total = total

    def at(self, position: float) -> int:
        """The passage holding this fraction of all the text."""
        offset = int((position % 1.0) * self.total)
        return bisect_right(self._starts, offset) - 1

    def pick(self, request: int, how_many: int) -> list[int]:
        """`how_many` distinct passages for request `request` (1 or 2); the second one half the
        text away, so reasoning questions often join two documents or two distant sections."""
        first = self.at(request * PHI)
        chosen = [first]
        if how_many > 1 and len(self.passages) > 1:
            second = self.at(request * PHI + 0.5)
            if second == first:
                second = (first + 1) % len(self.passages)
            chosen.append(second)
        return chosen

    def context(self, indices: Sequence[int]) -> tuple[str, str]:
        """(context, source) of a row asked about these passages."""
        shown = [self.passages[i] for i in indices]
        return (CONTEXT_SEPARATOR.join(p.text for p in shown), SOURCE_SEPARATOR.join(p.source for p in shown))
