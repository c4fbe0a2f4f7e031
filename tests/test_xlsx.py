"""The xlsx format (core.export, `datagen generate --format xlsx`) and the BOM of CSV sent in chats."""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from pathlib import Path

import openpyxl

from core.export import export_job, render_dataset, render_delivery
from core.settings import Settings
from core.spec import DatasetSpec
from storage.jobs import NewRow
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI
from tests.test_headless import SENTIMENT, environment, generate

SPEC = DatasetSpec.from_data({"labels": ["negative", "positive"], "label_counts": {"negative": 2, "positive": 2}})
ROWS = [
    {"text": '=HYPERLINK("http://evil","x")', "label": "negative"},
    {"text": "Zażółć gęślą jaźń — na pewno\nw dwóch liniach", "label": "positive"},
    {"text": "@mention and +48 123 456 789", "label": "positive"},
    {"text": "Bell\x07 in the text", "label": "negative"},
]


def make_job(tmp_path: Path) -> tuple[Store, int]:
    store = Store.from_url(f"sqlite:///{tmp_path}/x.db")
    job_id = store.create_job(SPEC.to_json(), model="m")
    store.add_examples(job_id, [NewRow(row, label=row["label"]) for row in ROWS], requests=1, prompt_tokens=1,
                       completion_tokens=1)
    store.finish_job(job_id, "done", elapsed=1.0)
    return store, job_id


def sheet_rows(data: bytes) -> list[list[str | None]]:
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_xlsx_holds_every_text_exactly_and_no_formula(tmp_path: Path) -> None:
    store, job_id = make_job(tmp_path)
    data = render_dataset(store, job_id, "xlsx")
    rows = sheet_rows(data)
    assert rows[0] == ["text", "label"]
    assert rows[1:4] == [[r["text"], r["label"]] for r in ROWS[:3]]
    assert rows[4] == ["Bell in the text", "negative"]  # a control character is not allowed in the XML
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.active["A2"].data_type == "s"  # text, not a formula Excel would run
    store.close()


def test_export_picks_xlsx_by_suffix(tmp_path: Path) -> None:
    store, job_id = make_job(tmp_path)
    result = export_job(store, job_id, tmp_path / "out.xlsx")
    assert result.rows == 4
    assert len(sheet_rows((tmp_path / "out.xlsx").read_bytes())) == 5
    store.close()


def test_csv_in_a_chat_has_a_bom_and_the_generated_file_none(tmp_path: Path) -> None:
    store, job_id = make_job(tmp_path)
    chat = render_delivery(store, job_id, "csv", "dataset-1.csv").data
    export_job(store, job_id, tmp_path / "out.csv")
    on_disk = (tmp_path / "out.csv").read_bytes()
    assert chat.startswith(codecs.BOM_UTF8) and not on_disk.startswith(codecs.BOM_UTF8)
    assert chat[len(codecs.BOM_UTF8):] == on_disk
    rows = list(csv.DictReader(io.StringIO(chat.decode("utf-8-sig"))))
    assert rows[1]["text"].startswith("Zażółć")
    store.close()


def test_datagen_generate_format_xlsx(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    done = generate(tmp_path, environment(fake_llm.base_url, tmp_path), str(SENTIMENT), "-o", "out.data",
                    "--format", "xlsx")
    assert done.returncode == 0, done.stderr
    rows = sheet_rows((tmp_path / "out.data").read_bytes())
    assert rows[0] == ["text", "label"]
    assert Counter(label for _, label in rows[1:]) == {"negative": 2, "positive": 8}
    assert len({text for text, _ in rows[1:]}) == 10


async def test_a_chat_order_in_xlsx_is_delivered_as_a_workbook(settings: Settings, fake_llm: FakeOpenAI) -> None:
    from tests.dialog_support import documents, find_choice, new_user, previews

    user = await new_user(settings)
    try:
        replies = await user.send("Produce 6 examples as xlsx: 3 positive and 3 negative product reviews.")
        find_choice(replies, "preview")
        replies = await user.press(replies, "preview")
        done = await user.press([previews(replies)[0]], "generate")
        dataset = documents(done)[0]
        assert dataset.filename.endswith(".xlsx")
        assert dataset.mime_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        rows = sheet_rows(dataset.data)
        assert Counter(label for _, label in rows[1:]) == {"positive": 3, "negative": 3}
    finally:
        await user.dialog.aclose()


async def test_the_format_question_offers_xlsx(settings: Settings, fake_llm: FakeOpenAI) -> None:
    from tests.dialog_support import all_choices, new_user

    user = await new_user(settings)
    try:
        replies = await user.send("I need a dataset")
        for _ in range(10):
            offered = [c for c in all_choices(replies) if c.value.startswith("format=")]
            if offered:
                break
            replies = await user.send("1")
        assert [c.label for c in offered] == ["CSV", "XLSX", "JSON", "JSONL"]
    finally:
        await user.dialog.aclose()
