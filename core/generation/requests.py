"""The request loop of one run. Each request asks for up to `batch_size` rows of ONE label
(classification) so the label the model writes can be checked against the one asked for; requests
go out concurrently, at most `concurrency` waiting for the server, and a new one starts as soon as
one answers (a task pool, not waves). An answer is parsed, verified when DATAGEN_VERIFY is on, and
handed to acceptance; its rows go to the writer. A model that answers nothing stops the job."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable

from core.concurrency import AdaptiveLimiter, JobConcurrency
from core.generation.acceptance import Checked, check_collapse, judge_batch, validate_answer
from core.generation.job_state import (
    MAX_CONSECUTIVE_ERRORS,
    MAX_RAW_CHARS,
    MAX_STRUCTURED_PARSE_FAILURES,
    WAITING_NOTICE_SECONDS,
    WAKE_SECONDS,
    Batch,
    JobFailed,
    JobState,
)
from core.generation.progress import ProgressReporter
from core.generation.writer import RowWriter
from core.llm import BackendDied, LLMBackend, LLMError, SchemaNotSupported
from core.prompts import ParseError, parse_structured, render_messages, response_schema
from core.quality import storable_text
from core.rows.prompting import parse_answer_template, render_row_messages
from core.rows.rules import is_neutral
from core.settings import Settings
from core.stop_reasons import llm_stop, stop
from core.store_port import NewRow
from core.verify import Verifier
from core.verify_queue import JudgeQueue
from core.vocabulary import JobProgress

log = logging.getLogger("core.generator")  # the engine's log, as before the split


class RequestLoop:
    def __init__(self, llm: LLMBackend, settings: Settings, writer: RowWriter, verifier: Verifier | None) -> None:
        self.llm = llm
        self.settings = settings
        self.writer = writer
        self.verifier = verifier
        self.batch_size = llm.batch_size or settings.batch_size
        self.slots = JobConcurrency(llm, settings)
        self.limiter: AdaptiveLimiter | None = self.slots.limiter

    @property
    def concurrency(self) -> int:
        """Requests this job may have waiting for the server now."""
        return self.slots.current

    async def generate(self, state: JobState, reporter: ProgressReporter) -> None:
        """Ask until every quota is met (or the job fails); requests still waiting are dropped at the end."""
        tasks: set[asyncio.Task[None]] = set()
        waiting: dict[asyncio.Task[None], list[bool]] = {}  # task -> [still waiting for the server]
        if self.verifier is not None:
            # Rows of several answers go to the judge together: at once when the job asks the
            # model nothing else, else within half an answer's time (core/verify_queue.py).
            state.judge = JudgeQueue(self.verifier, state.spec, idle=lambda: state.asking == 0,
                                     max_wait=lambda: 0.5 * state.answer_seconds)

        def fill() -> None:
            """Start requests while fewer than `concurrency` are waiting for the server. Also
            called by a request as soon as its answer is in, before the answer is processed."""
            while state.waiting < self.concurrency:
                if state.lease is not None and not state.lease.fresh:
                    return  # this process may have been frozen past its lease: the loop confirms it first
                if state.budget is not None and not state.budget.allows(
                        in_flight=len(tasks), prompt=state.usage.prompt_tokens,
                        completion=state.usage.completion_tokens, requests=state.requests):
                    return  # the next request could take the order over its cost limit
                batch = self._plan(state)
                if batch is None:
                    return
                state.waiting += 1
                slot = [True, False]  # [holds a slot waiting for the server, waits for the judge]
                task = asyncio.create_task(self._request(state, batch, slot, fill))
                tasks.add(task)
                waiting[task] = slot
                task.add_done_callback(waiting.pop)

        try:
            while not state.finished:
                if state.lease is not None:
                    await state.lease.confirm()  # LeaseLost once another process took the job over
                fill()
                if not tasks and state.lease is not None and not state.lease.fresh:
                    continue  # the renewal took longer than half the lease (a slow database): again
                if not tasks:  # nothing to ask and nothing in flight: cannot happen unless finished
                    break
                done, _ = await asyncio.wait(tasks, timeout=WAKE_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                tasks.difference_update(done)
                # Every finished request's outcome is read (none is left "never retrieved"); the
                # first failure (JobFailed, a bug) stops the job.
                failures = [task.exception() for task in done if not task.cancelled()]
                failure = next((exc for exc in failures if exc is not None), None)
                if failure is not None:
                    raise failure
                self.writer.check_writer(state)
                check_collapse(state, self.concurrency)
                self.check_silence(state)
                await reporter.report(self.progress(state))
            if not state.finished and state.budget is not None:  # stopped by the cost limit: rows kept
                raise JobFailed(state.budget.stop_error(state.usage.prompt_tokens, state.usage.completion_tokens))
        finally:
            # Requests still waiting for the server, or their rows for the judge, are dropped (the
            # quotas are met, or the job stops and a resume asks again); an answer already in and
            # verified is still processed and stored.
            for task in tasks:
                if any(waiting.get(task, [False])):
                    task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            if state.judge is not None:
                await state.judge.aclose()
                # Its callbacks refer to the state (a cycle) and to the run's lease: let them go
                # now, not at some later collection that would finalize the run's tasks there.
                state.judge = None

    def _plan(self, state: JobState) -> Batch | None:
        """The next request: the label with the most rows still uncovered by requests in flight."""
        best_label, best_gap = None, 0.0
        rate = state.acceptance
        for label in state.quotas:
            gap = state.open(label) - state.requested_in_flight[label] * rate
            if gap > best_gap:
                best_label, best_gap = label, gap
        if best_label is None:
            return None
        # Over-ask a little when rows get rejected, never more than a batch.
        count = min(self.batch_size, max(1, math.ceil(best_gap / rate)))
        state.batch_counter += 1
        pins, count = state.rules.plan(best_label, count, state.batch_counter)
        state.requested_in_flight[best_label] += count
        return Batch(best_label, count, state.batch_counter, pins)

    async def _request(self, state: JobState, batch: Batch, slot: list[bool], refill: Callable[[], None]) -> None:
        # slot[0]: this request still holds one of the `concurrency` "waiting for the server" slots;
        # slot[1]: its rows wait for the judge.
        try:
            await self._ask_and_store(state, batch, slot, refill)
        finally:
            state.requested_in_flight[batch.label] -= batch.count
            state.rules.done(batch.pins, batch.count)
            if slot[0]:
                state.waiting -= 1
            if state.judge is not None:
                state.judge.poke()  # the job's last request may have ended: rows waiting go now

    async def _ask_and_store(self, state: JobState, batch: Batch, slot: list[bool], refill: Callable[[], None]) -> None:
        spec = state.spec
        structured = state.structured
        # A small local model copies the "already written" list instead of avoiding it, and needs
        # its label and row count pinned by the schema; a server model gets the shared schema.
        small_model = self.llm.is_local
        # Nor is it shown the 👎 rows: it copies them (they would only be rejected as duplicates).
        guidance = state.guidance.model_copy(update={"avoid": []}) if small_model else state.guidance
        render = render_messages if state.rules.legacy_prompt else render_row_messages
        messages = render(
            spec, count=batch.count, label=batch.label, batch_index=batch.index, guidance=guidance,
            recent=() if small_model else state.recent.get(batch.label, ()), structured=structured, pins=batch.pins,
            attributes=state.attributes,
        )
        schema = state.schema
        if structured and small_model:
            schema = response_schema(spec, label=batch.label or None, rows=batch.count, pins=batch.pins)
        asked = time.monotonic()
        state.asking += 1
        try:
            completion = await self.llm.complete(
                messages,
                schema=schema if structured else None,
                max_tokens=state.rules.max_tokens(batch.count),
            )
        except SchemaNotSupported as exc:
            state.last_answer = time.monotonic()
            if state.structured:
                log.info("job %s: %s; switching to the line template", state.job_id, exc)
            state.structured = False
            return
        except BackendDied as exc:  # e.g. the embedded model's process crashed: retrying cannot help
            raise JobFailed(llm_stop(exc)) from exc
        except LLMError as exc:
            state.last_answer = time.monotonic()
            state.consecutive_errors += 1
            state.last_error = str(exc)
            log.warning("job %s: request failed: %s", state.job_id, exc)
            if state.consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
                raise JobFailed(llm_stop(exc, state.consecutive_errors)) from exc
            return
        finally:
            state.asking -= 1
        state.last_answer = time.monotonic()
        took = state.last_answer - asked
        state.answer_seconds = took if not state.answer_seconds else 0.8 * state.answer_seconds + 0.2 * took
        # Answers arrive together (~64 per round at concurrency 64) and are processed one after
        # the other: hand the slot on and send the next request before processing this answer,
        # so the processing overlaps the next round's latency instead of delaying it. Its rows
        # still count as in flight until processed, so nothing extra is asked for. Two yields:
        # the requests started by the other answers of the round go out before this processing.
        # With verification too: the rows then wait for the judge without holding a slot (the
        # judge's requests go through the backend's limiter like every request, so requests in
        # flight never exceed the limit, verification requests included).
        one_at_a_time = self.slots.fixed_at_one  # the embedded model
        if not one_at_a_time:
            state.waiting -= 1
            slot[0] = False
            refill()
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        state.consecutive_errors = 0
        state.requests += 1
        state.usage.prompt_tokens += completion.usage.prompt_tokens
        state.usage.completion_tokens += completion.usage.completion_tokens
        state.pending_usage[0] += 1
        state.pending_usage[1] += completion.usage.prompt_tokens
        state.pending_usage[2] += completion.usage.completion_tokens

        try:
            raws = parse_structured(completion.text) if structured else parse_answer_template(spec, completion.text)
        except ParseError:
            raws = []
            if structured:
                state.structured_parse_failures += 1
                if state.structured_parse_failures >= MAX_STRUCTURED_PARSE_FAILURES and state.rows_seen == 0:
                    # The server accepted json_schema but answers prose: it ignores the schema.
                    log.info("job %s: answers are not JSON; switching to the line template", state.job_id)
                    state.structured = False
            state.rejected["malformed output"] += 1
            state.pending.append(NewRow({"raw": storable_text(completion.text[:MAX_RAW_CHARS])}, accepted=False,
                                        reason="malformed output", label=batch.label))
            state.fruitless_requests += 1
            self.writer.schedule_flush(state)
            return
        state.structured_parse_failures = 0
        raws = state.rules.fill(raws, batch.pins)  # columns the request gives (a question's passages)
        checked = validate_answer(state, raws, language_check=self.settings.language_check, pins=batch.pins)
        if self.verifier is not None:
            slot[1] = True
            raws, checked = await self._verify(state, raws, checked)
            slot[1] = False
            if slot[0]:
                state.waiting -= 1
                slot[0] = False
                refill()

        accepted_before = state.rows_accepted
        quality_rejects = 0
        for row in judge_batch(state, raws, source="synthetic", language_check=self.settings.language_check,
                               pins=batch.pins, checked=checked):
            state.pending.append(row)
            if row.accepted:
                continue
            state.rejected[row.reason or "unknown"] += 1
            if not is_neutral(row.reason):
                quality_rejects += 1
        if state.rows_accepted > accepted_before:
            state.fruitless_requests = 0
        elif quality_rejects or not raws:
            state.fruitless_requests += 1  # only "over quota" rows: neutral, the job is ending
        self.writer.schedule_flush(state)

    async def _verify(self, state: JobState, raws: list[dict], checked: list[Checked]
                      ) -> tuple[list[dict], list[Checked]]:
        """The rows a judge labels as intended without seeing the label (core/verify.py), with
        their validation; the others are stored rejected ("label disagreement") and their quota
        stays open."""
        assert state.judge is not None
        screened = await state.judge.screen(raws, checked)
        prompt, completion = screened.usage.prompt_tokens, screened.usage.completion_tokens
        state.usage.prompt_tokens += prompt
        state.usage.completion_tokens += completion
        state.pending_usage[0] += screened.requests
        state.pending_usage[1] += prompt
        state.pending_usage[2] += completion
        for row in screened.rejected:
            state.pending.append(row)
            state.rejected[row.reason or "unknown"] += 1
        state.rows_seen += len(screened.rejected)
        validation = {id(raw): check for raw, check in zip(raws, checked)}
        return screened.kept, [validation[id(raw)] for raw in screened.kept]

    def check_silence(self, state: JobState) -> None:
        """A model that answers nothing at all (no answer, no error) fails the job after
        `no_answer_timeout` seconds instead of after every request's retries run out."""
        silence = self._silence(state)
        limit = self.settings.no_answer_timeout
        if silence >= limit:
            last = f" Last error: {state.last_error}" if state.last_error else ""
            raise JobFailed(stop(
                "llm_silent",
                f"the model ({getattr(self.llm, 'description', 'LLM')}) has not answered for {silence:.0f} s; "
                f"is the server running and reachable? (the limit is DATAGEN_NO_ANSWER_TIMEOUT={limit:g} s).{last}",
                seconds=f"{silence:.0f}"))

    def _silence(self, state: JobState) -> float:
        """Seconds since the model last answered: a finished request, or (for a server backend
        that reports it) any HTTP response, a 429 or a 500 included: a server that answers
        "busy" is slow, not silent."""
        heard = getattr(self.llm, "last_response_at", None)  # optional: OpenAIBackend has it
        last = max(state.last_answer, heard) if isinstance(heard, float) else state.last_answer
        return max(0.0, time.monotonic() - last)

    def progress(self, state: JobState) -> JobProgress:
        """The run's figures now, for the progress callback."""
        silence, limit = self._silence(state), self.settings.no_answer_timeout
        notice = min(WAITING_NOTICE_SECONDS, limit / 2)
        return JobProgress(
            job_id=state.job_id,
            accepted={label: state.accepted.get(label, 0) for label in state.quotas},
            quotas=dict(state.quotas),
            # Surplus rows at the end of a job say nothing about quality: not shown as rejected.
            rejected=sum(n for reason, n in state.rejected.items() if not is_neutral(reason)),
            duplicates=state.rejected["duplicate"] + state.rejected["near-duplicate"],
            prompt_tokens=state.usage.prompt_tokens,
            completion_tokens=state.usage.completion_tokens,
            requests=state.requests,
            waiting_seconds=silence if silence >= notice else 0.0,
            waiting_limit=limit,
        )
