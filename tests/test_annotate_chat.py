"""Label my rows in the chat (issue 12 item 1): upload unlabeled rows, name the labels, a preview of
labeled rows with 👍/👎 and corrections (few-shot examples), then the job with progress and Cancel,
the labeled file (every row once, in order), the low-confidence file, rows per label and the
balancing offer. The fake model labels truthfully (`marked_text`), so every label can be checked."""

from __future__ import annotations

import csv
import io
import json
import random

from core.conversation.state import ConversationState, Phase
from core.events import ButtonPress, Document, Preview
from core.settings import Settings
from tests.dialog_support import all_choices, documents, new_user, previews, progress, texts
from tests.fakes.openai_server import FakeOpenAI, marked_text

LABELS = ["complaint", "order_status", "greeting"]


def tickets(n: int, seed: int = 7, ambiguous: tuple[int, ...] = ()) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    truth = [LABELS[0] if i % 2 else LABELS[1 + (i // 2) % 2] for i in range(n)]  # complaints twice as common
    rows = [marked_text([t, LABELS[(LABELS.index(t) + 1) % 3]] if i in ambiguous else t, rng)
            for i, t in enumerate(truth)]
    return rows, truth


def as_txt(rows: list[str]) -> bytes:
    return ("\n".join(rows) + "\n").encode()


def as_csv(rows: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "ticket", "channel"])
    for i, row in enumerate(rows):
        writer.writerow([f"T{i}", row, "mail" if i % 2 else "chat"])
    return out.getvalue().encode()


def read_csv(document: Document) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(document.data.decode("utf-8"))))


def phase_of(user) -> Phase:  # type: ignore[no-untyped-def]
    row = user.dialog.store.find_conversation("test", user.chat.conversation)
    return Phase(row.state)


def state_of(user) -> ConversationState:  # type: ignore[no-untyped-def]
    row = user.dialog.store.find_conversation("test", user.chat.conversation)
    return ConversationState.load(row.state, row.data_json)


async def test_label_my_rows_end_to_end(settings: Settings, fake_llm: FakeOpenAI) -> None:
    rows, truth = tickets(45, ambiguous=(4, 30))
    user = await new_user(settings)
    try:
        asked = await user.send("label my rows")
        assert "Send me the file" in texts(asked)
        read = await user.upload("tickets.csv", as_csv(rows))
        assert "Read 45 rows to label from tickets.csv (text column: ticket)" in texts(read), texts(read)
        assert phase_of(user) == Phase.annotate_labels
        bad = await user.send("complaint")
        assert "at least two different labels" in texts(bad)
        shown = await user.send("complaint, order_status, greeting")
        [preview] = previews(shown)
        assert len(preview.items) == 10
        for item in preview.items:  # truthful labels, in file order
            assert item.text == f"{rows[item.number - 1]} → {truth[item.number - 1]}" or item.number == 5, item
        # a correction and a 👍 become few-shot examples; a label that does not exist is explained
        said = texts(await user.send("#3 is a greeting, not complaint"))
        assert "Noted: #3 is greeting" in said
        assert "is not one of the labels" in texts(await user.send("#2 is refund"))
        assert "no row #12" in texts(await user.send("#12 is greeting"))
        await user.send(ButtonPress("labelok", "1"))
        assert "What is the right label" in texts(await user.send(ButtonPress("labelwrong", "2")))
        examples = state_of(user).annotation.examples  # type: ignore[union-attr]
        assert (rows[2], "greeting") in examples and (rows[0], truth[0]) in examples
        # a stale Cancel of no job, and Label all (typed as its number)
        assert "earlier step" in texts(await user.send(ButtonPress("canceljob", "999")))
        done = await user.send("1")
        files = documents(done)
        labeled = read_csv(files[0])
        assert [r["ticket"] for r in labeled] == rows  # every row once, in order
        assert [r["id"] for r in labeled] == [f"T{i}" for i in range(45)]  # other columns untouched
        assert [r["label"] for i, r in enumerate(labeled) if i not in (4, 30)] == \
            [t for i, t in enumerate(truth) if i not in (4, 30)]
        assert {labeled[4]["confidence"], labeled[30]["confidence"]} == {"low"}
        low = read_csv(files[1])
        assert [r["ticket"] for r in low] == [rows[4], rows[30]]
        assert files[2].filename.endswith(".card.md")
        assert progress(done)[-1].finished
        said = texts(done)
        assert "Low confidence: 2" in said
        assert "Read 45 rows from labeled-" in said  # rows per label, and the balancing offer
        assert phase_of(user) == Phase.upload_offer
        assert any(c.action == "balance" for c in all_choices(done))
        # the job got the corrections as few-shot examples
        job = user.dialog.store.get_job(state_of(user).job)
        assert [rows[2], "greeting"] in json.loads(job.spec_json)["examples"]
    finally:
        await user.dialog.aclose()


async def test_polish_plain_text_preset_and_cancel(settings: Settings, fake_llm: FakeOpenAI) -> None:
    rng = random.Random(3)
    rows = [marked_text("positive" if i % 2 else "negative", rng) for i in range(30)]
    user = await new_user(settings)
    try:
        asked = await user.send("oznacz moje dane")
        assert "Wyślij mi plik" in texts(asked)
        read = await user.upload("opinie.txt", as_txt(rows))
        assert "Wczytałem 30 wierszy" in texts(read)
        shown = await user.send("sentyment")
        assert previews(shown)
        assert "Zapisane: #2 to negative" in texts(await user.send("#2 to negative"))
        fake_llm.latency = 1.0
        started = await user.press(shown, "labelall", settle=False)
        assert "Oznaczam wszystkie 30" in texts(started)
        assert phase_of(user) == Phase.annotating
        job_id = state_of(user).job
        assert "Oznaczam Twoje wiersze (zadanie #" in texts(await user.send("ile to jeszcze potrwa?", settle=False))
        assert phase_of(user) == Phase.annotating
        # stale buttons of the preview start nothing while the job runs
        assert "wcześniejszego kroku" in texts(await user.send(ButtonPress("labelall", ""), settle=False))
        assert "wcześniejszego kroku" in texts(await user.send(ButtonPress("labelok", "1"), settle=False))
        assert user.dialog.running_jobs == [job_id]
        cancel = next(c for c in all_choices(started) if c.action == "canceljob")
        stopped = await user.send(ButtonPress(cancel.action, cancel.value), settle=False)
        assert f"Przerwałem zadanie #{job_id}" in texts(stopped)
        fake_llm.latency = 0.0
        await user.dialog.wait_idle()
        assert phase_of(user) == Phase.annotate_preview
        assert not documents(user.take())
        assert user.dialog.store.get_job(job_id).status == "cancelled"
        done = await user.send(ButtonPress("labelall", ""))
        assert state_of(user).job == job_id  # the stopped job continues
        labeled = read_csv(documents(done)[0])
        assert [r["text"] for r in labeled] == rows
        assert [r["label"] for r in labeled] == ["positive" if i % 2 else "negative" for i in range(30)]
    finally:
        fake_llm.latency = 0.0
        await user.dialog.aclose()


def test_terminal_label_my_rows(fake_llm: FakeOpenAI, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`datagen chat` as a user runs it: ask, upload, name the labels, correct #3, Label all (typed "1")."""
    from tests.test_terminal import _run

    out = tmp_path / "out"
    rows, truth = tickets(25, seed=11, ambiguous=(7,))
    source = tmp_path / "tickets.csv"
    source.write_bytes(as_csv(rows))
    wrong = next(x for x in LABELS if x != truth[2])
    lines = ["please label my tickets", f"/upload {source}", "complaint, order_status, greeting",
             f"#3 is {wrong}", "1"]
    result = _run(lines, fake_llm, tmp_path, out)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "Read 25 rows to label" in result.stdout and f"Noted: #3 is {wrong}" in result.stdout
    [labeled_path] = sorted(p for p in out.glob("labeled-*.csv") if "low-confidence" not in p.name)
    with labeled_path.open(encoding="utf-8") as handle:
        labeled = list(csv.DictReader(handle))
    assert [r["ticket"] for r in labeled] == rows
    assert [r["label"] for i, r in enumerate(labeled) if i != 7] == [t for i, t in enumerate(truth) if i != 7]
    assert labeled[7]["confidence"] == "low"
    assert list(out.glob("labeled-*.low-confidence.csv")) and list(out.glob("labeled-*.card.md"))
    # the correction reached the model as a few-shot example: the batch of rows 21-25 (batches are
    # 20 rows in file order) carries row 3 only as an example
    assert any(rows[24] in str(body) and rows[2] in str(body) and wrong in str(body) for body in fake_llm.requests)


async def test_telegram_label_my_rows(settings: Settings, fake_llm: FakeOpenAI) -> None:
    """Through the real python-telegram-bot and the fake Bot API: a .txt of rows, labels, a correction
    typed in Polish, Label all pressed, the labeled file and the low-confidence file delivered."""
    from tests.fakes.telegram_server import FakeTelegramServer
    from tests.test_telegram import CHAT, csv_rows, running_bot, telegram_settings

    rows, truth = tickets(24, seed=5, ambiguous=(11,))
    async with FakeTelegramServer() as tg:
        async with running_bot(telegram_settings(settings, tg)):
            tg.push_message(CHAT, CHAT, "oznacz moje dane", username="alice")
            await tg.wait_for(lambda: [m for m in tg.messages_to(CHAT) if "Wyślij mi plik" in m.text], what="the ask")
            tg.push_document(CHAT, CHAT, "zgloszenia.txt", as_txt(rows), mime_type="text/plain", username="alice")
            await tg.wait_for(lambda: [m for m in tg.messages_to(CHAT) if "Jakich etykiet" in m.text], what="labels?")
            tg.push_message(CHAT, CHAT, "complaint, order_status, greeting", username="alice")
            final = await tg.wait_for(
                lambda: next((m for m in tg.messages_to(CHAT) if m.button("Oznacz wszystkie")), None), what="preview")
            items = [m for m in tg.messages_to(CHAT) if m.button("👍") and m.button("👎")]
            assert len(items) == 10 and f"{rows[0]} → {truth[0]}" in items[0].text
            wrong = next(x for x in LABELS if x != truth[0])
            tg.push_message(CHAT, CHAT, f"#1 to {wrong}", username="alice")
            await tg.wait_for(lambda: [m for m in tg.messages_to(CHAT) if f"Zapisane: #1 to {wrong}" in m.text],
                              what="the correction")
            tg.press(CHAT, CHAT, final, "Oznacz wszystkie")
            docs = await tg.wait_for(lambda: (lambda d: d if len(d) >= 3 else None)(tg.documents_to(CHAT)),
                                     timeout=30, what="the files")
    labeled = csv_rows(docs[0].document.data)  # type: ignore[union-attr]
    assert [r["text"] for r in labeled] == rows
    assert [r["label"] for i, r in enumerate(labeled) if i != 11] == [t for i, t in enumerate(truth) if i != 11]
    assert [r["text"] for r in csv_rows(docs[1].document.data)] == [rows[11]]  # type: ignore[union-attr]
    assert docs[2].document.filename.endswith(".card.md")  # type: ignore[union-attr]


async def test_preset_named_first_and_a_file_whose_columns_were_asked(settings: Settings, fake_llm: FakeOpenAI) -> None:
    rng = random.Random(9)
    rows = [marked_text("positive" if i % 3 else "negative", rng) for i in range(12)]
    user = await new_user(settings)
    try:
        await user.send("please label my reviews by sentiment")
        shown = await user.upload("reviews.txt", as_txt(rows))  # the labels are known: straight to the preview
        [preview] = previews(shown)
        assert preview.items[0].text == f"{rows[0]} → negative"
        assert "positive, negative, neutral" in preview.text
        # a two-column file without a label column: the bot asks for columns; "label my rows" labels it
        await user.send("/new")
        asked = await user.upload("odd.csv", b"review,stars\n" + "".join(f"{r},5\n" for r in rows).encode())
        assert phase_of(user) == Phase.upload_columns, texts(asked)
        read = await user.send("just label my rows")
        assert "Read 12 rows to label from odd.csv (text column: review)" in texts(read)
        assert phase_of(user) == Phase.annotate_labels
    finally:
        await user.dialog.aclose()


async def test_slack_label_my_rows_in_a_dm(settings: Settings, fake_llm: FakeOpenAI) -> None:
    """Through slack-bolt and the fake Slack Web API: a DM, a .txt file shared, the labels, a 👎 and a
    correction, Label all pressed, the labeled file, the low-confidence file and the card uploaded."""
    from tests.test_slack import button_for, has_action, running_bot
    from tests.fakes.slack_server import FakeSlack

    rows, truth = tickets(22, seed=13, ambiguous=(15,))
    with FakeSlack() as slack:
        async with running_bot(settings, slack, fake_llm) as harness:
            await harness.reply("D0ALICE", None, "label my rows")
            await slack.wait_message(lambda m: "Send me the file" in m["text"], what="the ask")
            file = slack.add_file("tickets.txt", as_txt(rows), mimetype="text/plain")
            await harness.reply("D0ALICE", None, "", files=[file])
            await slack.wait_message(lambda m: "Which labels" in m["text"], what="the labels question")
            await harness.reply("D0ALICE", None, "complaint, order_status, greeting")
            preview = await slack.wait_message(has_action("labelall", channel="D0ALICE"), what="the preview")
            assert f"{rows[0]} → {truth[0]}" in str(preview["blocks"])
            await harness.press(preview, button_for(preview, "labelwrong"))
            await slack.wait_message(lambda m: "What is the right label" in m["text"], what="the 👎 answer")
            wrong = next(x for x in LABELS if x != truth[0])
            await harness.reply("D0ALICE", None, f"#1 is {wrong}")
            await slack.wait_message(lambda m: f"Noted: #1 is {wrong}" in m["text"], what="the correction")
            await harness.press(preview, button_for(preview, "labelall"))
            await slack.wait_for("files.completeUploadExternal", count=3, timeout=30)
            await harness.bot.wait_idle()
            uploads = slack.uploads
    labeled = list(csv.DictReader(io.StringIO(uploads[0]["files"][0]["data"].decode("utf-8"))))
    assert [r["text"] for r in labeled] == rows
    assert [r["label"] for i, r in enumerate(labeled) if i != 15] == [t for i, t in enumerate(truth) if i != 15]
    low = list(csv.DictReader(io.StringIO(uploads[1]["files"][0]["data"].decode("utf-8"))))
    assert [r["text"] for r in low] == [rows[15]]
    assert uploads[2]["files"][0]["name"].endswith(".card.md")


async def test_labels_with_one_line_descriptions_reach_the_model(settings: Settings, fake_llm: FakeOpenAI) -> None:
    rng = random.Random(21)
    truth = ["refund" if i % 3 else "bug" for i in range(15)]
    rows = [marked_text(t, rng) for t in truth]
    user = await new_user(settings)
    try:
        await user.send("label my rows")
        await user.upload("tickets.txt", as_txt(rows))
        shown = await user.send("labels: refund - wants money back, bug - something broken")
        [preview] = previews(shown)
        assert "refund (wants money back), bug (something broken)" in preview.text, preview.text
        assert [item.text for item in preview.items] == [f"{r} → {t}" for r, t in zip(rows[:10], truth[:10])]
        asked = [str(body) for body in fake_llm.requests]
        assert any("- refund: wants money back" in body and "- bug: something broken" in body for body in asked)
        done = await user.press(shown, "labelall")
        assert [r["label"] for r in read_csv(documents(done)[0])] == truth
        job = user.dialog.store.get_job(state_of(user).job)
        assert json.loads(job.spec_json)["descriptions"] == {"refund": "wants money back", "bug": "something broken"}
        # Polish, with en dashes, and a label without a description
        await user.send("/new")
        await user.send("oznacz moje dane")
        await user.upload("zgloszenia.txt", as_txt(rows))
        shown = await user.send("zwrot – chce pieniędzy; błąd – coś nie działa; inne")
        assert "zwrot (chce pieniędzy), błąd (coś nie działa), inne" in previews(shown)[0].text
    finally:
        await user.dialog.aclose()


async def test_the_annotation_preview_does_not_hold_the_chat(settings: Settings, fake_llm: FakeOpenAI) -> None:
    """The preview labels in a background task: /status and /cancel of the same chat are answered
    while the model is still working; a cancelled preview never shows up later."""
    rows, truth = tickets(12, seed=3)
    user = await new_user(settings)
    try:
        await user.send("label my rows")
        await user.upload("tickets.txt", as_txt(rows))
        fake_llm.latency = 2.0
        working = await user.send("complaint, order_status, greeting", settle=False)
        assert "Labeling the first 10 rows" in texts(working)
        assert phase_of(user) == Phase.annotate_previewing
        status = await user.send("/status", settle=False)
        assert "tickets.txt" in texts(status)
        assert user.dialog.running_jobs, "the preview finished before /status: the test proves nothing"
        busy = await user.send("#1 is complaint", settle=False)
        assert "still labeling the preview rows" in texts(busy)
        stopped = await user.send("/cancel", settle=False)
        assert "Preview stopped" in texts(stopped) and "Which labels" in texts(stopped)
        assert phase_of(user) == Phase.annotate_labels
        await user.dialog.wait_idle()
        assert previews(user.take()) == []  # the cancelled preview never arrives
        fake_llm.latency = 0.0
        shown = await user.send("complaint, order_status, greeting")
        [preview] = previews(shown)
        assert preview.items[0].text == f"{rows[0]} → {truth[0]}"
        assert phase_of(user) == Phase.annotate_preview
    finally:
        fake_llm.latency = 0.0
        await user.dialog.aclose()


async def test_a_restart_during_the_annotation_preview_goes_back_to_the_labels(settings: Settings,
                                                                              fake_llm: FakeOpenAI) -> None:
    rows, truth = tickets(12, seed=8)
    user = await new_user(settings)
    await user.send("label my rows")
    await user.upload("tickets.txt", as_txt(rows))
    fake_llm.latency = 5.0
    await user.send("complaint, order_status, greeting", settle=False)
    assert phase_of(user) == Phase.annotate_previewing
    await user.dialog.aclose()  # a deploy while the preview labels: nothing was stored for it
    fake_llm.latency = 0.0
    again = await new_user(settings, chat=user.chat)
    try:
        shown = await again.send("complaint, order_status, greeting")
        [preview] = previews(shown)
        assert preview.items[0].text == f"{rows[0]} → {truth[0]}"
        assert phase_of(again) == Phase.annotate_preview
    finally:
        await again.dialog.aclose()
