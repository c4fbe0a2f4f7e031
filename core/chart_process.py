"""The chat channels' charts, drawn in a child process: `render_chart_apart(rows, title)`.

A chart is ~0.1 s of pure-Python CPU (matplotlib). Drawn in a thread of the bot it holds the
GIL, and with it the event loop that answers every chat: with many deliveries at once, the
charts were a quarter of the bot's CPU and every reply waited behind them. In a child process
they run on another core and the bot only sends the text lengths over.

One long-lived child (`python -m core.chart_process`), one chart at a time, over its stdin and
stdout: a request is a length-prefixed JSON object, an answer a status byte and length-prefixed
bytes. Written by hand rather than with multiprocessing's pools: their "spawn" start re-runs the
main script of a program without a `__main__` guard (a second bot), and "fork" copies a process
with threads and held locks; this child imports nothing but core.chart. If the child cannot be
started or dies, the chart is drawn in the calling thread and the next one starts a new child.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from core.chart import draw, lengths_per_label

log = logging.getLogger(__name__)

_HEADER = 8  # bytes of a big-endian length before each message


class ChartProcess:
    """The child that draws charts; `draw` blocks the calling thread (not the GIL) until it answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # one request at a time on the pipes
        self._child: subprocess.Popen[bytes] | None = None

    def draw(self, lengths: dict[str, list[int]], title: str) -> bytes:
        request = json.dumps({"lengths": lengths, "title": title}).encode("utf-8")
        with self._lock:
            child = self._running()
            try:
                assert child.stdin is not None and child.stdout is not None
                child.stdin.write(len(request).to_bytes(_HEADER, "big") + request)
                child.stdin.flush()
                status = _read(child.stdout, 1)
                answer = _read(child.stdout, int.from_bytes(_read(child.stdout, _HEADER), "big"))
            except (OSError, EOFError):
                self._stop()
                raise
        if status != b"+":
            raise RuntimeError(f"the chart process failed: {answer.decode('utf-8', 'replace')}")
        return answer

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None and self._child.poll() is None else None

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _running(self) -> subprocess.Popen[bytes]:
        if self._child is not None and self._child.poll() is None:
            return self._child
        self._stop()
        # The child imports the very `core` this process runs (a worktree, not an installed copy).
        root = str(Path(__file__).resolve().parents[1])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        self._child = subprocess.Popen([sys.executable, "-m", "core.chart_process"], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, env=env)
        return self._child

    def _stop(self) -> None:
        child, self._child = self._child, None
        if child is None:
            return
        for pipe in (child.stdin, child.stdout):
            try:
                if pipe is not None:
                    pipe.close()
            except OSError:
                pass
        try:
            child.wait(5)  # it exits at the end of its stdin
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


_process = ChartProcess()
atexit.register(_process.close)


def render_chart_apart(rows: Sequence[tuple[str, str]], title: str) -> bytes:
    """`core.chart.render_chart` drawn in the chart process (in this thread if that fails)."""
    lengths = lengths_per_label(rows)
    try:
        return _process.draw(lengths, title)
    except (OSError, EOFError, RuntimeError) as exc:
        log.warning("chart process unavailable (%s): drawing the chart in this process", exc)
        return draw(lengths, title)


def chart_process_pid() -> int | None:
    """The running chart process's id (None before the first chart or after it died)."""
    return _process.pid


def _read(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise EOFError("the chart process closed its output")
    return data


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The child's loop: draw each request until stdin ends."""
    while True:
        header = requests.read(_HEADER)
        if len(header) < _HEADER:
            return
        try:
            request = json.loads(_read(requests, int.from_bytes(header, "big")))
            status, answer = b"+", draw(request["lengths"], request["title"])
        except EOFError:
            return
        except Exception as exc:  # a bad chart must not end the process: the bot draws it itself
            status, answer = b"-", f"{type(exc).__name__}: {exc}".encode("utf-8")
        answers.write(status + len(answer).to_bytes(_HEADER, "big") + answer)
        answers.flush()


if __name__ == "__main__":
    # The answers get the real stdout; anything a library prints goes to stderr, not into a PNG.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, answers)
