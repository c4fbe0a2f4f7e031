"""Questions from my documents in the chat (issue 12 item 2 in every channel): ask or just upload
PDF/Markdown/TXT files, the bot says what it found, asks only what is missing, previews questions
with 👍/👎, Generate all delivers exact counts per question type with every context a passage of
its named source, and the card's questions per document. Unusable files are explained (EN/PL) and
change nothing; a job resumes after a restart without the files."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

import pytest
from fpdf import FPDF

from core.conversation.documents import wants_documents
from core.conversation.state import ConversationState, Phase
from core.documents.passages import CONTEXT_SEPARATOR, SOURCE_SEPARATOR
from core.events import ButtonPress, Document
from core.messages import TEXTS
from core.settings import Settings
from core.spec import TaskType
from tests.dialog_support import all_choices, documents, new_user, previews, texts
from tests.fakes.openai_server import FakeOpenAI
from tests.test_documents import make_markdown, make_pdf


@pytest.mark.parametrize("text, lang", [
    ("test questions from my manual", "en"), ("make an eval set from our docs", "en"), ("quiz me on this PDF", "en"),
    ("I have a PDF, make questions", "en"), ("Q&A pairs from our knowledge base", "en"),
    ("pytania testowe z mojej instrukcji", "pl"), ("ułóż pytania na podstawie naszej dokumentacji", "pl"),
    ("zrób 20 pytań z tego pliku", "pl"), ("pytania do regulaminu", "pl"),
    # the document still to come, or a bot to test on it: "the" is enough then
    ("questions from the document I will send", "en"), ("test my chatbot with questions on the policy", "en"),
    ("make 20 questions from the PDF I am going to upload", "en"), ("quiz questions on the manual we just shared", "en"),
    ("evaluate our support bot with questions about the refund policy", "en"), ("quiz on the attached doc", "en"),
    ("pytania z dokumentu, który wyślę", "pl"), ("20 pytań z pliku, który ci zaraz prześlę", "pl"),
    ("przetestuj mojego chatbota pytaniami o regulamin", "pl"),
    # the user's own customers asking about the user's own policy; a RAG system to evaluate
    ("questions my customers might ask about the return policy", "en"), ("I want to evaluate my RAG pipeline", "en"),
    ("50 questions users might have about our terms", "en"), ("a test set for our RAG chatbot", "en"),
    ("RAG evaluation set, 50 questions", "en"),
    ("pytania, które klienci mogą zadać o naszą politykę zwrotów", "pl"), ("chcę ocenić mój pipeline RAG", "pl"),
    ("zbiór do przetestowania naszego systemu RAG", "pl"),
    # topics, not documents: an ordinary order
    ("write 30 questions about a contract law", None), ("20 questions about the file format csv", None),
    ("pytania o dokumenty tożsamości w Polsce", None), ("10 quiz questions about history", None),
    ("200 tweets about football, positive or negative", None),
    ("write questions about the documents I need for a visa", None), ("questions about the policy", None),
    ("test my chatbot with 50 greetings", None), ("test my chatbot with questions about the French revolution", None),
    ("classify emails about the report I sent", None), ("quiz about the documents we need to sign", None),
    ("przetestuj mojego chatbota pytaniami o historię", None),
    ("pytania o dokument tożsamości, który wydaje urząd", None),
    ("10 quiz questions about RAG", None), ("questions customers ask about shipping", None),
    ("red-team prompts to test my RAG bot", None), ("pytania testowe o RAG", None),
    ("200 support tickets from customers asking about refunds", None),
    ("questions my customers ask about the documents they need for a visa", None),
])
def test_which_messages_ask_for_questions_from_documents(text: str, lang: str | None) -> None:
    assert wants_documents(text) == lang


def pdf_bytes(tmp_path: Path, pages: int = 3) -> bytes:
    path = tmp_path / "manual.pdf"
    make_pdf(path, pages)
    return path.read_bytes()


def markdown_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "guide.md"
    make_markdown(path)
    return path.read_bytes()


def scanned_pdf() -> bytes:
    """A PDF whose page is a drawing only (what a scan looks like to a text extractor)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    return bytes(pdf.output())


def locked_pdf(tmp_path: Path) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(pdf_bytes(tmp_path, 1))).pages:
        writer.add_page(page)
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def read_csv(document: Document) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(document.data.decode("utf-8-sig"))))


def state_of(user) -> ConversationState:  # type: ignore[no-untyped-def]
    row = user.dialog.store.find_conversation("test", user.chat.conversation)
    return ConversationState.load(row.state, row.data_json)


def order_record(user) -> tuple:  # type: ignore[no-untyped-def]
    state = state_of(user)
    return state.phase, state.draft, state.documents, state.job, state.preview_job


def check_grounded(rows: list[dict[str, str]], passages: dict[str, str]) -> None:
    """Every row's context is the passage(s) of the source(s) it names."""
    for row in rows:
        sources = row["source"].split(SOURCE_SEPARATOR)
        assert row["context"].split(CONTEXT_SEPARATOR) == [passages[s] for s in sources], row["source"]


async def test_questions_from_my_manual_end_to_end(settings: Settings, fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    user = await new_user(settings)
    try:
        asked = await user.send("test questions from my manual")
        assert "Send me the documents" in texts(asked)
        assert state_of(user).phase == Phase.collecting
        read = texts(await user.upload("manual.pdf", pdf_bytes(tmp_path)))
        assert "Read manual.pdf: 3 pages with text, 3 passages." in read, read
        assert "How many questions?" in read
        read = texts(await user.upload("guide.md", markdown_bytes(tmp_path)))
        assert "Read guide.md: 3 sections" in read and "In all: 2 documents, 5 passages" in read, read
        # the mix of question types named with the count: a whole order, the language defaults to the user's
        summary = await user.send("12 questions: 6 factual, 3 reasoning, 3 unanswerable")
        said = texts(summary)
        assert "Language of the questions: English" in said, said
        assert "Question types: factual 6, reasoning 3, unanswerable 3" in said, said
        assert "Documents: manual.pdf (3 pages with text), guide.md (3 sections); 5 passages" in said
        # a stale button of an earlier step (the count question's "50") changes nothing
        before = order_record(user)
        assert "earlier step" in texts(await user.send(ButtonPress("set", "count=50")))
        assert "earlier step" in texts(await user.send(ButtonPress("labelall")))
        assert order_record(user) == before
        shown = await user.press(summary, "preview")
        [preview] = previews(shown)
        assert {line.split(": ", 1)[1] for item in preview.items for line in item.text.splitlines()
                if line.startswith("question_type: ")} == {"factual", "reasoning", "unanswerable"}
        assert all("source: " in item.text for item in preview.items)
        await user.send(ButtonPress(preview.items[0].choices[0].action, preview.items[0].choices[0].value))  # 👍
        done = await user.press(shown, "generate")
        data, card = documents(done)[:2]
        rows = read_csv(data)
        assert Counter(r["question_type"] for r in rows) == {"factual": 6, "reasoning": 3, "unanswerable": 3}
        spec_passages = user.dialog.store.get_job(state_of(user).job).spec_json
        from core.spec import stored_spec

        passages = {p.source: p.text for p in stored_spec(spec_passages).passages}
        check_grounded(rows, passages)
        assert all(r["answer"] == "not in the documents" for r in rows if r["question_type"] == "unanswerable")
        assert {s.split(" ", 1)[0] for r in rows for s in r["source"].split(SOURCE_SEPARATOR)} <= {"manual.pdf", "guide.md"}
        assert "Questions per document: manual.pdf:" in texts(done)
        assert "## Questions per document" in card.data.decode() and "| manual.pdf |" in card.data.decode()
        assert state_of(user).phase == Phase.done
    finally:
        await user.dialog.aclose()


async def test_a_bot_to_test_on_a_policy_starts_a_documents_order_and_6_in_english_is_the_count(
        settings: Settings, fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    user = await new_user(settings)
    try:
        asked = await user.send("test my chatbot with questions on the policy")
        assert "Send me the documents" in texts(asked), texts(asked)
        read = texts(await user.upload("guide.md", markdown_bytes(tmp_path)))
        assert "How many questions?" in read, read
        said = texts(await user.send("6 in English"))
        assert state_of(user).phase == Phase.confirm, said
        assert "Questions: 6" in said and "Language of the questions: English" in said, said
    finally:
        await user.dialog.aclose()


@pytest.mark.parametrize("text", ["questions my customers might ask about the return policy",
                                  "I want to evaluate my RAG pipeline"])
async def test_customers_questions_and_a_rag_to_evaluate_ask_for_the_documents(
        settings: Settings, fake_llm: FakeOpenAI, tmp_path: Path, text: str) -> None:
    user = await new_user(settings)
    try:
        asked = texts(await user.send(text))
        assert "Send me the documents" in asked, asked
        assert state_of(user).draft is not None and state_of(user).draft.task == TaskType.documents
        read = texts(await user.upload("guide.md", markdown_bytes(tmp_path)))
        assert "How many questions?" in read, read
    finally:
        await user.dialog.aclose()


async def test_polish_uploads_without_asking_and_bad_files_change_nothing(
        settings: Settings, fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    user = await new_user(settings)
    try:
        await user.send("cześć, potrzebuję pytań")
        # a Markdown file alone starts a documents order; then a .txt is a document too (not rows to label)
        read = texts(await user.upload("przewodnik.md", markdown_bytes(tmp_path)))
        assert "Wczytałem przewodnik.md: sekcji: 3" in read and "Ile pytań?" in read, read
        note = ("Pompę należy zalać wodą przed pierwszym użyciem. Silnik pobiera 800 watów. " * 12).encode()
        read = texts(await user.upload("notatki.txt", note))
        assert "Wczytałem notatki.txt" in read and "Razem: dokumentów: 2" in read, read
        before = order_record(user)
        cases = [
            ("skan.pdf", scanned_pdf(), "wygląda na skan"),
            ("tajne.pdf", locked_pdf(tmp_path), "chroniony hasłem"),
            ("zepsuty.pdf", b"%PDF-1.4 garbage", "to nie jest czytelny PDF"),
            ("program.exe", b"MZ\x90\x00", "PDF, DOCX, Markdown, HTML, TXT"),
            ("obraz.png", b"\x89PNG\r\n\x1a\n", "Nie mogę użyć pliku obraz.png"),
        ]
        for name, data, expected in cases:
            said = texts(await user.upload(name, data))
            assert expected in said, (name, said)
            assert "Traceback" not in said
            assert order_record(user) == before, name
        big = b"#" * (settings.max_upload_bytes + 1)
        said = texts(await user.upload("ogromny.md", big))
        assert "DATAGEN_MAX_UPLOAD_BYTES" in said and "ogromny.md" in said, said
        assert order_record(user) == before
        said = texts(await user.send("20"))
        assert "W jakim języku mają być pytania?" in said, said
        summary = texts(await user.send("po polsku, 10 faktograficznych i 5 bez odpowiedzi"))
        assert "Typy pytań: faktograficzne 10, rozumowanie 5, bez odpowiedzi 5" in summary, summary
        assert "Język pytań: polski" in summary
        shown = await user.send("1")  # Generate preview, typed
        assert previews(shown), texts(shown)
        done = await user.press(shown, "generate")
        data, card = documents(done)[:2]
        rows = read_csv(data)
        assert Counter(r["question_type"] for r in rows) == {"factual": 10, "reasoning": 5, "unanswerable": 5}
        assert "Pytania na dokument: przewodnik.md:" in texts(done)
        # the card's documents part speaks the chat's language: no English sentence of it is left
        card_text = card.data.decode()
        assert "## Pytania według dokumentu" in card_text and "| Dokument | Udział w tekście |" in card_text
        assert "## Sprawdzenie zgodności z dokumentami" in card_text and "Odrzucone odpowiedzi bez oparcia" in card_text
        for key in ("card_documents", "card_documents_header", "card_documents_note", "card_grounding",
                    "card_grounding_on", "card_grounding_unsupported", "card_grounding_answerable", "card_task_documents"):
            for fragment in re.split(r"\{\w+\}|\|", TEXTS[key]["en"]):
                fragment = fragment.strip(" .:'")
                assert len(fragment) < 6 or fragment not in card_text, (key, fragment)
    finally:
        await user.dialog.aclose()


async def test_a_txt_is_rows_unless_the_order_is_about_documents(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        said = texts(await user.upload("tickets.txt", b"where is my parcel\nI want a refund\nhello there\n"))
        assert "Read 3 rows to label" in said, said
        assert state_of(user).phase == Phase.annotate_labels
    finally:
        await user.dialog.aclose()


async def test_a_documents_job_resumes_after_a_restart_without_the_files(
        settings: Settings, fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    from tests.dialog_support import wait_for_rows

    user = await new_user(settings)
    await user.send("pytania testowe z mojej instrukcji")
    await user.upload("manual.pdf", pdf_bytes(tmp_path))
    await user.send("30")
    summary = await user.send("angielski")
    shown = await user.press(summary, "preview")
    fake_llm.latency = 0.3
    await user.press(shown, "generate", settle=False)
    job_id = state_of(user).job
    await wait_for_rows(user.dialog.store, job_id, minimum=2)
    await user.dialog.aclose()  # a deploy: the job goes back to pending
    fake_llm.latency = 0.0
    (tmp_path / "manual.pdf").unlink()  # the files are gone; the job has its passages
    again = await new_user(settings)
    try:
        await again.dialog.wait_idle()
        replies = again.take()
        assert f"#{job_id}" in texts(replies)
        rows = read_csv(documents(replies)[0])
        assert len(rows) == 30 and Counter(r["question_type"] for r in rows) == \
            {"factual": 10, "reasoning": 10, "unanswerable": 10}
    finally:
        await again.dialog.aclose()


def test_terminal_questions_from_a_pdf(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    """`datagen chat` as a user runs it: /upload a PDF and a Markdown file (a path with a space,
    quoted) in one line, the count, the language, preview, Generate all."""
    from tests.test_terminal import _run

    out = tmp_path / "out"
    (tmp_path / "docs").mkdir()
    make_pdf(tmp_path / "docs" / "manual.pdf")
    (tmp_path / "docs" / "my guide.md").write_bytes(markdown_bytes(tmp_path))
    lines = [f"/upload {tmp_path / 'docs' / 'manual.pdf'} '{tmp_path / 'docs' / 'my guide.md'}'", "9", "1", "1", "1"]
    result = _run(lines, fake_llm, tmp_path, out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "Read manual.pdf: 3 pages with text" in result.stdout, result.stdout
    assert "Read my guide.md: 3 sections" in result.stdout  # two files in one /upload line
    [path] = [p for p in out.glob("dataset-*.csv")]
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert Counter(r["question_type"] for r in rows) == {"factual": 3, "reasoning": 3, "unanswerable": 3}
    assert {s.split(" p. ")[0].split(" § ")[0] for r in rows for s in r["source"].split(SOURCE_SEPARATOR)} \
        <= {"manual.pdf", "my guide.md"}


async def test_telegram_documents_and_the_20_mb_limit(settings: Settings, fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    """The real python-telegram-bot against the fake Bot API: a PDF message read as a document, a
    file over Telegram's 20 MB bot download limit explained in Polish and never downloaded."""
    from tests.fakes.telegram_server import FakeTelegramServer
    from tests.test_telegram import CHAT, running_bot, telegram_settings

    async with FakeTelegramServer() as tg:
        async with running_bot(telegram_settings(settings, tg, max_upload_bytes=50_000_000, telegram_local_mode=False)):
            tg.push_document(CHAT, CHAT, "wielki.pdf", b"%PDF", mime_type="application/pdf", username="alice",
                             declared_size=25_000_000, language_code="pl")
            said = await tg.wait_for(lambda: [m for m in tg.messages_to(CHAT) if "wielki.pdf" in m.text], what="limit")
            assert "Telegram pozwala botom pobierać pliki najwyżej do 20 MB" in said[0].text
            assert tg.file_downloads == []
            tg.push_document(CHAT, CHAT, "manual.pdf", pdf_bytes(tmp_path), mime_type="application/pdf",
                             username="alice")
            await tg.wait_for(lambda: [m for m in tg.messages_to(CHAT) if "Read manual.pdf: 3 pages" in m.text],
                              what="the document read")
            tg.push_message(CHAT, CHAT, "6", username="alice")
            tg.push_message(CHAT, CHAT, "English", username="alice")
            summary = await tg.wait_for(lambda: next((m for m in tg.messages_to(CHAT) if m.button("Generate preview")),
                                                     None), what="the summary")
            tg.press(CHAT, CHAT, summary, "Generate preview")
            final = await tg.wait_for(lambda: next((m for m in tg.messages_to(CHAT) if m.button("Generate all")), None),
                                      what="the preview")
            tg.press(CHAT, CHAT, final, "Generate all")
            docs = await tg.wait_for(lambda: (lambda d: d if len(d) >= 2 else None)(tg.documents_to(CHAT)),
                                     timeout=30, what="the files")
    rows = list(csv.DictReader(io.StringIO(docs[0].document.data.decode("utf-8-sig"))))  # type: ignore[union-attr]
    assert Counter(r["question_type"] for r in rows) == {"factual": 2, "reasoning": 2, "unanswerable": 2}


async def test_slack_documents_in_one_message_and_the_size_setting(settings: Settings, fake_llm: FakeOpenAI,
                                                                   tmp_path: Path) -> None:
    """slack-bolt and the fake Slack Web API: a PDF and a Markdown file shared in one message are
    both read; a file over our size setting is explained and not downloaded."""
    from tests.fakes.slack_server import FakeSlack
    from tests.test_slack import has_action, running_bot

    with FakeSlack() as slack:
        async with running_bot(settings, slack, fake_llm) as harness:
            await harness.reply("D0ALICE", None, "make test questions from our docs")
            await slack.wait_message(lambda m: "Send me the documents" in m["text"], what="the ask")
            pdf = slack.add_file("manual.pdf", pdf_bytes(tmp_path), mimetype="application/pdf")
            guide = slack.add_file("guide.md", markdown_bytes(tmp_path), mimetype="text/markdown")
            huge = {**slack.add_file("huge.pdf", b"%PDF"), "size": settings.max_upload_bytes * 2}
            await harness.reply("D0ALICE", None, "", files=[pdf, guide, huge])
            await slack.wait_message(lambda m: "In all: 2 documents" in m["text"], what="both read")
            await slack.wait_message(lambda m: "huge.pdf is" in m["text"] and "DATAGEN_MAX_UPLOAD_BYTES" in m["text"],
                                     what="the size answer")
            assert [d for d in slack.downloads if "huge" in str(d)] == []
            await harness.reply("D0ALICE", None, "6 questions in English")
            summary = await slack.wait_message(has_action("preview", channel="D0ALICE"), what="the summary")
            assert "guide.md" in str(summary["blocks"])
