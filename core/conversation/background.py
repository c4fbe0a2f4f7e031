"""Running and delivering jobs in the background: progress, the file, and reporting back to the table.

A job's end reaches the conversation as an internal event (PreviewFinished, DatasetDelivered,
DatasetFailed) dispatched under the chat's lock; the phase decides whether it still matters.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import messages as m
from core import stop_reasons
from core.concurrency import urgent
from core.conversation import disagreements
from core.conversation.collecting import per_label
from core.conversation.state import ConversationState
from core.conversation.turn import DatasetDelivered, DatasetFailed, PreviewFinished
from core.duplicates import DuplicateIndex
from core.events import ChatRef, Choice, Document, Progress, Say
from core.export import render_delivery
from core.generator import Guidance, JobClaimedElsewhere, JobProgress, JobResult
from core.progress import ProgressThrottle
from core.quality import row_text
from core.spec import DatasetSpec, OutputFormat, stored_spec
from core.store_port import AnnotationStore
from core.verify import VERIFIED_BY, agreement, verifiable

if TYPE_CHECKING:
    from core.conversation.machine import Dialog

log = logging.getLogger(__name__)

ANNOTATION = "annotation"  # the kind of core.annotate's jobs

FILE_SUFFIX = {OutputFormat.csv: "csv", OutputFormat.json: "json", OutputFormat.jsonl: "jsonl", OutputFormat.openai_jsonl: "jsonl",
               OutputFormat.xlsx: "xlsx"}
MIME_TYPE = {
    OutputFormat.csv: "text/csv",
    OutputFormat.json: "application/json",
    OutputFormat.jsonl: "application/jsonl",
    OutputFormat.openai_jsonl: "application/jsonl",
    OutputFormat.xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def percent(done: int, total: int) -> int:
    return int(100 * done / total) if total else 100


def spec_of(job: object) -> DatasetSpec:
    return stored_spec(job.spec_json)  # type: ignore[attr-defined]


async def run_preview(dialog: "Dialog", chat: ChatRef, job_id: int) -> None:
    started = time.monotonic()
    shown: list[bool] = []  # whether the heartbeat showed a progress message (it must then be closed)
    heartbeat = asyncio.create_task(preview_heartbeat(dialog, chat, job_id, started, shown))
    try:
        with urgent():  # the user waits for the preview: its requests go before the orders' ones
            result = await (await dialog.get_generator()).run(job_id)
    except JobClaimedElsewhere as exc:  # another replica or worker runs it and will answer
        log.info("preview job %s: %s", job_id, exc)
        await _stop_heartbeat(dialog, chat, job_id, started, heartbeat, shown)
        return
    except asyncio.CancelledError:
        await _stop_heartbeat(dialog, chat, job_id, started, heartbeat, shown)
        if job_id in dialog.user_cancelled:
            await asyncio.to_thread(dialog.mark_cancelled, job_id)
            return
        raise
    except Exception as exc:
        log.exception("preview job %s crashed", job_id)
        await _stop_heartbeat(dialog, chat, job_id, started, heartbeat, shown)
        await dialog.post(chat, PreviewFinished(job_id, (), stop_reasons.internal(exc)))
        return
    await _stop_heartbeat(dialog, chat, job_id, started, heartbeat, shown)
    rows = await asyncio.to_thread(dialog.store.accepted_rows, job_id, sources=("synthetic",))
    if result.status != "done":
        rows = []
    await dialog.post(chat, PreviewFinished(job_id, tuple(rows), result.error or ""))


async def preview_heartbeat(dialog: "Dialog", chat: ChatRef, job_id: int, started: float, shown: list[bool]) -> None:
    """A preview that takes long (the embedded model on a CPU) is not silent: after
    `preview_quiet` seconds, a progress message with an estimate, updated until the rows are in."""
    settings = dialog.settings
    await asyncio.sleep(settings.preview_quiet)
    lang = await dialog.language_of(chat)
    while True:
        done, total = await dialog.job_counts(job_id)
        elapsed = time.monotonic() - started
        eta = dialog.text(lang, "preview_eta", seconds=round(elapsed / done * (total - done))) if 0 < done < total else ""
        text = dialog.text(lang, "preview_progress", done=done, total=total, elapsed=round(elapsed), eta=eta)
        shown.append(True)
        await dialog.send(chat, Progress(job_id, text, done, total, False))
        await asyncio.sleep(max(settings.progress_interval, 1.0))  # the text changes once a second at most


async def _stop_heartbeat(dialog: "Dialog", chat: ChatRef, job_id: int, started: float,
                          heartbeat: "asyncio.Task[None]", shown: list[bool]) -> None:
    """Stop the heartbeat; if it showed a progress message, show its final state (channels then forget it)."""
    heartbeat.cancel()
    await asyncio.gather(heartbeat, return_exceptions=True)
    if shown:
        lang = await dialog.language_of(chat)
        done, total = await dialog.job_counts(job_id)
        text = dialog.text(lang, "preview_progress_end", done=done, total=total, elapsed=round(time.monotonic() - started))
        await dialog.send(chat, Progress(job_id, text, done, total, True))


async def run_dataset(dialog: "Dialog", chat: ChatRef, job_id: int) -> None:
    lang = m.normalise_language(None)
    annotation = via_runner = False
    throttle = ProgressThrottle(dialog.settings.progress_interval)
    cancel: tuple[Choice, ...] = ()

    def running_text(done: int, total: int, rejected: int, duplicates: int) -> str:
        return dialog.text(lang, "progress_running", job=job_id, done=done, total=total,
                           percent=percent(done, total), rejected=rejected, duplicates=duplicates)

    async def report(progress: JobProgress) -> None:
        text = running_text(progress.done, progress.total, progress.rejected, progress.duplicates)
        if throttle.should_send(text):
            await dialog.send(chat, Progress(job_id, text, progress.done, progress.total, False, cancel))

    try:
        job = await asyncio.to_thread(dialog.store.get_job, job_id)
        annotation = job is not None and job.kind == ANNOTATION
        via_runner = not annotation or not dialog.job_runner().runs_here  # else the annotator, here
        if via_runner and not await dialog.job_runner().adopt(job_id):
            return  # another replica follows this order (core/conversation/following.py)
        lang = await dialog.language_of(chat)
        cancel = (Choice(dialog.text(lang, "btn_cancel"), "canceljob", str(job_id)),)
        done0, total0 = await dialog.job_counts(job_id)
        # At once, so the user sees the job (and its Cancel button) before the first batch returns.
        text = running_text(done0, total0, 0, 0)
        throttle.should_send(text, final=True)
        await dialog.send(chat, Progress(job_id, text, done0, total0, False, cancel))
        if not via_runner:  # "label my rows" in this process: the annotator labels the stored rows
            result = await (await dialog.get_annotator()).run(job_id, report)
        else:  # a dataset, or (DATAGEN_WORKERS=external) any order: the runner hands it to the workers
            result = await dialog.job_runner().run(job_id, report, user=chat.user)
    except JobClaimedElsewhere as exc:  # another replica or worker runs it and will answer
        log.info("job %s: %s", job_id, exc)
        return
    except asyncio.CancelledError:
        if job_id in dialog.user_cancelled:
            # Final whether the engine had started it or not: a restart must not resume it.
            await asyncio.to_thread(dialog.mark_cancelled, job_id)
            done, total = await dialog.job_counts(job_id)
            text = dialog.text(lang, "progress_cancelled", job=job_id, done=done, total=total)
            await dialog.send(chat, Progress(job_id, text, done, total, True))
            return
        raise  # shutdown or Ctrl-C: the engine put the job back to "pending", the next start resumes it
    except Exception as exc:
        log.exception("job %s crashed", job_id)
        await finish_failed(dialog, chat, job_id, stop_reasons.internal(exc))
        return
    if via_runner and not await dialog.job_runner().claim_report(job_id):
        return  # its end was reported by another replica (a chat never gets the file twice)
    if result.status == "cancelled" and not dialog.job_runner().runs_here:
        # Cancel pressed on another replica: that one answered the user; close the progress here.
        done, total = await dialog.job_counts(job_id)
        text = dialog.text(lang, "progress_cancelled", job=job_id, done=done, total=total)
        await dialog.send(chat, Progress(job_id, text, done, total, True))
        return
    if result.status != "done":
        await finish_failed(dialog, chat, job_id, result.error or result.status)
        return
    try:
        await (deliver_annotation(dialog, chat, job_id) if annotation else deliver(dialog, chat, job_id, result))  # type: ignore[arg-type]
    except Exception:  # the rows are stored; /status and Generate all can still get the file
        log.exception("delivering job %s failed", job_id)
        await dialog.send(chat, Say(dialog.text(lang, "internal_error")))


async def finish_failed(dialog: "Dialog", chat: ChatRef, job_id: int, error: str) -> None:
    """`error`: the stop as stored (core/stop_reasons.py); said here, and by the table, in the chat's language."""
    lang = await dialog.language_of(chat)
    done, total = await dialog.job_counts(job_id)

    def t(key: str, **values: object) -> str:
        return dialog.text(lang, key, **values)

    found = await asyncio.to_thread(disagreements.stopped_by, dialog.store, job_id)
    text = disagreements.progress_line(found, job_id, t) if found is not None else \
        t("progress_failed", job=job_id, error=stop_reasons.describe(error, lang, t))
    await dialog.send(chat, Progress(job_id, text, done, total, True))
    await dialog.post(chat, DatasetFailed(job_id, error))


def agreement_of(store: object, job: object, spec: DatasetSpec) -> dict[str, float]:
    """Per label, the share of rows the judge labeled as intended ({} when the rows were not verified)."""
    if VERIFIED_BY not in (job.model or "") or not verifiable(spec):  # type: ignore[attr-defined]
        return {}
    return agreement(store, job.id)  # type: ignore[attr-defined]


async def deliver(dialog: "Dialog", chat: ChatRef, job_id: int, result: JobResult) -> None:
    lang = await dialog.language_of(chat)
    job = await asyncio.to_thread(dialog.store.get_job, job_id)
    assert job is not None
    spec = spec_of(job)
    done, total = await dialog.job_counts(job_id, job)
    text = dialog.text(lang, "progress_done", job=job_id, done=done, total=total)
    await dialog.send(chat, Progress(job_id, text, done, total, True))
    filename = f"dataset-{job_id}.{FILE_SUFFIX[spec.format]}"
    delivery = await asyncio.to_thread(render_delivery, dialog.store, job_id, spec.format, filename, lang,
                                     dialog.settings)  # type: ignore[arg-type]
    rows = delivery.rows
    sources = Counter(row.source for row in rows)
    caption = dialog.text(
        lang,
        "caption",
        filename=filename,
        rows=len(rows),
        per_label=per_label(dict(Counter(row.label or "rows" for row in rows))),
        rejected=sum(result.rejected.values()),
        duplicates=result.duplicates,
        tokens=f"{result.prompt_tokens + result.completion_tokens:,}",
    )
    if sources.get("uploaded"):
        caption += " " + dialog.text(lang, "caption_sources", sources=", ".join(f"{s}: {n}" for s, n in sources.items()))
    caption += " " + dialog.text(lang, "caption_variety", line=delivery.variety.summary(lang))
    shares = await asyncio.to_thread(agreement_of, dialog.store, job, spec)
    if shares:
        caption += " " + dialog.text(lang, "caption_agreement",
                                     shares=", ".join(f"{label or dialog.text(lang, 'card_all')} {share:.0%}" for label, share in shares.items()))
    caption += ratings_honoured(dialog, lang, spec, job.guidance_json, rows)
    if spec.passages:
        from core.conversation.documents import per_document

        caption += " " + dialog.text(lang, "documents_caption", per_document=per_document(spec, rows))
    await dialog.send(chat, Document(filename, delivery.data, caption, MIME_TYPE[spec.format]))
    await dialog.send(chat, Document(f"dataset-{job_id}.card.md", delivery.card.encode("utf-8"),
                                     dialog.text(lang, "card_caption"), "text/markdown"))
    await dialog.send(chat, Document(f"dataset-{job_id}.chart.png", delivery.chart, dialog.text(lang, "chart_caption"),
                                     "image/png"))
    found = await asyncio.to_thread(disagreements.mostly_rejected, dialog.store, job_id) if shares else None
    if found is not None:  # most rows failed the check: likely a column the text does not show
        note = disagreements.delivered_note(found, lambda key, **values: dialog.text(lang, key, **values))
        await dialog.send(chat, Say(note))
    await dialog.post(chat, DatasetDelivered(job_id))


def ratings_honoured(dialog: "Dialog", lang: str, spec: DatasetSpec, guidance_json: str | None, rows: list) -> str:
    """" Your ratings were honoured: ..." counted from the file itself ("" without ratings): 👍 rows
    delivered, 👎 rows of which no equal or near-equal row was delivered."""
    guidance = Guidance.model_validate_json(guidance_json or "{}")
    if not guidance.avoid and not guidance.keep:
        return ""
    delivered = DuplicateIndex()
    for row in rows:
        delivered.add(row_text(spec.task, row.fields))
    kept = sum(row.source == "kept" for row in rows)
    # A 👎 text found (or a near copy) in the file is not honoured. (Two 👎 rows alike each other: the
    # second counts as found, an under-count the user can check, never an over-claim.)
    out = sum(delivered.check_and_add(row_text(spec.task, raw)) is None for raw in guidance.avoid)
    return " " + dialog.text(lang, "caption_ratings", up=kept, down=out)


async def deliver_annotation(dialog: "Dialog", chat: ChatRef, job_id: int) -> None:
    """The labeled rows (every row once, in the file's order), the low-confidence rows when there
    are any, and the card; written by core.annotate_export into a temporary folder."""
    from core.annotate import AnnotationOrder
    from core.annotate_export import FORMATS, export_annotations

    lang = await dialog.language_of(chat)
    job = await asyncio.to_thread(dialog.store.get_job, job_id)
    assert job is not None
    order = AnnotationOrder.model_validate_json(job.spec_json)
    done, total = await dialog.job_counts(job_id, job)
    await dialog.send(chat, Progress(job_id, dialog.text(lang, "progress_done", job=job_id, done=done, total=total),
                                     done, total, True))
    suffix = order.source_name.rsplit(".", 1)[-1].lower() if "." in order.source_name else "csv"
    suffix = suffix if suffix in FORMATS else "csv"
    with tempfile.TemporaryDirectory(prefix="datagen-labeled-") as folder:
        path = Path(folder) / f"labeled-{job_id}.{suffix}"
        exported = await asyncio.to_thread(export_annotations, dialog.store, job_id, order, path)  # type: ignore[arg-type]
        data, low_data, card = await asyncio.to_thread(
            lambda: [p.read_bytes() for p in (exported.path, exported.low_confidence_path, exported.card_path)])
    low = sum(exported.low_per_label.values())
    mime = ANNOTATION_MIME.get(suffix, "application/octet-stream")
    caption = dialog.text(lang, "annotate_caption", filename=path.name, rows=exported.rows,
                          per_label=per_label({x: exported.per_label.get(x, 0) for x in order.labels}), low=low)
    await dialog.send(chat, Document(path.name, data, caption, mime))
    if low:
        await dialog.send(chat, Document(exported.low_confidence_path.name, low_data,
                                         dialog.text(lang, "annotate_low_caption", n=low), mime))
    await dialog.send(chat, Document(exported.card_path.name, card, dialog.text(lang, "card_caption"), "text/markdown"))
    await dialog.post(chat, DatasetDelivered(job_id))


ANNOTATION_MIME = {"csv": "text/csv", "json": "application/json", "jsonl": "application/jsonl",
                   "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def job_counts(store: AnnotationStore, job_id: int, job: Any = None) -> tuple[int, int]:
    """(rows made, rows ordered); uploaded rows don't count. Blocking: call in a thread."""
    job = job or store.get_job(job_id)
    if job is None:
        return 0, 0
    if job.kind == ANNOTATION:  # rows labeled of the rows uploaded
        counts = store.label_counts(job_id)
        total = sum(counts.values())
        return total - counts.get(None, 0), total
    total = sum(spec_of(job).quotas().values())
    done = sum(store.accepted_counts(job_id).values())  # counted by the database, not row by row
    return min(done, total), total


async def resume_jobs(dialog: Dialog) -> None:
    """After a restart: run again this channel's interrupted jobs (a dataset's chat is told)."""
    store = dialog.store
    for job in store.unfinished_jobs():
        if job.conversation_id is None or job.id is None:
            continue
        conversation = store.get_conversation(job.conversation_id)
        if conversation is None or conversation.channel != dialog.channel:
            continue
        here = job.kind == "preview" or dialog.job_runner().runs_here
        if not here:
            continue  # orders (datasets, annotations) on workers: following.adopt_unfollowed takes those nobody follows
        if store.is_claimed(job.id):  # a live process (another replica) has it
            continue
        state = ConversationState.load(conversation.state, conversation.data_json)
        chat = ChatRef(conversation.external_id, conversation.user_id)
        if job.kind == "preview":
            if state.preview_job == job.id:
                dialog.spawn(job.id, dialog.run_preview(chat, job.id))
            continue
        if state.job != job.id:
            continue
        done, total = await dialog.job_counts(job.id, job)
        lang = m.normalise_language(conversation.language)
        await dialog.send(chat, Say(dialog.text(lang, "resumed", job=job.id, done=done, total=total)))
        dialog.spawn(job.id, dialog.run_dataset(chat, job.id))
