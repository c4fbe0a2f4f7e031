"""Whole conversations through the core dialog, against the fake OpenAI-compatible server.

No platform: a CollectingOutput receives the replies. Every test drives the bot the way a
user would (messages, button presses, typed numbers, uploads) and checks what the user gets.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from core.conversation.state import ConversationState
from core.events import ButtonPress, ChatRef, FileUpload, Message, Preview, Say
from core.settings import Settings
from tests.dialog_support import (
    SEED_PROMPT,
    User,
    csv_rows,
    documents,
    find_choice,
    generation_prompts,
    json_rows,
    label_counts,
    last_choices,
    new_user,
    previews,
    progress,
    texts,
    wait_for_rows,
)
from tests.fakes.openai_server import FakeOpenAI


async def order_to_summary(user: User, text: str) -> list:
    replies = await user.send(text)
    find_choice(replies, "preview")  # the summary offers Generate preview
    return replies


async def preview(user: User, replies: list) -> Preview:
    replies = await user.press(replies, "preview")
    shown = previews(replies)
    assert len(shown) == 1, texts(replies)
    return shown[0]


# --- the seed's own prompt ------------------------------------------------------------------------


async def test_seed_prompt_ends_in_a_csv_with_exactly_2_negative_and_8_positive(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        summary = await user.send(SEED_PROMPT)
        assert [c.action for c in last_choices(summary)] == ["preview", "change", "cancel"]
        assert "10" in texts(summary)
        shown = await preview(user, summary)
        labels = {item.text.rsplit("→", 1)[-1].strip().casefold() for item in shown.items}
        assert labels == {"positive", "negative"}  # at least one example per label
        for item in shown.items:
            assert [c.action for c in item.choices] == ["up", "down"]
            assert all(c.value == str(item.example_id) for c in item.choices)
        assert [c.action for c in shown.choices] == ["generate", "newpreview", "cancel"]

        done = await user.press([shown], "generate")
        files = documents(done)
        assert len(files) == 3, texts(done)
        dataset, card, chart = files
        assert dataset.filename.endswith(".csv") and dataset.mime_type == "text/csv"
        rows = csv_rows(dataset)
        assert label_counts(rows) == {"negative": 2, "positive": 8}
        assert "negative: 2" in dataset.caption.lower() and "positive: 8" in dataset.caption.lower()
        assert "tokens" in dataset.caption
        assert card.filename.endswith(".md") and card.data.decode().startswith("#")
        assert chart.filename.endswith(".chart.png") and chart.data.startswith(b"\x89PNG\r\n\x1a\n")
        finals = [p for p in progress(done) if p.finished]
        assert len(finals) == 1 and finals[0].done == finals[0].total == 10
    finally:
        await user.dialog.aclose()


async def test_the_model_is_named_and_help_gives_examples(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        replies = await user.send("/help")
        said = texts(replies)
        assert "Example orders" in said and "/new" in said
        assert "fake-model" in said  # which model answers
        replies = await user.send("/pomoc jak to działa")  # unknown command, but Polish
        assert "/help" in texts(replies)
    finally:
        await user.dialog.aclose()


# --- Polish ------------------------------------------------------------------------------------


async def test_polish_order_gets_polish_replies_and_a_polish_file(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        summary = await user.send("wygeneruj 50 przykładów, 40 pozytywnych i 10 negatywnych, po polsku")
        said = texts(summary)
        assert "Oto Twoje zamówienie" in said
        assert [c.label for c in last_choices(summary)] == ["Generuj podgląd", "Zmień coś", "Anuluj"]
        shown = await preview(user, summary)
        assert "Podgląd" in shown.text
        done = await user.press([shown], "generate")
        dataset = documents(done)[0]
        rows = csv_rows(dataset)
        assert len(rows) == 50
        assert sorted(label_counts(rows).values()) == [10, 40]
        assert "wierszy" in dataset.caption  # the caption is Polish too
        assert any("Write every example in Polish" in p for p in generation_prompts(fake_llm.requests))
        assert "Przykładowe zamówienia" in texts(await user.send("/help"))
    finally:
        await user.dialog.aclose()


# --- the LLM fills what the rules did not --------------------------------------------------------


async def test_llm_extraction_fills_gaps_and_the_rules_win(settings: Settings, fake_llm: FakeOpenAI) -> None:
    def extraction(body: dict) -> dict | None:
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema") or {}
        if "topic" not in schema.get("properties", {}):
            return None  # a generation request: the default cooperative answer
        # The model disagrees with the rules on the count and adds a topic and tone the rules can't read.
        return {"task": "classification", "topic": "hotel stays", "labels": None, "count": 999,
                "language": None, "tone": "sarcastic", "instructions": None}

    fake_llm.responders.append(extraction)
    user = await new_user(settings)
    try:
        summary = await user.send("20 examples, positive or negative, about how my guests felt, CSV")
        said = texts(summary)
        assert "hotel stays" in said and "sarcastic" in said
        assert "Examples: 20" in said and "999" not in said
    finally:
        await user.dialog.aclose()


# --- piece by piece ---------------------------------------------------------------------------


async def test_order_piece_by_piece_with_buttons_and_typed_numbers(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        replies = await user.send("hello")
        asked = last_choices(replies)
        assert {"task"} == {c.action for c in asked}, texts(replies)
        sentiment = next(i for i, c in enumerate(asked, 1) if c.value == "sentiment")
        replies = await user.send(str(sentiment))  # the typed number selects the button
        answered: list[str] = []
        for _ in range(8):
            if any(c.action == "preview" for c in last_choices(replies)):
                break
            asked = last_choices(replies)
            field = asked[0].value.split("=")[0]
            answered.append(field)
            if field == "count":
                number = next(i for i, c in enumerate(asked, 1) if c.label == "10")
                replies = await user.send(str(number))
            elif field == "language":
                replies = await user.send("german")  # the label, typed, any case
            elif field == "format":
                choice = next(c for c in asked if c.label == "JSON")
                replies = await user.send(ButtonPress(choice.action, choice.value))
            else:
                replies = await user.send("1")  # the default comes first
        # Piece by piece, every missing thing is asked (the sentiment preset fixes task and labels).
        assert {"count", "language", "format"} <= set(answered), answered
        find_choice(replies, "preview")
        shown = await preview(user, replies)
        done = await user.press([shown], "generate")
        dataset = documents(done)[0]
        assert dataset.filename.endswith(".json")
        rows = json_rows(dataset)
        assert len(rows) == 10
        assert any("in German" in p for p in generation_prompts(fake_llm.requests))
    finally:
        await user.dialog.aclose()


# --- corrections ------------------------------------------------------------------------------


async def test_corrections_update_the_summary_and_the_generated_job(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        await order_to_summary(user, "200 restaurant reviews, positive or negative, in English")
        replies = await user.send("make it 500")
        assert "500" in texts(replies)
        find_choice(replies, "preview")
        replies = await user.send("add a neutral label")
        assert "neutral" in texts(replies).lower()
        replies = await user.send("in German")
        assert "German" in texts(replies)
        replies = await user.send("more formal")
        assert "formal" in texts(replies).lower()
        before = len(fake_llm.requests)
        shown = await preview(user, replies)
        labels = {item.text.rsplit("→", 1)[-1].strip().casefold() for item in shown.items}
        assert labels == {"positive", "negative", "neutral"}
        prompts = generation_prompts(fake_llm.requests[before:])
        assert prompts and all("in German" in p and "formal" in p.lower() for p in prompts)
        job = user.dialog.store.get_job(_job_of(user, shown.items[0].example_id))
        assert job is not None and job.kind == "preview"
        spec = json.loads(job.spec_json)
        assert spec["language"] == "German" and "neutral" in spec["labels"]
    finally:
        await user.dialog.aclose()


def _job_of(user: User, example_id: int) -> int:
    from sqlmodel import Session

    from storage.models import Example

    with Session(user.dialog.store.engine) as session:
        example = session.get(Example, example_id)
        assert example is not None
        return example.job_id


# --- preview feedback -------------------------------------------------------------------------


async def test_feedback_reaches_the_next_prompt_and_thumbs_up_row_is_kept(settings: Settings, fake_llm: FakeOpenAI) -> None:
    user = await new_user(settings)
    try:
        summary = await order_to_summary(user, SEED_PROMPT)
        shown = await preview(user, summary)
        liked, disliked = shown.items[0], shown.items[1]
        replies = await user.send(ButtonPress("up", str(liked.example_id)))
        assert "👍" in texts(replies)
        replies = await user.send(f"-{disliked.number}")  # typed 👎
        assert "👎" in texts(replies)
        replies = await user.send("the negatives are too mild")
        assert "too mild" in texts(replies)
        before = len(fake_llm.requests)
        second = previews(await user.press(replies, "newpreview"))[0]
        prompts = generation_prompts(fake_llm.requests[before:])
        assert prompts
        liked_text = liked.text.split("\n→")[0]
        disliked_text = disliked.text.split("\n→")[0]
        liked_label = liked.text.split("\n→ ")[1]
        for prompt in prompts:
            assert "the negatives are too mild" in prompt
            # few-shot, only in requests for the liked row's own label (issue 15 item 3)
            assert (liked_text in prompt) == (f'the label "{liked_label}"' in prompt)
            assert disliked_text in prompt  # avoid-list
        assert any(liked_text in prompt for prompt in prompts)
        conversation = user.dialog.store.get_or_create_conversation("test", user.chat.conversation)
        stored = ConversationState.load(conversation.state, conversation.data_json)  # ratings live here only
        assert {i: r.kind for i, r in stored.ratings.items()} == {liked.example_id: "up", disliked.example_id: "down"}
        assert stored.feedback == ["the negatives are too mild"]

        done = await user.press([second], "generate")
        rows = csv_rows(documents(done)[0])
        assert label_counts(rows) == {"negative": 2, "positive": 8}
        row_texts = [r["text"] for r in rows]
        assert liked_text in row_texts
        assert disliked_text not in row_texts
    finally:
        await user.dialog.aclose()


# --- uploads ----------------------------------------------------------------------------------


UNBALANCED_CSV = "text,label\n" + "".join(f"I loved visit number {i}.,positive\n" for i in range(12)) + "".join(
    f"Visit {i} was a disappointment.,negative\n" for i in range(3)
)


async def _finish_order(user: User, replies: list) -> list:
    """Answer remaining questions with their default (the first option) until the summary."""
    for _ in range(8):
        if any(c.action == "preview" for c in last_choices(replies)):
            break
        replies = await user.send("1")
    shown = await preview(user, replies)
    return await user.press([shown], "generate")


async def test_unbalanced_upload_is_topped_up_to_balance(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        replies = await user.upload("reviews.csv", UNBALANCED_CSV.encode())
        said = texts(replies)
        assert "positive: 12" in said and "negative: 3" in said
        balance = find_choice(replies, "balance")
        assert "9" in balance.label
        replies = await user.send(ButtonPress(balance.action, balance.value))
        done = await _finish_order(user, replies)
        dataset = documents(done)[0]
        rows = csv_rows(dataset)
        assert label_counts(rows) == {"positive": 12, "negative": 12}
        sources = {}
        for row in rows:
            sources[(row["label"], row["source"])] = sources.get((row["label"], row["source"]), 0) + 1
        assert sources == {("positive", "uploaded"): 12, ("negative", "uploaded"): 3, ("negative", "synthetic"): 9}
        uploaded = {line.split(",")[0] for line in UNBALANCED_CSV.splitlines()[1:]}
        assert not [r for r in rows if r["source"] == "synthetic" and r["text"] in uploaded]
    finally:
        await user.dialog.aclose()


async def test_upload_with_named_counts_and_column_question(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        data = "review;stars\n" + "".join(f"Great place {i};good\n" for i in range(4)) + "Bad food;bad\n"
        replies = await user.upload("mine.csv", data.encode())
        assert "review, stars" in texts(replies)
        replies = await user.send("text=nothing, label=stars")
        assert "review, stars" in texts(replies)  # not a column: asked again
        replies = await user.send("text=review, label=stars")
        assert "good: 4" in texts(replies) and "bad: 1" in texts(replies)
        replies = await user.send("6 good and 6 bad")
        done = await _finish_order(user, replies)
        rows = csv_rows(documents(done)[0])
        assert label_counts(rows) == {"good": 6, "bad": 6}
        assert sum(r["source"] == "synthetic" for r in rows) == 7
    finally:
        await user.dialog.aclose()


async def test_json_upload_is_read(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        rows = [{"text": f"Where is my parcel {i}?", "label": "order_status"} for i in range(3)]
        rows.append({"text": "Hello there", "label": "greeting"})
        replies = await user.upload("intents.json", json.dumps(rows).encode())
        assert "order_status: 3, greeting: 1" in texts(replies)
        assert "2 greeting" in texts(replies)
    finally:
        await user.dialog.aclose()


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("latin1.csv", "text,label\ncafé,positive\n".encode("latin-1"), "not UTF-8"),
        ("empty.csv", b"", "no examples"),
        ("header_only.csv", b"text,label\n", "no examples"),
        ("blank_rows.csv", b"text,label\n,\n , \n", "no examples"),
        ("picture.png", b"\x89PNG\r\n\x1a\n", "PDF, DOCX, Markdown, HTML, TXT"),
        ("broken.json", b'{"text": "a", ', "not valid JSON"),
        ("numbers.json", b"[1, 2, 3]", "list of objects"),
    ],
)
async def test_bad_uploads_get_clear_messages(settings: Settings, filename: str, data: bytes, expected: str) -> None:
    user = await new_user(settings)
    try:
        replies = await user.upload(filename, data)
        assert expected in texts(replies), texts(replies)
        assert "went wrong" not in texts(replies)
    finally:
        await user.dialog.aclose()


async def test_too_big_upload_is_refused(settings: Settings) -> None:
    small = settings.model_copy(update={"max_upload_bytes": 100})
    user = await new_user(small)
    try:
        replies = await user.upload("big.csv", UNBALANCED_CSV.encode())
        assert "too big" in texts(replies)
        assert "100 B" in texts(replies)
    finally:
        await user.dialog.aclose()


# --- cancel, concurrency ----------------------------------------------------------------------


async def test_cancel_mid_job_then_generate_continues(settings: Settings, fake_llm: FakeOpenAI) -> None:
    tuned = settings.model_copy(update={"concurrency": 2, "batch_size": 5})
    user = await new_user(tuned)
    try:
        summary = await order_to_summary(user, "Produce 60 examples: 30 positive and 30 negative product reviews.")
        shown = await preview(user, summary)
        fake_llm.latency = 0.15
        replies = await user.press([shown], "generate", settle=False)
        assert "Started generating" in texts(replies)
        await asyncio.sleep(0.05)
        cancel = find_choice(user.take() + replies, "canceljob")
        assert await wait_for_rows(user.dialog.store, int(cancel.value)) > 0
        replies = await user.send(ButtonPress(cancel.action, cancel.value))
        said = texts(replies)
        assert "Stopped job" in said and "cancelled at" in said
        assert not documents(replies)
        job = user.dialog.store.get_job(int(cancel.value))
        assert job is not None and job.status == "cancelled"
        made = sum(1 for r in user.dialog.store.accepted_rows(job.id) if r.source == "synthetic")
        assert 0 < made < 60
        fake_llm.latency = 0
        done = await user.press(replies, "generate")
        rows = csv_rows(documents(done)[0])
        assert label_counts(rows) == {"positive": 30, "negative": 30}
    finally:
        await user.dialog.aclose()


async def test_two_chats_generate_at_once_without_blocking_a_third(settings: Settings, fake_llm: FakeOpenAI) -> None:
    tuned = settings.model_copy(update={"batch_size": 5})
    first = await new_user(tuned)
    store = first.dialog.store
    second = User(first.dialog, first.output, ChatRef("chat-2", "user-2"))
    try:
        previews_by_user = {}
        for user, text in ((first, "40 tweets, positive or negative"), (second, "30 emails, labels: spam, ham")):
            summary = await order_to_summary(user, text)
            previews_by_user[user.chat.conversation] = await preview(user, summary)
        fake_llm.latency = 0.2
        for user in (first, second):
            await user.press([previews_by_user[user.chat.conversation]], "generate", settle=False)
        third = User(first.dialog, first.output, ChatRef("chat-3", "user-3"))
        started = time.monotonic()
        replies = await third.send("/help", settle=False)
        assert time.monotonic() - started < 0.5 and replies
        assert len(first.dialog.running_jobs) == 2
        await first.dialog.wait_idle()
        assert label_counts(csv_rows(documents(first.take())[0])) == {"positive": 20, "negative": 20}
        assert label_counts(csv_rows(documents(second.take())[0])) == {"spam": 15, "ham": 15}
        assert store is not None
    finally:
        await first.dialog.aclose()


async def test_progress_is_throttled_to_one_message_stream_per_job(settings: Settings) -> None:
    slow_updates = settings.model_copy(update={"progress_interval": 60, "batch_size": 2, "concurrency": 2})
    user = await new_user(slow_updates)
    try:
        summary = await order_to_summary(user, "Produce 20 examples: 10 positive and 10 negative tweets.")
        shown = await preview(user, summary)
        done = await user.press([shown], "generate")
        updates = progress(done)
        assert {p.job_id for p in updates} == {updates[0].job_id}
        # Many batches, but within 60 s only the first update and the final one get through.
        assert [p.finished for p in updates] == [False, True]
        assert updates[0].choices and updates[0].choices[0].action == "canceljob"
        assert updates[-1].done == updates[-1].total == 20
    finally:
        await user.dialog.aclose()

    fast = await new_user(settings)
    try:
        summary = await order_to_summary(fast, "Produce 30 examples: 15 positive and 15 negative tweets.")
        done = await fast.press([await preview(fast, summary)], "generate")
        texts_in_order = [p.text for p in progress(done)]
        assert len(texts_in_order) >= 2
        assert all(a != b for a, b in zip(texts_in_order, texts_in_order[1:]))  # only when the text changed
    finally:
        await fast.dialog.aclose()


# --- commands, garbage ------------------------------------------------------------------------


async def test_status_new_and_cancel_commands(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        assert "No order yet" in texts(await user.send("/status"))
        assert "Nothing to cancel" in texts(await user.send("/cancel"))
        await order_to_summary(user, SEED_PROMPT)
        assert "10" in texts(await user.send("/status"))
        replies = await user.send("/new")
        assert "Starting over" in texts(replies)
        assert "No order yet" in texts(await user.send("/status"))
    finally:
        await user.dialog.aclose()


GARBAGE = ["", "   ", "/frobnicate", "asdf qwer", "🙂🙃", "999", "-7", "+1", "\x00\x01", "yes", "no", "a" * 5000]


async def test_garbage_input_gets_helpful_replies(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        for text in GARBAGE:
            replies = await user.send(text)
            assert replies, repr(text)
            assert "went wrong" not in texts(replies), (text, texts(replies))
        for event in (ButtonPress("nonsense", "x"), ButtonPress("up", "abc"), ButtonPress("up", "123456"),
                      ButtonPress("set", "count=abc"), ButtonPress("canceljob", "77"), FileUpload("", b"")):
            replies = await user.send(event)
            assert replies, event
            assert "went wrong" not in texts(replies), (event, texts(replies))
    finally:
        await user.dialog.aclose()


@hypothesis_settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_text_gets_a_reply_and_never_an_internal_error(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    # No LLM here (a port nobody listens on): the rules alone must cope with anything.
    db = tmp_path_factory.mktemp("h") / "h.db"
    settings = Settings(openai_api_key="x", openai_base_url="http://127.0.0.1:9/v1", llm="openai",
                        database_url=f"sqlite:///{db}", max_retries=0, request_timeout=0.5, _env_file=None)

    async def run() -> list:
        user = await new_user(settings)
        try:
            return await user.send(Message(text), settle=False)
        finally:
            await user.dialog.aclose()

    replies = asyncio.run(run())
    assert replies and all(isinstance(r, Say) for r in replies)
    assert "went wrong" not in texts(replies)


def test_messages_exist_in_both_languages() -> None:
    from core.messages import TEXTS

    for key, variants in TEXTS.items():
        assert variants.get("en") and variants.get("pl"), key
    assert json.dumps(TEXTS, ensure_ascii=False)


async def test_texts_spell_commands_the_way_the_channel_types_them(settings: Settings) -> None:
    from core.dialog import Dialog
    from core.events import CollectingOutput
    from storage.store import Store

    # Slack keeps "/..." for its own slash commands, so its users type the bare words.
    output = CollectingOutput()
    user = User(Dialog("test", output, settings, command_prefix="", open_store=Store.from_url), output)
    await user.dialog.start()
    try:
        said = texts(await user.send("/help"))
        assert "new – start over" in said and "cancel – stop" in said
        assert "/new" not in said and "/cancel" not in said and "/help" not in said
        said = texts(await user.send("/pomoc jak to działa"))  # unknown command, in Polish
        assert "Spróbuj new, status, cancel lub help" in said and "/new" not in said
    finally:
        await user.dialog.aclose()


def test_no_text_hard_codes_a_slash_command() -> None:
    import re

    from core import messages

    named = 0
    for key, variants in messages.TEXTS.items():
        for lang, template in variants.items():
            # A command is written {cmd_new} etc., so the channel decides how it is spelled.
            assert not re.search(r"/(new|status|cancel|help|start)\b", template), (key, lang)
            named += "{cmd_" in template
    assert named >= 16  # help, after_delivery, busy_generating, status_empty, ... in both languages
    assert "/new – start over" in messages.text("en", "help")
    assert "wpisz new," in messages.text("pl", "after_delivery", command_prefix="")
