"""Label my rows: the user's unlabeled rows, the labels, a preview of ~10 labeled rows with 👍/👎 and
corrections ("#3 is complaint": few-shot examples), then the annotation job (core/annotate.py).

The job runs, reports progress, is cancelled and delivered by background.py and jobs.py like a
dataset job; what its end does to the chat is here (`delivered`: rows per label, balancing offer).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from core import stop_reasons
from core.annotation_labels import described_labels, labels_from_text, preset
from core.concurrency import urgent
from core.conversation.collecting import Text
from core.conversation.reply_threads import blocking
from core.conversation.state import Annotation, Phase
from core.conversation.turn import AnnotationPreviewFinished, DatasetDelivered, JobLost, Turn
from core.events import ButtonPress, Choice, FileUpload, Message, Preview, PreviewItem, Say
from core.llm import LLMError
from core.row_sources import ROW_SUFFIXES, guess_text_column, read_rows
from core.stop_reasons import llm_stop
from core.uploads import ParsedTable, UploadError

log = logging.getLogger(__name__)

PREVIEW_ROWS = 10
#: "label my rows", "annotate our tickets"
WANTS_EN = re.compile(
    r"\b(?:label|annotate|tag|classify|categori[sz]e)\b.{0,20}\b(?:my|our|these|the)\b.{0,20}"
    r"\b(?:rows?|data|texts?|tickets?|files?|messages?|reviews?|comments?|records?)\b", re.IGNORECASE)
#: "oznacz moje dane", "otaguj nasze wiadomości" (the language detector takes three words for English)
WANTS_PL = re.compile(r"\b(?:o?znacz|zaetykietuj|otaguj|sklasyfikuj|skategoryzuj)\w*\s+(?:moje|nasze|te|mój|nasz)\b",
                      re.IGNORECASE)
#: "#3 is complaint", "3: complaint", "#3 to skarga", "#3 is a complaint, not order_status"
CORRECTION_RE = re.compile(
    r"#?\s*(\d{1,4})\s*(?:is|=|:|->|→|to|jest|should be|powinno być|powinien być|-)\s*(.+)", re.IGNORECASE)
_ARTICLE = re.compile(r"^(?:an?|the)\s+", re.IGNORECASE)
_NOT = re.compile(r"[,;]?\s*\b(?:not|nie|zamiast|instead of)\b.*$", re.IGNORECASE)


def wants_annotation(text: str) -> str | None:
    """The language of a "label my rows" request, None when the text is not one."""
    return "pl" if WANTS_PL.search(text) else "en" if WANTS_EN.search(text) else None


# --- the rows ------------------------------------------------------------------------------------


def rows_of_file(filename: str, data: bytes) -> ParsedTable | None:
    """Rows the upload parser does not take (one column, plain text, XLSX): read them with the
    streaming readers of `datagen annotate`, so the chat and the command line read files alike.
    Blocking: call in a thread. None when the file is not one of those kinds."""
    suffix = Path(filename).suffix.lower()
    if suffix not in ROW_SUFFIXES:
        return None
    with tempfile.TemporaryDirectory(prefix="datagen-rows-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        records = [{str(k): "" if v is None else str(v) for k, v in row.items()} for row in read_rows(path)]
    columns = list(dict.fromkeys(key for record in records[:1000] for key in record))
    return ParsedTable(filename, columns, records) if records else None


def is_unlabeled(turn: Turn, table: ParsedTable) -> bool:
    """Rows to label: the user asked for labeling, or the file has just one column (no label)."""
    return turn.state.wants_annotation or len(table.columns) == 1


async def accept_rows(turn: Turn, table: ParsedTable) -> Phase:
    state = turn.state
    column = guess_text_column(table.columns)
    if column is None:
        turn.offer(())
        turn.say("annotate_no_text_column", filename=table.filename, columns=", ".join(table.columns))
        return state.phase
    labels = list(state.annotation.labels) if state.annotation and state.wants_annotation else []
    descriptions = dict(state.annotation.descriptions) if labels and state.annotation else {}
    upload_id = await blocking(turn.dialog.store.save_upload, turn.conversation_id, table.filename,
                                        table.columns, table.records)
    fresh = state.fresh()
    turn.state = fresh
    fresh.annotation = Annotation(filename=table.filename, upload_id=upload_id, rows=len(table.records),
                                  text_column=column, labels=labels, descriptions=descriptions)
    turn.say("annotate_rows_read", rows=len(table.records), filename=table.filename, column=column)
    if labels:
        return await show_preview(turn)
    turn.offer(())
    turn.say("annotate_ask_labels")
    return Phase.annotate_labels


async def want(turn: Turn, event: Message) -> Phase:
    """ "Label my rows": a waiting upload whose columns we asked for becomes the rows; else ask for the file."""
    state = turn.state
    named = next((found for word in re.findall(r"\w+", event.text) if (found := preset(word))), None)
    pending = state.pending_upload
    if state.phase == Phase.upload_columns and pending is not None and pending.upload_id is not None:
        stored = await blocking(turn.dialog.store.load_upload, pending.upload_id)
        if stored:
            state.wants_annotation = True
            return await accept_rows(turn, ParsedTable(stored[0], stored[1], stored[2]))
    turn.state = state.fresh()
    turn.state.wants_annotation = True
    if named:  # "label my rows by sentiment": the labels are known before the file comes
        turn.state.annotation = Annotation(filename="", upload_id=0, rows=0, text_column="", labels=named)
    turn.offer(())
    turn.say("annotate_ask_upload")
    return Phase.start


# --- labels and preview --------------------------------------------------------------------------


async def on_labels(turn: Turn, event: Text) -> Phase:
    """ "complaint, order_status, greeting", a preset, or labels with a one-line description each
    ("refund - wants money back, bug - something broken"), which the model is shown."""
    described = described_labels(event.text)
    labels, descriptions = described if described else (labels_from_text(event.text), {})
    if labels is None:
        turn.say("annotate_bad_labels")
        return Phase.annotate_labels
    assert turn.state.annotation is not None
    turn.state.annotation.labels = labels
    turn.state.annotation.descriptions = descriptions
    turn.state.annotation.examples = []
    return await show_preview(turn)


def order_of(annotation: Annotation, job_source: str = "") -> Any:
    from core.annotate import AnnotationOrder  # the engine, only when labeling

    return AnnotationOrder(labels=annotation.labels, descriptions=dict(annotation.descriptions),
                           examples=list(annotation.examples),
                           text_column=annotation.text_column, source_name=job_source or annotation.filename)


async def annotator_or_say(turn: Turn) -> Any | None:
    """The labeling engine, or None after telling the user the model cannot be reached (the phase stays)."""
    try:
        return await turn.dialog.get_annotator()
    except RuntimeError:
        turn.say_llm_unavailable()
        return None


async def show_preview(turn: Turn) -> Phase:
    """Label the first rows (nothing stored) in a background task, like the dataset preview: the
    chat's lock is not held meanwhile, so /status and /cancel are answered at once. The rows come
    back as an AnnotationPreviewFinished event through the table (`preview_finished`)."""
    annotation = turn.state.annotation
    assert annotation is not None
    dialog = turn.dialog
    annotator = await annotator_or_say(turn)
    if annotator is None:
        return turn.state.phase
    stored = await blocking(dialog.store.load_upload, annotation.upload_id)
    records = stored[2][:PREVIEW_ROWS] if stored else []
    texts = tuple(str(record.get(annotation.text_column) or "") for record in records)
    token = -1 - secrets.randbelow(2**31)  # negative: never a stored job's id
    turn.state.preview_job = token
    turn.offer(())
    turn.say("annotate_preview_working", n=len(texts))
    dialog.spawn(token, label_preview(dialog, turn.chat, token, annotator, order_of(annotation), texts))
    return Phase.annotate_previewing


async def label_preview(dialog: Any, chat: Any, token: int, annotator: Any, order: Any, texts: tuple[str, ...]) -> None:
    """The background half of the preview: ask the model, then report through the table."""
    try:
        with urgent():  # the user waits for these labels: their requests go before the orders' ones
            result = await annotator.preview(order, list(texts))
    except asyncio.CancelledError:
        raise  # /cancel, /new or shutdown: nobody waits for these rows
    except Exception as exc:  # the model failed: the chat says so and keeps the rows and labels
        log.warning("annotation preview failed: %s", exc)
        error = llm_stop(exc) if isinstance(exc, LLMError) else stop_reasons.internal(exc)
        await dialog.post(chat, AnnotationPreviewFinished(token, texts, (), error))
        return
    labels = tuple(v.label if (v := result.verdicts.get(str(i))) is not None else None for i in range(len(texts)))
    await dialog.post(chat, AnnotationPreviewFinished(token, texts, labels))


async def preview_finished(turn: Turn, event: AnnotationPreviewFinished) -> Phase:
    """The labeled rows for 👍/👎 and corrections (a preview the chat moved on from changes nothing)."""
    annotation = turn.state.annotation
    if turn.state.preview_job != event.token or annotation is None:
        return turn.state.phase
    turn.state.preview_job = None
    if event.error:
        turn.say("annotate_preview_failed", error=stop_reasons.describe(event.error, turn.lang, turn.t))
        return preview_or_labels(turn)
    annotation.preview = {index + 1: (text, label) for index, (text, label) in enumerate(zip(event.texts, event.labels))
                          if label is not None}
    if not annotation.preview:
        turn.say("annotate_preview_failed",
                 error=stop_reasons.describe(stop_reasons.stop("no_labels", "no answer"), turn.lang, turn.t))
        return preview_or_labels(turn)
    items = tuple(
        PreviewItem(example_id=number, number=number, text=f"{text} → {label}",
                    choices=(Choice("👍", "labelok", str(number)), Choice("👎", "labelwrong", str(number))))
        for number, (text, label) in annotation.preview.items()
    )
    shown = ", ".join(f"{x} ({annotation.descriptions[x]})" if annotation.descriptions.get(x) else x
                      for x in annotation.labels)
    intro = turn.t("annotate_preview_intro", n=len(items), labels=shown,
                   example=annotation.labels[-1], button=turn.t("btn_label_all", rows=annotation.rows))
    turn.replies.append(Preview(intro, items, preview_choices(turn)))
    return Phase.annotate_preview


def preview_choices(turn: Turn) -> tuple[Choice, ...]:
    annotation = turn.state.annotation
    rows = annotation.rows if annotation else 0
    return turn.offer((Choice(turn.t("btn_label_all", rows=rows), "labelall"),
                       Choice(turn.t("btn_new_preview"), "labelpreview"), Choice(turn.t("btn_cancel"), "cancel")))


def preview_or_labels(turn: Turn) -> Phase:
    """After a failed preview or job: the last preview's buttons, or the labels question."""
    annotation = turn.state.annotation
    if annotation is not None and annotation.preview:
        turn.replies.append(Say(turn.t("pick_option"), preview_choices(turn)))
        return Phase.annotate_preview
    turn.offer(())
    turn.say("annotate_ask_labels")
    return Phase.annotate_labels


def is_shown_row(turn: Turn, event: ButtonPress) -> bool:
    """A 👍/👎 of the last annotation preview (a guard of the table)."""
    annotation = turn.state.annotation
    value = event.value
    return (annotation is not None and value.isdecimal() and value.isascii() and len(value) < 6
            and int(value) in annotation.preview)


async def press_rating(turn: Turn, event: ButtonPress) -> Phase:
    rate(turn, int(event.value), event.action == "labelok")
    return Phase.annotate_preview


async def typed_ratings(turn: Turn, event: Any) -> Phase:
    """"+1 -3" on the annotation preview."""
    annotation = turn.state.annotation
    assert annotation is not None
    for kind, number in event.ratings:
        if number in annotation.preview:
            rate(turn, number, kind == "up")
        else:
            turn.say("annotate_unknown_row", number=number, n=len(annotation.preview))
    return Phase.annotate_preview


def rate(turn: Turn, number: int, good: bool) -> None:
    annotation = turn.state.annotation
    assert annotation is not None
    text, label = annotation.preview[number]
    if good:
        remember(annotation, text, label)
        turn.say("annotate_rated_up", number=number, label=label)
    else:
        others = [x for x in annotation.labels if x != label] or annotation.labels
        turn.say("annotate_rated_down", number=number, example=others[0])


def remember(annotation: Annotation, text: str, label: str) -> None:
    """A confirmed or corrected row becomes a few-shot example (one per text: the last word wins)."""
    annotation.examples = [(t, x) for t, x in annotation.examples if t != text] + [(text, label)]


def match_label(phrase: str, labels: list[str]) -> str | None:
    phrase = _ARTICLE.sub("", _NOT.sub("", phrase.strip().rstrip(".!"))).strip().strip("\"'“”„").casefold()
    for label in labels:
        if label.casefold() == phrase:
            return label
    for label in labels:
        if re.search(rf"(?<!\w){re.escape(label.casefold())}(?!\w)", phrase):
            return label
    return None


async def on_preview_text(turn: Turn, event: Text) -> Phase:
    """Corrections ("#3 is complaint; #5 to skarga"), else how to correct."""
    annotation = turn.state.annotation
    assert annotation is not None
    clauses = [c for c in re.split(r"[;\n]+|,\s*(?=#)", event.text) if c.strip()]
    understood = False
    for clause in clauses:
        found = CORRECTION_RE.match(clause.strip())
        if not found:
            continue
        understood = True
        number = int(found.group(1))
        if number not in annotation.preview:
            turn.say("annotate_unknown_row", number=number, n=len(annotation.preview))
            continue
        label = match_label(found.group(2), annotation.labels)
        if label is None:
            turn.say("annotate_unknown_label", label=found.group(2).strip()[:60], labels=", ".join(annotation.labels),
                     number=number, example=annotation.labels[0])
            continue
        text, _ = annotation.preview[number]
        annotation.preview[number] = (text, label)
        remember(annotation, text, label)
        turn.say("annotate_corrected", number=number, label=label)
    if not understood:
        turn.replies.append(Say(turn.t("annotate_hint", example=annotation.labels[-1]), preview_choices(turn)))
    return Phase.annotate_preview


async def press_new_preview(turn: Turn, event: ButtonPress) -> Phase:
    return await show_preview(turn)


async def preview_lost(turn: Turn, event: JobLost) -> Phase:
    """A preview cut off by a restart: back to the last preview's buttons, or the labels question."""
    turn.state.preview_job = None
    return preview_or_labels(turn)


# --- the job -------------------------------------------------------------------------------------


async def press_label_all(turn: Turn, event: ButtonPress) -> Phase:
    annotation = turn.state.annotation
    assert annotation is not None
    dialog = turn.dialog
    annotator = await annotator_or_say(turn)
    if annotator is None:
        return turn.state.phase
    job_id = await blocking(create_and_load, dialog, annotator, annotation, turn.conversation_id,
                                     turn.state.job)
    turn.state.job = job_id
    turn.say("annotate_ack", turn.offer((Choice(turn.t("btn_cancel"), "canceljob", str(job_id)),)),
             rows=annotation.rows, job=job_id)
    dialog.spawn(job_id, dialog.run_dataset(turn.chat, job_id))
    return Phase.annotating


def create_and_load(dialog: Any, annotator: Any, annotation: Annotation, conversation_id: int,
                    previous: int | None) -> int:
    """The annotation job with the rows in storage (blocking: call in a thread). The stopped or
    failed job of these very rows and labels continues instead (its labels are kept)."""
    order = order_of(annotation)
    job = dialog.store.get_job(previous) if previous else None
    if job is not None and job.kind == "annotation" and job.status in ("cancelled", "failed"):
        before = annotator.order(previous)
        if (before.labels, before.descriptions, before.examples, before.text_column, before.source_name) == \
                (order.labels, order.descriptions, order.examples, order.text_column, order.source_name) \
                and before.loaded:
            dialog.store.reopen_job(previous)  # the user's new Label all: cancelled/failed -> pending, it may run
            return int(previous)  # type: ignore[arg-type]
    job_id = annotator.create_job(order)
    dialog.store.update_job(job_id, conversation_id=conversation_id)  # so a restart resumes it in this chat
    stored = dialog.store.load_upload(annotation.upload_id)
    annotator.load(job_id, stored[2] if stored else [])
    return job_id


def labeled_rows(store: Any, job_id: int) -> list[dict[str, str]]:
    order_text = store.get_job(job_id).spec_json
    from core.annotate import AnnotationOrder

    column = AnnotationOrder.model_validate_json(order_text).text_column or "text"
    return [{"text": str(row.fields.get(column) or ""), "label": row.label or ""}
            for row in store.iter_annotation_rows(job_id)]
