"""The conversation as a table: the doc shows the table, stale buttons change nothing, and random
event sequences never break the machine (issue 10; the fuzz part of issue 9 item 6)."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from core.conversation import table
from core.conversation.state import ConversationState, Phase
from core.events import ButtonPress, ChatRef, Choice, FileUpload, Message, Reply
from core.settings import Settings
from tests.dialog_support import (
    SEED_PROMPT,
    User,
    all_choices,
    csv_rows,
    documents,
    label_counts,
    new_user,
    previews,
    texts,
)
from tests.fakes.openai_server import FakeOpenAI

ROOT = Path(__file__).resolve().parent.parent
STALE = "That button belongs to an earlier step"
UNBALANCED_CSV = b"text,label\nlovely,positive\ngreat,positive\nsuperb,positive\nawful,negative\n"
ODD_COLUMNS_CSV = b"review,stars\nlovely,5\nawful,1\n"
UNLABELED_TXT = b"lovely shoes\nawful service\nthe parcel came late\nthanks, all good\n"
GUIDE_MD = ("# Pump guide\n\n## Setup\n\n" + "Connect the hose to the inlet valve and tighten it by hand. " * 20 +
            "\n\n## Cleaning\n\n" + "Rinse the filter every month and dry it in the shade. " * 20).encode()


def test_docs_show_the_table() -> None:
    doc = (ROOT / "docs" / "conversation.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- conversation-table:begin \(generated\) -->\n(.*?)<!-- conversation-table:end -->", doc, re.DOTALL)
    assert found, "docs/conversation.md lost its generated table section"
    assert found.group(1) == table.docs_section(), "docs differ from the table: run python scripts/conversation_doc.py"


def test_every_phase_answers_text_and_uploads_and_declares_where_it_leads() -> None:
    for phase, routes in table.TABLE.items():
        assert "text" in routes and "upload" in routes, phase
        for key in routes:
            assert (phase, key) in table.LEADS_TO, (phase, key)
    assert set(table.LEADS_TO) == {(p, k) for p, routes in table.TABLE.items() for k in routes}


# --- stale buttons -----------------------------------------------------------------------------


def order_record(user: User) -> tuple:
    """What a stale button must not touch: the order, its jobs, ratings, feedback, upload."""
    store = user.dialog.store
    row = store.find_conversation("test", user.chat.conversation)
    assert row is not None
    state = ConversationState.load(row.state, row.data_json)
    jobs = sorted(j.id for j in store.unfinished_jobs())  # (their status moves on while they run)
    return (state.draft, state.job, state.preview_job, state.ratings, state.feedback, state.upload,
            state.preview_items, state.upload_plan, state.annotation, state.wants_annotation, state.documents, jobs)


def phase_of(user: User) -> Phase:
    row = user.dialog.store.find_conversation("test", user.chat.conversation)
    assert row is not None
    return Phase(row.state)


async def press_stale(user: User, buttons: list[Choice], offered_now: list[Choice]) -> None:
    """Press every button that is not one of the current step's: each gets the earlier-step answer,
    the current question again, and changes nothing."""
    now = {(c.action, c.value) for c in offered_now}
    phase, record = phase_of(user), order_record(user)
    pressed = 0
    for button in buttons:
        if (button.action, button.value) in now:
            continue
        if phase == Phase.rating and button.action in ("up", "down"):
            continue  # 👍/👎 of the previews shown stay valid while rating
        if phase == Phase.annotate_preview and button.action in ("labelok", "labelwrong"):
            continue  # 👍/👎 of the labeled rows shown stay valid while correcting
        replies = await user.send(ButtonPress(button.action, button.value), settle=False)
        said = texts(replies)
        assert STALE in said, (phase, button, said)
        assert "went wrong" not in said
        assert order_record(user) == record, (phase, button)
        if phase != Phase.start:  # from the start, the answer asks the first question (collecting)
            assert phase_of(user) == phase, (phase, button)
        pressed += 1
    assert pressed, phase


async def test_buttons_of_other_steps_change_nothing_in_any_phase(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    seen: dict[Phase, list[Choice]] = {}

    def keep(phase: Phase, replies: list[Reply]) -> list[Choice]:
        choices = all_choices(replies)
        seen.setdefault(phase, []).extend(choices)
        return choices

    try:
        keep(Phase.collecting, await user.send("/new"))  # the task question
        keep(Phase.collecting, await user.send("reviews, positive or negative"))  # the count question
        summary = await user.send(SEED_PROMPT)
        keep(Phase.confirm, summary)
        shown = await user.press(summary, "preview")
        keep(Phase.rating, shown)
        assert phase_of(user) == Phase.rating
        offer = await user.upload("mine.csv", UNBALANCED_CSV)
        keep(Phase.upload_offer, offer)
        assert phase_of(user) == Phase.upload_offer

        everything = [c for choices in seen.values() for c in choices]
        # upload_offer: everything but Balance / Cancel is stale
        await press_stale(user, everything, all_choices(offer))

        # upload_columns
        asked = await user.upload("odd.csv", ODD_COLUMNS_CSV)
        assert phase_of(user) == Phase.upload_columns, texts(asked)
        await press_stale(user, everything, [])

        # collecting, confirm, rating of a fresh order, with the old buttons still on screen
        question = await user.send("/new")
        assert phase_of(user) == Phase.collecting
        await press_stale(user, everything, all_choices(question))
        summary = await user.send(SEED_PROMPT)
        assert phase_of(user) == Phase.confirm
        await press_stale(user, everything, all_choices(summary))
        shown = await user.press(summary, "preview")
        keep(Phase.rating, shown)
        everything = [c for choices in seen.values() for c in choices]
        await press_stale(user, everything, all_choices(shown))

        # previewing and generating: a slow model keeps the jobs running while old buttons are pressed
        fake_llm.latency = 2.0
        working = await user.press(shown, "newpreview", settle=False)
        assert phase_of(user) == Phase.previewing, texts(working)
        await press_stale(user, everything, [])
        assert user.dialog.running_jobs, "the preview finished before the stale presses: not a previewing test"
        fake_llm.latency = 0.0
        await user.dialog.wait_idle()
        shown = user.take()
        assert previews(shown), texts(shown)
        keep(Phase.rating, shown)

        fake_llm.latency = 2.0
        started = await user.press(shown, "generate", settle=False)
        keep(Phase.generating, started)
        assert phase_of(user) == Phase.generating, texts(started)
        job_ids = set(user.dialog.running_jobs)
        everything = [c for choices in seen.values() for c in choices]
        # New preview / Generate all / Cancel of the earlier previews start and stop nothing
        running_job = order_record(user)[1]
        await press_stale(user, everything, [Choice("Cancel", "canceljob", str(running_job))])
        assert set(user.dialog.running_jobs) == job_ids, "a stale button started or stopped a job"
        fake_llm.latency = 0.0
        await user.dialog.wait_idle()
        delivered = user.take()
        files = documents(delivered)
        assert len(files) == 3, texts(delivered)  # the dataset, its card and its chart, once
        assert label_counts(csv_rows(files[0])) == {"negative": 2, "positive": 8}

        # done: even the finished job's Cancel is an earlier step's
        assert phase_of(user) == Phase.done
        await press_stale(user, everything, [])

        # the labeling phases: rows without labels, the labels question, the preview, the job
        asked = await user.upload("tickets.txt", UNLABELED_TXT)
        assert phase_of(user) == Phase.annotate_labels, texts(asked)
        await press_stale(user, everything, [])
        fake_llm.latency = 2.0  # annotate_previewing: the first rows are being labeled in the background
        working = await user.send("positive, negative", settle=False)
        assert phase_of(user) == Phase.annotate_previewing, texts(working)
        await press_stale(user, everything, [])
        assert user.dialog.running_jobs, "the preview finished before the stale presses"
        fake_llm.latency = 0.0
        await user.dialog.wait_idle()
        shown = user.take()
        keep(Phase.annotate_preview, shown)
        assert phase_of(user) == Phase.annotate_preview, texts(shown)
        everything = [c for choices in seen.values() for c in choices]
        await press_stale(user, everything, all_choices(shown))
        fake_llm.latency = 2.0
        started = await user.press(shown, "labelall", settle=False)
        keep(Phase.annotating, started)
        assert phase_of(user) == Phase.annotating, texts(started)
        job_ids = set(user.dialog.running_jobs)
        await press_stale(user, everything, [c for c in all_choices(started) if c.action == "canceljob"])
        assert set(user.dialog.running_jobs) == job_ids, "a stale button started or stopped a job"
        fake_llm.latency = 0.0
        await user.dialog.wait_idle()
        labeled = user.take()
        assert len(documents(labeled)) >= 2, texts(labeled)  # the labeled rows and the card
        everything = [c for choices in seen.values() for c in choices]
        assert phase_of(user) == Phase.upload_offer, texts(labeled)
        # (the upload offer's row takes Balance and Cancel whether or not the rows needed balancing)
        await press_stale(user, everything, [*all_choices(labeled), Choice("Cancel", "cancel", ""),
                                             Choice("Balance", "balance", "")])

        # the documents phases: a document read (the count question), the summary, the preview, the job
        asked = await user.upload("guide.md", GUIDE_MD)
        assert phase_of(user) == Phase.collecting and "How many questions?" in texts(asked), texts(asked)
        everything = [c for choices in seen.values() for c in choices]
        await press_stale(user, everything, all_choices(asked))
        keep(Phase.collecting, asked)
        summary = await user.send("6 questions in English")
        assert phase_of(user) == Phase.confirm and "Documents: guide.md" in texts(summary), texts(summary)
        await press_stale(user, everything, all_choices(summary))
        keep(Phase.confirm, summary)
        shown = await user.press(summary, "preview")
        assert phase_of(user) == Phase.rating and previews(shown), texts(shown)
        everything = [c for choices in seen.values() for c in choices]
        await press_stale(user, everything, all_choices(shown))
        fake_llm.latency = 2.0
        started = await user.press(shown, "generate", settle=False)
        assert phase_of(user) == Phase.generating, texts(started)
        job_ids = set(user.dialog.running_jobs)
        await press_stale(user, everything, [c for c in all_choices(started) if c.action == "canceljob"])
        assert set(user.dialog.running_jobs) == job_ids, "a stale button started or stopped a job"
        fake_llm.latency = 0.0
        await user.dialog.wait_idle()
        delivered = user.take()
        rows = csv_rows(documents(delivered)[0])
        assert sorted(r["question_type"] for r in rows) == ["factual"] * 2 + ["reasoning"] * 2 + ["unanswerable"] * 2
        assert phase_of(user) == Phase.done

        # start
        summary = await user.send(SEED_PROMPT)
        await user.press(summary, "cancel")
        assert phase_of(user) == Phase.start
        replies = await user.send(ButtonPress("generate"), settle=False)
        assert STALE in texts(replies)
        assert order_record(user)[0] is None  # still no order
    finally:
        fake_llm.latency = 0.0
        await user.dialog.aclose()


# --- random event sequences (property test; also the fuzz test of issue 9 item 6) --------------

ODD_TEXTS = ["²", "①", "٣", "\ud800", "x\udfff", "9" * 5000, "-" + "9" * 5000, "+1", "-3", "+999999", "1", "2", "7",
             "yes", "no", "tak", "", "   ", "\x00", "🤖" * 50, SEED_PROMPT, "make it 500", "in Polish",
             "the negatives are too mild", "10 tweets about football, positive or negative",
             "text=review, label=stars", "review stars", "label my rows", "oznacz moje dane", "sentiment",
             "positive, negative", "#2 is negative", "#3 to positive, not negative", "#99 is x", "#1 is",
             "test questions from my manual", "pytania testowe z mojej instrukcji", "6 factual, 3 reasoning",
             "12 questions in Polish", "10 bez odpowiedzi"]
COMMANDS = ["/new", "/start", "/status", "/cancel", "/help", "/new 20 reviews, positive or negative", "/nonsense",
            "/new@bot", "/status ²"]
ACTIONS = ["task", "set", "preview", "newpreview", "generate", "change", "cancel", "canceljob", "balance", "up",
           "down", "labelok", "labelwrong", "labelall", "labelpreview", "", "bogus"]
VALUES = ["", "sentiment", "custom", "count=10", "count=²", "count=" + "9" * 5000, "language=other", "tone=formal",
          "format=json", "topic=", "x=1", "1", "2", "①", "9" * 5000, "\ud800"]


def nested_json(depth: int) -> bytes:
    return ("[" * depth + "]" * depth).encode()


UPLOADS = [
    FileUpload("mine.csv", UNBALANCED_CSV),
    FileUpload("odd.csv", ODD_COLUMNS_CSV),
    FileUpload("deep.json", nested_json(100_000)),
    FileUpload("deep2.json", ('{"a":' * 5000 + "1" + "}" * 5000).encode()),
    FileUpload("bad.json", b"\xff\xfe\x00garbage"),
    FileUpload("empty.csv", b""),
    FileUpload("image.png", b"\x89PNG...."),
    FileUpload("surrogate.csv", "text,label\n\\ud800x,a\n".encode()),
    FileUpload("tickets.txt", UNLABELED_TXT),
    FileUpload("one-column.csv", b"message\nwhere is my order\nhello\n"),
    FileUpload("sheet.xlsx", b"PK\x03\x04 not really a workbook"),
    FileUpload("guide.md", GUIDE_MD),
    FileUpload("notes.txt", GUIDE_MD.replace(b"#", b"")),
    FileUpload("scan.pdf", b"%PDF-1.4 not really a PDF"),
    FileUpload("manual.docx", b"PK\x03\x04 not really a DOCX"),
    FileUpload("page.html", b"<html><body><h1>Pump</h1><p>" + b"Rinse the filter monthly. " * 30 + b"</p></body></html>"),
]

events = st.one_of(
    st.sampled_from(ODD_TEXTS).map(Message),
    st.text(max_size=60).map(Message),
    st.sampled_from(COMMANDS).map(Message),
    st.builds(ButtonPress, st.sampled_from(ACTIONS), st.one_of(st.sampled_from(VALUES), st.text(max_size=12))),
    st.sampled_from(UPLOADS),
)


def fuzz_settings(fake: FakeOpenAI, db: Path) -> Settings:
    return Settings(openai_api_key="x", openai_base_url=fake.base_url, llm="openai", model="fake-model",
                    database_url=f"sqlite:///{db}", progress_interval=0, max_retries=1, request_timeout=5,
                    _env_file=None)


async def drive(settings: Settings, sequence: list) -> tuple[list[float], list[str]]:
    """Send each event; return each event's handling time and every problem seen."""
    user = await new_user(settings, chat=ChatRef("fuzz", "u1"))
    problems: list[str] = []
    times: list[float] = []
    try:
        for event in sequence:
            start = time.perf_counter()
            replies = await user.send(event, settle=False)
            times.append(time.perf_counter() - start)
            said = texts(replies)
            if not replies:
                problems.append(f"no answer to {event!r:.80}")
            if "went wrong" in said:
                problems.append(f"internal error for {event!r:.80}")
            if isinstance(event, Message) and event.text.split()[:1] in (["/new"], ["/start"]) and event.text.strip() in ("/new", "/start"):
                row = user.dialog.store.find_conversation("test", "fuzz")
                state = ConversationState.load(row.state, row.data_json)  # type: ignore[union-attr]
                if state.draft is not None or state.job or state.ratings or state.upload or state.feedback:
                    problems.append(f"/new left an old order: {state!r:.200}")
        await user.dialog.wait_idle()
        user.take()
        for (before, key, after), _ in user.dialog.moves.items():
            if after not in table.LEADS_TO.get((before, key), (after,)) and key in table.TABLE[before]:
                problems.append(f"undeclared move {before.value} --{key}--> {after.value}")
    finally:
        await user.dialog.aclose()
    return times, problems


@hypothesis_settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=st.lists(events, min_size=1, max_size=14))
def test_random_event_sequences_never_break_the_conversation(
    tmp_path_factory: pytest.TempPathFactory, fake_llm: FakeOpenAI, sequence: list
) -> None:
    settings = fuzz_settings(fake_llm, tmp_path_factory.mktemp("fuzz") / "f.db")
    times, problems = asyncio.run(drive(settings, sequence))
    assert not problems, problems
