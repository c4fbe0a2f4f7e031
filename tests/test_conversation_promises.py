"""The conversation keeps its word (issue 15, the dialog's side), end to end: `datagen chat` in a
subprocess with piped input, against the fake OpenAI-compatible server."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_server import FakeOpenAI, FakeResponse
from tests.test_terminal import _run


def _blocks(stdout: str) -> list[str]:
    """What the bot printed after each input line (the terminal prompts with "> ")."""
    return stdout.split("> ")


def test_an_invalid_order_is_never_offered_for_preview_nor_called_ready(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    result = _run(
        ["10000000 tweets about football, positive or negative, in English, CSV", "yes", "/status",
         "4 tweets about football: 5 positive and 5 negative, English, CSV", "/status", "yes"],
        fake_llm, tmp_path, tmp_path / "out",
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Generate preview" not in out, out  # never offered for an order that cannot be generated
    assert "Order ready" not in out, out
    assert out.count("can't be generated yet") >= 5, out  # each answer says what is wrong instead
    assert "more than I can make at once" in out and "add up to 10, but the total is 4" in out
    assert not [body for body in fake_llm.requests if "Produce exactly" in str(body)]  # nothing generated


def test_a_failed_preview_offers_the_button_its_message_names(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    failures = [1] * 6  # the engine gives up after 5 failed requests in a row; the retry then works

    def fail_first_generation(body: dict[str, Any]) -> FakeResponse | None:
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        if "Produce exactly" in prompt and failures:
            failures.pop()
            return FakeResponse(status=400, body={"error": {"message": "model overloaded", "type": "invalid_request_error"}})
        return None

    fake_llm.responders.append(fail_first_generation)
    result = _run(["40 tweets about football, positive or negative, in English, CSV", "1", "1", "1"],
                  fake_llm, tmp_path, tmp_path / "out")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    failed = next(block for block in _blocks(out) if "couldn't make the preview" in block)
    named = re.search(r"press (.+?) to try again", failed)
    assert named, failed
    offered = re.findall(r"\[(\d+)\] ([^\[\n]+?)(?=\s{2}\[|\n|$)", failed)
    assert named.group(1) in [label.strip() for _, label in offered], failed  # the named button is on screen
    assert "Saved dataset-" in out  # trying again with it works, and the order goes through


def test_a_slow_preview_shows_progress_instead_of_silence(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    import subprocess

    from tests.test_terminal import _command, _env

    fake_llm.latency = 2.5  # a slow model: the preview's one request takes 2.5 s
    env = {**_env(fake_llm, tmp_path, tmp_path / "out"), "DATAGEN_PREVIEW_QUIET": "0.5"}
    lines = ["10 tweets about football, positive or negative, in English, CSV", "1", "1"]
    result = subprocess.run(_command(), input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=tmp_path,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    waiting = out.index("Still making the preview: 0/")  # said while the model works, not silence
    closed = out.index("Preview: ", waiting)  # the progress message ends in its final state
    assert waiting < closed < out.index("Preview (")  # ... before the rows are shown
    assert "type /cancel" in out[waiting:closed]
    assert "Saved dataset-" in out


def test_text_read_as_an_order_change_after_a_preview_can_be_taken_as_feedback(
    fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    # "more formal" after a preview is read as a tone change; the bot says so and offers to take it as
    # feedback instead, which restores the order and sends the text to the model as feedback.
    lines = ["10 tweets about football, positive or negative, in English, CSV", "1", "more formal",
             "It was feedback", "1"]
    result = _run(lines, fake_llm, tmp_path, tmp_path / "out")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    said = out.index("I read “more formal” as a change to the order")
    offered = out[said:].split("\n", 2)[1]
    assert "It was feedback" in offered, offered  # the button the text names is on screen
    assert "Noted: “more formal”" in out[said:]
    prompts = [p for p in (str(body) for body in fake_llm.requests) if "Produce exactly" in p]
    full_job = prompts[-1]
    assert "more formal" in full_job and "Tone: formal." not in full_job, full_job[-1500:]
    assert "Saved dataset-" in out


def test_questions_get_answers_and_feedback_after_a_preview_stays_feedback(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    # (NER is a preset now, issue 11: part-of-speech tagging is still a kind it cannot make.)
    lines = ["what can you do?", "can you do part-of-speech tagging?", "how long will this take?",
             "40 support tickets, labels: complaint, question, praise, in English, CSV", "1",
             "complaints should sound angry about a late or broken order", "I need -10 examples", "/status"]
    result = _run(lines, fake_llm, tmp_path, tmp_path / "out")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "Example orders" in out  # what the bot makes, with examples
    assert "can't make part-of-speech tagging datasets yet" in out  # a plain "not yet"
    assert "It depends on the model" in out
    assert "didn't understand" not in out, out
    noted = out.index("Noted: “complaints should sound angry about a late or broken order”")
    assert "can't be negative (-10)" in out[noted:]
    status = out[out.rindex("Order ready"):]
    assert "Examples: 40" in status and "Tone: neutral" in status  # the feedback changed neither topic nor tone
    assert "Your feedback so far" not in status or "angry" in status
    prompts = [str(body) for body in fake_llm.requests if "Produce exactly" in str(body)]
    assert prompts and not any("late or broken order" in p for p in prompts[:1])  # first preview: before the feedback


def _prompt(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content", "")) for m in body.get("messages", []))


def _section(prompt: str, heading: str) -> list[str]:
    """The `Q: ...` texts listed under a heading of a generation prompt (core/prompts.py)."""
    if heading not in prompt:
        return []
    block = prompt.split(heading, 1)[1].split("\n\n", 1)[0]
    return [line[3:] for line in block.splitlines() if line.startswith("Q: ")]


def _csv_rows(out: Path) -> list[dict[str, str]]:
    import csv

    [path] = sorted(out.glob("dataset-*.csv"))
    with path.open(encoding="utf-8-sig") as handle:  # a CSV sent in a chat starts with a BOM (for Excel)
        return list(csv.DictReader(handle))


def test_rows_rated_down_never_come_back_even_relabelled(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    # A model that copies the rejected rows it is shown (as the embedded one did), under the label it is
    # asked for (so a 👎 "positive" row comes back as "negative") and with a word added (a near copy).
    served: list[str] = []

    def copy_rejected_rows(body: dict[str, Any]) -> dict[str, Any] | None:
        prompt = _prompt(body)
        rejected = _section(prompt, "do NOT write anything similar:")
        label = re.search(r'the label "([^"]*)"', prompt)
        if not rejected or not label or len(served) >= 12:
            return None
        rows = [{"text": text, "label": label.group(1)} for text in rejected]
        rows += [{"text": text.rstrip(".") + " indeed.", "label": label.group(1)} for text in rejected]
        served.extend(row["text"] for row in rows)
        return {"examples": rows}

    fake_llm.responders.append(copy_rejected_rows)
    lines = ["10 tweets about football, positive or negative, in English, CSV", "1", "-1 -2 -3", "1"]
    result = _run(lines, fake_llm, tmp_path, tmp_path / "out")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert out.count("won't be in the dataset") == 3, out
    assert served, "the copying model was never asked"  # the fault was served ...
    rows = _csv_rows(tmp_path / "out")
    assert len(rows) == 10  # ... and survived: the order is still exact
    delivered = {row["text"].rstrip(".").removesuffix(" indeed") for row in rows}
    rated_down = {text.rstrip(".").removesuffix(" indeed") for text in served}
    assert not delivered & rated_down, delivered & rated_down
    assert "Your ratings were honoured: 👍 rows in the file: 0; 👎 rows kept out (with rows like them): 3." in out


def test_balancing_an_upload_shows_rows_only_under_their_own_label_and_never_copies_them(
    fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    # A model that answers with copies of the examples its prompt shows, under the label it is asked for.
    copied: list[str] = []
    answers: list[str] = []

    def copy_examples(body: dict[str, Any]) -> dict[str, Any] | None:
        prompt = _prompt(body)
        shown = _section(prompt, "Good examples to imitate in style and quality (do not copy them):")
        label = re.search(r'the label "([^"]*)"', prompt)
        count = re.search(r"Produce exactly (\d+)", prompt)
        if not shown or not label or not count:
            return None
        copied.extend(shown)
        fresh = [f"Fresh {label.group(1)} row number {len(answers)}-{i} written by the model" for i in range(int(count.group(1)))]
        answers.append(label.group(1))
        return {"examples": [{"text": text, "label": label.group(1)} for text in shown + fresh]}

    fake_llm.responders.append(copy_examples)
    mine = [f"I really loved the service number {i} they gave me today" for i in range(6)]
    seed = tmp_path / "seed.csv"
    seed.write_text("text,label\n" + "".join(f"{t},good\n" for t in mine) + "The parcel never came at all,bad\n",
                    encoding="utf-8")
    result = _run([f"/upload {seed}", "1", "1", "1"], fake_llm, tmp_path, tmp_path / "out")
    assert result.returncode == 0, result.stderr[-2000:]
    assert copied, "the copying model was never asked"
    for body in fake_llm.requests:
        prompt = _prompt(body)
        label = re.search(r'the label "([^"]*)"', prompt)
        if label and label.group(1) == "bad":  # a "bad" request never shows the user's "good" rows
            assert not set(mine) & set(_section(prompt, "Good examples to imitate")), prompt
    out = result.stdout
    assert "I really loved the service" not in out.split("Preview (", 1)[1].split("[1] Generate all", 1)[0]
    rows = _csv_rows(tmp_path / "out")
    synthetic = [row["text"] for row in rows if row["source"] == "synthetic"]
    assert len(synthetic) == 5 and {r["label"] for r in rows if r["source"] == "synthetic"} == {"bad"}
    uploaded = set(mine) | {"The parcel never came at all"}
    assert not set(synthetic) & uploaded  # generated rows are never copies of the user's rows
    assert re.search(r"duplicates removed: [1-9]", out), out  # the copies were served, and thrown away


def test_rows_rated_up_are_in_the_file_after_balancing_an_upload(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    seed = tmp_path / "seed.csv"
    seed.write_text("text,label\n" + "".join(f"I really loved the service number {i},good\n" for i in range(6))
                    + "The parcel never came at all,bad\n", encoding="utf-8")
    result = _run([f"/upload {seed}", "1", "1", "+1 +3", "1"], fake_llm, tmp_path, tmp_path / "out")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    preview = out.split("Preview (", 1)[1]
    rated = [re.search(rf"^#{n} (.+)$", preview, re.MULTILINE).group(1) for n in (1, 3)]  # type: ignore[union-attr]
    rows = _csv_rows(tmp_path / "out")
    texts = {row["text"]: row["label"] for row in rows}
    assert all(text in texts for text in rated), (rated, out)  # the 👍 rows are in the file ...
    assert sorted(row["label"] for row in rows if row["source"] == "synthetic") == ["bad"] * 5  # ... within the quota
    assert "Your ratings were honoured: 👍 rows in the file: 2;" in out


def test_a_count_below_the_number_of_labels_is_asked_about_not_offered(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    # "1" typed after a refused 10,000,000-row order (no buttons were on screen): a count, too small for 2 labels.
    lines = ["10000000 tweets about football, positive or negative, in English, CSV", "1", "1"]
    result = _run(lines, fake_llm, tmp_path, tmp_path / "out")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    asked = out.index("1 examples cannot cover 2 labels: every label needs at least one")
    assert "Generate preview" not in out[:asked], out  # never offered with 1 example
    summary = out[asked:]
    assert "Examples: 10\n" in summary and "Generate preview" in summary, out  # its first button: 10 examples


def test_language_and_format_words_closing_a_label_list_are_fields(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    line = "30 support tickets tagged by intent: greeting, order_status, cancel_order, complaint, goodbye, English, JSON"
    result = _run([line, "1", "1"], fake_llm, tmp_path, tmp_path / "out")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "Labels: greeting, order_status, cancel_order, complaint, goodbye (equal split)" in out, out
    assert "Format: JSON" in out
    import json

    [path] = sorted((tmp_path / "out").glob("dataset-*.json"))
    rows = json.loads(path.read_text(encoding="utf-8"))
    assert sorted({row["label"] for row in rows}) == sorted(["greeting", "order_status", "cancel_order", "complaint", "goodbye"])


@pytest.mark.local_model
def test_the_embedded_model_is_flagged_once_in_the_users_language_and_on_the_card(tmp_path: Path) -> None:
    import subprocess

    from tests.test_terminal import _command

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DATAGEN_", "DATABASE_"))}
    env.update(DATAGEN_LLM="local", DATABASE_URL=f"sqlite:///{tmp_path}/chat.db", DATAGEN_OUTPUT_DIR=str(tmp_path / "out"),
               DATAGEN_PROGRESS_INTERVAL="0", PYTHONUNBUFFERED="1")
    # Data in English (the small model writes no usable Polish; the language check would reject it), chat in Polish.
    lines = ["wygeneruj 4 recenzje, pozytywne lub negatywne, po angielsku, CSV", "1", "1", "/new"]
    result = subprocess.run(_command(), input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=tmp_path,
                            env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert out.count("Uwaga: to mały model") == 1, out  # once per conversation (not again after /new) ...
    assert "OPENAI_API_KEY" in out and "Warning" not in out  # ... in Polish, with how to switch
    cards = sorted((tmp_path / "out").glob("dataset-*.card.md"))
    assert cards, out
    card = cards[0].read_text(encoding="utf-8")
    assert card.startswith("# Karta zbioru danych")  # the card in the conversation's language ...
    assert "**Uwaga: zrobione małym wbudowanym modelem.**" in card  # ... with the same warning
    assert "over quota" not in card and "label as text" not in card and "not text" not in card
