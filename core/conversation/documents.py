"""Questions from my documents, in the chat: the user asks for test questions from a manual, or
just sends a PDF/DOCX/Markdown/HTML/TXT (several, one after another); each file is converted and
split by core/documents (in a thread), its passages are stored apart (an upload record per file),
and the order is a `task: documents` order of the ordinary flow: the missing things are asked
(how many questions and of which types, their language), then preview with 👍/👎, Generate all,
the job (resumable: the passages travel in the job's spec), the file and the card.

Which upload is a document: .pdf .docx .md .markdown .html .htm always; .txt only when the order
is a documents order (the user asked for questions from documents, or sent a document already).
Otherwise a .txt is rows (to label, or examples), as before.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import PurePosixPath
from typing import Any

from core import intake
from core import messages as m
from core.conversation import collecting
from core.conversation.collecting import Text
from core.conversation.reply_threads import blocking
from core.conversation.state import DocumentFile, Phase
from core.conversation.turn import Turn
from core.documents.convert import MAX_TOTAL_CHARS, DocumentError, sections_of
from core.documents.passages import QUESTION_TYPES, SOURCE_SEPARATOR, Passage, split_sections
from core.events import FileUpload
from core.intake import SpecDraft
from core.spec import DatasetSpec, TaskType

ALWAYS_DOCUMENTS = (".pdf", ".docx", ".md", ".markdown", ".html", ".htm")
TEXT = ".txt"
COLUMNS = ["document", "source", "text"]  # how a file's passages are stored (one upload record per file)

_THINGS_EN = (r"manuals?|documents?|docs?|documentation|pdfs?|files?|guides?|handbooks?|polic(?:y|ies)|"
              r"instructions|knowledge base|articles?|reports?|contracts?|regulations?|terms|faqs?|notes")
#: "test questions from my manual", "make an eval set from our docs", "quiz me on this PDF"
WANTS_EN = re.compile(
    r"\b(?:questions?|quiz(?:zes)?|tests?|evals?|evaluation(?: set)?|q ?& ?as?)\b.{0,40}?"
    r"\b(?:from|about|on|based on|out of|over|for)\b.{0,20}?\b(?:my|our|these|this|the attached|the uploaded)\b.{0,25}?"
    rf"\b(?:{_THINGS_EN})\b", re.IGNORECASE)
_THINGS_PL = (r"instrukcj\w*|dokument\w*|dokumentacj\w*|podręczni\w*|pdf\w*|plik\w*|regulamin\w*|polityk\w*|"
              r"procedur\w*|umow\w*|raport\w*|notatk\w*|artykuł\w*|przewodnik\w*")
#: "pytania testowe z mojej instrukcji", "ułóż pytania na podstawie naszej dokumentacji"
WANTS_PL = re.compile(
    r"\b(?:pyta\w*|quiz\w*|test\w*)\b.{0,40}?(?:\b(?:z|ze|do|na podstawie|o|dotyczące|dla)\b.{0,20}?"
    rf"\b(?:moj\w*|nasz\w*|t\w{{0,4}}|tego|tej|tych|załączon\w*)\b.{{0,25}}?|\b(?:do|na podstawie)\s+)"
    rf"\b(?:{_THINGS_PL})", re.IGNORECASE)


#: "I have a PDF, make test questions", "our handbook: 20 questions" (the thing named first)
WANTS_EN_AFTER = re.compile(rf"\b(?:my|our|this|these|a)\s+(?:{_THINGS_EN})\b.{{0,40}}?\b(?:questions?|quiz|evals?)\b",
                            re.IGNORECASE)


_QUESTIONS_EN = re.compile(r"\b(?:questions?|quiz(?:zes)?|tests?|evals?|evaluation|q ?& ?as?)\b", re.IGNORECASE)
#: "the document I will send", "the PDF we're uploading", "the manual I attached" (any determiner: the
#: sending says whose it is)
TO_SEND_EN = re.compile(
    rf"\b(?:{_THINGS_EN})\b,?\s+(?:that\s+|which\s+)?(?:i|we)\b(?:'ll|'m|'re|'ve| will| am| are| have| shall)?"
    r"(?:\s+(?:just|soon|now|then|going to|about to))*\s+(?:send|sent|sending|upload\w*|attach\w*|shar(?:e|ed|ing)|"
    r"paste\w*|provid\w+|give|giving|forward\w*)\b", re.IGNORECASE)
#: "test my chatbot with questions on the policy": a bot to test and the thing its questions are about
TESTS_A_BOT_EN = re.compile(
    r"\b(?:test\w*|evaluat\w*|evals?|benchmark\w*|check)\b.{0,20}?\b(?:my|our|the|a)\s+(?:\w+\s+)?"
    r"(?:chat ?bots?|bots?|assistants?|rag|agents?|search)\b.{0,40}?\b(?:questions?|quiz\w*|q ?& ?as?)\b.{0,20}?"
    rf"\b(?:on|about|from|over|based on|out of)\s+(?:the|my|our|this|these|its)\s+(?:\w+\s+)?(?:{_THINGS_EN})\b",
    re.IGNORECASE)
_QUESTIONS_PL = re.compile(r"\b(?:pyta\w*|quiz\w*|test\w*)\b", re.IGNORECASE)
#: "z dokumentu, który wyślę", "z pliku, który ci zaraz prześlę", "z PDF-a, co go załączę"
TO_SEND_PL = re.compile(
    rf"\b(?:{_THINGS_PL})[\w-]*,?\s+(?:kt[oó]r\w*|co|jak\w*)\s+(?:\w+\s+){{0,2}}?"
    r"(?:wy[sś]l[eę]|prze[sś]l[eę]|pode[sś]l[eę]|za[lł][aą]cz[eę]|wrzuc[eę]|wgram|wklej[eę]|"
    r"udost[eę]pni[eę]|dam|"
    r"wysy[lł]am|przesy[lł]am|za[lł][aą]czam|dostaniesz|dostanie\w*|wys[lł]a[lł]\w*|przes[lł]a[lł]\w*|"
    r"za[lł][aą]czy[lł]\w*)\b", re.IGNORECASE)
#: "przetestuj mojego chatbota pytaniami o regulamin"
TESTS_A_BOT_PL = re.compile(
    r"\b(?:przetestuj\w*|testuj\w*|test\w*|sprawd[zź]\w*|oce[nń]\w*)\b.{0,25}?\b(?:chat ?bot\w*|bot\w*|asystent\w*|"
    r"agent\w*|rag\w*)\b.{0,40}?\bpyta\w*\b.{0,20}?\b(?:o|z|ze|na temat|dotycz\w*|na podstawie)\s+(?:\w+\s+)?"
    rf"(?:{_THINGS_PL})", re.IGNORECASE)


_ASKERS_EN = r"customers?|clients?|users?|employees?|staff|students?|patients?|visitors?|readers?|members?|guests?|buyers?"
#: "questions my customers might ask about the return policy": the user's own people asking about
#: the user's own document
ASKED_ABOUT_EN = re.compile(
    rf"\bquestions?\b.{{0,30}}?\b(?:{_ASKERS_EN})\b.{{0,30}}?\b(?:ask|asks|asked|asking|have|raise|send)\b.{{0,15}}?"
    rf"\b(?:about|on|regarding|concerning)\s+(?:the|our|my|this|these|your)\s+(?:[\w-]+\s+){{0,2}}?(?:{_THINGS_EN})\b"
    r"(?!,?\s+(?:that\s+|which\s+)?(?:i|we|they|you|people)\s+(?:need|must|have to))",  # "the documents they need for a visa"
    re.IGNORECASE)
_ASKERS_PL = r"klien\w*|użytkowni\w*|uzytkowni\w*|pracowni\w*|student\w*|pacjen\w*|czytelni\w*|gości\w*|kupując\w*"
#: "pytania, które klienci mogą zadać o naszą politykę zwrotów"
ASKED_ABOUT_PL = re.compile(
    rf"\bpyta\w*\b.{{0,30}}?\b(?:{_ASKERS_PL})\b.{{0,40}}?\b(?:o|na temat|dotycząc\w*|w sprawie)\s+"
    rf"(?:\w+\s+){{0,2}}?(?:{_THINGS_PL})", re.IGNORECASE)
#: "I want to evaluate my RAG pipeline", "a test set for our RAG", "RAG eval set": a RAG system is
#: evaluated with questions from its documents
RAG_EN = re.compile(
    r"\b(?:evaluat\w*|eval|test|testing|benchmark\w*|assess\w*|measure|check)\b.{0,25}?\b(?:my|our|the|this|a)\s+"
    r"(?:[\w-]+\s+){0,2}?(?:rag|retrieval[- ]augmented)\b"
    r"|\b(?:rag|retrieval[- ]augmented(?: generation)?)\b[\s-]*(?:\w+\s+)?(?:eval\w*|test(?:ing)? (?:set|data\w*|questions)|benchmark\w*)",
    re.IGNORECASE)
#: "chcę ocenić mój pipeline RAG", "zbiór do ewaluacji naszego RAG-a"
RAG_PL = re.compile(
    r"\b(?:oceni\w*|ocen\w*|ewaluac\w*|ewaluow\w*|przetest\w*|testow\w*|sprawdzi\w*|zbada\w*)\b.{0,25}?"
    r"\b(?:m[oó]j|moj\w*|nasz\w*|tego|ten|t[aą]|t[eę])\s+(?:[\w-]+\s+){0,2}?rag\w*", re.IGNORECASE)


#: "red-team prompts to test my RAG bot" is a red-team order, not questions from documents
_RED_TEAM = re.compile(r"red[\s-]?team|jailbreak|prompt injection|attack|atak", re.IGNORECASE)


def wants_documents(text: str) -> str | None:
    """The language of a "questions from my documents" request, None when the text is not one. A thing
    named with "the" is a topic ("questions about the file format") unless the user will send it or
    the questions are to test a bot on it."""
    if WANTS_PL.search(text) or TESTS_A_BOT_PL.search(text) or (_QUESTIONS_PL.search(text) and TO_SEND_PL.search(text)) \
            or ASKED_ABOUT_PL.search(text) or (RAG_PL.search(text) and not _RED_TEAM.search(text)):
        return "pl"
    if WANTS_EN.search(text) or WANTS_EN_AFTER.search(text) or TESTS_A_BOT_EN.search(text) or ASKED_ABOUT_EN.search(text) \
            or (RAG_EN.search(text) and not _RED_TEAM.search(text)):
        return "en"
    return "en" if _QUESTIONS_EN.search(text) and TO_SEND_EN.search(text) else None


def is_documents_order(turn: Turn) -> bool:
    draft = turn.state.draft
    return draft is not None and draft.task == TaskType.documents


def is_document(turn: Turn, filename: str) -> bool:
    suffix = PurePosixPath(filename).suffix.lower()
    return suffix in ALWAYS_DOCUMENTS or (suffix == TEXT and is_documents_order(turn))


def new_order(turn: Turn) -> None:
    """A fresh documents order (the old order, if any, is dropped; the model was introduced already)."""
    turn.state = turn.state.fresh()
    turn.state.draft = SpecDraft(task=TaskType.documents, labels=list(QUESTION_TYPES))


# --- handlers --------------------------------------------------------------------------------------


async def want(turn: Turn, event: Any) -> Phase:
    """ "Test questions from my manual": a documents order; what the sentence already says (how many,
    which types, which language) is kept; then the files are asked for (or the next missing thing)."""
    text = event.text if isinstance(event, Text) else getattr(event, "text", "")
    if not is_documents_order(turn):
        new_order(turn)
    interp = intake.interpret(text, turn.state.draft_or_empty())
    if collecting.has_changes(interp):
        collecting.apply_interpretation(turn, interp)
    return collecting.advance(turn)


async def accept(turn: Turn, event: FileUpload) -> Phase:
    """A document: convert and split it off the event loop, store its passages, say what was found,
    ask what is missing. A file that cannot be used is explained and changes nothing."""
    limit = turn.dialog.settings.max_upload_bytes
    if len(event.data) > limit:
        turn.say("upload_limit_setting", filename=event.filename, size=m.human_size(len(event.data)),
                 limit=m.human_size(limit))
        return turn.state.phase
    already = sum(f.chars for f in turn.state.documents if f.name != event.filename) if is_documents_order(turn) else 0
    try:
        passages, places = await asyncio.to_thread(convert, event.filename, event.data, MAX_TOTAL_CHARS - already)
    except DocumentError as exc:
        reason = turn.t(f"documents_reason_{exc.reason}", limit=f"{MAX_TOTAL_CHARS:,}", error=str(exc)) \
            if f"documents_reason_{exc.reason}" in m.TEXTS else str(exc)
        turn.say("documents_unreadable", filename=event.filename, reason=reason)
        return turn.state.phase
    if not is_documents_order(turn):
        new_order(turn)
    state = turn.state
    records = [{"document": p.document, "source": p.source, "text": p.text} for p in passages]
    upload_id = await blocking(turn.dialog.store.save_upload, turn.conversation_id, event.filename, COLUMNS,
                                        records)
    if any(f.name == event.filename for f in state.documents):
        turn.say("documents_replaced", filename=event.filename)
    state.documents = [f for f in state.documents if f.name != event.filename] + [DocumentFile(
        name=event.filename, upload_id=upload_id, places=places, passages=len(passages),
        chars=sum(len(p.text) for p in passages), paged=event.filename.lower().endswith(".pdf"))]
    state.preview_items = {}  # a preview of the documents before this one no longer shows the order
    where = turn.t("documents_pages" if state.documents[-1].paged else "documents_sections", n=places)
    turn.say("documents_read", filename=event.filename, places=where, passages=len(passages))
    if len(state.documents) > 1:
        turn.say("documents_total", files=len(state.documents), passages=sum(f.passages for f in state.documents))
    return collecting.advance(turn)


def convert(filename: str, data: bytes, room: int) -> tuple[list[Passage], int]:
    """(passages, pages or sections with text) of one file; blocking: call in a thread."""
    try:
        sections = sections_of(filename, data)
    except DocumentError:
        raise
    except Exception as exc:  # noqa: BLE001  # pypdf and markitdown raise their own kinds on broken files
        raise DocumentError(f"{filename}: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}",
                            "pdf" if filename.lower().endswith(".pdf") else "other") from None
    if sum(len(s.text) for s in sections) > room:
        raise DocumentError(f"{filename}: too much text", "too_much")
    passages = split_sections(sections)
    if not passages:
        raise DocumentError(f"{filename} holds no text", "empty")
    return passages, len({s.location for s in sections})


# --- what the rest of the flow needs ----------------------------------------------------------------


async def with_passages(turn: Turn, spec: DatasetSpec) -> DatasetSpec:
    """The spec of a documents order with every document's passages (the job keeps them: it resumes
    without the files); any other spec as it is."""
    if spec.task != TaskType.documents:
        return spec
    passages = await blocking(load_passages, turn.dialog.store, [f.upload_id for f in turn.state.documents])
    return spec.model_copy(update={"passages": passages})


def load_passages(store: Any, upload_ids: list[int]) -> list[Passage]:
    passages: list[Passage] = []
    for upload_id in upload_ids:
        stored = store.load_upload(upload_id)
        passages += [Passage(document=r["document"], source=r["source"], text=r["text"]) for r in (stored[2] if stored else [])]
    return passages


def per_document(spec: DatasetSpec, rows: list[Any]) -> str:
    """ "manual.pdf: 8, guide.md: 4" for the delivery caption (a question over two documents counts for both)."""
    document_of = {p.source: p.document for p in spec.passages or []}
    counts: Counter[str] = Counter({p.document: 0 for p in spec.passages or []})
    for row in rows:
        sources = str(row.fields.get("source", "")).split(SOURCE_SEPARATOR)
        for document in {document_of.get(source, source) for source in sources}:
            counts[document] += 1
    return ", ".join(f"{document}: {n}" for document, n in counts.items())
