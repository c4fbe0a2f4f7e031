"""One job's label verification with the rows of several answers in one judge request.

    queue = JudgeQueue(verifier, spec, idle=lambda: nothing_else_asked, max_wait=lambda: 0.15)
    screened = await queue.screen(raws)      # this answer's rows: kept / rejected, as Verifier.screen
    ...
    await queue.aclose()                     # at the end of the run

Verifying each answer on its own costs one judge request per generation request: half of all
requests, for an answer of one short label per row. Here an answer's rows wait for the rows of
the answers that follow and go to the judge together (up to the judge's batch size in rows,
`max_chars` of text), which is sent when it is full, when the job asks the model nothing else (no more rows
can come: never wait for them), or `max_wait` seconds after its first rows came (so rows are
never held long on a slow model). Each answer still gets exactly the verdicts its own rows
earned (ids are prefixed per answer); a judge that cannot answer leaves the rows of every answer
in the request unverified (rejected, never delivered), as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from core.classify import Item
from core.spec import DatasetSpec
from core.verify import Checked, Question, Screened, Verifier, ask_judge

#: At most this much row text per judge request (multiple-choice questions are long); the number
#: of rows is the judge's batch size (core.verify.JUDGE_BATCH; fewer for document questions).
MAX_CHARS = 32_000


class JudgeQueue:
    def __init__(self, verifier: Verifier, spec: DatasetSpec, *, idle: Callable[[], bool],
                 max_wait: Callable[[], float], max_chars: int = MAX_CHARS) -> None:
        self.verifier = verifier
        self.spec = spec
        self.idle = idle  # True when the job is waiting for no generation answer: no more rows can come
        self.max_wait = max_wait
        self.max_chars = max_chars
        self.requests_sent = 0  # judge batches sent (each one or more requests: re-asks, big answers)
        self._open: list[tuple[Question, asyncio.Future[Screened]]] = []
        self._rows = 0
        self._chars = 0
        self._timer: asyncio.TimerHandle | None = None
        self._asking: set[asyncio.Task[None]] = set()
        self._waited_by: dict[asyncio.Task[None], list[asyncio.Future[Screened]]] = {}

    async def screen(self, raws: list[Any], checked: Sequence[Checked] | None = None) -> Screened:
        """This answer's rows, kept or rejected by the judge (Verifier.screen's result);
        `checked`: the engine's validation of each row, when it has it."""
        question = self.verifier.question(self.spec, raws, checked)
        if question is None:
            return Screened(list(raws), [])
        rows = len(question.items)
        chars = sum(len(item.text) for item in question.items)
        cap = question.judge.batch_size
        if self._open and (self._rows + rows > cap or self._chars + chars > self.max_chars):
            self._send()  # this answer would overfill the waiting request: that one goes first
        future: asyncio.Future[Screened] = asyncio.get_running_loop().create_future()
        self._open.append((question, future))
        self._rows += rows
        self._chars += chars
        if self._rows >= cap or self.idle():
            self._send()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(max(0.0, self.max_wait()), self._send)
        # A caller cancelled here (its job ends) cancels only its own future: the request goes on
        # for the other answers in it.
        return await future

    def poke(self) -> None:
        """Called when the job's last generation request finished: send what waits, now."""
        if self._open and self.idle():
            self._send()

    async def aclose(self) -> None:
        """At the end of the run: a judge request whose answers all stopped waiting is stopped
        (its rows are dropped with them), the others are waited for."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._open = [(question, future) for question, future in self._open if not future.done()]
        if self._open:
            self._send()
        while self._asking:
            for task in self._asking:
                if task in self._waited_by and all(future.done() for future in self._waited_by[task]):
                    task.cancel()
            await asyncio.gather(*list(self._asking), return_exceptions=True)

    def _send(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiting = [(question, future) for question, future in self._open if not future.done()]
        self._open, self._rows, self._chars = [], 0, 0
        if not waiting:
            return
        self.requests_sent += 1
        task = asyncio.get_running_loop().create_task(self._ask(waiting))
        self._asking.add(task)
        self._waited_by[task] = [future for _, future in waiting]
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._asking.discard(task)
        self._waited_by.pop(task, None)

    async def _ask(self, waiting: list[tuple[Question, asyncio.Future[Screened]]]) -> None:
        first = waiting[0][0]
        items = [Item(f"{n}.{item.id}", item.text) for n, (question, _) in enumerate(waiting)
                 for item in question.items]
        try:
            verdicts, usage, requests = await ask_judge(first.judge, items, first.task, first.what)
        except BaseException as exc:  # cancelled with the job, or a bug: no answer waits forever
            for _, future in waiting:
                if future.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(exc)
            raise
        per_answer: list[dict[str, str]] = [{} for _ in waiting]
        for item_id, label in verdicts.items():
            n, own = item_id.split(".", 1)
            per_answer[int(n)][own] = label
        charged = False
        for (question, future), own in zip(waiting, per_answer):
            if future.done():  # its job stopped waiting: its rows are dropped with it
                continue
            screened = question.decide(own)
            if not charged:  # the request's tokens go to one answer: the job's totals stay exact
                screened.usage, screened.requests, charged = usage, requests, True
            future.set_result(screened)
