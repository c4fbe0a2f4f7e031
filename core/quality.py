"""Row quality: text normalisation, validation of generated rows, duplicate detection, CSV safety.

Everything here is pure and synchronous so the engine, the exporters and the dialog can share it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import numpy as np
import xxhash

from core.spec import COLUMNS, TaskType

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


def normalise_text(text: str) -> str:
    """NFC, one space between words, no list marker or quotes wrapping the whole text, trimmed."""
    text = unicodedata.normalize("NFC", str(text))
    text = _WHITESPACE.sub(" ", text).strip()
    while True:  # '1. "Great day!"' needs both the marker and the quotes removed
        before = text
        text = _LIST_MARKER.sub("", text, count=1).strip()
        text = _strip_wrapping_quotes(text)
        if text == before:
            return text


_APOSTROPHE = re.compile("['’`´]")
_NOT_WORD = re.compile(r"[^\w\s]|_")


def _space_unless_mark(match: re.Match[str]) -> str:
    # `\w` misses combining marks, which are part of words in Hindi, Thai, ...
    return match.group() if unicodedata.category(match.group())[0] == "M" else " "


def dedupe_key(text: str) -> str:
    """The form two rows must share to be exact duplicates: case-, punctuation- and spacing-insensitive."""
    text = _APOSTROPHE.sub("", normalise_text(text).casefold())  # "I'm" == "Im"
    # Other punctuation and symbols separate words ("well-known" == "well known").
    return " ".join(_NOT_WORD.sub(_space_unless_mark, text).split())


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


def _canonical_label(label: str, allowed_labels: list[str]) -> str | None:
    # Case and surrounding punctuation are spelling; a different word is never guessed ("positiv").
    wanted = normalise_text(label).rstrip(".!").strip().casefold()
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
) -> tuple[dict[str, str] | None, str | None]:
    """A clean row with exactly the task's columns, or the reason it is rejected.

    `min_chars` applies to the main text (sentence / question); `max_chars` to every field, so a
    quiz option "1789" or a one-word answer stays valid.
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
        label = _canonical_label(clean["label"], allowed_labels)
        if label is None:
            return None, "bad label"
        clean["label"] = label
        # Small models answer "positive" as the text itself: a label is not an example.
        if _canonical_label(clean["text"], allowed_labels) is not None:
            return None, "label as text"
    elif task == TaskType.multiple_choice:
        options = [clean[column] for column in _OPTION_COLUMNS]
        # Case and a trailing full stop don't make options different; symbols do ("C++" vs "C#").
        if len({option.casefold().rstrip(".!;:").strip() for option in options}) != 4:
            return None, "options not distinct"
        letter = _answer_letter(clean["answer"], options)
        if letter is None:
            return None, "bad answer"
        clean["answer"] = letter
    return {column: clean[column] for column in columns}, None


# --- duplicates -----------------------------------------------------------------------------

_SHINGLE = 5  # characters; short enough to see small edits, long enough that unrelated sentences rarely share
# LSH over MinHash: 8 bands of 5 values. A pair with Jaccard similarity s becomes a candidate with
# probability 1-(1-s^5)^8: 99.1% at 0.85, 22% at 0.5, 2% at 0.3, 0.3% at 0.2.
_BANDS, _ROWS_PER_BAND = 8, 5
_NUM_PERM = _BANDS * _ROWS_PER_BAND


def _shingles(key: str) -> set[str]:
    return {key[i : i + _SHINGLE] for i in range(max(1, len(key) - _SHINGLE + 1))}


def jaccard(a: str, b: str) -> float:
    """Jaccard similarity of two texts' character shingles (what "near" means here)."""
    first, second = _shingles(dedupe_key(a)), _shingles(dedupe_key(b))
    return len(first & second) / len(first | second)


_SENTINEL = np.uint64(2**64 - 1)  # ends the sorted keys, so a search never runs off the end


class _BandTable:
    """LSH buckets: band key -> row numbers, kept in sorted numpy arrays (12 bytes an entry).

    A Python dict would cost ~90 bytes an entry (8 bands x 100k rows = 70 MB). New entries go to a
    small dict and are merged into the sorted arrays in batches, so lookups stay O(log n).
    """

    def __init__(self) -> None:
        self._keys = np.array([_SENTINEL], dtype=np.uint64)
        self._rows = np.array([-1], dtype=np.int32)
        self._recent: dict[int, int | list[int]] = {}
        self._recent_entries = 0

    def __len__(self) -> int:
        return len(self._keys) - 1 + self._recent_entries

    def find(self, band_keys: np.ndarray, band_list: list[int]) -> set[int]:
        """Rows sharing at least one band with these keys (`band_list` is `band_keys.tolist()`)."""
        found: set[int] = set()
        positions = self._keys.searchsorted(band_keys)
        hit = self._keys[positions] == band_keys
        if hit.any():
            for position in positions[hit].tolist():
                key = self._keys[position]
                while self._keys[position] == key and self._rows[position] >= 0:
                    found.add(int(self._rows[position]))
                    position += 1
        for key in band_list:
            rows = self._recent.get(key)
            if rows is not None:
                if isinstance(rows, list):
                    found.update(rows)
                else:
                    found.add(rows)
        return found

    def add(self, band_list: list[int], row: int) -> None:
        for key in band_list:
            rows = self._recent.setdefault(key, row)
            if rows != row:  # a shared bucket (rare): keep every row in it
                self._recent[key] = [*rows, row] if isinstance(rows, list) else [rows, row]
        self._recent_entries += len(band_list)
        if self._recent_entries >= max(16_384, len(self._keys) // 8):
            self._merge()

    def _merge(self) -> None:
        pairs = [
            (key, row) for key, rows in self._recent.items() for row in (rows if isinstance(rows, list) else (rows,))
        ]
        keys = np.fromiter((key for key, _ in pairs), dtype=np.uint64, count=len(pairs))
        rows = np.fromiter((row for _, row in pairs), dtype=np.int32, count=len(pairs))
        order = np.argsort(keys, kind="stable")
        keys, rows = keys[order], rows[order]
        positions = self._keys.searchsorted(keys)  # before the sentinel: it is the largest value
        self._keys = np.insert(self._keys, positions, keys)
        self._rows = np.insert(self._rows, positions, rows)
        self._recent, self._recent_entries = {}, 0


class DuplicateIndex:
    """Exact and near-duplicate detection for one job, fast enough for 100,000 rows.

    Exact: a 64-bit hash of `dedupe_key`. Near: Jaccard similarity of character shingles of the
    key >= `near_threshold`. Candidates come from MinHash + banded LSH (no all-pairs
    comparison); each candidate is then checked with the exact similarity, so the estimate's
    noise never decides, and only the LSH recall above (~99% at 0.85) is approximate.

    Hand-written on numpy + xxhash rather than datasketch's MinHashLSH because that one keeps a
    Python set per bucket and a band list per key, has no verification step, and measured
    +283 MiB and 9.2 s CPU for 100k rows against +53 MiB and 4.8 s here (benchmarks/dedupe.py
    --datasketch, same shingles and bands).
    """

    def __init__(self, near_threshold: float = 0.85) -> None:
        if not 0.0 < near_threshold <= 1.0:
            raise ValueError("near_threshold must be in (0, 1]")
        self.near_threshold = near_threshold
        rng = np.random.default_rng(20240607)  # fixed: the same text gets the same signature in every run
        self._multipliers = rng.integers(0, 2**31, size=_NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        self._band_mix = rng.integers(0, 2**63, size=(_BANDS, _ROWS_PER_BAND), dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self._exact: set[int] = set()
        self._bands = _BandTable()
        self._keys: list[str] = []  # row number -> dedupe key, for the exact check of candidates

    def __len__(self) -> int:
        return len(self._exact)

    # -- public ----------------------------------------------------------------------------

    def check_and_add(self, text: str) -> str | None:
        """None if the text is new (and remember it), else "duplicate" or "near-duplicate"."""
        key = dedupe_key(text)
        exact = xxhash.xxh3_64_intdigest(key.encode())
        if exact in self._exact:
            return "duplicate"
        band_keys = self._band_keys(key)
        band_list = band_keys.tolist()
        candidates = self._bands.find(band_keys, band_list)
        if candidates:
            shingles = _shingles(key)
            for row in candidates:
                other = _shingles(self._keys[row])
                if len(shingles & other) >= self.near_threshold * len(shingles | other):
                    return "near-duplicate"
        self._insert(exact, key, band_list)
        return None

    def add(self, text: str) -> None:
        """Remember a row without judging it (uploaded rows, rows stored by an earlier run)."""
        key = dedupe_key(text)
        exact = xxhash.xxh3_64_intdigest(key.encode())
        if exact not in self._exact:
            self._insert(exact, key, self._band_keys(key).tolist())

    # -- internals -------------------------------------------------------------------------

    def _band_keys(self, key: str) -> np.ndarray:
        # UTF-32 gives every character 4 bytes, so byte slices are character shingles (xxhash wants bytes).
        data, width = key.encode("utf-32-le"), 4 * _SHINGLE
        grams = [data[i : i + width] for i in range(0, max(4, len(data) - width + 4), 4)]
        hashes = np.array(list(map(xxhash.xxh32_intdigest, grams)), dtype=np.uint32)
        # Multiplying the (already well mixed) shingle hashes by an odd number mod 2^32 permutes
        # them (multiply-shift hashing); the minimum under each of these permutations is the MinHash.
        signature = np.multiply.outer(hashes, self._multipliers).min(axis=0)
        bands = signature.reshape(_BANDS, _ROWS_PER_BAND).astype(np.uint64)
        # A random linear hash per band (different coefficients per band, so bands never collide).
        return (bands * self._band_mix).sum(axis=1)

    def _insert(self, exact: int, key: str, band_list: list[int]) -> None:
        self._exact.add(exact)
        self._bands.add(band_list, len(self._keys))
        self._keys.append(key)


# --- CSV safety -----------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value: str) -> str:
    """Stop a spreadsheet from running a cell as a formula (OWASP CSV injection): prefix with '."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value
