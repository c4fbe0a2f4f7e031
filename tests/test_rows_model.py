"""core.rows: columns as users write them, typed validation, the export layout of each column type,
the card's per-column figures, and the exports of row-model jobs (store -> file bytes)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.export import card_path_for, export_job, render_card, render_dataset
from core.rows.card import column_figures
from core.rows.columns import Column, ColumnType
from core.rows.model import RowModel
from core.rows.noise import kinds_for, messy_total
from core.rows.presets import validate
from core.rows.rules import NO_ENTITIES_FULL, RowRules
from core.spec import DatasetSpec
from storage.jobs import NewRow
from storage.store import Store


def test_columns_as_users_write_them() -> None:
    column = Column(name="Product Name", type="string")
    assert (column.name, column.type) == ("product_name", ColumnType.text)
    urgency = Column.model_validate({"name": "urgency", "type": "label", "values": "low / medium / high"})
    assert urgency.type == ColumnType.category and urgency.values == ("low", "medium", "high")
    assert Column(name="n", type="integer").type == ColumnType.number
    for bad in ({"name": "1st"}, {"name": "x", "type": "category", "values": ["a", "A"]},
                {"name": "x", "values": ["a", "b"]}, {"name": "x", "type": "spans"}):
        with pytest.raises(ValidationError):
            Column.model_validate(bad)


MODEL = RowModel("custom", (
    Column(name="text"), Column(name="mood", type="category", values=("calm", "angry"), stratified=True),
    Column(name="stars", type="number"), Column(name="repeat", type="boolean"),
    Column(name="slots", type="spans", values=("CITY", "DATE")),
))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"text": "Flight to Paris on Monday", "mood": "Calm", "stars": "4,5", "repeat": "no",
          "slots": [{"text": "Paris", "type": "city"}, {"text": "Monday", "type": "DATE"}]},
         ({"text": "Flight to Paris on Monday", "mood": "calm", "stars": 4.5, "repeat": False,
           "slots": [{"start": 10, "end": 15, "label": "CITY", "text": "Paris"},
                     {"start": 19, "end": 25, "label": "DATE", "text": "Monday"}]}, None)),
        ({"text": "Nothing here", "mood": "angry", "stars": 3, "repeat": True},  # spans may be left out
         ({"text": "Nothing here", "mood": "angry", "stars": 3, "repeat": True, "slots": []}, None)),
        ({"text": "x y z", "mood": "calm", "stars": "NaN", "repeat": True}, (None, "bad stars")),
        ({"text": "x y z", "mood": "calm", "stars": True, "repeat": True}, (None, "bad stars")),
        ({"text": "x y z", "mood": "calm", "stars": 1, "repeat": "maybe"}, (None, "bad repeat")),
        ({"text": "x y z", "mood": "calm", "stars": 1}, (None, "missing field")),
        ({"text": "calm", "mood": "calm", "stars": 1, "repeat": True}, (None, "label as text")),
        ({"text": "ok", "mood": "calm", "stars": 1, "repeat": True}, (None, "too short")),
        ({"text": ["a"], "mood": "calm", "stars": 1, "repeat": True}, (None, "missing field")),
        ("not a row", (None, "missing field")),
    ],
)
def test_typed_validation(raw: object, expected: tuple) -> None:
    assert MODEL.validate(raw) == expected


def test_export_layout_per_type() -> None:
    clean, _ = MODEL.validate({"text": "Flight to Paris", "mood": "calm", "stars": 2, "repeat": True,
                               "slots": [{"text": "Paris", "type": "CITY"}]})
    assert MODEL.record(clean) == {"text": "Flight to Paris", "mood": "calm", "stars": 2, "repeat": True,
                                   "slots": [{"start": 10, "end": 15, "label": "CITY"}]}
    cells = [MODEL.cell(column, clean) for column in MODEL.columns]
    assert cells[2:4] == ["2", "true"]
    assert json.loads(cells[4]) == [{"start": 10, "end": 15, "label": "CITY", "text": "Paris"}]


def test_card_figures_per_column() -> None:
    rows = [MODEL.validate({"text": f"Trip number {i} to Paris", "mood": "calm" if i else "angry", "stars": i,
                            "repeat": i % 2 == 0, "slots": [{"text": "Paris", "type": "CITY"}] if i else []})[0]
            for i in range(4)]
    text = "\n".join(column_figures(MODEL, rows, {"calm": 3, "angry": 1}))
    assert "| calm | 3 | 3 |" in text and "| angry | 1 | 1 |" in text
    assert "| CITY | 3 | 3 |" in text and "| DATE | 0 | 0 |" in text and "Rows without any slots: 1 of 4" in text
    assert "| stars | number | min 0, mean 1.5, max 3 |" in text and "| repeat | boolean | true 2, false 2 |" in text


def test_messy_share_is_exact_and_kinds_fit_the_language() -> None:
    assert [messy_total(0.2, n) for n in (10, 50, 7, 1)] == [2, 10, 1, 0]
    assert messy_total(1, 9) == 9
    assert "no diacritics" in kinds_for("Polish") and "no diacritics" not in kinds_for("English")


def test_rules_keep_shares_exact() -> None:
    spec = DatasetSpec.from_data({"labels": ["a", "b"], "count": 10, "noise_share": 0.3})
    rules = RowRules.for_spec(spec)
    messy = {"text": "SOME TEXT", "label": "a", "noise": "all caps"}
    for _ in range(3):
        assert rules.admit(messy) is None
        rules.count(messy)
    assert rules.admit(messy) == "over quota"  # 3 of 10 messy: full
    assert rules.admit({**messy, "noise": "clean"}) is None
    pins, count = rules.plan("a", 10, 1)
    assert pins == {"label": "a", "noise": "clean"} and count == 7
    entities = DatasetSpec.from_data({"task": "entities", "entity_types": ["X"], "count": 20, "empty_share": 0.1})
    rules = RowRules.for_spec(entities)
    for _ in range(2):
        assert rules.admit({"text": "t", "entities": []}) is None
        rules.count({"text": "t", "entities": []})
    assert rules.admit({"text": "t", "entities": []}) == NO_ENTITIES_FULL
    assert rules.admit({"text": "t", "entities": [{"start": 0, "end": 1, "label": "X"}]}) is None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.from_url(f"sqlite:///{tmp_path}/rows.db")
    yield store
    store.close()


def _job(store: Store, spec: DatasetSpec, raws: list[dict], sources: list[str] | None = None) -> int:
    job_id = store.create_job(spec.to_json(), model="test-model")
    rows = []
    for i, raw in enumerate(raws):
        clean, reason = validate(spec, raw)
        assert reason is None, reason
        rows.append(NewRow(clean, source=(sources or [])[i] if sources else "synthetic"))
    store.add_examples(job_id, rows)
    store.finish_job(job_id, "done")
    return job_id


def test_translation_export_names_provenance_origin(store: Store) -> None:
    spec = DatasetSpec.from_data({"task": "translation", "language": "English", "target_language": "Polish", "count": 2})
    job_id = _job(store, spec, [{"source": "Where is my parcel?", "target": "Gdzie jest moja paczka?"},
                                {"source": "Thank you very much", "target": "Dziękuję bardzo za pomoc"}],
                  sources=["uploaded", "synthetic"])
    rows = list(csv.DictReader(io.StringIO(render_dataset(store, job_id, "csv").decode())))
    assert rows[0] == {"source": "Where is my parcel?", "target": "Gdzie jest moja paczka?", "origin": "uploaded"}
    finetune = [json.loads(line) for line in render_dataset(store, job_id, "openai_jsonl").decode().splitlines()]
    assert [m["content"] for m in finetune[1]["messages"]][1:] == ["Thank you very much", "Dziękuję bardzo za pomoc"]
    assert "into Polish" in finetune[0]["messages"][0]["content"]


def test_entity_exports_and_card(store: Store) -> None:
    spec = DatasetSpec.from_data({"task": "entities", "entity_types": ["PERSON", "ORG"], "count": 2, "format": "jsonl"})
    job_id = _job(store, spec, [
        {"text": "=Anna joined Acme.", "entities": [{"text": "Acme", "type": "ORG"}]},
        {"text": "Nothing to report today.", "entities": []}])
    lines = [json.loads(line) for line in render_dataset(store, job_id, "jsonl").decode().splitlines()]
    assert lines == [{"text": "=Anna joined Acme.", "entities": [{"start": 13, "end": 17, "label": "ORG"}]},
                     {"text": "Nothing to report today.", "entities": []}]
    rows = list(csv.reader(io.StringIO(render_dataset(store, job_id, "csv").decode())))
    assert rows[0] == ["text", "entities"] and rows[1][0] == "'=Anna joined Acme."  # spreadsheet-safe
    finetune = json.loads(render_dataset(store, job_id, "openai_jsonl").decode().splitlines()[0])
    assert json.loads(finetune["messages"][2]["content"]) == [{"text": "Acme", "label": "ORG"}]
    card = render_card(store, job_id)
    assert "| ORG | 1 | 1 |" in card and "Rows without any entities: 1 of 2" in card
    assert "task: entities" in card and "entity_types:" in card


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl", "openai_jsonl"])
def test_streamed_file_has_the_in_memory_bytes(store: Store, tmp_path: Path, fmt: str) -> None:
    spec = DatasetSpec.from_data({"columns": [{"name": "note"}, {"name": "stars", "type": "number"},
                                              {"name": "ok", "type": "boolean"},
                                              {"name": "slots", "type": "spans", "values": ["CITY"]}],
                                  "count": 2, "noise_share": 0.5})
    job_id = _job(store, spec, [
        {"note": "=Trip to Paris", "stars": 4, "ok": True, "slots": [{"text": "Paris", "type": "CITY"}], "noise": "clean"},
        {"note": "TRIP TO ROME", "stars": 2.5, "ok": False, "slots": [], "noise": "all caps"}], sources=["uploaded", "synthetic"])
    path = tmp_path / f"out.{'jsonl' if 'jsonl' in fmt else fmt}"
    export_job(store, job_id, path, fmt)
    assert path.read_bytes() == render_dataset(store, job_id, fmt)
    assert "| stars | number | min 2.5, mean 2.5, max 2.5 |" in card_path_for(path).read_text(encoding="utf-8")
