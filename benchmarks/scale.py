"""Scale: workers, many chats at once, huge orders. Prints figures; not part of the test run.

    python benchmarks/scale.py --workers --database-url postgresql://...   # rows/s with 1, 2, 4 `datagen worker`s
    python benchmarks/scale.py --chats                                      # reply p50/p99, 200 chats ordering at once
    python benchmarks/scale.py --busy [--database-url postgresql://...]     # replies while a 50,000-row order runs
    python benchmarks/scale.py --memory 100000 1000000                     # peak RSS of one huge order + export
    python benchmarks/scale.py --index 100000 1000000                      # memory of the near-duplicate index alone

Every section uses the fake OpenAI-compatible server in its own process (0.3 s per request by
default) and the default settings (adaptive concurrency). The machine is shared: run the heavy
sections (`--memory 1000000`) sparingly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.throughput import start_fake  # noqa: E402

SPEC = {"task": "classification", "topic": "product reviews", "labels": ["positive", "negative"]}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# --- workers ---------------------------------------------------------------------------------

def workers(database_url: str, latency: float, jobs: int, rows: int) -> None:
    from core.queue import JobQueue
    from core.spec import DatasetSpec
    from storage.store import Store

    print(f"\nWorkers: {jobs} jobs of {rows:,} rows on PostgreSQL, fake server {latency:g} s, adaptive concurrency")
    print(f"{'workers':>7} {'rows':>8} {'time s':>7} {'rows/s':>8} {'per worker':>10}")
    process, base_url = start_fake(latency)
    try:
        for count in (1, 2, 4):
            store = Store.from_url(database_url)
            queue = JobQueue(database_url)
            ids = [store.create_job(DatasetSpec.from_data({**SPEC, "count": rows}, max_count=rows).to_json())
                   for _ in range(jobs)]

            async def submit() -> None:
                for job_id in ids:
                    await queue.submit(job_id, rows=rows, user=f"u{job_id}", per_user=1)
                await queue.aclose()

            env = {**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": base_url,
                   "DATAGEN_LLM": "openai", "DATABASE_URL": database_url, "DATAGEN_WORKER_JOBS": str(jobs)}
            procs = [subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, cwd=REPO,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]
            try:
                time.sleep(5)  # start-up (imports, connecting) is not what is measured
                started = time.perf_counter()
                asyncio.run(submit())
                while any((job := store.get_job(i)) is None or job.status not in ("done", "failed") for i in ids):
                    time.sleep(0.2)
                elapsed = time.perf_counter() - started
            finally:
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.wait(20)
            made = sum(sum(store.accepted_counts(i).values()) for i in ids)
            print(f"{count:>7} {made:>8,} {elapsed:>7.1f} {made / elapsed:>8.0f} {made / elapsed / count:>10.0f}")
            store.close()
    finally:
        process.terminate()
        process.wait(10)


# --- many chats ------------------------------------------------------------------------------

async def _chats(base_url: str, database_url: str, chats: int, rows: int) -> None:
    from core.dialog import Dialog
    from core.events import ButtonPress, ChatRef, CollectingOutput, Document, Message
    from core.settings import Settings
    from storage.store import Store
    from tests.dialog_support import find_choice

    settings = Settings(openai_api_key="bench", openai_base_url=base_url, llm="openai", database_url=database_url,
                        progress_interval=3.0, _env_file=None)
    output = CollectingOutput()
    dialog = Dialog("bench", output, settings, open_store=Store.from_url)
    await dialog.start()
    replies_of: dict[str, list] = {}
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}

    def collect(chat: ChatRef) -> list:  # type: ignore[type-arg]
        mine = [r for c, r in output.replies if c.conversation == chat.conversation]
        replies_of.setdefault(chat.conversation, []).extend(mine)
        output.replies[:] = [(c, r) for c, r in output.replies if c.conversation != chat.conversation]
        return replies_of[chat.conversation]

    async def handle(chat: ChatRef, event) -> list:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        await dialog.handle(chat, event)
        latencies.append(time.perf_counter() - started)
        kind = "order message" if isinstance(event, Message) else f"{event.action} button"
        by_kind.setdefault(kind, []).append(latencies[-1])
        return collect(chat)

    async def one(n: int) -> None:
        chat = ChatRef(f"chat-{n}", f"user-{n}", f"User {n}")
        half = rows // 2
        replies = await handle(chat, Message(f"Produce {rows} examples: {half} positive and {rows - half} negative "
                                             f"reviews of kitchen gadgets."))
        replies = await handle(chat, ButtonPress(find_choice(replies, "preview").action,
                                                 find_choice(replies, "preview").value))
        for _ in range(600):  # the preview arrives in the background
            if any(getattr(c, "action", "") == "generate" for r in replies for c in getattr(r, "choices", ())):
                break
            await asyncio.sleep(0.1)
            replies = collect(chat)
        choice = find_choice(replies, "generate")
        await handle(chat, ButtonPress(choice.action, choice.value))

    loop_watch = Chats(dialog, output)
    watcher = asyncio.ensure_future(loop_watch.watch_loop())
    started = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(chats)))
    await dialog.wait_idle()
    elapsed = time.perf_counter() - started
    watcher.cancel()
    for conversation in list(replies_of):
        replies_of[conversation].extend(r for c, r in output.replies if c.conversation == conversation)
    delivered = sum(any(isinstance(r, Document) for r in replies) for replies in replies_of.values())
    await dialog.aclose()
    print(f"  {chats} chats, {len(latencies):,} messages and button presses handled; every order delivered: "
          f"{delivered}/{chats}; {elapsed:.1f} s in all")
    print(f"  reply time p50 {1000 * statistics.median(latencies):.0f} ms, p99 {1000 * _pct(latencies, 0.99):.0f} ms, "
          f"max {1000 * max(latencies):.0f} ms")
    for kind, values in by_kind.items():
        print(f"    {kind:<16} p50 {1000 * statistics.median(values):.0f} ms, p99 {1000 * _pct(values, 0.99):.0f} ms")
    print(f"  event loop lag (a 10 ms timer's delay) {_p50_p99(loop_watch.lags)}")


def chats(latency: float, count: int, rows: int) -> None:
    print(f"\nMany chats: {count} chats order {rows} rows each at once (one process, SQLite, fake server "
          f"{latency:g} s); time for the bot to handle each message/button (the reply is sent within it)")
    process, base_url = start_fake(latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(_chats(base_url, f"sqlite:///{tmp}/chats.db", count, rows))
    finally:
        process.terminate()
        process.wait(10)


# --- replies while a big order runs ----------------------------------------------------------

ORDER = "Produce 20 examples: 10 positive and 10 negative reviews of kitchen gadgets."


class Chats:
    """Drives chats on one Dialog and times what each user waits for."""

    def __init__(self, dialog, output) -> None:  # type: ignore[no-untyped-def]
        self.dialog, self.output = dialog, output
        self.times: dict[str, list[float]] = {}
        self.lags: list[float] = []

    def take(self, chat) -> list:  # type: ignore[no-untyped-def]
        mine = [r for c, r in self.output.replies if c.conversation == chat.conversation]
        self.output.replies[:] = [(c, r) for c, r in self.output.replies if c.conversation != chat.conversation]
        return mine

    async def send(self, chat, event, kind: str | None = None) -> list:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        await self.dialog.handle(chat, event)
        if kind:
            self.times.setdefault(kind, []).append(time.perf_counter() - started)
        return self.take(chat)

    async def until(self, chat, seen: list, action: str, kind: str | None = None, timeout: float = 120) -> list:  # type: ignore[no-untyped-def]
        """Wait for a reply offering `action` (a preview's Generate all, ...); times it under `kind`."""
        started = time.perf_counter()
        while not any(getattr(c, "action", "") == action for r in seen for c in getattr(r, "choices", ())):
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"no {action!r} in {timeout} s")
            await asyncio.sleep(0.02)
            seen = seen + self.take(chat)
        if kind:
            self.times.setdefault(kind, []).append(time.perf_counter() - started)
        return seen

    async def probe(self, n: str) -> None:
        """What a user does first: /help, an order, Generate preview; and how long the preview takes."""
        from core.events import ButtonPress, ChatRef, Message
        from tests.dialog_support import find_choice

        chat = ChatRef(f"probe-{n}", f"probe-user-{n}", "Probe")
        await self.send(chat, Message("/help"), "/help")
        summary = await self.send(chat, Message(ORDER), "order message")
        choice = find_choice(summary, "preview")
        working = await self.send(chat, ButtonPress(choice.action, choice.value), "preview button")
        await self.until(chat, working, "generate", "preview shown after")

    async def watch_loop(self) -> None:
        """How late the event loop runs a 10 ms timer: every reply waits at least that long per step."""
        while True:
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            self.lags.append(time.perf_counter() - started - 0.01)


def _p50_p99(values: list[float]) -> str:
    return f"p50 {1000 * statistics.median(values):.0f} / p99 {1000 * _pct(values, 0.99):.0f} ms"


async def _busy(base_url: str, database_url: str, rows: int, rounds: int, external: bool) -> None:
    from core.conversation.state import ConversationState
    from core.dialog import Dialog
    from core.events import ButtonPress, ChatRef, CollectingOutput, Message
    from core.settings import Settings
    from storage.store import Store
    from tests.dialog_support import find_choice

    settings = Settings(openai_api_key="bench", openai_base_url=base_url, llm="openai", database_url=database_url,
                        progress_interval=3.0, max_count=max(rows, 10_000),
                        workers="external" if external else "inprocess", _env_file=None)
    output = CollectingOutput()
    dialog = Dialog("bench", output, settings, open_store=Store.from_url)
    await dialog.start()
    quiet, loaded = Chats(dialog, output), Chats(dialog, output)
    run = f"{time.time():.0f}"  # new chats on a database an earlier run used
    watcher = asyncio.ensure_future(quiet.watch_loop())
    try:
        for n in range(rounds):
            await quiet.probe(f"{run}-{n}")
        watcher.cancel()
        watcher = asyncio.ensure_future(loaded.watch_loop())
        big = ChatRef(f"big-{run}", f"big-user-{run}", "Big")
        half = rows // 2
        replies = await loaded.send(big, Message(f"Produce {rows} examples: {half} positive and {rows - half} negative "
                                               "reviews of kitchen gadgets."))
        choice = find_choice(replies, "preview")
        replies = await loaded.until(big, await loaded.send(big, ButtonPress(choice.action, choice.value)), "generate")
        choice = find_choice(replies, "generate")
        await loaded.send(big, ButtonPress(choice.action, choice.value))
        store = dialog.store  # read in threads: a query in the event loop would delay the replies measured
        conversation = await asyncio.to_thread(store.find_conversation, "bench", big.conversation)
        job_id = ConversationState.load(conversation.state, conversation.data_json).job
        while await asyncio.to_thread(_made, store, job_id) < 100:  # the order generates before the probes start
            await asyncio.sleep(0.1)
        made_before = await asyncio.to_thread(_made, store, job_id)
        probe_start = time.perf_counter()
        for n in range(rounds):
            await loaded.probe(f"{run}-{rounds + n}")
        probed = time.perf_counter() - probe_start
        made = await asyncio.to_thread(_made, store, job_id) - made_before
        running = (await asyncio.to_thread(store.get_job, job_id)).status == "running"
        await loaded.send(big, ButtonPress("canceljob", str(job_id)))  # stops it here or on its worker
    finally:
        watcher.cancel()
        await dialog.aclose()
    where = "on a `datagen worker`" if external else "in this process"
    print(f"    the order generated {where} at {made / probed:.0f} rows/s during the probes ({made:,} rows"
          f"{', still running at the end' if running else ', FINISHED before the probes did'})")
    print(f"    {'what the user waits for':<24} {'nothing running':>22} {'while the order runs':>24}")
    for kind in [*quiet.times, "event loop lag"]:
        before, during = (quiet.lags, loaded.lags) if kind == "event loop lag" else (quiet.times[kind], loaded.times[kind])
        print(f"    {kind:<24} {_p50_p99(before):>22} {_p50_p99(during):>24}")


def _made(store, job_id: int) -> int:  # type: ignore[no-untyped-def]
    return sum(store.accepted_counts(job_id).values())


def busy(latency: float, rows: int, rounds: int, database_url: str | None) -> None:
    print(f"\nReplies while a big order generates: {rounds} new chats each send /help, a 20-row order and press "
          f"Generate preview (fake server {latency:g} s); the same first with nothing running")
    process, base_url = start_fake(latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            print("  in process, SQLite (the default):")
            asyncio.run(_busy(base_url, f"sqlite:///{tmp}/busy.db", rows, rounds, external=False))
        if database_url:
            print("  DATAGEN_WORKERS=external, PostgreSQL, one `datagen worker` process:")
            env = {**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": base_url,
                   "DATAGEN_LLM": "openai", "DATABASE_URL": database_url, "DATAGEN_MAX_COUNT": str(max(rows, 10_000))}
            worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, cwd=REPO,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                asyncio.run(_busy(base_url, database_url, rows, rounds, external=True))
            finally:
                worker.terminate()
                worker.wait(30)
        else:
            print("  (no --database-url: the run with external workers on PostgreSQL is skipped)")
    finally:
        process.terminate()
        process.wait(10)


# --- huge orders -----------------------------------------------------------------------------

MEMORY_DRIVER = textwrap.dedent(
    """
    import asyncio, json, resource, sys, time
    sys.path.insert(0, sys.argv[1])
    from benchmarks.throughput import run_job
    from core.export import export_job
    from storage.store import Store
    figures = asyncio.run(run_job(sys.argv[2], sys.argv[3], int(sys.argv[4]), None, 10))
    figures["generate_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    store = Store.from_url(sys.argv[3])
    started = time.perf_counter()
    result = export_job(store, 1, __import__("pathlib").Path(sys.argv[5]))
    figures["export_s"] = time.perf_counter() - started
    figures["exported"] = result.rows
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))
    """
)


def memory(latency: float, counts: list[int]) -> None:
    print(f"\nHuge orders: one job in a fresh process (adaptive concurrency, batch 10, SQLite, fake server "
          f"{latency:g} s), then `export_job` to CSV")
    process, base_url = start_fake(latency)
    try:
        for count in counts:
            with tempfile.TemporaryDirectory() as tmp:
                out = subprocess.run(
                    [sys.executable, "-c", MEMORY_DRIVER, str(REPO), base_url, f"sqlite:///{tmp}/m.db", str(count),
                     f"{tmp}/out.csv"], capture_output=True, text=True, cwd=REPO,
                )
                if out.returncode != 0:
                    print(f"  {count:>9,} rows: failed: {out.stderr.strip()[-400:]}")
                    continue
                size = Path(f"{tmp}/out.csv").stat().st_size / 2**20
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"  {count:>9,} rows: {figures['rows_per_s']:.0f} rows/s ({figures['elapsed']:.0f} s), peak RSS "
                  f"{figures['generate_rss_mb']:.0f} MB generating, {figures['peak_rss_mb']:.0f} MB after exporting "
                  f"{figures['exported']:,} rows ({size:.0f} MiB CSV) in {figures['export_s']:.1f} s")
    finally:
        process.terminate()
        process.wait(10)


INDEX_DRIVER = textwrap.dedent(
    """
    import json, random, resource, sys, time
    sys.path.insert(0, sys.argv[1])
    from core.duplicates import DuplicateIndex
    rng = random.Random(7)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(20000)]
    def rss():
        return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
    index = DuplicateIndex()
    before = rss()
    started = time.perf_counter()
    n = int(sys.argv[2])
    for start in range(0, n, 1000):
        texts = [" ".join(rng.sample(words, rng.randint(10, 20))) for _ in range(1000)]
        for text, signature in zip(texts, index.signatures(texts)):
            index.check_and_add(text, signature)
    print(json.dumps({"rows": len(index), "mib": rss() - before, "s": time.perf_counter() - started}))
    """
)


def index_memory(counts: list[int]) -> None:
    print("\nNear-duplicate index alone (core/duplicates.DuplicateIndex), random ~100-character rows")
    for count in counts:
        out = subprocess.run([sys.executable, "-c", INDEX_DRIVER, str(REPO), str(count)], capture_output=True,
                             text=True, cwd=REPO, check=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  {figures['rows']:>9,} rows: +{figures['mib']:.0f} MiB ({1024 * 1024 * figures['mib'] / figures['rows']:.0f} "
              f"bytes a row), {figures['s']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--workers", action="store_true", help="rows/s with 1, 2 and 4 workers (PostgreSQL)")
    parser.add_argument("--database-url", default=os.environ.get("DATAGEN_TEST_POSTGRES_URL"))
    parser.add_argument("--worker-jobs", type=int, default=4)
    parser.add_argument("--worker-rows", type=int, default=5000)
    parser.add_argument("--chats", action="store_true", help="reply p50/p99 for many chats ordering at once")
    parser.add_argument("--chat-count", type=int, default=200)
    parser.add_argument("--chat-rows", type=int, default=20)
    parser.add_argument("--busy", action="store_true", help="reply p50/p99 while a big order generates")
    parser.add_argument("--busy-rows", type=int, default=50_000)
    parser.add_argument("--busy-rounds", type=int, default=10)
    parser.add_argument("--memory", type=int, nargs="*", help="row counts for the huge-order memory runs")
    parser.add_argument("--index", type=int, nargs="*", help="row counts for the index-only memory runs")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    if args.workers:
        if not args.database_url:
            raise SystemExit("--workers needs --database-url (PostgreSQL) or DATAGEN_TEST_POSTGRES_URL")
        workers(args.database_url, args.latency, args.worker_jobs, args.worker_rows)
    if args.chats:
        chats(args.latency, args.chat_count, args.chat_rows)
    if args.busy:
        busy(args.latency, args.busy_rows, args.busy_rounds, args.database_url)
    if args.memory:
        memory(args.latency, args.memory)
    if args.index:
        index_memory(args.index)


if __name__ == "__main__":
    main()
