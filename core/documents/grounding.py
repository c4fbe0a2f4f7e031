"""The grounding check of document questions: a judge (core.classify, the same by-id requests as
label verification) reads each row's passages, question and proposed answer and says whether
the passages support the answer. The engine rejects and replaces rows that fail it.

Labels: `supported` (the passages state what the answer says), `not_supported` (the passages
answer the question, but not like this), `not_answerable` (the passages do not answer it).
A factual or reasoning row must come back `supported`; an unanswerable row `not_answerable`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.classify import ClassifyTask
from core.documents.passages import CONTEXT_SEPARATOR, MAX_CHARS, NOT_IN_DOCUMENTS

SUPPORTED, NOT_SUPPORTED, NOT_ANSWERABLE = "supported", "not_supported", "not_answerable"
LABELS = (SUPPORTED, NOT_SUPPORTED, NOT_ANSWERABLE)
UNSUPPORTED = "unsupported answer"
ANSWERABLE = "answerable from the passages"
#: Rows per judge request: each carries one or two passages.
BATCH_SIZE = 5

TASK = ClassifyTask(
    labels=LABELS,
    noun="row",
    instructions=("Each row shows one or two passages from documents, a question and a proposed answer. Judge "
                  "only by the passages, not by what you know."),
    descriptions={
        SUPPORTED: "the passages state what the proposed answer says, and it answers the question",
        NOT_SUPPORTED: "the passages answer the question, but the proposed answer is wrong, incomplete or adds "
                       f"claims they do not make (also when it says '{NOT_IN_DOCUMENTS}' but they do answer it)",
        NOT_ANSWERABLE: "the passages do not contain the answer to the question",
    },
    # Two passages of up to MAX_CHARS each, the question and the answer: never cut.
    max_chars=2 * MAX_CHARS + 1200,
)


def item_text(row: Mapping[str, Any]) -> str:
    """One line for the judge (core.classify flattens it): passages, question, proposed answer.
    The wording 'Passage N: ... Question: ... Proposed answer: ...' is read by the fake server."""
    passages = str(row["context"]).split(CONTEXT_SEPARATOR)
    shown = " ".join(f"Passage {n}: {text}" for n, text in enumerate(passages, 1))
    return f"{shown} Question: {row['question']} Proposed answer: {row['answer']}"


def expected(row: Mapping[str, Any]) -> str:
    return NOT_ANSWERABLE if row["question_type"] == "unanswerable" else SUPPORTED


def rejection(row: Mapping[str, Any]) -> str:
    return ANSWERABLE if row["question_type"] == "unanswerable" else UNSUPPORTED
