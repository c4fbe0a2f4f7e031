"""Row-model validation cost per preset, and the language detector's load time and memory.

    python benchmarks/rows.py [--rows 5000]

Prints rows/s of `core.rows.presets.validate` for each preset (and for classification through
the old `validate_row`, the ideal: the row model adds nothing there), then the first
translation check (building the lingua detector) and the RSS it added.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.quality import validate_row  # noqa: E402
from core.rows.presets import validate  # noqa: E402
from core.spec import DatasetSpec  # noqa: E402

WORDS = "order parcel arrived late refund still missing please check where thanks help weekend store".split()


def sentence(i: int) -> str:
    return " ".join(WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(9)).capitalize() + f" number {i}."


CASES = {
    "classification": (DatasetSpec.from_data({"labels": ["negative", "positive"], "count": 10}),
                       lambda i: {"text": sentence(i), "label": "positive"}),
    "entities": (DatasetSpec.from_data({"task": "entities", "entity_types": ["ORDER", "DATE"], "count": 10}),
                 lambda i: {"text": f"Order {i} is late since Monday.",
                            "entities": [{"text": str(i), "type": "ORDER"}, {"text": "Monday", "type": "DATE"}]}),
    "red_team": (DatasetSpec.from_data({"task": "red_team", "count": 12}),
                 lambda i: {"prompt": sentence(i), "category": "jailbreak", "expected_behavior": "refuse"}),
    "custom + messy": (DatasetSpec.from_data({"columns": [{"name": "a"}, {"name": "b", "type": "number"}],
                                              "count": 10, "noise_share": 0.5}),
                       lambda i: {"a": sentence(i).upper(), "b": i, "noise": "all caps"}),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    n = parser.parse_args().rows
    print(f"{'preset':<18}{'rows/s':>10}")
    legacy_spec, make = CASES["classification"]
    raws = [make(i) for i in range(n)]
    started = time.perf_counter()
    for raw in raws:
        assert validate_row(legacy_spec.task, raw, legacy_spec.labels)[1] is None
    print(f"{'(old validate_row)':<18}{n / (time.perf_counter() - started):>10,.0f}")
    for name, (spec, make) in CASES.items():
        raws = [make(i) for i in range(n)]
        started = time.perf_counter()
        for raw in raws:
            assert validate(spec, raw)[1] is None, validate(spec, raw)
        print(f"{name:<18}{n / (time.perf_counter() - started):>10,.0f}")

    process = psutil.Process(os.getpid())
    before = process.memory_info().rss
    spec = DatasetSpec.from_data({"task": "translation", "language": "English", "target_language": "Polish", "count": 1})
    started = time.perf_counter()
    assert validate(spec, {"source": "Where is my parcel?", "target": "Gdzie jest moja paczka?"})[1] is None
    load = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(200):
        validate(spec, {"source": f"Where is parcel {i}?", "target": f"Gdzie jest paczka numer {i}?"})
    per_row = (time.perf_counter() - started) / 200
    print(f"translation check: first call {load:.1f} s (builds the detector), then {per_row * 1000:.1f} ms a row; "
          f"+{(process.memory_info().rss - before) / 2**20:.0f} MiB RSS")


if __name__ == "__main__":
    main()
