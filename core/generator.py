"""The generation engine: quotas -> concurrent batches -> parse -> validate -> dedupe -> store -> progress.

    generator = Generator(llm, store, settings)
    job_id = generator.create_job(spec, guidance)
    result = await generator.run(job_id, on_progress=callback)   # resumable; cancel the task to stop

How it works:
- Quotas per label come from the spec, minus what is already stored (a re-run resumes).
- Each request asks for up to `batch_size` rows of ONE label (classification) so the label the
  model writes can be checked against the one asked for; requests go out concurrently, at most
  `concurrency` in flight, and a new one starts as soon as one finishes (a task pool, not waves).
- Every row is validated (core.quality), deduplicated across the whole job (exact + near), and
  accepted only while its label's quota is open: the job ends with exactly the ordered counts.
  A row whose label is not allowed is rejected, never relabeled.
- Every row is stored as its batch arrives (accepted, or rejected with the reason). Writes run
  in a worker thread and are grouped: batches that arrive while a commit is running go into
  the next commit together.
- A job whose requests keep producing nothing usable stops with an error that says why.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any
from dataclasses import dataclass, field

from core import language
from core.llm import BackendDied, LLMBackend, LLMError, SchemaNotSupported, Usage
from core.prompts import ParseError, parse_structured, render_messages, response_schema
from core.quality import DuplicateIndex, RowSignature, dedupe_key, storable_text
from core.rows.prompting import parse_answer_template, render_row_messages
from core.rows.rules import RowRules, is_neutral
from core.settings import Settings
from core.spec import DatasetSpec, TaskType, stored_spec
from core.verify import Verifier, judge_description
from core.vocabulary import Guidance, JobProgress, JobResult, ProgressCallback
from storage.jobs import NewRow
from storage.leases import JobClaimedElsewhere, LeaseLost, new_owner
from storage.store import Store

# The shared vocabulary lives in core.vocabulary; callers of the engine may import it from here.
__all__ = ["Generator", "Guidance", "JobClaimedElsewhere", "JobFailed", "JobProgress", "JobResult", "ProgressCallback"]

log = logging.getLogger(__name__)

#: Consecutive requests without a single usable row before a job gives up ("acceptance collapse").
COLLAPSE_REQUESTS = 12
#: After this many rows, a job whose acceptance rate is below MIN_ACCEPTANCE gives up too.
COLLAPSE_MIN_ROWS = 200
MIN_ACCEPTANCE = 0.05
#: Consecutive LLMErrors (each already retried by the backend) before a job fails.
MAX_CONSECUTIVE_ERRORS = 5
#: Structured answers in a row that aren't JSON at all: the server ignores json_schema -> template.
MAX_STRUCTURED_PARSE_FAILURES = 3
#: Stored with a rejected "malformed output" row, so the card can show what came back.
MAX_RAW_CHARS = 2000
#: How often the loop wakes while every request is still waiting: checks the model's silence.
WAKE_SECONDS = 1.0
#: After this much silence the progress says "waiting for the model" (or half the limit, if less).
WAITING_NOTICE_SECONDS = 10.0
LETTERS = ("a", "b", "c", "d")

class JobFailed(Exception):
    """Stops a job with a message for the user."""


@dataclass
class _Batch:
    label: str
    count: int
    index: int  # diversity hint number
    pins: dict[str, str] = field(default_factory=dict)  # columns this request fixes (core.rows.rules.plan)


@dataclass
class _JobState:
    """Everything one run of one job keeps in memory. Only touched from the event loop."""

    job_id: int
    spec: DatasetSpec
    guidance: Guidance
    quotas: dict[str, int]
    accepted: dict[str, int]
    index: DuplicateIndex
    rules: RowRules  # validation, dedupe text, labels and shares of the spec's columns
    structured: bool = True
    batch_counter: int = 0
    requested_in_flight: Counter[str] = field(default_factory=Counter)
    recent: dict[str, deque[str]] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)  # this run, by reason
    rows_seen: int = 0
    rows_accepted: int = 0
    requests: int = 0
    usage: Usage = field(default_factory=Usage)
    fruitless_requests: int = 0
    consecutive_errors: int = 0
    structured_parse_failures: int = 0
    last_error: str | None = None
    mc_position: int = 0  # next correct-answer position for multiple choice (balanced a..d)
    waiting: int = 0  # requests waiting for the server's answer (at most `concurrency`)
    pending: list[NewRow] = field(default_factory=list)
    pending_usage: list[int] = field(default_factory=lambda: [0, 0, 0])  # requests, prompt, completion
    schema: dict = field(default_factory=dict)  # the answer's JSON schema, built once per job
    writer: asyncio.Task[None] | None = None  # commits pending rows in the background
    writes: set[asyncio.Future[None]] = field(default_factory=set)  # commits running in worker threads
    owner: str | None = None  # this run's lease on the job (storage.leases): no write without it
    lease_lost: LeaseLost | None = None  # set by the heartbeat when another process took the job
    heartbeat: asyncio.Task[None] | None = None  # renews the lease; stopped before the final status
    last_answer: float = field(default_factory=time.monotonic)  # when the model last answered a request
    stopped: bool = False  # the run was interrupted: its start must not be written any more (under _db_lock)

    def open(self, label: str) -> int:
        return self.quotas[label] - self.accepted.get(label, 0)

    @property
    def finished(self) -> bool:
        return all(self.open(label) <= 0 for label in self.quotas)

    @property
    def acceptance(self) -> float:
        # Optimistic until there is evidence; never below 0.2 so a bad patch can't flood the server.
        if self.rows_seen < 20:
            return 1.0
        return max(0.2, self.rows_accepted / self.rows_seen)


class Generator:
    def __init__(self, llm: LLMBackend, store: Store, settings: Settings) -> None:
        self.llm = llm
        self.store = store
        self.settings = settings
        self.batch_size = llm.batch_size or settings.batch_size
        # A server backend sizes its own concurrency (core/concurrency.py), shared by every job
        # using it; a backend without a limiter (the embedded model) gives a fixed number.
        self.limiter = getattr(llm, "limiter", None) if not llm.max_concurrency else None
        self._fixed_concurrency = max(1, llm.max_concurrency or settings.concurrency or 16)
        # Verification requests run in the generation request's slot, so the engine's limit bounds
        # them; the verifier's own limit only has to stay out of the way.
        self.verifier = Verifier.for_engine(llm, settings, concurrency=1024)  # None: DATAGEN_VERIFY off
        self._db_lock = threading.Lock()  # one writer at a time, also across cancellation clean-up

    @property
    def concurrency(self) -> int:
        """Requests this job may have waiting for the server now."""
        return self.limiter.current if self.limiter is not None else self._fixed_concurrency

    # --- public -----------------------------------------------------------------------------

    def create_job(
        self,
        spec: DatasetSpec,
        guidance: Guidance | None = None,
        *,
        kind: str = "dataset",
        conversation_id: int | None = None,
        key: str | None = None,
    ) -> int:
        """A new job; `key` names it so the same command run again finds it (Store.job_for_key)."""
        return self.store.create_job(
            spec.to_json(),
            guidance_json=(guidance or Guidance()).model_dump_json(),
            kind=kind,
            conversation_id=conversation_id,
            model=getattr(self.llm, "description", "") + judge_description(self.verifier),
            key=key,
        )

    async def run(self, job_id: int, on_progress: ProgressCallback | None = None) -> JobResult:
        """Generate until every quota is met; resumes from stored rows. Cancel the task to stop
        (Ctrl-C, shutdown): the job goes back to "pending" to be resumed, stored rows stay, and
        CancelledError propagates. A job the user cancelled (`Store.cancel_job`) is not run, and
        a cancel that arrives while it runs is never undone: the result says "cancelled"."""
        started = time.monotonic()
        # One process per job: JobBusy ("job 1 is being generated by another process since ...")
        # before anything is loaded or asked.
        owner = new_owner()
        claim = asyncio.ensure_future(asyncio.to_thread(self._claim, job_id, owner))
        try:
            await asyncio.shield(claim)
        except asyncio.CancelledError:
            # The claim goes on in its worker thread: once it lands, give the job up again, or a
            # quick Cancel would leave this process holding the job for the whole lease time.
            claim.add_done_callback(functools.partial(self._give_up_claim, job_id, owner))
            raise
        heartbeat: asyncio.Task[None] | None = None
        try:
            state = await asyncio.to_thread(self._load, job_id)
            state.owner = owner
            heartbeat = state.heartbeat = asyncio.create_task(self._keep_lease(state, asyncio.current_task()))
            return await self._run_claimed(state, on_progress, started)
        finally:
            if heartbeat is not None:
                heartbeat.cancel()
            try:
                self.store.release_job(job_id, owner)  # a no-op once finish_job released it
            except Exception:  # the database is gone: the lease expires by itself
                log.warning("job %s: could not release its lease", job_id, exc_info=True)

    def _give_up_claim(self, job_id: int, owner: str, claim: "asyncio.Future[None]") -> None:
        if claim.cancelled() or claim.exception() is not None:
            return  # never claimed (JobBusy, an unknown job): nothing to give up
        try:
            self.store.release_job(job_id, owner)
        except Exception:  # the database is gone: the lease expires by itself
            log.warning("job %s: could not release its lease", job_id, exc_info=True)

    def _claim(self, job_id: int, owner: str) -> None:
        if self.store.get_job(job_id) is None:
            raise KeyError(f"job {job_id} does not exist")
        self.store.claim_job(job_id, owner, ttl=self.settings.lease_seconds)

    async def _keep_lease(self, state: _JobState, run: asyncio.Task[Any] | None) -> None:
        """Renew the lease every third of its time; when another process has taken the job over,
        stop this run (it must neither write nor set the job's status)."""
        assert state.owner is not None
        ttl = self.settings.lease_seconds
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                await asyncio.to_thread(self.store.renew_lease, state.job_id, state.owner, ttl=ttl)
            except LeaseLost as exc:
                state.lease_lost = exc
                if run is not None:
                    run.cancel()
                return
            except Exception:  # a database hiccup: the next beat tries again; writes are fenced anyway
                log.warning("job %s: could not renew its lease", state.job_id, exc_info=True)

    async def _run_claimed(self, state: _JobState, on_progress: ProgressCallback | None, started: float) -> JobResult:
        job_id = state.job_id
        reporter = _ProgressReporter(on_progress, self.settings.progress_interval)
        status, error = "done", None
        try:
            if not await asyncio.to_thread(self._start_sync, state):
                return await self._result(state, None)
            state.last_answer = time.monotonic()
            await self._generate(state, reporter)
        except asyncio.CancelledError:
            if state.lease_lost is not None:  # stopped by the heartbeat, not by our caller
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
                raise state.lease_lost from None
            # Rows already processed are written before the job is put back; sync, so a second
            # cancel can't interrupt the clean-up.
            try:
                await self._drain(state)
            except asyncio.CancelledError:
                pass
            except Exception:  # a failed commit: the rows that did get stored still count
                log.exception("job %s: storing rows failed while stopping", job_id)
            self._flush_sync(state)
            self._stop_heartbeat(state)
            self._finish_sync(state, "pending", None, time.monotonic() - started)
            if self.verifier is not None:
                await self.verifier.aclose()
            raise
        except JobClaimedElsewhere:
            raise
        except JobFailed as exc:
            status, error = "failed", str(exc)
        except Exception as exc:  # a bug must still leave the job in a clear state, not "running"
            log.exception("job %s crashed", job_id)
            status, error = "failed", f"internal error: {exc!r}"
        self._schedule_flush(state)
        await self._drain(state)
        if self.verifier is not None:
            await self.verifier.aclose()
        elapsed = time.monotonic() - started
        self._stop_heartbeat(state)
        await asyncio.to_thread(self._finish_sync, state, status, error, elapsed)
        await reporter.report(self._progress(state), force=True)
        return await self._result(state, error)

    async def _result(self, state: _JobState, error: str | None) -> JobResult:
        """The outcome as stored: the database's status wins (a cancel that came meanwhile)."""
        job_id = state.job_id
        rejected = await asyncio.to_thread(self.store.rejected_reasons, job_id)
        accepted = await asyncio.to_thread(self.store.accepted_counts, job_id)
        job = await asyncio.to_thread(self.store.get_job, job_id)
        assert job is not None
        return JobResult(
            job_id=job_id,
            status=job.status,
            error=error if job.status == "failed" else None,
            accepted={label: accepted.get(label, 0) for label in state.quotas},
            rejected=rejected,
            duplicates=sum(n for reason, n in rejected.items() if reason in ("duplicate", "near-duplicate")),
            prompt_tokens=job.prompt_tokens,  # the job's totals, over every run of it
            completion_tokens=job.completion_tokens,
            elapsed=job.elapsed_seconds,
        )

    # --- loading / resuming -----------------------------------------------------------------

    def _load(self, job_id: int) -> _JobState:
        job = self.store.get_job(job_id)
        if job is None:
            raise KeyError(f"job {job_id} does not exist")
        spec = stored_spec(job.spec_json)
        guidance = Guidance.model_validate_json(job.guidance_json or "{}")
        quotas = spec.quotas()
        state = _JobState(
            job_id=job_id, spec=spec, guidance=guidance, quotas=quotas, accepted={},
            index=DuplicateIndex(), rules=RowRules.for_spec(spec), batch_counter=job.requests,
            recent={label: deque(maxlen=8) for label in quotas}, schema=response_schema(spec),
        )
        # Stored rows a chunk at a time (a resumed 1,000,000-row job must not load them all at
        # once), with the duplicate signatures of each chunk in one numpy pass.
        after = 0
        while stored := self.store.accepted_rows_after(job_id, after, 1000):
            after = stored[-1].id
            texts = [state.rules.text_of(row.fields) for row in stored]
            for text, signature in zip(texts, state.index.signatures(texts)):
                state.index.add(text, signature)
            for row, text in zip(stored, texts):
                if row.source != "uploaded":
                    state.accepted[row.label] = state.accepted.get(row.label, 0) + 1
                    state.rules.count(row.fields)
                    if row.label in state.recent:
                        state.recent[row.label].append(text)
        if spec.task == TaskType.multiple_choice:
            state.mc_position = state.accepted.get("", 0)
        if self.settings.language_check:
            language.prepare(spec.language)  # loads the detector here, in the worker thread
        # Rows the user rated 👎 are never delivered: in the index, any equal or near-equal row
        # (whatever its label) is rejected as a duplicate and replaced.
        for raw in guidance.avoid:
            if text := state.rules.text_of(raw).strip():
                state.index.add(text)
        # Stored in one transaction, so "any of them stored" means "all of them stored".
        guidance_stored = self.store.has_rows(job_id, source="kept") or self.store.has_rows(job_id, source="uploaded")
        if not guidance_stored and (guidance.keep or guidance.existing):
            self._store_guidance_rows(state)
        return state

    def _store_guidance_rows(self, state: _JobState) -> None:
        """Uploaded rows (dedupe context) and 👍 rows (count toward quotas), stored once."""
        spec, rows = state.spec, []
        for raw in state.guidance.existing:
            clean, reason = state.rules.validate(raw)
            if clean is None:
                # Not exported (the dialog reported it already), but no generated row may copy it either.
                if isinstance(raw, dict) and (text := state.rules.text_of(raw).strip()):
                    state.index.add(text)
                continue
            text = state.rules.text_of(clean)
            state.index.add(text)
            rows.append(NewRow(clean, label=state.rules.label_of(clean), source="uploaded", dedupe_key=dedupe_key(text)))
        for raw in state.guidance.keep:
            rows.append(self._judge(state, raw, source="kept"))
        if rows:
            self.store.add_examples(state.job_id, rows)

    # --- the loop ---------------------------------------------------------------------------

    async def _generate(self, state: _JobState, reporter: "_ProgressReporter") -> None:
        tasks: set[asyncio.Task[None]] = set()
        waiting: dict[asyncio.Task[None], list[bool]] = {}  # task -> [still waiting for the server]

        def fill() -> None:
            """Start requests while fewer than `concurrency` are waiting for the server. Also
            called by a request as soon as its answer is in, before the answer is processed."""
            while state.waiting < self.concurrency:
                batch = self._plan(state)
                if batch is None:
                    return
                state.waiting += 1
                slot = [True]
                task = asyncio.create_task(self._request(state, batch, slot, fill))
                tasks.add(task)
                waiting[task] = slot
                task.add_done_callback(waiting.pop)

        try:
            while not state.finished:
                fill()
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
                self._check_writer(state)
                self._check_collapse(state)
                self._check_silence(state)
                await reporter.report(self._progress(state))
        finally:
            # Requests still waiting for the server are dropped; an answer already in is still
            # processed and stored (as before, when no answer waited between arrival and processing).
            for task in tasks:
                if waiting.get(task, [False])[0]:
                    task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)

    def _plan(self, state: _JobState) -> _Batch | None:
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
        return _Batch(best_label, count, state.batch_counter, pins)

    async def _request(self, state: _JobState, batch: _Batch, slot: list[bool], refill: Callable[[], None]) -> None:
        # slot[0]: this request still holds one of the `concurrency` "waiting for the server" slots.
        try:
            await self._ask_and_store(state, batch, slot, refill)
        finally:
            state.requested_in_flight[batch.label] -= batch.count
            state.rules.done(batch.pins, batch.count)
            if slot[0]:
                state.waiting -= 1

    async def _ask_and_store(self, state: _JobState, batch: _Batch, slot: list[bool], refill: Callable[[], None]) -> None:
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
        )
        schema = state.schema
        if structured and small_model:
            schema = response_schema(spec, label=batch.label or None, rows=batch.count, pins=batch.pins)
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
            raise JobFailed(str(exc)) from exc
        except LLMError as exc:
            state.last_answer = time.monotonic()
            state.consecutive_errors += 1
            state.last_error = str(exc)
            log.warning("job %s: request failed: %s", state.job_id, exc)
            if state.consecutive_errors >= MAX_CONSECUTIVE_ERRORS:
                raise JobFailed(f"the LLM kept failing ({state.consecutive_errors} requests in a row): {exc}") from exc
            return
        state.last_answer = time.monotonic()
        # Answers arrive together (~64 per round at concurrency 64) and are processed one after
        # the other: hand the slot on and send the next request before processing this answer,
        # so the processing overlaps the next round's latency instead of delaying it. Its rows
        # still count as in flight until processed, so nothing extra is asked for. Two yields:
        # the requests started by the other answers of the round go out before this processing.
        # With verification the slot is handed on after the verification request (below), so
        # requests in flight never exceed the limit, verification requests included.
        one_at_a_time = self.limiter is None and self._fixed_concurrency == 1  # the embedded model
        if not one_at_a_time and self.verifier is None:
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
            self._schedule_flush(state)
            return
        state.structured_parse_failures = 0
        raws = state.rules.fill(raws, batch.pins)  # columns the request gives (a question's passages)
        if self.verifier is not None:
            raws = await self._verify(state, raws)
            if slot[0]:
                state.waiting -= 1
                slot[0] = False
                refill()

        accepted_before = state.rows_accepted
        quality_rejects = 0
        for row in self._judge_batch(state, raws, source="synthetic", pins=batch.pins):
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
        self._schedule_flush(state)

    async def _verify(self, state: _JobState, raws: list[dict]) -> list[dict]:
        """The rows a judge labels as intended without seeing the label (core/verify.py); the
        others are stored rejected ("label disagreement") and their quota stays open."""
        assert self.verifier is not None
        screened = await self.verifier.screen(state.spec, raws)
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
        return screened.kept

    def _judge_batch(self, state: _JobState, raws: list[dict], *, source: str,
                     pins: dict[str, str] | None = None) -> list[NewRow]:
        """`_judge` for each row of one answer, in order, with the duplicate signatures of the
        valid rows computed together (one numpy pass per answer instead of one per row)."""
        ordered = state.spec.language if self.settings.language_check else None
        checked = [state.rules.validate(raw, pins, language=ordered) for raw in raws]
        texts = [state.rules.text_of(clean) for clean, _ in checked if clean is not None]
        signatures = iter(state.index.signatures(texts, normalised=True))  # validate_row normalised them
        return [self._judge(state, raw, source=source, checked=(clean, reason),
                            signature=next(signatures) if clean is not None else None)
                for raw, (clean, reason) in zip(raws, checked)]

    def _judge(
        self,
        state: _JobState,
        raw: dict,
        *,
        source: str,
        checked: tuple[dict[str, str] | None, str | None] | None = None,
        signature: RowSignature | None = None,
    ) -> NewRow:
        """Validate, check the quota, dedupe and (maybe) accept one row. Counts it in memory.
        `checked` / `signature`: validate_row's answer and the duplicate signature, if computed already."""
        spec = state.spec
        clean, reason = checked if checked is not None else state.rules.validate(raw)
        state.rows_seen += source == "synthetic"
        if clean is None:
            # Stored as the model wrote it (to show why it was rejected), but storable: a lone
            # surrogate in one rejected row must not fail the whole commit.
            fields = ({storable_text(str(k)): storable_text(v if isinstance(v, str) else str(v)) for k, v in raw.items()}
                      if isinstance(raw, dict) else {})
            label = state.rules.label_of(fields)
            return NewRow(fields, label=label[:200], accepted=False, reason=reason, source=source)
        label = state.rules.label_of(clean)
        text = state.rules.text_of(clean)
        full = "over quota" if state.open(label) <= 0 else state.rules.admit(clean)
        if full is not None:
            state.rows_seen -= source == "synthetic"  # surplus says nothing about the model's quality
            return NewRow(clean, label=label, accepted=False, reason=full, source=source)
        if signature is None:
            signature = state.index.signatures([text])[0]
        duplicate = state.index.check_and_add(text, signature)
        if duplicate is not None:
            return NewRow(clean, label=label, accepted=False, reason=duplicate, source=source)
        if spec.task == TaskType.multiple_choice:
            clean = self._place_answer(clean, LETTERS[state.mc_position % 4])
            state.mc_position += 1
        state.accepted[label] = state.accepted.get(label, 0) + 1
        state.rules.count(clean)
        state.rows_accepted += source == "synthetic"
        state.recent.setdefault(label, deque(maxlen=8)).append(text)
        return NewRow(clean, label=label, accepted=True, source=source, dedupe_key=signature.key)

    @staticmethod
    def _place_answer(row: dict[str, str], target: str) -> dict[str, str]:
        """Move the correct option to `target` (models favour "a"); the other options keep their order."""
        options = [row[f"option_{letter}"] for letter in LETTERS]
        correct = options.pop(LETTERS.index(row["answer"]))
        options.insert(LETTERS.index(target), correct)
        return {"question": row["question"], **{f"option_{letter}": option for letter, option in zip(LETTERS, options)},
                "answer": target}

    def _check_collapse(self, state: _JobState) -> None:
        if state.finished:
            return
        if state.fruitless_requests >= max(COLLAPSE_REQUESTS, self.concurrency // 2):
            raise JobFailed(self._collapse_message(state, f"the last {state.fruitless_requests} requests "
                                                          f"gave no usable row"))
        if state.rows_seen >= COLLAPSE_MIN_ROWS and state.rows_accepted / state.rows_seen < MIN_ACCEPTANCE:
            raise JobFailed(self._collapse_message(
                state, f"only {state.rows_accepted} of {state.rows_seen} generated rows were usable"))

    def _check_silence(self, state: _JobState) -> None:
        """A model that answers nothing at all (no answer, no error) fails the job after
        `no_answer_timeout` seconds instead of after every request's retries run out."""
        silence = self._silence(state)
        limit = self.settings.no_answer_timeout
        if silence >= limit:
            last = f" Last error: {state.last_error}" if state.last_error else ""
            raise JobFailed(
                f"the model ({getattr(self.llm, 'description', 'LLM')}) has not answered for {silence:.0f} s; "
                f"is the server running and reachable? (the limit is DATAGEN_NO_ANSWER_TIMEOUT={limit:g} s).{last}"
            )

    def _silence(self, state: _JobState) -> float:
        """Seconds since the model last answered: a finished request, or (for a server backend
        that reports it) any HTTP response, a 429 or a 500 included: a server that answers
        "busy" is slow, not silent."""
        heard = getattr(self.llm, "last_response_at", None)  # optional: OpenAIBackend has it
        last = max(state.last_answer, heard) if isinstance(heard, float) else state.last_answer
        return max(0.0, time.monotonic() - last)

    @staticmethod
    def _collapse_message(state: _JobState, what: str) -> str:
        reasons = Counter({reason: n for reason, n in state.rejected.items() if not is_neutral(reason)})
        explained = {
            "duplicate": "kept repeating rows it had already written",
            "near-duplicate": "kept writing near-copies of earlier rows",
            "bad label": "kept using labels that are not in the order",
            "malformed output": "kept answering in an unreadable format",
            "bad answer": "kept giving answers that are not a, b, c or d",
            "options not distinct": "kept repeating the same option",
            "too short": "kept writing rows that are too short",
            "too long": "kept writing rows that are too long",
            "missing field": "kept leaving out required fields",
            "empty": "kept leaving fields empty",
            "label disagreement": "wrote rows that a second look without the label labeled differently",
            "not verified": "could not be verified (the judge model gave no usable answer)",
            "unsupported answer": "wrote answers its passages do not support",
            "answerable from the passages": "wrote 'unanswerable' questions that the passages answer",
        }
        if reasons:
            top = ", ".join(f"{reason} ×{n}" for reason, n in reasons.most_common(3))
            why = explained.get(reasons.most_common(1)[0][0], "kept producing unusable rows")
            return f"stopped: {what}; the model {why} ({top}). Try other labels, simpler instructions or a stronger model."
        if state.last_error:
            return f"stopped: {what}; last error: {state.last_error}"
        return f"stopped: {what}; the model returned no rows. Try simpler instructions or a stronger model."

    # --- storage ----------------------------------------------------------------------------

    def _schedule_flush(self, state: _JobState) -> None:
        """Have the pending rows committed soon. The request slot is free at once: a commit never
        holds up the next request. Batches that arrive during a commit go into the next one
        together (group commit)."""
        if state.writer is None or state.writer.done():
            if state.writer is not None and not state.writer.cancelled() and state.writer.exception():
                return  # a failed write stops the job in _check_writer; don't hide it
            state.writer = asyncio.create_task(self._write_pending(state))

    async def _write_pending(self, state: _JobState) -> None:
        while state.pending or any(state.pending_usage):
            rows, usage = self._take_pending(state)
            # Shielded: cancelling the job must not cancel a commit still queued for the worker
            # thread (its rows would be lost); the clean-up waits for it instead.
            write = asyncio.ensure_future(asyncio.to_thread(self._write, state, rows, usage))
            state.writes.add(write)
            write.add_done_callback(state.writes.discard)
            await asyncio.shield(write)

    @staticmethod
    def _check_writer(state: _JobState) -> None:
        writer = state.writer
        if writer is not None and writer.done() and not writer.cancelled() and writer.exception() is not None:
            if isinstance(writer.exception(), LeaseLost):
                raise writer.exception()  # type: ignore[misc]
            raise JobFailed(f"could not store rows: {writer.exception()}")

    @staticmethod
    async def _drain(state: _JobState) -> None:
        """Wait until every pending row is committed (re-raises a failed commit)."""
        while (state.writer is not None and not state.writer.done()) or state.writes:
            if state.writer is not None and not state.writer.done():
                await asyncio.shield(state.writer)
            if state.writes:
                await asyncio.gather(*list(state.writes), return_exceptions=True)  # the writer re-raises its own
        Generator._check_writer(state)

    def _flush_sync(self, state: _JobState) -> None:
        rows, usage = self._take_pending(state)
        if rows or any(usage):
            self._write(state, rows, usage)

    @staticmethod
    def _take_pending(state: _JobState) -> tuple[list[NewRow], list[int]]:
        rows, usage = state.pending, state.pending_usage
        state.pending, state.pending_usage = [], [0, 0, 0]
        return rows, usage

    def _write(self, state: _JobState, rows: list[NewRow], usage: list[int]) -> None:
        with self._db_lock:
            self.store.add_examples(state.job_id, rows, requests=usage[0], prompt_tokens=usage[1],
                                    completion_tokens=usage[2], owner=state.owner,
                                    lease_seconds=self.settings.lease_seconds)

    @staticmethod
    def _stop_heartbeat(state: _JobState) -> None:
        """Before the final status: finish_job releases the lease, and a renewal after that would
        find it gone and cancel this finished run (the job "done" but its run ending cancelled).
        Synchronous: a cancelled task never resumes past its await, even one already woken."""
        if state.heartbeat is not None:
            state.heartbeat.cancel()

    def _start_sync(self, state: _JobState) -> bool:
        with self._db_lock:  # a run interrupted before this write got the lock must not start any more
            if state.stopped:
                return False
            model = getattr(self.llm, "description", "") + judge_description(self.verifier)
            return self.store.start_job(state.job_id, model=model)

    def _finish_sync(self, state: _JobState, status: str, error: str | None, elapsed: float) -> None:
        with self._db_lock:  # after any write still running in a worker thread, the start included
            state.stopped = True
            self.store.finish_job(state.job_id, status, error=error, elapsed=elapsed, owner=state.owner)

    def _progress(self, state: _JobState) -> JobProgress:
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


class _ProgressReporter:
    """Calls the progress callback at most every `interval` seconds (always when forced); a
    failing callback (a chat channel hiccup) is logged, it never stops the job."""

    def __init__(self, callback: ProgressCallback | None, interval: float) -> None:
        self.callback = callback
        self.interval = interval
        self._last = float("-inf")

    async def report(self, progress: JobProgress, *, force: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        try:
            result = self.callback(progress)
            if inspect.isawaitable(result):
                await result
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("progress callback failed")
