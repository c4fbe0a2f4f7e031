"""Duplicate detection for one job: exact (a hash of the dedupe key) and near (Jaccard similarity of
character shingles, found through MinHash + banded LSH). The keys come from core.quality."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import xxhash

from core.quality import _key_of_normalised, _renormalise, dedupe_key

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
