"""Row quality: text normalisation, validation of generated rows, duplicate detection, CSV safety.

Everything here is pure and synchronous so the engine, the exporters and the dialog can share it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import xxhash

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
    visible = sum(1 for char in text if not char.isspace())
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


_U32 = np.uint32
_XXH_P1, _XXH_P2, _XXH_P3, _XXH_P4 = _U32(0x9E3779B1), _U32(0x85EBCA77), _U32(0xC2B2AE3D), _U32(0x27D4EB2F)
_XXH_V1, _XXH_V4 = _U32((0x9E3779B1 + 0x85EBCA77) % 2**32), _U32(-0x9E3779B1 % 2**32)


def _rotl(x: np.ndarray, bits: int) -> np.ndarray:
    return (x << _U32(bits)) | (x >> _U32(32 - bits))


def _xxh32_windows(code_points: np.ndarray) -> np.ndarray:
    """xxhash.xxh32_intdigest (seed 0) of every 5-code-point window of UTF-32-LE text, bit for bit,
    for all windows at once: one xxhash call per shingle cost more than the rest of the row's dedupe.
    Hand-written because xxhash has no batch API; it is xxh32's spec for a 20-byte input (one
    16-byte stripe, one 4-byte tail), checked against xxhash in tests/test_quality.py."""
    count = len(code_points) - _SHINGLE + 1
    c0, c1, c2, c3, c4 = (code_points[i : count + i] for i in range(_SHINGLE))
    h = _rotl(_rotl(c0 * _XXH_P2 + _XXH_V1, 13) * _XXH_P1, 1)
    h += _rotl(_rotl(c1 * _XXH_P2 + _XXH_P2, 13) * _XXH_P1, 7)
    h += _rotl(_rotl(c2 * _XXH_P2, 13) * _XXH_P1, 12)
    h += _rotl(_rotl(c3 * _XXH_P2 + _XXH_V4, 13) * _XXH_P1, 18)
    h += _U32(4 * _SHINGLE)  # the input length in bytes
    h += c4 * _XXH_P3
    h = _rotl(h, 17) * _XXH_P4
    h ^= h >> _U32(15)
    h *= _XXH_P2
    h ^= h >> _U32(13)
    h *= _XXH_P3
    h ^= h >> _U32(16)
    return h


#: From this many texts on, signatures hash all shingles in one vectorised pass (measured faster).
_VECTORISE_FROM = 3
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

    def find(self, band_list: list[int]) -> set[int]:
        """Rows sharing at least one band with these keys."""
        found: set[int] = set()
        if len(self._keys) > 1:  # only the sentinel until the first merge: nothing to search
            band_keys = np.array(band_list, dtype=np.uint64)
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
        recent = self._recent
        # Straight from the dict (no tuple per entry: that cost ~50 ms a merge, mostly GC, on the loop).
        keys = np.fromiter(recent.keys(), dtype=np.uint64, count=len(recent))
        rows = np.fromiter((rows if type(rows) is int else -1 for rows in recent.values()), dtype=np.int32,
                           count=len(recent))
        shared = [(key, row_list) for key, row_list in recent.items() if type(row_list) is list]
        if shared:  # rare: buckets holding several rows, one entry per row
            single = rows >= 0
            keys, rows = keys[single], rows[single]
            extra = [(key, row) for key, row_list in shared for row in row_list]
            keys = np.concatenate([keys, np.fromiter((key for key, _ in extra), dtype=np.uint64, count=len(extra))])
            rows = np.concatenate([rows, np.fromiter((row for _, row in extra), dtype=np.int32, count=len(extra))])
        order = np.argsort(keys, kind="stable")
        keys, rows = keys[order], rows[order]
        positions = self._keys.searchsorted(keys)  # before the sentinel: it is the largest value
        self._keys = np.insert(self._keys, positions, keys)
        self._rows = np.insert(self._rows, positions, rows)
        self._recent, self._recent_entries = {}, 0


class RowSignature(NamedTuple):
    """A text's dedupe key, its exact hash and its LSH band keys (DuplicateIndex.signatures)."""

    key: str
    exact: int
    band_list: list[int]


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

    def signatures(self, texts: Sequence[str], *, normalised: bool = False) -> list[RowSignature]:
        """What `check_and_add` needs of each text, for a whole batch at once: numpy's per-call
        overhead is paid once per batch instead of once per row. Doesn't change the index.
        `normalised`: the texts came out of normalise_text / validate_row (skips redoing that)."""
        keys = [_key_of_normalised(_renormalise(text)) for text in texts] if normalised else list(map(dedupe_key, texts))
        if not keys:
            return []
        if len(keys) < _VECTORISE_FROM:
            band_rows = [self._band_keys_one(key).tolist() for key in keys]
        else:
            band_rows = self._band_keys_many(keys).tolist()
        return [RowSignature(key, xxhash.xxh3_64_intdigest(key.encode()), band_list)
                for key, band_list in zip(keys, band_rows)]

    def check_and_add(self, text: str, signature: RowSignature | None = None) -> str | None:
        """None if the text is new (and remember it), else "duplicate" or "near-duplicate".
        `signature` is `signatures([text])[0]` computed earlier (the same answer, less CPU)."""
        if signature is None:
            signature = self.signatures([text])[0]
        key, exact, band_list = signature
        if exact in self._exact:
            return "duplicate"
        candidates = self._bands.find(band_list)
        if candidates:
            shingles = _shingles(key)
            for row in candidates:
                other = _shingles(self._keys[row])
                if len(shingles & other) >= self.near_threshold * len(shingles | other):
                    return "near-duplicate"
        self._insert(exact, key, band_list)
        return None

    def add(self, text: str, signature: RowSignature | None = None) -> None:
        """Remember a row without judging it (uploaded rows, rows stored by an earlier run)."""
        key, exact, band_list = signature if signature is not None else self.signatures([text])[0]
        if exact not in self._exact:
            self._insert(exact, key, band_list)

    def minhashes(self, texts: Sequence[str]) -> np.ndarray:
        """The MinHash signatures (shape (len(texts), 40), uint32) dedupe uses: the share of equal
        values of two rows estimates their similarity (core.variety's spread)."""
        if not texts:
            return np.zeros((0, _NUM_PERM), dtype=np.uint32)
        return self._minhash_many(list(map(dedupe_key, texts)))

    # -- internals -------------------------------------------------------------------------

    def _band_keys_many(self, keys: list[str]) -> np.ndarray:
        """The LSH band keys of each dedupe key: an array of shape (len(keys), _BANDS)."""
        bands = self._minhash_many(keys).reshape(len(keys), _BANDS, _ROWS_PER_BAND).astype(np.uint64)
        # A random linear hash per band (different coefficients per band, so bands never collide).
        return (bands * self._band_mix).sum(axis=2)

    def _minhash_many(self, keys: list[str]) -> np.ndarray:
        lengths = [len(key) for key in keys]
        if min(lengths) >= _SHINGLE:
            # Every 5-character window of the joined keys at once, then only those inside one key.
            code_points = np.frombuffer("".join(keys).encode("utf-32-le"), dtype=np.uint32)
            ends = np.cumsum(lengths)
            owner_end = np.repeat(ends, lengths)[: len(code_points) - _SHINGLE + 1]
            inside = np.arange(len(owner_end)) + _SHINGLE <= owner_end
            hashes = _xxh32_windows(code_points)[inside]
            counts = np.array(lengths) - (_SHINGLE - 1)
        else:  # a key shorter than a shingle (rare) is one shingle itself
            pieces = [_xxh32_windows(np.frombuffer(key.encode("utf-32-le"), dtype=np.uint32)) if len(key) >= _SHINGLE
                      else np.array([xxhash.xxh32_intdigest(key.encode("utf-32-le"))], dtype=np.uint32) for key in keys]
            hashes = np.concatenate(pieces)
            counts = np.array([len(piece) for piece in pieces])
        offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
        # Multiplying the (already well mixed) shingle hashes by an odd number mod 2^32 permutes
        # them (multiply-shift hashing); the minimum under each of these permutations is the
        # MinHash, taken per text over its own run of shingles (every text has at least one).
        # (Permutations along the first axis: reducing along the contiguous one is ~2x faster.)
        return np.minimum.reduceat(np.multiply.outer(self._multipliers, hashes), offsets, axis=1).T

    def _band_keys_one(self, key: str) -> np.ndarray:
        """The same as `_band_keys_many([key])[0]`, cheaper for one key: the vectorised shingle
        hashing costs ~30 numpy calls per batch, more than one xxhash call per shingle of one text."""
        data, width = key.encode("utf-32-le"), 4 * _SHINGLE
        grams = [data[i : i + width] for i in range(0, max(4, len(data) - width + 4), 4)]
        hashes = np.fromiter(map(xxhash.xxh32_intdigest, grams), dtype=np.uint32, count=len(grams))
        signature = np.multiply.outer(hashes, self._multipliers).min(axis=0)
        bands = signature.reshape(_BANDS, _ROWS_PER_BAND).astype(np.uint64)
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
