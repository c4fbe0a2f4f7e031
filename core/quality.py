"""Row quality: text normalisation, validation of generated rows, CSV safety (duplicate detection:
core/duplicates.py).

Everything here is pure and synchronous so the engine, the exporters and the dialog can share it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from core.language import REASON as LANGUAGE_REASON
from core.language import wrong_language
from core.tasks import COLUMNS, TaskType

# --- normalisation --------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")
# A list marker the model put in front of a row: "1. ", "2) ", "(3) ", "- ", "* ", "• ".
_LIST_MARKER = re.compile(r"^(?:\(?\d{1,3}[.)]|[-*•·–—])\s+")
# Wrapping quotes: opening -> closing (Polish and German „…”, French «…», typographic “…”).
_QUOTE_PAIRS = {'"': '"', "'": "'", "“": "”", "„": "”", "«": "»", "‘": "’", "`": "`", "”": "”", "»": "«"}


def _strip_wrapping_quotes(text: str) -> str:
    if len(text) >= 2:
        closing = _QUOTE_PAIRS.get(text[0])
        inner = text[1:-1]
        # Only when the pair wraps the whole text: '"Hi" she said, "bye"' is left alone.
        if closing is not None and text[-1] == closing and text[0] not in inner and closing not in inner:
            return inner.strip()
    return text


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_LETTER = re.compile(r"[^\W\d_]")


def _mostly_words(text: str) -> bool:
    """At least one letter, and letters are 40%+ of the visible characters: "2018-04-30 2:09",
    ")}," and "12/5/2020 7:53 PM" are not sentences; "Order #12345 is late" still is."""
    visible = len("".join(text.split()))  # not a loop over characters: this runs for every row
    letters = len(_LETTER.findall(text))
    return letters > 0 and letters >= 0.4 * visible


def storable_text(value: object) -> str:
    """`value` as text that can be encoded as UTF-8: a lone surrogate (from a model's "\ud800"
    escape) cannot be stored or exported, so it becomes U+FFFD. Used for every stored string,
    rejected rows included."""
    return _LONE_SURROGATE.sub("\ufffd", value if isinstance(value, str) else str(value))


def normalise_text(text: str) -> str:
    """NFC, one space between words, no list marker or quotes wrapping the whole text, trimmed."""
    text = storable_text(text)
    text = unicodedata.normalize("NFC", text)
    text = _WHITESPACE.sub(" ", text).strip()
    while True:  # '1. "Great day!"' needs both the marker and the quotes removed
        before = text
        text = _LIST_MARKER.sub("", text, count=1).strip()
        text = _strip_wrapping_quotes(text)
        if text == before:
            return text


def _renormalise(text: str) -> str:
    """normalise_text() of a text that came out of normalise_text(): the same answer without
    re-running the regexes (only NFC can, in rare cases, change again after a trim)."""
    return text if unicodedata.is_normalized("NFC", text) else normalise_text(text)


_APOSTROPHE = re.compile("['’`´]")
_NOT_WORD = re.compile(r"[^\w\s]|_")


def _space_unless_mark(match: re.Match[str]) -> str:
    # `\w` misses combining marks, which are part of words in Hindi, Thai, ...
    return match.group() if unicodedata.category(match.group())[0] == "M" else " "


def dedupe_key(text: str) -> str:
    """The form two rows must share to be exact duplicates: case-, punctuation- and spacing-insensitive."""
    return _key_of_normalised(normalise_text(text))


def _key_of_normalised(text: str) -> str:
    text = _APOSTROPHE.sub("", text.casefold())  # "I'm" == "Im"
    # Other punctuation and symbols separate words ("well-known" == "well known"). ASCII has no
    # combining marks, so it skips the per-character callback (same result, a few µs less a row).
    return " ".join(_NOT_WORD.sub(" " if text.isascii() else _space_unless_mark, text).split())


def row_text(task: TaskType, fields: Mapping[str, str]) -> str:
    """The text duplicates are judged on: the sentence for classification, the question otherwise."""
    return fields.get("text", "") if task == TaskType.classification else fields.get("question", "")


# --- validation -----------------------------------------------------------------------------

_LETTERS = ("a", "b", "c", "d")
_OPTION_COLUMNS = tuple(f"option_{letter}" for letter in _LETTERS)
# "A", "b)", "(c)", "d.", "Option B", "option_c": the answer given as a letter.
_ANSWER_LETTER = re.compile(r"^(?:option[\s_]*)?\(?([a-d])\)?[.):]?$", re.IGNORECASE)
# "A) Paris", "b. 1789": a letter prefix the model copied into the option itself.
_OPTION_PREFIX = re.compile(r"^\(?([a-d])[).:]\s+", re.IGNORECASE)


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, tuple)):
        return None
    return normalise_text(str(value))


def _lookup(raw: Mapping[Any, Any]) -> dict[str, Any]:
    # Models capitalise keys ("Text", "Label "); the column names are what we mean.
    return {str(key).strip().lower(): value for key, value in raw.items()}


def _options(raw: dict[str, Any]) -> list[str | None] | None:
    """The four options from option_a..option_d, or an "options" list / {a: ..} mapping."""
    if all(column in raw for column in _OPTION_COLUMNS):
        return [_as_text(raw[column]) for column in _OPTION_COLUMNS]
    options = raw.get("options")
    if isinstance(options, list) and len(options) == 4:
        return [_as_text(option) for option in options]
    if isinstance(options, dict):
        by_letter = {str(key).strip().lower(): value for key, value in options.items()}
        if all(letter in by_letter for letter in _LETTERS):
            return [_as_text(by_letter[letter]) for letter in _LETTERS]
    return None


def _strip_option_letters(options: list[str]) -> list[str]:
    # Only when all four carry their own letter in order, so an option like "A. Lincoln" survives.
    matches = [_OPTION_PREFIX.match(option) for option in options]
    if all(m is not None and m.group(1).lower() == letter for m, letter in zip(matches, _LETTERS)):
        return [option[m.end() :].strip() for option, m in zip(options, matches) if m is not None]
    return options


def _answer_letter(answer: str, options: list[str]) -> str | None:
    match = _ANSWER_LETTER.match(answer)
    if match:
        return match.group(1).lower()
    folded = answer.casefold()
    same = [letter for letter, option in zip(_LETTERS, options) if option.casefold() == folded]
    return same[0] if len(same) == 1 else None


def _canonical_label(label: str, allowed_labels: list[str], *, normalised: bool = False) -> str | None:
    # Case and surrounding punctuation are spelling; a different word is never guessed ("positiv").
    wanted = (_renormalise(label) if normalised else normalise_text(label)).rstrip(".!").strip().casefold()
    for allowed in allowed_labels:
        if allowed.strip().casefold() == wanted:
            return allowed.strip()
    return None


def validate_row(
    task: TaskType,
    raw: Mapping[Any, Any],
    allowed_labels: list[str],
    *,
    min_chars: int = 3,
    max_chars: int = 2000,
    language: str | None = None,
) -> tuple[dict[str, str] | None, str | None]:
    """A clean row with exactly the task's columns, or the reason it is rejected.

    `min_chars` applies to the main text (sentence / question); `max_chars` to every field, so a
    quiz option "1789" or a one-word answer stays valid. With `language` (the order's), a main
    text clearly written in another language is rejected as "wrong language" (core.language).
    """
    if not isinstance(raw, Mapping):
        return None, "missing field"
    fields = _lookup(raw)
    columns = COLUMNS[task]
    clean: dict[str, str] = {}

    if task == TaskType.multiple_choice:
        options = _options(fields)
        question, answer = _as_text(fields.get("question")), _as_text(fields.get("answer"))
        if options is None or question is None or answer is None or any(o is None for o in options):
            return None, "missing field"
        present = [option for option in options if option is not None]
        if not question or not answer or any(not option for option in present):
            return None, "empty"
        present = _strip_option_letters(present)
        clean = {"question": question, **dict(zip(_OPTION_COLUMNS, present)), "answer": answer}
    else:
        for column in columns:
            value = _as_text(fields.get(column))
            if value is None:
                return None, "missing field"
            if not value:
                return None, "empty"
            clean[column] = value

    main = row_text(task, clean)
    if len(main) < min_chars:
        return None, "too short"
    if any(len(value) > max_chars for value in clean.values()):
        return None, "too long"

    if task == TaskType.classification:
        # Both fields are normalised already (_as_text).
        label = _canonical_label(clean["label"], allowed_labels, normalised=True)
        if label is None:
            return None, "bad label"
        clean["label"] = label
        # Small models answer "positive" as the text itself: a label is not an example.
        bare_text = _NOT_WORD.sub(" ", clean["text"]).strip()  # "Positive," is a label too
        if (_canonical_label(clean["text"], allowed_labels, normalised=True) is not None
                or _canonical_label(bare_text, allowed_labels) is not None):
            return None, "label as text"
        if not _mostly_words(clean["text"]):
            return None, "not text"
    elif task == TaskType.multiple_choice:
        options = [clean[column] for column in _OPTION_COLUMNS]
        # Case and a trailing full stop don't make options different; symbols do ("C++" vs "C#").
        if len({option.casefold().rstrip(".!;:").strip() for option in options}) != 4:
            return None, "options not distinct"
        letter = _answer_letter(clean["answer"], options)
        if letter is None:
            return None, "bad answer"
        clean["answer"] = letter
    if language is not None and wrong_language(main, language):
        return None, LANGUAGE_REASON
    return {column: clean[column] for column in columns}, None


# --- CSV safety -----------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: str) -> str:
    """Stop a spreadsheet from running a cell as a formula (OWASP CSV injection): prefix with '."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value
