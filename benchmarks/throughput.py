"""Engine throughput against the fake OpenAI-compatible server with a fixed per-request latency.

    python benchmarks/throughput.py              # all figures (about 2 minutes on 2 cores)
    python benchmarks/throughput.py --quick      # skips the 100,000-row memory run
    python benchmarks/throughput.py --adaptive-only --curator /work/venv-curator/bin/python

The adaptive section runs the default settings (no DATAGEN_CONCURRENCY: core/concurrency.py
decides) on 5,000 rows against the unlimited server, against one that answers 429 above 8
requests at once, and against one that queues above 8; with `--curator PYTHON` (an interpreter
of a separate venv with bespokelabs-curator installed) curator runs the same 5,000 rows against
the same server in the same run (benchmarks/curator_driver.py). On the unlimited server it also runs
the job with DATAGEN_VERIFY=off (label verification, on by default, sends judge requests; curator
sends none) and a bare aiohttp loop sending the same 500 generation requests 200 at once (no client
library, no engine): the ceiling of this machine, to read the 2x-curator aim against. Rows/s and
requests/s (generation and judge requests answered) are printed for each.

Prints, for concurrency 1, 8, 32, 64: accepted rows/s, the ideal rows/s (concurrency x batch
size / latency) and their ratio; prompt+completion tokens per accepted row; peak RSS of a
10,000- and a 100,000-row job; wall time of a 1,000-row job in a fresh process, start-up
included. The fake server runs in its own process so its CPU isn't charged to the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SPEC = {"task": "classification", "topic": "product reviews", "labels": ["positive", "negative"]}


def start_fake(latency: float, *extra: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openai_server", "--latency", str(latency), *extra],
        cwd=REPO, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None
    base_url = process.stdout.readline().strip()
    if not base_url.startswith("http"):
        raise SystemExit(f"fake server did not start: {base_url!r}")
    return process, base_url


async def run_job(base_url: str, database_url: str, count: int, concurrency: int | None,
                  batch_size: int, verify: str = "auto") -> dict[str, float]:
    from core.generator import Generator
    from core.llm_openai import OpenAIBackend
    from core.settings import Settings
    from core.spec import DatasetSpec
    from storage.store import Store

    settings = Settings(
        openai_api_key="bench", openai_base_url=base_url, llm="openai", database_url=database_url,
        concurrency=concurrency, batch_size=batch_size, progress_interval=1.0, max_count=max(count, 10_000),
        request_timeout=60, verify=verify, _env_file=None,
    )
    spec = DatasetSpec.from_data({**SPEC, "count": count}, max_count=settings.max_count)
    store = Store.from_url(database_url)
    llm = OpenAIBackend.from_settings(settings)
    generator = Generator(llm, store, settings)
    job_id = generator.create_job(spec)
    in_flight = [0.0, 0.0]  # requests in flight x seconds, seconds

    async def sample_in_flight() -> None:  # requests waiting for the server, weighted by time
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            in_flight[0] += llm.limiter.in_flight * (now - last)  # a busy loop samples less often
            in_flight[1] += now - last
            last = now

    cpu_before = time.process_time()
    started = time.perf_counter()
    sampler = asyncio.create_task(sample_in_flight())
    try:
        result = await generator.run(job_id)
    finally:
        sampler.cancel()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_before
    await llm.aclose()
    store.close()
    if result.status != "done":
        raise SystemExit(f"job failed: {result.error}")
    rows = sum(result.accepted.values())
    limiter = llm.limiter
    return {
        "requests": limiter.answered,  # generation and judge requests answered (429s not counted)
        "requests_per_s": limiter.answered / elapsed,
        "mean_concurrency": mean_limit(list(limiter.changes), time.monotonic()),
        "mean_in_flight": in_flight[0] / max(1e-9, in_flight[1]),
        "final_concurrency": limiter.learned,  # a probe in progress at the end aside
        "probes": limiter.probes,  # re-measures of the unqueued latency (core/concurrency.py)
        "rate_limited": limiter.rate_limited,
        "rows": rows,
        "elapsed": elapsed,
        "cpu": cpu,
        "rows_per_s": rows / elapsed,
        "tokens_per_row": (result.prompt_tokens + result.completion_tokens) / rows,
    }


def mean_limit(changes: list[tuple[float, int]], end: float) -> float:
    """Time-weighted mean of the limiter's limit over the job."""
    spans = [(value, next_start - start) for (start, value), (next_start, _) in zip(changes, changes[1:] + [(end, 0)])]
    total = sum(span for _, span in spans)
    return sum(value * span for value, span in spans) / total if total else float(changes[-1][1])


def adaptive(latency: float, batch_size: int, curator: str | None) -> None:
    count = 5000
    print(f"\nAdaptive concurrency (default settings: no DATAGEN_CONCURRENCY), {count:,} rows, latency {latency:g} s, "
          f"batch {batch_size}")
    print(f"{'server':<34} {'rows/s':>7} {'time s':>7} {'req/s':>6} {'mean conc.':>10} {'final':>6} {'429s':>6} "
          f"{'probes':>6} {'ratio':>6}")
    servers = [("unlimited", ()), ("429 above 8 at once", ("--max-concurrent", "8", "--over-limit", "429")),
               ("queues above 8 at once", ("--max-concurrent", "8", "--over-limit", "queue"))]
    for name, extra in servers:
        process, url = start_fake(latency, *extra)
        try:
            rows = count if name == "unlimited" else 2000
            with tempfile.TemporaryDirectory() as tmp:
                figures = asyncio.run(run_job(url, f"sqlite:///{tmp}/a.db", rows, None, batch_size))
            if name == "unlimited":  # the ideal: every request answered in `latency` at the mean concurrency
                ideal = figures["mean_concurrency"] * batch_size / latency
                what = f"of ideal at mean conc.; {in_flight_ratio(figures, latency)}"
            else:  # what 8 requests at once can give
                ideal = 8 * batch_size / latency
                what = (f"of 8 at once in rows, {figures['requests_per_s'] / (8 / latency):.2f} in requests "
                        f"({figures['requests'] / (rows / batch_size):.2f} requests per {batch_size} rows)")
            print(f"{name:<34} {figures['rows_per_s']:>7.0f} {figures['elapsed']:>7.2f} "
                  f"{figures['requests_per_s']:>6.0f} {figures['mean_concurrency']:>10.1f} "
                  f"{figures['final_concurrency']:>6} {int(figures['rate_limited']):>6} "
                  f"{figures['probes']:>6} {figures['rows_per_s'] / ideal:>6.2f} {what}")
            theirs = curator_run(curator, url, rows, batch_size, figures) if curator else None
            if name == "unlimited":
                # Label verification (on by default) sends judge requests (curator sends none):
                # the same job without it, like for like.
                with tempfile.TemporaryDirectory() as tmp:
                    plain = asyncio.run(run_job(url, f"sqlite:///{tmp}/b.db", rows, None, batch_size, verify="off"))
                ideal = plain["mean_concurrency"] * batch_size / latency
                print(f"{'  datagen, DATAGEN_VERIFY=off':<34} {plain['rows_per_s']:>7.0f} {plain['elapsed']:>7.2f} "
                      f"{plain['requests_per_s']:>6.0f} {plain['mean_concurrency']:>10.1f} "
                      f"{plain['final_concurrency']:>6} {int(plain['rate_limited']):>6} "
                      f"{plain['probes']:>6} {plain['rows_per_s'] / ideal:>6.2f} of ideal at mean conc.; {in_flight_ratio(plain, latency)}")
                ceiling(url, rows, batch_size, latency, theirs)
        finally:
            process.terminate()
            process.wait(10)


def in_flight_ratio(figures: dict[str, float], latency: float) -> str:
    """Requests answered per second against what the requests actually in flight could give
    (mean in flight / latency): how well the engine uses its slots, ramp and tail included."""
    ideal = figures["mean_in_flight"] / latency
    return f"{figures['requests_per_s'] / ideal:.2f} in requests at the mean in flight ({figures['mean_in_flight']:.0f})"


def line_prompts(count: int, batch_size: int) -> list[str]:
    """The generation prompts of a `count`-row job (line template), as one string each: what
    curator and the bare loop send."""
    from core.prompts import render_messages
    from core.spec import DatasetSpec

    spec = DatasetSpec.from_data({**SPEC, "count": count})
    labels = list(spec.labels)
    return ["\n\n".join(m["content"] for m in render_messages(spec, count=batch_size, label=labels[i % 2],
                                                              batch_index=i, structured=False))
            for i in range(count // batch_size)]


def curator_run(python: str, base_url: str, count: int, batch_size: int,
                ours: dict[str, float]) -> dict[str, float] | None:
    """bespokelabs-curator, same server, same prompts (line template), its default dispatcher."""
    prompts = line_prompts(count, batch_size)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prompts.json"
        path.write_text(json.dumps(prompts))
        try:
            out = subprocess.run([python, str(REPO / "benchmarks" / "curator_driver.py"), base_url, str(path)],
                                 capture_output=True, text=True, cwd=tmp, timeout=300)
        except subprocess.TimeoutExpired:
            print(f"{'  curator':<34} did not finish within 300 s")
            return None
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode != 0 or not lines:
        print(f"  curator failed ({out.returncode}): {(out.stderr or out.stdout).strip()[-300:]}")
        return None
    figures = json.loads(lines[-1])
    figures["requests_per_s"] = len(prompts) / figures["elapsed"]  # it sends one request a prompt
    print(f"{'  bespokelabs-curator, same server':<34} {figures['rows_per_s']:>7.0f} {figures['elapsed']:>7.2f} "
          f"{figures['requests_per_s']:>6.0f}    (datagen / curator: {ours['rows_per_s'] / figures['rows_per_s']:.2f}x "
          f"in rows, {ours['requests_per_s'] / figures['requests_per_s']:.2f}x in requests; "
          f"curator returned {figures['rows']} of {count} rows)")
    return figures


def ceiling(base_url: str, count: int, batch_size: int, latency: float, curator: dict[str, float] | None) -> None:
    """What 2 cores allow at all: the same generation requests from a bare aiohttp loop at
    curator's concurrency (200), no client library, no engine, no verification."""
    prompts = line_prompts(count, batch_size)
    figures = asyncio.run(bare_loop(base_url, prompts, 200))
    print(f"{'  bare aiohttp loop, 200 at once':<34} {figures['rows_per_s']:>7.0f} {figures['elapsed']:>7.2f} "
          f"{figures['requests_per_s']:>6.0f}    (this machine's ceiling: {figures['cpu_ms']:.2f} ms CPU a request "
          f"in the client; the ideal at 200 is {200 * batch_size / latency:,.0f} rows/s)")
    if curator:
        needed = 2 * curator["rows_per_s"]
        print(f"  2x curator = {needed:,.0f} rows/s = {needed / batch_size:,.0f} generation requests/s; the bare loop "
              f"sends {figures['requests_per_s']:,.0f}/s: {figures['rows_per_s'] / curator['rows_per_s']:.2f}x curator")


async def bare_loop(base_url: str, prompts: list[str], concurrency: int) -> dict[str, float]:
    """`prompts` as chat requests, `concurrency` at once, rows counted in the answers."""
    import re

    import aiohttp

    todo = list(reversed(prompts))
    rows = 0
    headers = {"Authorization": "Bearer bench"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async def worker() -> None:
            nonlocal rows
            while todo:
                body = {"model": "bench", "messages": [{"role": "user", "content": todo.pop()}]}
                async with session.post(f"{base_url}/chat/completions", json=body, headers=headers) as response:
                    content = (await response.json())["choices"][0]["message"]["content"]
                rows += len(re.findall(r"^Q: (.+)$", content, flags=re.M))

        cpu, started = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"rows": rows, "elapsed": elapsed, "rows_per_s": rows / elapsed,
            "requests_per_s": len(prompts) / elapsed, "cpu_ms": 1000 * cpu / len(prompts)}


def throughput(base_url: str, latency: float, batch_size: int, rounds: int) -> None:
    print(f"\nThroughput: fake server latency {latency:g} s, batch size {batch_size}, SQLite (WAL)")
    print(f"{'concurrency':>11} {'rows':>7} {'time s':>7} {'rows/s':>8} {'ideal/s':>8} {'ratio':>6} "
          f"{'CPU ms/req':>10} {'tokens/row':>10}")
    for concurrency in (1, 8, 32, 64):
        count = concurrency * batch_size * rounds
        with tempfile.TemporaryDirectory() as tmp:
            figures = asyncio.run(run_job(base_url, f"sqlite:///{tmp}/bench.db", count, concurrency, batch_size))
        ideal = concurrency * batch_size / latency
        requests = figures["rows"] / batch_size
        print(f"{concurrency:>11} {int(figures['rows']):>7} {figures['elapsed']:>7.2f} {figures['rows_per_s']:>8.0f} "
              f"{ideal:>8.0f} {figures['rows_per_s'] / ideal:>6.2f} {1000 * figures['cpu'] / requests:>10.2f} "
              f"{figures['tokens_per_row']:>10.1f}")
    reference = asyncio.run(bare_client_ratio(base_url, latency, 64, rounds))
    print(f"reference: a bare aiohttp loop (no openai client, no engine) reaches ratio {reference:.2f} at 64 "
          f"on this machine against the same server")


async def bare_client_ratio(base_url: str, latency: float, concurrency: int, rounds: int) -> float:
    """The same requests from a bare aiohttp loop (no openai client, no engine): what this
    machine and the fake server allow at all, to read the engine's ratio against."""
    import aiohttp

    from core.prompts import render_messages, response_schema
    from core.spec import DatasetSpec

    spec = DatasetSpec.from_data({**SPEC, "count": 10})
    body = {"model": "bench", "messages": render_messages(spec, count=10, label="positive"),
            "response_format": {"type": "json_schema",
                                "json_schema": {"name": "x", "schema": response_schema(spec), "strict": True}}}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async def worker() -> None:
            for _ in range(rounds):
                async with session.post(f"{base_url}/chat/completions", json=body) as response:
                    json.loads((await response.json())["choices"][0]["message"]["content"])

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return (concurrency * rounds / elapsed) / (concurrency / latency)


MEMORY_DRIVER = textwrap.dedent(
    """
    import asyncio, json, resource, sys
    sys.path.insert(0, sys.argv[1])
    from benchmarks.throughput import run_job
    figures = asyncio.run(run_job(sys.argv[2], sys.argv[3], int(sys.argv[4]), 64, 10))
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))
    """
)


def memory(base_url: str, counts: list[int]) -> None:
    print("\nPeak memory (RSS of a fresh process running one job; concurrency 64, batch 10)")
    for count in counts:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [sys.executable, "-c", MEMORY_DRIVER, str(REPO), base_url, f"sqlite:///{tmp}/m.db", str(count)],
                capture_output=True, text=True, check=True, cwd=REPO,
            )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  {count:>7,} rows: peak RSS {figures['peak_rss_mb']:.0f} MB, {figures['rows_per_s']:.0f} rows/s, "
              f"{figures['elapsed']:.1f} s")


def cold_start(base_url: str) -> None:
    """1,000 rows through `datagen generate` in a new process: imports, DB, generation, export."""
    print("\nWall time for 1,000 rows in a fresh process, start-up included")
    with tempfile.TemporaryDirectory() as tmp:
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps({**SPEC, "count": 1000}))
        env = {**os.environ, "OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": base_url, "DATAGEN_LLM": "openai",
               "DATABASE_URL": f"sqlite:///{tmp}/c.db", "DATAGEN_CONCURRENCY": "64", "DATAGEN_BATCH_SIZE": "10",
               "PYTHONPATH": str(REPO)}
        datagen = Path(sys.executable).with_name("datagen")
        command = [str(datagen) if datagen.exists() else "datagen", "generate", str(spec_path), "-o",
                   str(Path(tmp) / "out.csv")]
        started = time.perf_counter()
        out = subprocess.run(command, env=env, capture_output=True, text=True, cwd=tmp)
        elapsed = time.perf_counter() - started
        if out.returncode != 0:
            print(f"  datagen generate failed ({out.returncode}): {(out.stderr or out.stdout).strip()[-300:]}")
            return
        lines = (Path(tmp) / "out.csv").read_text(encoding="utf-8").count("\n")
        print(f"  datagen generate (concurrency 64, batch 10): {elapsed:.2f} s for {lines - 1} rows")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=12, help="requests per concurrency slot in each run")
    parser.add_argument("--quick", action="store_true", help="skip the 100,000-row memory run")
    parser.add_argument("--adaptive-only", action="store_true", help="only the adaptive-concurrency section")
    parser.add_argument("--curator", metavar="PYTHON", help="python of a venv with bespokelabs-curator")
    args = parser.parse_args()
    adaptive(args.latency, args.batch_size, args.curator)
    if args.adaptive_only:
        return
    process, base_url = start_fake(args.latency)
    try:
        print(f"fake server {base_url} (own process); python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
        throughput(base_url, args.latency, args.batch_size, args.rounds)
        memory(base_url, [10_000] if args.quick else [10_000, 100_000])
        cold_start(base_url)
    finally:
        process.terminate()
        process.wait(10)


if __name__ == "__main__":
    main()
