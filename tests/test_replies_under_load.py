"""The bot answers while its jobs keep their threads busy, and charts are drawn outside its process.

Timings are measured in benchmarks/scale.py (--chats, --busy); these tests check the mechanisms:
a reply needs no thread of the event loop's default pool (the jobs' row writes, claims and
deliveries fill it), and a delivery's chart is drawn by a child process, so it never holds the GIL
the replies need.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.chart import render_chart
from core.chart_process import chart_process_pid, render_chart_apart
from core.events import ButtonPress, ChatRef, Message, Preview
from core.settings import Settings
from core.spec import DatasetSpec
from tests.dialog_support import find_choice, new_user, previews, texts
from tests.fakes.openai_server import FakeOpenAI
from tests.test_annotate_chat import as_txt, tickets
from tests.test_chart import opened, rows

ROOT = Path(__file__).resolve().parent.parent
JOBS_THREADS = 2


def fill(loop: asyncio.AbstractEventLoop, release: threading.Event) -> list[asyncio.Future[bool]]:
    """Every thread of the loop's default pool busy until `release`, as a burst of jobs' blocking calls makes it."""
    return [loop.run_in_executor(None, release.wait) for _ in range(JOBS_THREADS)]


async def test_replies_come_while_every_thread_of_the_jobs_is_busy(settings: Settings) -> None:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=JOBS_THREADS))
    user = await new_user(settings)
    try:
        # The OpenAI SDK's first request reads the platform in a thread of that pool, once per client.
        await user.send("hello")
        release = threading.Event()
        busy = fill(loop, release)
        try:
            # The order (the chat's lock, state and save) and Generate preview (its job created):
            # answered while no thread of the pool is free. Before, each waited for one.
            summary = await asyncio.wait_for(
                user.send("I need 20 hotel reviews, 10 positive and 10 negative, in English", settle=False), 20)
            find_choice(summary, "preview")
            working = await asyncio.wait_for(user.press(summary, "preview", settle=False), 20)
            status = await asyncio.wait_for(user.send("/status", settle=False), 20)
        finally:
            release.set()
            await asyncio.gather(*busy)
        assert "preview" in texts(working), texts(working)  # "Making 5 preview examples..."
        assert "20" in texts(status)
        await user.dialog.wait_idle()
        shown = previews(user.take())
        assert len(shown) == 1 and shown[0].items, "the preview, held up with the jobs' threads, still arrives"

        # Generate all with the jobs' threads busy again: the acknowledgement comes, the job waits.
        release = threading.Event()
        busy = fill(loop, release)
        try:
            choice = find_choice(user.seen, "generate")
            ack = await asyncio.wait_for(user.send(ButtonPress(choice.action, choice.value), settle=False), 20)
        finally:
            release.set()
            await asyncio.gather(*busy)
        assert "20 rows" in texts(ack), texts(ack)  # "Started generating 20 rows (job #2)..."
        await user.dialog.wait_idle()
        assert any(getattr(r, "filename", "").endswith(".csv") for r in user.take()), "the order is delivered"
    finally:
        await user.dialog.aclose()


def test_a_chart_drawn_apart_is_the_same_picture_and_leaves_matplotlib_out_of_the_bot() -> None:
    code = (
        "import json, sys\n"
        "from core.chart_process import render_chart_apart, chart_process_pid\n"
        "from tests.test_chart import rows\n"
        "png = render_chart_apart(rows({'positive': 30, 'negative': 12}), 'Hotel reviews')\n"
        "print(json.dumps({'matplotlib_here': 'matplotlib' in sys.modules, 'child': chart_process_pid(),\n"
        "                  'png': png.hex()}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["matplotlib_here"] is False  # drawn by the child: the bot's process never imported matplotlib
    assert figures["child"] is not None and figures["child"] != os.getpid()
    assert bytes.fromhex(figures["png"]) == render_chart(rows({"positive": 30, "negative": 12}), "Hotel reviews")


def test_a_killed_chart_process_costs_no_chart_and_is_replaced() -> None:
    first = opened(render_chart_apart(rows({"a": 10, "b": 20}), "t"))
    child = chart_process_pid()
    assert child is not None and first.width > 0
    os.kill(child, signal.SIGKILL)
    second = opened(render_chart_apart(rows({"a": 10, "b": 20}), "t"))  # by a new child, or here if the pipe broke
    assert second.size == first.size
    third = opened(render_chart_apart(rows({"a": 10, "b": 20}), "t"))
    assert third.size == first.size
    replacement = chart_process_pid()
    assert replacement is not None and replacement != child, "the next chart started a new chart process"


def _alive() -> tuple[int, int]:
    """asyncio Locks, and finished job tasks, that something still holds."""
    gc.collect()
    objects = gc.get_objects()
    locks = sum(isinstance(o, asyncio.Lock) for o in objects)
    finished = sum(isinstance(o, asyncio.Task) and o.done() and o.get_name().startswith("job-") for o in objects)
    return locks, finished


async def test_a_bot_that_met_many_chats_keeps_nothing_per_chat_once_they_are_idle(settings: Settings) -> None:
    """A public bot meets a new chat after another: one lock per chat ever seen, or one finished
    task per job ever run, kept in memory, grows without end."""
    user = await new_user(settings)
    try:
        locks_before, finished_before = _alive()
        for n in range(60):
            await user.dialog.handle(ChatRef(f"chat-{n}", f"user-{n}", "U"), Message("/help"))
        for n in range(3):  # previews: each a background job task
            chat = ChatRef(f"ordering-{n}", f"orderer-{n}", "O")
            await user.dialog.handle(chat, Message("I need 20 hotel reviews, positive or negative, in English"))
            summary = [r for c, r in user.output.replies if c.conversation == chat.conversation]
            choice = find_choice(summary, "preview")
            await user.dialog.handle(chat, ButtonPress(choice.action, choice.value))
        await user.dialog.wait_idle()
        assert len([r for r in user.output.replies if isinstance(r[1], Preview)]) == 3  # the previews came
        locks_after, finished_after = _alive()
        assert locks_after - locks_before < 5, f"{locks_after - locks_before} chat locks kept after 63 chats"
        assert finished_after - finished_before == 0, "finished job tasks are kept"
    finally:
        await user.dialog.aclose()


async def test_a_label_preview_goes_ahead_of_the_orders_queued_requests(settings: Settings) -> None:
    """"Label my rows": the user waits for the preview's labels; the running orders' requests queued
    for the server (one at a time here) wait behind them (core.concurrency.urgent)."""
    with FakeOpenAI(latency=0.4) as fake:
        strict = settings.model_copy(update={"openai_base_url": fake.base_url, "concurrency": 1, "verify": "off"})
        user = await new_user(strict)
        generator = await user.dialog.get_generator()
        spec = DatasetSpec.from_data({"task": "classification", "topic": "hotel reviews",
                                      "labels": ["positive", "negative"], "count": 200}, max_count=10_000)
        orders = [asyncio.create_task(generator.run(generator.create_job(spec))) for _ in range(5)]
        try:
            await user.send("label my rows")
            rows, _ = tickets(12)
            await user.upload("tickets.txt", as_txt(rows))
            while len(fake.requests) < 3:  # the orders' requests queue up: one in flight, four waiting
                await asyncio.sleep(0.05)
            sent_at = len(fake.requests)
            shown = await user.send("complaint, order_status, greeting")
            assert len(previews(shown)) == 1, texts(shown)
        finally:
            for order in orders:
                order.cancel()
            await asyncio.gather(*orders, return_exceptions=True)
            await user.dialog.aclose()
    later = [json.dumps(body) for body in fake.requests[sent_at:]]
    first_label_request = next(i for i, body in enumerate(later) if rows[0][:30] in body)
    # At most the request in flight and one sent while the message was being handled; in arrival
    # order (before) the four orders' waiting requests all went first.
    assert first_label_request <= 2, f"{first_label_request} order requests went before the preview's"
