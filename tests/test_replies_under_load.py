"""The bot answers while its jobs keep their threads busy, and charts are drawn outside its process.

Timings are measured in benchmarks/scale.py (--chats, --busy); these tests check the mechanisms:
a reply needs no thread of the event loop's default pool (the jobs' row writes, claims and
deliveries fill it), and a delivery's chart is drawn by a child process, so it never holds the GIL
the replies need.
"""

from __future__ import annotations

import asyncio
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
from core.events import ButtonPress
from core.settings import Settings
from tests.dialog_support import find_choice, new_user, previews, texts
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
