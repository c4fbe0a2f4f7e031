"""Document questions pass the language check of the other datasets (core/language.py,
DATAGEN_LANGUAGE_CHECK): in a Polish order a question or answer written in English is rejected
("wrong language") and replaced, exact counts per question type still hold, and the fixed
"not in the documents" answer of unanswerable questions is exempt. End to end through
`datagen generate spec.yaml --documents DIR` against the fake server."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, select

from core.documents.passages import NOT_IN_DOCUMENTS
from storage.models import Example
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI
from tests.test_headless import environment, generate, read_rows

POMPA = ("Pompę należy zalać wodą przed pierwszym użyciem. Silnik pobiera osiemset watów i przepompowuje "
         "trzy i pół tysiąca litrów na godzinę. Wąż ssący może mieć najwyżej siedem metrów długości. ")
GWARANCJA = ("Gwarancja obowiązuje przez dwa lata od dnia zakupu i obejmuje silnik oraz uszczelki. "
             "Reklamację można złożyć w każdym sklepie sieci razem z dowodem zakupu. ")
ORDER = "task: documents\nlanguage: Polish\nlabel_counts: {factual: 6, reasoning: 4, unanswerable: 4}\n"


@pytest.fixture
def polish_documents(tmp_path: Path) -> Path:
    folder = tmp_path / "dokumenty"
    folder.mkdir()
    (folder / "instrukcja.md").write_text("# Instrukcja pompy\n\n## Uruchomienie\n\n" + POMPA * 6 + "\n\n"
                                          "## Gwarancja\n\n" + GWARANCJA * 6 + "\n", encoding="utf-8")
    return folder


def _run(fake: FakeOpenAI, tmp_path: Path, documents: Path, **env: str) -> list[dict[str, str]]:
    (tmp_path / "spec.yaml").write_text(ORDER, encoding="utf-8")
    done = generate(tmp_path, environment(fake.base_url, tmp_path, **env), "spec.yaml", "--documents",
                    str(documents), "-o", "pytania.csv", timeout=120)
    assert done.returncode == 0, done.stderr
    return read_rows(tmp_path / "pytania.csv")


def _judged(tmp_path: Path) -> list[Example]:
    store = Store.from_url(f"sqlite:///{tmp_path}/jobs.db")
    with Session(store.engine) as session:
        return list(session.exec(select(Example)).all())


def test_english_questions_and_answers_of_a_polish_order_are_rejected_and_replaced(
        fake_llm: FakeOpenAI, tmp_path: Path, polish_documents: Path) -> None:
    fake_llm.wrong_language_share = 0.25  # every 4th row: an English question, or an English answer
    rows = _run(fake_llm, tmp_path, polish_documents)
    assert Counter(row["question_type"] for row in rows) == {"factual": 6, "reasoning": 4, "unanswerable": 4}
    english = fake_llm.wrong_language_rows
    assert len(english) >= 3  # the fault was served
    assert not {" ".join(row["question"].split()) for row in rows} & english
    # the unanswerable rows keep the fixed English marker: exempt from the check
    assert all(row["answer"] == NOT_IN_DOCUMENTS for row in rows if row["question_type"] == "unanswerable")
    # Every English row the engine judged was rejected for its language, and no Polish row was
    # (answers still in flight when the last quota fills are never judged: count stored rows).
    judged = _judged(tmp_path)
    english_judged = [e for e in judged if " ".join(json.loads(e.fields_json).get("question", "").split()) in english]
    assert english_judged and all(e.reason == "wrong language" for e in english_judged)
    assert any(json.loads(e.fields_json)["answer"] != NOT_IN_DOCUMENTS and
               " ".join(json.loads(e.fields_json)["question"].split()) in english for e in english_judged)
    assert sum(e.reason == "wrong language" for e in judged) == len(english_judged)
    # and they cost no grounding-judge request: the judge saw Polish rows only
    grounded = " ".join(str(body["messages"]) for body in fake_llm.requests if "Proposed answer:" in str(body["messages"]))
    assert grounded and not any(question in grounded for question in english)


def test_with_the_check_off_english_document_questions_get_through(
        fake_llm: FakeOpenAI, tmp_path: Path, polish_documents: Path) -> None:
    fake_llm.wrong_language_share = 0.25
    rows = _run(fake_llm, tmp_path, polish_documents, DATAGEN_LANGUAGE_CHECK="off")
    assert {" ".join(row["question"].split()) for row in rows} & fake_llm.wrong_language_rows
    assert not any(e.reason == "wrong language" for e in _judged(tmp_path))
