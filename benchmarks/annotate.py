"""`datagen annotate` against the fake OpenAI-compatible server with 0.3 s per request.

    python benchmarks/annotate.py            # rows labeled per second + memory for 100,000 rows (~2 minutes)
    python benchmarks/annotate.py --quick    # skips the 100,000-row run

Each run is the real command in a fresh process (start-up, reading the file into SQLite, labeling,
writing the output): rows labeled per second over the labeling time the job records, the ideal
(concurrency x 20 rows per request / (samples x 0.3 s)) and their ratio, and the process's peak
RSS (sampled every 50 ms). The fake server runs in its own process.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.throughput import start_fake  # noqa: E402
from tests.fakes.openai_server import marked_text  # noqa: E402

LATENCY = 0.3
BATCH = 20
LABELS = ["greeting", "order_status", "cancel_order", "complaint", "goodbye"]


def write_input(path: Path, rows: int) -> None:
    rng = random.Random(1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ticket_id", "text", "channel"])
        for i in range(rows):
            writer.writerow([i, marked_text(LABELS[i % len(LABELS)], rng, words=14), "email"])


def annotate(base_url: str, folder: Path, source: Path, concurrency: int, samples: int) -> dict[str, float]:
    output = folder / f"out-{concurrency}-{samples}.csv"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": base_url,
           "DATAGEN_LLM": "openai", "DATABASE_URL": f"sqlite:///{folder}/db-{concurrency}-{samples}.sqlite",
           "DATAGEN_CONCURRENCY": str(concurrency), "DATAGEN_PROGRESS_INTERVAL": "5"}
    command = [sys.executable, "-m", "bot.cli", "annotate", str(source), "--labels", ",".join(LABELS),
               "-o", str(output), "--samples", str(samples)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    watched, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    wall = time.perf_counter() - started
    out = process.stdout.read() if process.stdout else ""
    if process.returncode != 0:
        raise SystemExit(f"annotate failed ({process.returncode}): {out}")
    rows = int(re.search(r"\((\d+) rows", out).group(1))  # type: ignore[union-attr]
    requests, tokens, elapsed = re.search(r"(\d+) requests, ([\d,]+) tokens, ([\d.]+) s", out).groups()  # type: ignore[union-attr]
    return {"rows": rows, "wall": wall, "elapsed": float(elapsed), "requests": int(requests),
            "tokens": int(tokens.replace(",", "")), "peak_mb": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    fake, base_url = start_fake(LATENCY)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            source = folder / "tickets.csv"
            write_input(source, 10_000)
            print(f"datagen annotate, fake server {LATENCY:g} s per request, {BATCH} rows per request, SQLite")
            print("| requests in flight | answers per row | rows/s | ideal rows/s | ratio | tokens/row | peak RSS |")
            print("|---:|---:|---:|---:|---:|---:|---:|")
            for concurrency, samples in ((16, 2), (64, 2), (64, 1)):
                f = annotate(base_url, folder, source, concurrency, samples)
                rate, ideal = f["rows"] / f["elapsed"], concurrency * BATCH / (samples * LATENCY)
                print(f"| {concurrency} | {samples} | {rate:,.0f} | {ideal:,.0f} | {rate / ideal:.2f} | "
                      f"{f['tokens'] / f['rows']:.0f} | {f['peak_mb']:.0f} MB |", flush=True)
            if not args.quick:
                big = folder / "big.csv"
                write_input(big, 100_000)
                f = annotate(base_url, folder, big, 64, 2)
                print(f"\n100,000 rows (concurrency 64, two answers per row): peak RSS {f['peak_mb']:.0f} MB, "
                      f"{f['wall']:.0f} s wall ({f['rows'] / f['elapsed']:,.0f} rows/s labeling, "
                      f"{f['wall'] - f['elapsed']:.0f} s reading, storing and writing), {f['requests']:,} requests")
    finally:
        fake.terminate()
        fake.wait(10)


if __name__ == "__main__":
    main()
