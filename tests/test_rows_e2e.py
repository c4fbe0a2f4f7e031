"""Every row-model preset end to end from its spec file in examples/: `datagen generate` in a real
subprocess, the real openai client, the fake OpenAI-compatible server answering the preset's
column schema (or its line template). Exact stratified counts, valid rows, no duplicates; a
custom-column job killed mid-way resumes to the exact order."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from core.rows.language import wrong_language
from core.rows.presets import validate
from core.spec import RED_TEAM_CATEGORIES, DatasetSpec
from tests.fakes.openai_server import FakeOpenAI
from tests.test_headless import datagen_command, environment, generate, read_rows

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(fake: FakeOpenAI, tmp_path: Path, example: str, output: str, *args: str,
        **env: str) -> tuple[DatasetSpec, str]:
    done = generate(tmp_path, environment(fake.base_url, tmp_path, **env), str(EXAMPLES / example), "-o", output,
                    *args, timeout=120)
    assert done.returncode == 0, done.stderr
    card = (tmp_path / output).with_suffix(".card.md").read_text(encoding="utf-8")
    return DatasetSpec.load(EXAMPLES / example), card


def test_entities_from_the_example_spec(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    spec, card = run(fake_llm, tmp_path, "entities.yaml", "ner.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "ner.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == spec.count == 40
    assert all(list(line) == ["text", "entities"] for line in lines)  # spaCy-style, nothing else
    for line in lines:
        spans = line["entities"]
        assert all(set(span) == {"start", "end", "label"} and span["label"] in spec.entity_types for span in spans)
        assert all(0 <= a["start"] < a["end"] <= b["start"] for a, b in zip(spans, spans[1:]))  # sorted, no overlap
        assert all(line["text"][s["start"]:s["end"]].strip() == line["text"][s["start"]:s["end"]] for s in spans)
    assert sum(not line["entities"] for line in lines) <= 4  # empty_share 0.1 of 40
    assert len({line["text"] for line in lines}) == 40
    assert "## Entities per type" in card and "Rows without any entities:" in card
    # The same job as CSV: the entities as a JSON column with their text.
    done = generate(tmp_path, environment(fake_llm.base_url, tmp_path), str(EXAMPLES / "entities.yaml"),
                    "-o", "ner.csv", "--resume", "1")
    assert done.returncode == 0, done.stderr
    rows = read_rows(tmp_path / "ner.csv")
    assert [row["text"] for row in rows] == [line["text"] for line in lines]
    first = next(row for row in rows if row["entities"] != "[]")
    assert {"text", "label", "start", "end"} <= set(json.loads(first["entities"])[0])


def test_translation_from_the_example_spec(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    spec, card = run(fake_llm, tmp_path, "translation.yaml", "pairs.csv")
    rows = read_rows(tmp_path / "pairs.csv")
    assert len(rows) == 30 and list(rows[0]) == ["source", "target"]
    assert all(wrong_language(row["target"], "Polish", ("English",)) is None for row in rows)
    assert all(row["source"] != row["target"] for row in rows) and len({row["source"] for row in rows}) == 30


def test_translation_rejects_answers_in_the_wrong_language(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    answered: list[int] = []

    def english_targets_first(body: dict) -> dict | None:
        if len(answered) >= 2:
            return None
        answered.append(1)  # two answers whose targets were left in English
        return {"examples": [{"source": f"Where is my parcel number {i}{len(answered)}?",
                              "target": f"I still do not know where my parcel number {i} is"} for i in range(5)]}

    fake_llm.responders.append(english_targets_first)
    _, card = run(fake_llm, tmp_path, "translation.yaml", "pairs.csv")
    assert len(read_rows(tmp_path / "pairs.csv")) == 30
    assert re.search(r"\| wrong language \| 10 \|", card), card


def test_red_team_from_the_example_spec(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    spec, card = run(fake_llm, tmp_path, "red_team.yaml", "redteam.csv")
    rows = read_rows(tmp_path / "redteam.csv")
    assert list(rows[0]) == ["prompt", "category", "expected_behavior"]
    assert Counter(row["category"] for row in rows) == {category: 6 for category in RED_TEAM_CATEGORIES}
    assert all(validate(spec, row)[1] is None for row in rows)  # behaviour fits category
    assert len({row["prompt"] for row in rows}) == 36
    assert "| benign | 6 | 6 |" in card
    prompts = [m["content"] for body in fake_llm.generation_requests for m in body["messages"] if m["role"] == "user"]
    assert all("retail bank" in p and "must not contain real harmful instructions" in p for p in prompts)


def test_simulated_users_from_the_example_spec(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    run(fake_llm, tmp_path, "simulated_users.yaml", "users.csv")
    rows = read_rows(tmp_path / "users.csv")
    assert list(rows[0]) == ["message", "persona", "intent"]
    assert Counter(row["intent"] for row in rows) == {"track_order": 10, "refund": 10, "change_address": 10,
                                                      "complaint": 10}
    assert len({row["message"] for row in rows}) == 40 and all(row["persona"] for row in rows)


def test_custom_columns_from_the_example_spec(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    _, card = run(fake_llm, tmp_path, "custom_columns.yaml", "complaints.csv")
    rows = read_rows(tmp_path / "complaints.csv")
    assert list(rows[0]) == ["product_name", "complaint", "urgency", "wants_refund"]
    assert Counter(row["urgency"] for row in rows) == {"low": 15, "medium": 15, "high": 20}
    assert {row["wants_refund"] for row in rows} <= {"true", "false"}
    assert len({(row["product_name"], row["complaint"]) for row in rows}) == 50
    assert "| high | 20 | 20 |" in card and "| wants_refund | boolean |" in card


def test_messy_rows_are_an_exact_share(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    spec, card = run(fake_llm, tmp_path, "messy_reviews.yaml", "messy.csv")
    rows = read_rows(tmp_path / "messy.csv")
    assert list(rows[0]) == ["text", "label", "noise"]
    assert Counter(row["label"] for row in rows) == {"negatywny": 25, "pozytywny": 25}
    assert sum(row["noise"] != "clean" for row in rows) == 10  # exactly 20% of 50
    assert all(validate(spec, row)[1] is None for row in rows)  # e.g. "all caps" rows are all caps
    assert len({row["noise"] for row in rows if row["noise"] != "clean"}) >= 3  # several kinds


def test_messy_rows_through_the_line_template(tmp_path: Path) -> None:
    with FakeOpenAI(reject_json_schema=True) as fake:
        spec, _ = run(fake, tmp_path, "messy_reviews.yaml", "messy.csv")
    rows = read_rows(tmp_path / "messy.csv")
    assert Counter(row["label"] for row in rows) == {"negatywny": 25, "pozytywny": 25}
    assert sum(row["noise"] != "clean" for row in rows) == 10


def test_custom_columns_through_the_line_template(tmp_path: Path) -> None:
    with FakeOpenAI(reject_json_schema=True) as fake:
        run(fake, tmp_path, "custom_columns.yaml", "complaints.csv")
        prompts = [m["content"] for body in fake.requests for m in body["messages"] if m["role"] == "user"]
    rows = read_rows(tmp_path / "complaints.csv")
    assert Counter(row["urgency"] for row in rows) == {"low": 15, "medium": 15, "high": 20}
    assert any("urgency: <one of: low | medium | high>" in p for p in prompts)


def test_entities_through_the_line_template(tmp_path: Path) -> None:
    with FakeOpenAI(reject_json_schema=True) as fake:
        spec, _ = run(fake, tmp_path, "entities.yaml", "ner.jsonl")
    lines = [json.loads(line) for line in (tmp_path / "ner.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 40 and sum(not line["entities"] for line in lines) <= 4


def test_custom_column_job_resumes_after_a_kill(tmp_path: Path) -> None:
    with FakeOpenAI(latency=0.3) as fake:
        env = environment(fake.base_url, tmp_path, DATAGEN_CONCURRENCY="2", DATAGEN_BATCH_SIZE="5")
        command = [*datagen_command(), "generate", str(EXAMPLES / "custom_columns.yaml"), "-o", "out.csv"]
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        deadline = time.monotonic() + 60
        while fake.request_count < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)  # no clean-up at all: only what was committed survives
        process.wait(timeout=30)
        assert not (tmp_path / "out.csv").exists()
        sent_before = len(fake.generation_requests)
        done = generate(tmp_path, env, str(EXAMPLES / "custom_columns.yaml"), "-o", "out.csv", "--resume", "1",
                        timeout=120)
        assert done.returncode == 0, done.stderr
        # resumed, not started over (judge requests aside: urgency is verified)
        assert len(fake.generation_requests) - sent_before < 50 / 5 + 2
    rows = read_rows(tmp_path / "out.csv")
    assert Counter(row["urgency"] for row in rows) == {"low": 15, "medium": 15, "high": 20}
    assert len({(row["product_name"], row["complaint"]) for row in rows}) == 50


@pytest.mark.parametrize("example", ["entities.yaml", "translation.yaml", "red_team.yaml", "simulated_users.yaml",
                                     "custom_columns.yaml", "messy_reviews.yaml"])
def test_every_new_example_spec_loads(example: str) -> None:
    spec = DatasetSpec.load(EXAMPLES / example)
    assert sum(spec.quotas().values()) == spec.count


def test_red_team_survives_faults_with_exact_counts(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    fake_llm.inject("wrong_labels", times=2, fraction=0.5)
    fake_llm.inject("duplicates", times=3)
    fake_llm.inject("500", times=2)
    fake_llm.inject("malformed")  # truncated: its complete rows are salvaged, the rest re-asked
    # The faults are meant for generation answers: the judge's requests (the category is verified) would take some.
    spec, card = run(fake_llm, tmp_path, "red_team.yaml", "redteam.csv", DATAGEN_VERIFY="off")
    assert fake_llm.pending_faults == 0  # every fault was served
    rows = read_rows(tmp_path / "redteam.csv")
    assert Counter(row["category"] for row in rows) == {category: 6 for category in RED_TEAM_CATEGORIES}
    assert len({row["prompt"] for row in rows}) == 36
    assert all(validate(spec, row)[1] is None for row in rows)
    assert re.search(r"\| duplicate \(an exact copy of another row\) \| \d+ \|", card)  # the card's plain words
    assert re.search(r"\| bad label \(a label that is not in the order\) \| \d+ \|", card)


def test_custom_columns_survive_duplicate_rows(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    fake_llm.inject("duplicates", times=4)
    _, card = run(fake_llm, tmp_path, "custom_columns.yaml", "complaints.csv")
    assert fake_llm.pending_faults == 0
    rows = read_rows(tmp_path / "complaints.csv")
    assert Counter(row["urgency"] for row in rows) == {"low": 15, "medium": 15, "high": 20}
    assert len({(row["product_name"], row["complaint"]) for row in rows}) == 50
    assert re.search(r"Duplicates removed: [1-9]", card)
