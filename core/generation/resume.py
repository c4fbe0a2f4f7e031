"""Loading a job into memory for a run: quotas per label come from the spec, minus what is already
stored (a re-run resumes); the stored rows fill the duplicate index; the user's uploaded and 👍 rows
are stored once."""

from __future__ import annotations

from collections import deque

from core.budget import RunBudget
from core import language
from core.duplicates import DuplicateIndex
from core.generation.acceptance import judge
from core.generation.job_state import JobState
from core.prompts import response_schema
from core.quality import dedupe_key
from core.rows.rules import RowRules
from core.settings import Settings
from core.spec import TaskType, stored_spec
from core.store_port import JobStore, NewRow
from core.vocabulary import Guidance


def load_job_state(store: JobStore, settings: Settings, job_id: int) -> JobState:
    """The run's state of job `job_id`, from its stored spec, guidance and rows (in a worker thread)."""
    job = store.get_job(job_id)
    if job is None:
        raise KeyError(f"job {job_id} does not exist")
    spec = stored_spec(job.spec_json)
    guidance = Guidance.model_validate_json(job.guidance_json or "{}")
    quotas = spec.quotas()
    state = JobState(
        job_id=job_id, spec=spec, guidance=guidance, quotas=quotas, accepted={},
        index=DuplicateIndex(), rules=RowRules.for_spec(spec), batch_counter=job.requests,
        recent={label: deque(maxlen=8) for label in quotas}, schema=response_schema(spec),
        # A preview's few rows are not stopped: its estimate is what tells the user about the order.
        budget=None if job.kind == "preview" else RunBudget.for_job(
            settings, job.model, prompt_tokens=job.prompt_tokens, completion_tokens=job.completion_tokens,
            requests=job.requests, cap=store.job_cost_cap(job_id)),
    )
    # Stored rows a chunk at a time (a resumed 1,000,000-row job must not load them all at
    # once), with the duplicate signatures of each chunk in one numpy pass.
    after = 0
    while stored := store.accepted_rows_after(job_id, after, 1000):
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
    if settings.language_check:
        language.prepare(spec.language)  # loads the detector here, in the worker thread
    # Rows the user rated 👎 are never delivered: in the index, any equal or near-equal row
    # (whatever its label) is rejected as a duplicate and replaced.
    for raw in guidance.avoid:
        if text := state.rules.text_of(raw).strip():
            state.index.add(text)
    # Stored in one transaction, so "any of them stored" means "all of them stored".
    guidance_stored = store.has_rows(job_id, source="kept") or store.has_rows(job_id, source="uploaded")
    if not guidance_stored and (guidance.keep or guidance.existing):
        store_guidance_rows(store, state)
    return state


def store_guidance_rows(store: JobStore, state: JobState) -> None:
    """Uploaded rows (dedupe context) and 👍 rows (count toward quotas), stored once."""
    rows: list[NewRow] = []
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
        rows.append(judge(state, raw, source="kept"))
    if rows:
        store.add_examples(state.job_id, rows)
