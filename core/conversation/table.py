"""THE conversation: which event each phase accepts, and who handles it. Read this file first.

In the spirit of python-telegram-bot's ConversationHandler (the whole machine is one dict; each
handler returns the next phase) and errbot's flows (guards are small predicates; the graph is
data, so docs/conversation.md draws it from here). An event a phase does not list is answered
"that button belongs to an earlier step" plus the current question, and changes nothing.

Event keys: "text" (typed words), "ratings" ("+1 -3"), "upload" (a file), "annotate" ("label my
rows"), "documents" ("test questions from my manual"), "press:<action>" (a
button, or its typed number/label), the internal "preview_finished", "dataset_delivered",
"dataset_failed" and "job_lost" (background jobs report through the table too), and the
commands in FALLBACKS, valid in every phase.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Union

from core.conversation import annotating, collecting, commands, documents, jobs, preview, uploads
from core.conversation.state import Phase
from core.conversation.turn import Turn

Handler = Callable[[Turn, Any], Awaitable[Phase]]


@dataclass(frozen=True)
class Guarded:
    """A route taken only when `guard` holds for the event; otherwise the event is stale."""

    guard: Callable[[Turn, Any], bool]
    handler: Handler


Route = Union[Handler, Guarded]


# --- guards ----------------------------------------------------------------------------------


def preview_shown(turn: Turn, event: Any) -> bool:
    """Generate all from the summary is only offered once a preview was rated or seen."""
    return bool(turn.state.preview_items)


def is_offered(turn: Turn, event: Any) -> bool:
    """An answer button of the question being asked now, not of an earlier question."""
    return any(c.action == event.action and c.value == event.value for c in turn.state.offered)


def is_this_job(turn: Turn, event: Any) -> bool:
    """The running job's own Cancel button, not one of an earlier job."""
    return event.value in ("", str(turn.state.job))


def is_previewed_row(turn: Turn, event: Any) -> bool:
    value = event.value
    return value.isdecimal() and value.isascii() and len(value) < 19 and int(value) in turn.state.preview_rows


# --- the machine -----------------------------------------------------------------------------

TABLE: dict[Phase, dict[str, Route]] = {
    Phase.start: {
        "text": collecting.on_text,
        "upload": uploads.on_upload,
        "annotate": annotating.want,
        "documents": documents.want,
    },
    Phase.collecting: {
        "text": collecting.on_text,
        "upload": uploads.on_upload,
        "annotate": annotating.want,
        "documents": documents.want,
        "press:task": Guarded(is_offered, collecting.press_task),
        "press:set": Guarded(is_offered, collecting.press_set),
    },
    Phase.confirm: {
        "text": preview.on_confirm_text,
        "upload": uploads.on_upload,
        "documents": documents.want,
        "press:preview": preview.press_preview,
        "press:generate": Guarded(preview_shown, jobs.press_generate),
        "press:change": collecting.press_change,
        "press:cancel": jobs.press_cancel_order,
        "press:asfeedback": Guarded(collecting.can_undo_change, preview.press_was_feedback),
    },
    Phase.previewing: {
        "text": jobs.while_busy,
        "ratings": jobs.while_busy,
        "upload": jobs.while_busy,
        "preview_finished": preview.show_preview,
        "job_lost": jobs.job_lost,
    },
    Phase.rating: {
        "text": preview.on_text,
        "ratings": preview.typed_ratings,
        "upload": uploads.on_upload,
        "documents": documents.want,
        "press:up": Guarded(is_previewed_row, preview.press_rating),
        "press:down": Guarded(is_previewed_row, preview.press_rating),
        "press:generate": jobs.press_generate,
        "press:newpreview": preview.press_preview,
        "press:cancel": jobs.press_cancel_order,
    },
    Phase.generating: {
        "text": jobs.while_busy,
        "ratings": jobs.while_busy,
        "upload": jobs.while_busy,
        "press:canceljob": Guarded(is_this_job, jobs.press_cancel_job),
        "dataset_delivered": jobs.delivered,
        "dataset_failed": jobs.failed,
        "job_lost": jobs.job_lost,
    },
    Phase.done: {
        "text": collecting.on_text,
        "upload": uploads.on_upload,
        "annotate": annotating.want,
        "documents": documents.want,
    },
    Phase.upload_columns: {
        "text": uploads.on_column_answer,
        "upload": uploads.on_upload,
        "annotate": annotating.want,
    },
    Phase.upload_offer: {
        "text": uploads.on_offer_text,
        "upload": uploads.on_upload,
        "press:balance": uploads.press_balance,
        "press:cancel": jobs.press_cancel_order,
    },
    Phase.annotate_labels: {
        "text": annotating.on_labels,
        "upload": uploads.on_rows_upload,
    },
    Phase.annotate_preview: {
        "text": annotating.on_preview_text,
        "ratings": annotating.typed_ratings,
        "upload": uploads.on_rows_upload,
        "press:labelok": Guarded(annotating.is_shown_row, annotating.press_rating),
        "press:labelwrong": Guarded(annotating.is_shown_row, annotating.press_rating),
        "press:labelall": annotating.press_label_all,
        "press:labelpreview": annotating.press_new_preview,
        "press:cancel": jobs.press_cancel_order,
    },
    Phase.annotate_previewing: {
        "text": jobs.while_busy,
        "ratings": jobs.while_busy,
        "upload": jobs.while_busy,
        "annotation_preview_finished": annotating.preview_finished,
        "job_lost": annotating.preview_lost,
    },
    Phase.annotating: {
        "text": jobs.while_busy,
        "ratings": jobs.while_busy,
        "upload": jobs.while_busy,
        "press:canceljob": Guarded(is_this_job, jobs.press_cancel_job),
        "dataset_delivered": uploads.annotation_delivered,
        "dataset_failed": jobs.failed,
        "job_lost": jobs.job_lost,
    },
}

FALLBACKS: dict[str, Handler] = {
    "/new": commands.new_order,
    "/start": commands.new_order,
    "/help": commands.show_help,
    "/status": commands.status,
    "/cancel": commands.cancel,
    "command": commands.unknown,  # any other "/..."
    "empty": commands.empty,  # an empty message
}

# Where each row may lead (for the diagram; the property test checks every move it sees is listed).
S, CO, CF, PV, RA, GE, DO, UC, UO = (Phase.start, Phase.collecting, Phase.confirm, Phase.previewing, Phase.rating,
                                     Phase.generating, Phase.done, Phase.upload_columns, Phase.upload_offer)
AL, AP, AN, APV = Phase.annotate_labels, Phase.annotate_preview, Phase.annotating, Phase.annotate_previewing
LEADS_TO: dict[tuple[Phase, str], tuple[Phase, ...]] = {
    (S, "text"): (S, CO, CF), (S, "upload"): (S, UC, UO, AL, AP, CO, CF, APV),
    (CO, "text"): (CO, CF), (CO, "upload"): (CO, UC, UO, AL, AP, CF, APV), (CO, "press:task"): (CO, CF), (CO, "press:set"): (CO, CF),
    (CF, "text"): (CF, CO, PV), (CF, "upload"): (CF, UC, UO, AL, AP, CO, APV), (CF, "press:preview"): (PV, CF, CO),
    (CF, "press:generate"): (GE, CF, CO), (CF, "press:change"): (CF, CO), (CF, "press:cancel"): (S,),
    (CF, "press:asfeedback"): (RA,),
    (PV, "text"): (PV,), (PV, "ratings"): (PV,), (PV, "upload"): (PV,), (PV, "preview_finished"): (RA, CF, PV),
    (PV, "job_lost"): (RA, CF),
    (RA, "text"): (RA, CO, CF, GE), (RA, "ratings"): (RA,), (RA, "upload"): (RA, UC, UO, AL, AP, CO, CF, APV), (RA, "press:up"): (RA,),
    (RA, "press:down"): (RA,), (RA, "press:generate"): (GE, RA, CO), (RA, "press:newpreview"): (PV, RA, CO),
    (RA, "press:cancel"): (S,),
    (GE, "text"): (GE,), (GE, "ratings"): (GE,), (GE, "upload"): (GE,), (GE, "press:canceljob"): (RA, CF, GE),
    (GE, "dataset_delivered"): (DO, GE), (GE, "dataset_failed"): (RA, CF, GE), (GE, "job_lost"): (RA, CF),
    (DO, "text"): (DO, CO, CF), (DO, "upload"): (DO, UC, UO, AL, AP, CO, CF, APV),
    (UC, "text"): (UC, UO), (UC, "upload"): (UC, UO, AL, AP, CO, CF, APV),
    (UO, "text"): (UO, CO, CF), (UO, "upload"): (UO, UC, AL, AP, CO, CF, APV), (UO, "press:balance"): (CO, CF, UO), (UO, "press:cancel"): (S,),
    (S, "annotate"): (S,), (CO, "annotate"): (S,), (DO, "annotate"): (S,), (UC, "annotate"): (S, AL, AP, UC, APV),
    (AL, "text"): (AL, AP, APV), (AL, "upload"): (AL, AP, UC, UO, CO, CF, APV),
    (AP, "text"): (AP,), (AP, "ratings"): (AP,), (AP, "upload"): (AP, AL, UC, UO, CO, CF, APV), (AP, "press:labelok"): (AP,),
    (AP, "press:labelwrong"): (AP,), (AP, "press:labelall"): (AN, AP), (AP, "press:labelpreview"): (AP, AL, APV),
    (AP, "press:cancel"): (S,),
    (S, "documents"): (CO, CF), (CO, "documents"): (CO, CF), (CF, "documents"): (CO, CF),
    (RA, "documents"): (CO, CF), (DO, "documents"): (CO, CF),
    (APV, "text"): (APV,), (APV, "ratings"): (APV,), (APV, "upload"): (APV,),
    (APV, "annotation_preview_finished"): (AP, AL, APV), (APV, "job_lost"): (AP, AL),
    (AN, "text"): (AN,), (AN, "ratings"): (AN,), (AN, "upload"): (AN,), (AN, "press:canceljob"): (AP, AN),
    (AN, "dataset_delivered"): (UO, DO, AN), (AN, "dataset_failed"): (AP, AN), (AN, "job_lost"): (AP,),
}

INTERNAL = ("preview_finished", "dataset_delivered", "dataset_failed", "job_lost", "annotation_preview_finished")


def route(phase: Phase, key: str) -> Route | None:
    """The handler for `key` in `phase`: the phase's own row first, then the fallbacks."""
    return TABLE[phase].get(key) or FALLBACKS.get(key)


def handler_name(route: Route) -> str:
    target = route.handler if isinstance(route, Guarded) else route
    guard = f" [if {route.guard.__name__}]" if isinstance(route, Guarded) else ""
    return f"{target.__module__.rsplit('.', 1)[-1]}.{target.__name__}{guard}"


def mermaid() -> str:
    """The machine as a Mermaid state diagram: one arrow per move between two phases, labelled with its events."""
    edges: dict[tuple[Phase, Phase], list[str]] = {}
    for phase, routes in TABLE.items():
        for key in routes:
            for target in LEADS_TO[(phase, key)]:
                if target != phase:
                    edges.setdefault((phase, target), []).append(key)
    lines = ["stateDiagram-v2", "    [*] --> start"]
    lines += [f"    {a.value} --> {b.value}: {' / '.join(keys)}" for (a, b), keys in edges.items()]
    lines.append("    note right of start: /new /start /help /status /cancel work in every phase")
    return "\n".join(lines) + "\n"


def rows_markdown() -> str:
    """The table as Markdown rows (phase, event, handler, may lead to), for docs/conversation.md."""
    lines = ["| phase | event | handler | may lead to |", "|---|---|---|---|"]
    for phase, routes in TABLE.items():
        for key, target in routes.items():
            leads = ", ".join(p.value for p in LEADS_TO[(phase, key)])
            lines.append(f"| {phase.value} | `{key}` | `{handler_name(target)}` | {leads} |")
    for key, handler in FALLBACKS.items():
        lines.append(f"| any | `{key}` | `{handler_name(handler)}` | |")
    lines.append("| any | anything else | earlier-step answer + current question, no change | same |")
    return "\n".join(lines) + "\n"


def docs_section() -> str:
    """What docs/conversation.md shows between its markers (regenerate: python scripts/conversation_doc.py)."""
    return f"```mermaid\n{mermaid()}```\n\n{rows_markdown()}"

