"""Micro-benchmark of core.duplicates.DuplicateIndex: insert N varied rows, print rows/s and peak RSS.

    python benchmarks/dedupe.py                 # 100,000 rows
    python benchmarks/dedupe.py --rows 20000 --datasketch   # also time datasketch's MinHashLSH
    python benchmarks/dedupe.py --file rows.txt # your own rows, one per line

Rows are random sentences (English function words + a large pseudo-word vocabulary, 6-18 words,
like a sentence an LLM writes). After the insert it checks quality: lightly edited copies of
long rows (one word changed + case/punctuation) must be flagged, and it reports how many of
the distinct rows were wrongly flagged.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.duplicates import DuplicateIndex  # noqa: E402
from core.quality import dedupe_key  # noqa: E402

COMMON = "the a to and of i my is it in for so was this that with at on just be have today very we you".split()
SYLLABLES = ["ka", "lo", "mi", "ne", "tra", "pol", "ver", "sun", "dar", "ben", "qui", "ro", "sta", "ment", "er", "ou"]


def sentences(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    vocabulary = sorted({"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(20_000)})
    return [
        " ".join(rng.choice(COMMON) if rng.random() < 0.35 else rng.choice(vocabulary) for _ in range(rng.randint(6, 18)))
        .capitalize() + rng.choice([".", "!", "?"])
        for _ in range(count)
    ]


def edited(text: str, rng: random.Random) -> str:
    words = text.split()
    words[rng.randrange(len(words))] += "s"
    result = " ".join(words)
    return result.upper() if rng.random() < 0.5 else result.rstrip(".!?") + "!!"


def peak_rss_mb() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def bench_ours(rows: list[str], batch: int = 1) -> None:
    process = psutil.Process()
    before = process.memory_info().rss / 2**20
    index = DuplicateIndex()
    started, cpu_started = time.perf_counter(), time.process_time()
    if batch > 1:  # as the engine does: the signatures of one answer's rows together
        flagged = 0
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            flagged += sum(index.check_and_add(text, signature) is not None
                           for text, signature in zip(chunk, index.signatures(chunk)))
    else:
        flagged = sum(index.check_and_add(text) is not None for text in rows)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    after = process.memory_info().rss / 2**20
    print(f"DuplicateIndex: {len(rows):,} rows in {elapsed:.2f} s = {len(rows) / elapsed:,.0f} rows/s "
          f"({elapsed / len(rows) * 1e6:.1f} µs/row); CPU time {cpu:.2f} s = {len(rows) / cpu:,.0f} rows/s "
          f"(wall > CPU means other processes share the cores)")
    print(f"  memory: RSS {before:.0f} -> {after:.0f} MiB (+{after - before:.0f} MiB for the index), "
          f"peak RSS {peak_rss_mb():.0f} MiB")
    print(f"  distinct rows wrongly flagged: {flagged:,} ({flagged / len(rows):.3%})")
    rng = random.Random(1)
    probes = [text for text in rows if len(text) > 80][:2000]
    caught = sum(index.check_and_add(edited(text, rng)) is not None for text in probes)
    print(f"  edited copies caught: {caught:,} of {len(probes):,} ({caught / max(1, len(probes)):.1%})")


def bench_datasketch(rows: list[str]) -> None:
    import xxhash
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    process = psutil.Process()
    before = process.memory_info().rss / 2**20
    template = MinHash(num_perm=40, seed=1)
    lsh = MinHashLSH(num_perm=40, params=(8, 5))
    started, cpu_started = time.perf_counter(), time.process_time()
    for number, text in enumerate(rows):
        key = dedupe_key(text)
        sketch = MinHash(num_perm=40, permutations=template.permutations, hashfunc=xxhash.xxh32_intdigest,
                         scheme="affine32")
        sketch.update_batch([key[i : i + 5].encode() for i in range(max(1, len(key) - 4))])
        if not lsh.query(sketch):
            lsh.insert(number, LeanMinHash(sketch), check_duplication=False)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    after = process.memory_info().rss / 2**20
    print(f"datasketch MinHashLSH (same shingles, 40 perms, 8x5 bands, no verification): "
          f"{len(rows) / elapsed:,.0f} rows/s (CPU time {cpu:.2f} s), +{after - before:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--file", type=Path, help="rows to insert, one per line")
    parser.add_argument("--batch", type=int, default=1, help="rows checked together, as the engine does per answer (10)")
    parser.add_argument("--datasketch", action="store_true", help="also run datasketch's MinHashLSH for comparison")
    args = parser.parse_args()
    rows = args.file.read_text(encoding="utf-8").splitlines() if args.file else sentences(args.rows)
    print(f"python {sys.version.split()[0]}, {psutil.cpu_count()} CPUs; {len(rows):,} rows, "
          f"mean {sum(map(len, rows)) / len(rows):.0f} characters")
    bench_ours(rows, args.batch)
    if args.datasketch:
        bench_datasketch(rows)


if __name__ == "__main__":
    main()
