"""The embedded model (SmolLM2-135M-Instruct via llama.cpp, in its own process) on this CPU: a real 20-row order.

    python benchmarks/local_model.py                    # about 1 minute on 2 cores
    python benchmarks/local_model.py --rows 40 --raw-tokens 512 --threads-sweep

Prints:
- how long the model's process takes to start (spawn + load the model) until it answers;
- llama.cpp's raw generation speed (measured in a separate process, like the bot's) for the same model and thread settings: a plain completion
  of N tokens, no schema, no chat template (the limit for anything built on top);
- a sentiment order (half positive, half negative) through the real Generator: wall time,
  accepted rows per minute, completion tokens/s and its ratio to the raw speed, prompt and
  completion tokens per accepted row;
- generated rows rejected (duplicates, bad labels, empty ...) as a fraction of all generated
  rows, by reason; surplus rows beyond a quota ("over quota") are shown apart;
- how often the model wrote a different label than the one a request asked for (the engine
  asks for one label per request; such rows are kept under the label the model wrote).
DATAGEN_LOCAL_MODEL=/path/to/other.gguf benchmarks another local model the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.generator import Generator  # noqa: E402
from core.llm import Completion, Messages  # noqa: E402
from core.llm_local import LocalLlamaBackend  # noqa: E402
from core.local_model import usable_cpu_count  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.spec import DatasetSpec  # noqa: E402
from storage.store import Store  # noqa: E402

RAW_PROMPT = "The history of the lighthouse on the northern cape began"
# core/prompts.py promises this wording for per-label requests.
ASKED_LABEL = re.compile(r'must have the label "([^"]+)"')


class LabelAgreement:
    """Wraps the backend and counts returned labels against the label each request asked for."""

    def __init__(self, backend: LocalLlamaBackend) -> None:
        self.backend = backend
        self.description = backend.description
        self.is_local = backend.is_local
        self.max_concurrency = backend.max_concurrency
        self.batch_size = backend.batch_size
        self.same = 0
        self.other = 0
        self.requests = 0

    async def complete(self, messages: Messages, **kwargs: Any) -> Completion:
        completion = await self.backend.complete(messages, **kwargs)
        self.requests += 1
        asked = ASKED_LABEL.search(messages[-1]["content"])
        try:
            rows = json.loads(completion.text).get("examples", [])
        except (json.JSONDecodeError, AttributeError):
            rows = []
        for row in rows if asked else ():
            if isinstance(row, dict):
                if row.get("label") == asked.group(1):
                    self.same += 1
                else:
                    self.other += 1
        return completion

    async def aclose(self) -> None:
        await self.backend.aclose()


def raw_tokens_per_second(model_path: Path, threads: int, tokens: int) -> float:
    """llama.cpp alone, in a child process (the bot never loads llama.cpp in its own process)."""
    done = subprocess.run([sys.executable, __file__, "--raw-only", str(model_path), str(threads), str(tokens)],
                          capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def _raw_only(model_path: str, threads: int, tokens: int) -> None:
    from llama_cpp import Llama

    llama = Llama(model_path=model_path, n_ctx=1024, n_threads=threads, n_threads_batch=threads, verbose=False)
    llama.create_completion(RAW_PROMPT, max_tokens=8, seed=1)  # warm-up
    started = time.perf_counter()
    # A stop list that never matches + a fixed seed: the model generates all N tokens.
    response = llama.create_completion(RAW_PROMPT, max_tokens=tokens, temperature=0.8, seed=7, stop=["\x00"])
    print(response["usage"]["completion_tokens"] / (time.perf_counter() - started))
    llama.close()


def threads_sweep(backend: LocalLlamaBackend, tokens: int) -> None:
    for threads in sorted({1, max(1, usable_cpu_count() // 2), usable_cpu_count()}):
        rate = raw_tokens_per_second(backend.model_path, threads, tokens)
        print(f"  n_threads={threads}: {rate:6.1f} tokens/s (raw)")


async def run_order(backend: LocalLlamaBackend, rows: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, openai_api_key=None, llm="local", progress_interval=0,
                            database_url=f"sqlite:///{folder}/bench.db", output_dir=Path(folder))
        store = Store.from_url(settings.database_url)
        spy = LabelAgreement(backend)
        generator = Generator(spy, store, settings)
        half = rows // 2
        spec = DatasetSpec.from_data({"task": "classification", "topic": "product reviews",
                                      "label_counts": {"positive": rows - half, "negative": half}})
        started = time.perf_counter()
        result = await generator.run(generator.create_job(spec))
        elapsed = time.perf_counter() - started
        await backend.aclose()
        sample = [row.fields for row in store.accepted_rows(result.job_id)][:6]
        store.close()

    accepted = sum(result.accepted.values())
    over_quota = result.rejected.get("over quota", 0)
    quality = {reason: n for reason, n in result.rejected.items() if reason != "over quota"}
    generated = accepted + sum(quality.values())  # rows the model produced before quotas closed
    print(f"order: {rows} rows {dict(result.accepted)} -> status {result.status}"
          + (f" ({result.error})" if result.error else ""))
    print(f"  wall time           {elapsed:6.1f} s over {spy.requests} requests")
    print(f"  accepted rows/min   {accepted / elapsed * 60:6.1f}")
    print(f"  completion tokens/s {result.completion_tokens / elapsed:6.1f}"
          f"   (prompt tokens/s {result.prompt_tokens / elapsed:.1f})")
    print(f"  tokens per accepted row: {result.prompt_tokens / max(1, accepted):.0f} prompt + "
          f"{result.completion_tokens / max(1, accepted):.0f} completion")
    share = sum(quality.values()) / generated if generated else 0.0
    print(f"  rejected            {share:6.1%} of {generated} generated rows {quality or ''}"
          f"; plus {over_quota} surplus rows over quota")
    labelled = spy.same + spy.other
    if labelled:
        print(f"  label as asked      {spy.same / labelled:6.1%} of {labelled} returned rows")
    for row in sample:
        print(f"    {row['label']:>8}: {row['text'][:90]}")
    return result.completion_tokens / elapsed


async def start_model(backend: LocalLlamaBackend) -> float:
    started = time.perf_counter()
    await backend.load()
    return time.perf_counter() - started


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--raw-only":
        _raw_only(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--raw-tokens", type=int, default=256)
    parser.add_argument("--threads-sweep", action="store_true", help="also raw tokens/s at other thread counts")
    args = parser.parse_args()

    settings = Settings(_env_file=None, openai_api_key=None, llm="local")
    backend = LocalLlamaBackend.from_settings(settings)
    start_seconds = asyncio.run(start_model(backend))
    print(f"model: {backend.description}, {backend.model_path.stat().st_size / 1e6:.0f} MB, its process "
          f"started and loaded in {start_seconds:.2f} s; CPUs {usable_cpu_count()}, "
          f"llama.cpp threads {backend.threads}; load average {os.getloadavg()[0]:.2f}")
    raw = raw_tokens_per_second(backend.model_path, backend.threads, args.raw_tokens)
    print(f"llama.cpp raw: {raw:.1f} tokens/s ({args.raw_tokens}-token plain completion, {backend.threads} threads)")
    if args.threads_sweep:
        threads_sweep(backend, args.raw_tokens)
    engine_rate = asyncio.run(run_order(backend, args.rows))
    print(f"engine / raw tokens/s: {engine_rate / raw:.2f}  (includes the HTTP hop to the model's process, "
          "prompt reading, grammar, parsing, dedupe, storage)")


if __name__ == "__main__":
    main()
