"""Time core.uploads.parse_upload on wide and long files; print seconds and the ratio to the ideal.

    python benchmarks/uploads.py

The ideal is the bare C csv reader (or json.loads) on the same bytes: what any parser must pay.
A ratio that stays flat as the width grows means parsing is linear in the number of cells; the
old column detection was quadratic (a 1,000 x 1,000 CSV took 5-11 s, a 4,000-wide one 163 s).
Files wider or bigger than the limits are refused; the table shows how fast that answer comes.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.uploads import UploadError, parse_upload  # noqa: E402

MAX_BYTES = 10 * 1024 * 1024


def wide_csv(rows: int, columns: int) -> bytes:
    header = ",".join(f"c{i}" for i in range(columns))
    # One-digit cells, as in the report: 1,000 x 1,000 is 2 MB, 1,200 x 4,000 is 9.6 MB.
    body = "\n".join(",".join(str((r + c) % 10) for c in range(columns)) for r in range(rows))
    return f"{header}\n{body}\n".encode()


def wide_json(rows: int, columns: int) -> bytes:
    return json.dumps([{f"c{c}": (r + c) % 10 for c in range(columns)} for r in range(rows)]).encode()


def best_of(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def parse(name: str, data: bytes, **limits: int) -> str:
    try:
        table = parse_upload(name, data, MAX_BYTES, **limits)
    except UploadError as exc:
        return f"refused: {exc.key}"
    return f"{len(table.records):,} records x {len(table.columns):,} columns"


def main() -> None:
    print(f"{'file':<28}{'MB':>6}{'parse s':>10}{'ideal s':>10}{'ratio':>7}  outcome")
    cases: list[tuple[str, bytes, Callable[[], object], dict[str, int]]] = []
    for rows, columns in [(5_000, 2), (1_000, 100), (1_000, 1_000), (1_200, 4_000)]:
        data = wide_csv(rows, columns)
        ideal = lambda data=data: list(csv.reader(io.StringIO(data.decode())))  # noqa: E731
        cases.append((f"csv {rows:,} x {columns:,}", data, ideal, {}))
        if columns > 100:  # the same file with the limits lifted: is parsing itself linear?
            lifted = {"max_columns": 10**6, "max_cells": 10**8}
            cases.append((f"csv {rows:,} x {columns:,} no limits", data, ideal, lifted))
    for rows, columns in [(5_000, 2), (1_000, 100), (1_000, 1_000)]:
        data = wide_json(rows, columns)
        ideal = lambda data=data: json.loads(data)  # noqa: E731
        cases.append((f"json {rows:,} x {columns:,}", data, ideal, {"max_columns": 10**6, "max_cells": 10**8}
                      if columns > 100 else {}))
    deep = b"[" * 100_000 + b"]" * 100_000
    cases.append(("json nested 100,000 deep", deep, lambda: None, {}))
    for label, data, ideal, limits in cases:
        name = "data.json" if label.startswith("json") else "data.csv"
        seconds = best_of(3, lambda: parse(name, data, **limits))
        ideal_seconds = best_of(3, ideal)
        ratio = f"{seconds / ideal_seconds:6.1f}" if ideal_seconds > 1e-4 else "     -"
        outcome = parse(name, data, **limits)
        print(f"{label:<28}{len(data) / 2**20:6.1f}{seconds:10.3f}{ideal_seconds:10.3f}{ratio:>7}  {outcome}")


if __name__ == "__main__":
    main()
