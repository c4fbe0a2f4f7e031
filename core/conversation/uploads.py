"""Uploads: the user's own labeled rows, which columns hold text and label, and the offer to balance them."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from core import messages as m
from core.conversation import annotating, collecting, documents
from core.conversation.collecting import Text
from core.conversation.reply_threads import blocking
from core.conversation.state import PendingUpload, Phase, Upload
from core.conversation.turn import DatasetDelivered, Turn
from core.events import ButtonPress, Choice, FileUpload, Say
from core.spec import TaskType, split_evenly
from core.uploads import LabeledRows, ParsedTable, UploadError, parse_upload

COLUMNS_RE = re.compile(r"(text|label)\s*[=:]\s*([^,;]+)", re.IGNORECASE)


async def on_upload(turn: Turn, event: FileUpload) -> Phase:
    if documents.is_document(turn, event.filename):  # PDF, DOCX, ...: questions from documents
        return await documents.accept(turn, event)
    try:
        # Reading a big file takes a while: off the event loop, so other chats are not held up.
        table = await asyncio.to_thread(parse_upload, event.filename, event.data, turn.dialog.settings.max_upload_bytes)
    except UploadError as exc:
        rows = None
        if exc.key in ("upload_unreadable", "upload_bad_type"):  # one column, plain text, XLSX: rows to label?
            try:
                rows = await asyncio.to_thread(annotating.rows_of_file, event.filename, event.data)
            except UploadError:
                rows = None
        if rows is not None:
            return await annotating.accept_rows(turn, rows)
        values = dict(exc.values)
        if exc.key == "upload_bad_type":  # say everything it can read, documents included
            turn.say("upload_unsupported", filename=event.filename)
            return turn.state.phase
        if exc.key == "upload_too_big":
            values["size"] = m.human_size(int(values["size"]))  # type: ignore[arg-type]
            values["limit"] = m.human_size(int(values["limit"]))  # type: ignore[arg-type]
        turn.say(exc.key, **values)
        return turn.state.phase
    if annotating.is_unlabeled(turn, table):
        return await annotating.accept_rows(turn, table)
    columns = table.guess_columns()
    if columns is None:
        upload_id = await blocking(turn.dialog.store.save_upload, turn.conversation_id, table.filename,
                                            table.columns, table.records)
        turn.state.pending_upload = PendingUpload(filename=table.filename, columns=table.columns, upload_id=upload_id)
        turn.offer(())
        turn.say("upload_ask_columns", filename=table.filename, columns=", ".join(table.columns))
        return Phase.upload_columns
    return await accept_table(turn, table, *columns)


async def on_column_answer(turn: Turn, event: Text) -> Phase:
    pending = turn.state.pending_upload or PendingUpload()
    stored = await blocking(turn.dialog.store.load_upload, pending.upload_id) if pending.upload_id else None
    table = ParsedTable(pending.filename, pending.columns, stored[2] if stored else [])
    named = {k.lower(): v for k, v in COLUMNS_RE.findall(event.text)}
    if not named:
        parts = [p for p in re.split(r"[,;\s]+", event.text) if p]
        if len(parts) == 2:
            named = {"text": parts[0], "label": parts[1]}
    text_column = table.resolve_column(named.get("text", ""))
    label_column = table.resolve_column(named.get("label", ""))
    if text_column is None or label_column is None or text_column == label_column:
        turn.say("upload_bad_columns", columns=", ".join(table.columns))
        return Phase.upload_columns
    return await accept_table(turn, table, text_column, label_column)


async def accept_table(turn: Turn, table: ParsedTable, text_column: str, label_column: str) -> Phase:
    state = turn.state
    try:
        labeled = LabeledRows.from_table(table, text_column, label_column)
    except UploadError as exc:
        turn.say(exc.key, **exc.values)
        if state.phase == Phase.upload_columns:
            return Phase.upload_columns  # the user may name other columns or send another file
        return state.phase if state.draft is not None else Phase.start
    state.pending_upload = None
    upload_id = await blocking(turn.dialog.store.save_upload, turn.conversation_id, labeled.filename,
                                        ["text", "label"], labeled.rows)
    state.upload = Upload(filename=labeled.filename, counts=labeled.counts, size=len(labeled.rows), upload_id=upload_id)
    skipped = turn.t("upload_skipped", n=labeled.skipped) if labeled.skipped else ""
    turn.say("upload_report", rows=len(labeled.rows), filename=labeled.filename,
             per_label=collecting.per_label(labeled.counts), skipped=skipped)
    if len(labeled.counts) < 2:
        turn.offer(())
        only = next(iter(labeled.counts))
        turn.say("upload_one_label", rows=len(labeled.rows), filename=labeled.filename, label=only)
        return Phase.upload_offer
    # The upload defines the labels; earlier counts for other labels no longer mean anything.
    state.draft = state.draft_or_empty().model_copy(
        update={"task": TaskType.classification, "labels": list(labeled.counts), "label_counts": None,
                "label_shares": None, "count": None}
    )
    return offer_plan(turn, labeled.lacking_to_balance())


def offer_plan(turn: Turn, lacking: dict[str, int]) -> Phase:
    total = sum(lacking.values())
    if total == 0:
        turn.state.upload_plan = None
        turn.offer(())
        turn.say("upload_balanced")
        return Phase.upload_offer
    turn.state.upload_plan = lacking
    plan = ", ".join(f"{n} {label}" for label, n in lacking.items() if n)
    choices = turn.offer((Choice(turn.t("btn_balance", total=total), "balance"), Choice(turn.t("btn_cancel"), "cancel")))
    turn.replies.append(Say(turn.t("upload_offer", plan=plan, total=total), choices))
    return Phase.upload_offer


async def retarget(turn: Turn, interp: Any) -> Phase:
    """After an upload the user named counts: generate what each label lacks to reach them.
    Any other change (tone, language...) just updates the order and repeats the offer."""
    upload = turn.state.upload
    assert upload is not None
    labels = list(turn.state.draft_or_empty().labels or upload.counts)
    changes = getattr(interp, "changes", {}) or {}
    targets: dict[str, int] | None = None
    if changes.get("label_counts"):
        targets = {str(k): int(v) for k, v in changes["label_counts"].items()}
    elif changes.get("count"):
        targets = split_evenly(int(changes["count"]), labels)
    if targets is None:
        return offer_plan(turn, turn.state.upload_plan or {})
    have = LabeledRows(upload.filename, [], counts={**upload.counts, **{k: 0 for k in targets if k not in upload.counts}})
    lacking = have.lacking_to_reach(targets)
    if sum(lacking.values()) == 0:
        turn.say("upload_target_reached")
        return Phase.upload_offer
    turn.state.upload_plan = lacking
    return accept_balance(turn)


async def on_offer_text(turn: Turn, event: Text) -> Phase:
    """Text after an upload: counts retarget the plan, other changes update the order, yes balances."""
    outcome, interp = await collecting.understand(turn, event)
    if outcome == "changed":
        return await retarget(turn, interp) if turn.state.upload is not None else collecting.advance(turn)
    if outcome == "yes":
        return accept_balance(turn)
    return outcome


async def press_balance(turn: Turn, event: ButtonPress) -> Phase:
    return accept_balance(turn)


def accept_balance(turn: Turn) -> Phase:
    plan = turn.state.upload_plan
    if not plan:
        return collecting.reask(turn)
    collecting.apply_changes(
        turn, {"task": "classification", "labels": list(plan), "label_counts": dict(plan), "count": sum(plan.values())}
    )
    return collecting.advance(turn)


# --- label my rows: the uploads and the end of the job (core/conversation/annotating.py) ---


async def on_rows_upload(turn: Turn, event: FileUpload) -> Phase:
    """A file in the labeling phases: new rows to label (the earlier ones are dropped)."""
    turn.state.wants_annotation = True
    return await on_upload(turn, event)


async def annotation_delivered(turn: Turn, event: DatasetDelivered) -> Phase:
    """The labeled file is sent: rows per label, and the balancing offer of an upload."""
    if turn.state.job != event.job_id:
        return turn.state.phase
    rows = await blocking(annotating.labeled_rows, turn.dialog.store, event.job_id)
    turn.state.annotation = None
    turn.state.wants_annotation = False
    table = ParsedTable(f"labeled-{event.job_id}", ["text", "label"], rows)
    try:
        return await accept_table(turn, table, "text", "label")
    except UploadError:
        turn.say("after_delivery")
        return Phase.done
