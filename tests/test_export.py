"""core.export: every format, the `source` column for uploaded rows, CSV safety, the dataset card."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from core.export import ExportError, card_path_for, export_job, format_for_path, render_card, render_dataset
from core.generator import Generator, Guidance
from core.llm import make_backend
from core.quality import neutralise_cell
from core.settings import Settings
from core.spec import DatasetSpec, OutputFormat
from storage.jobs import NewRow
from storage.store import Store

SENTIMENT = DatasetSpec.from_data(
    {"labels": ["negative", "positive"], "label_counts": {"negative": 1, "positive": 2}, "topic": "everyday life"}
)
QUIZ = DatasetSpec.from_data({"task": "multiple_choice", "topic": "the French Revolution", "count": 2})
QA = DatasetSpec.from_data({"task": "qa", "topic": "houseplants", "count": 1, "language": "Polish"})

TRICKY = [
    ({"text": "=HYPERLINK(\"http://evil\",\"x\")", "label": "negative"}, "negative"),
    ({"text": 'Commas, "quotes" and\na newline — zażółć', "label": "positive"}, "positive"),
    ({"text": "-5 degrees and still smiling", "label": "positive"}, "positive"),
]
QUIZ_ROWS = [
    {"question": "When was the Bastille stormed?", "option_a": "1789", "option_b": "1799",
     "option_c": "1776", "option_d": "1815", "answer": "a"},
    {"question": "Who was executed in January 1793?", "option_a": "Danton", "option_b": "Louis XVI",
     "option_c": "Marat", "option_d": "Robespierre", "answer": "b"},
]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store.from_url(f"sqlite:///{tmp_path}/export.db")
    yield store
    store.close()


def make_job(
    store: Store,
    spec: DatasetSpec,
    rows: list[tuple[dict[str, str], str]],
    *,
    sources: list[str] | None = None,
    rejected: dict[str, int] | None = None,
) -> int:
    job_id = store.create_job(spec.to_json(), model="test-model via http://127.0.0.1/v1")
    new_rows = [NewRow(fields, label=label, source=(sources or [])[i] if sources else "synthetic")
                for i, (fields, label) in enumerate(rows)]
    for reason, count in (rejected or {}).items():
        new_rows += [NewRow({"text": f"r{i}"}, accepted=False, reason=reason) for i in range(count)]
    store.add_examples(job_id, new_rows, requests=3, prompt_tokens=1200, completion_tokens=345)
    store.start_job(job_id)
    store.finish_job(job_id, "done", elapsed=2.5)
    return job_id


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


# --- formats ----------------------------------------------------------------------------------


def test_csv_has_the_design_columns_round_trips_and_neutralises_formulas(store: Store) -> None:
    job_id = make_job(store, SENTIMENT, TRICKY)
    table = read_csv(render_dataset(store, job_id, OutputFormat.csv))
    assert table[0] == ["text", "label"]
    assert table[1:] == [
        ["'=HYPERLINK(\"http://evil\",\"x\")", "negative"],
        ['Commas, "quotes" and\na newline — zażółć', "positive"],
        ["'-5 degrees and still smiling", "positive"],
    ]


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_neutralised_in_csv_only(store: Store, first: str) -> None:
    text = f"{first}cmd|' /C calc'!A0"
    job_id = make_job(store, SENTIMENT, [({"text": text, "label": "negative"}, "negative")])
    assert read_csv(render_dataset(store, job_id, "csv"))[1] == ["'" + text, "negative"]
    assert json.loads(render_dataset(store, job_id, "json"))[0]["text"] == text  # not a spreadsheet


def test_csv_is_plain_utf8(store: Store) -> None:
    job_id = make_job(store, SENTIMENT, TRICKY)
    data = render_dataset(store, job_id, "csv")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert "zażółć".encode() in data


def test_json_and_jsonl_hold_the_same_objects(store: Store) -> None:
    job_id = make_job(store, SENTIMENT, TRICKY)
    expected = [fields for fields, _ in TRICKY]
    as_json = json.loads(render_dataset(store, job_id, "json"))
    lines = render_dataset(store, job_id, "jsonl").decode("utf-8").splitlines()
    assert as_json == expected
    assert [json.loads(line) for line in lines] == expected
    assert "zażółć" in lines[1]  # readable UTF-8, not \u escapes


def test_multiple_choice_columns(store: Store) -> None:
    job_id = make_job(store, QUIZ, [(row, "") for row in QUIZ_ROWS])
    table = read_csv(render_dataset(store, job_id, "csv"))
    assert table[0] == ["question", "option_a", "option_b", "option_c", "option_d", "answer"]
    assert [row[-1] for row in table[1:]] == ["a", "b"]
    assert json.loads(render_dataset(store, job_id, "json")) == QUIZ_ROWS


def test_openai_fine_tuning_format_per_task(store: Store) -> None:
    classification = make_job(store, SENTIMENT, TRICKY)
    quiz = make_job(store, QUIZ, [(row, "") for row in QUIZ_ROWS])
    qa = make_job(store, QA, [({"question": "Jak często podlewać storczyk?", "answer": "Raz w tygodniu."}, "")])

    def examples(job_id: int) -> list[list[dict[str, str]]]:
        lines = render_dataset(store, job_id, "openai_jsonl").decode("utf-8").splitlines()
        parsed = [json.loads(line) for line in lines]
        assert all(list(example) == ["messages"] for example in parsed)
        return [example["messages"] for example in parsed]

    first = examples(classification)[0]
    assert [m["role"] for m in first] == ["system", "user", "assistant"]
    assert "negative, positive" in first[0]["content"]
    assert (first[1]["content"], first[2]["content"]) == (TRICKY[0][0]["text"], "negative")  # raw, not neutralised

    second_question = examples(quiz)[1]
    assert second_question[1]["content"] == (
        "Who was executed in January 1793?\na) Danton\nb) Louis XVI\nc) Marat\nd) Robespierre")
    assert second_question[2]["content"] == "b"

    only = examples(qa)[0]
    assert (only[1]["content"], only[2]["content"]) == ("Jak często podlewać storczyk?", "Raz w tygodniu.")
    assert "Polish" in only[0]["content"]


def test_rows_come_in_storage_order_and_bytes_are_stable(store: Store) -> None:
    job_id = make_job(store, SENTIMENT, list(reversed(TRICKY)))
    first = render_dataset(store, job_id, "jsonl")
    assert [json.loads(line)["text"] for line in first.decode().splitlines()] == [f["text"] for f, _ in reversed(TRICKY)]
    assert render_dataset(store, job_id, "jsonl") == first


# --- uploaded rows ----------------------------------------------------------------------------


def test_uploaded_rows_are_exported_with_a_source_column(store: Store) -> None:
    rows = [({"text": "My own labelled row", "label": "negative"}, "negative"), *TRICKY]
    job_id = make_job(store, SENTIMENT, rows, sources=["uploaded", "synthetic", "kept", "synthetic"])
    table = read_csv(render_dataset(store, job_id, "csv"))
    assert table[0] == ["text", "label", "source"]
    assert [row[2] for row in table[1:]] == ["uploaded", "synthetic", "synthetic", "synthetic"]  # kept = synthetic
    objects = json.loads(render_dataset(store, job_id, "json"))
    assert objects[0] == {"text": "My own labelled row", "label": "negative", "source": "uploaded"}
    lines = render_dataset(store, job_id, "jsonl").decode().splitlines()
    assert json.loads(lines[-1])["source"] == "synthetic"
    card = render_card(store, job_id)
    assert "3 synthetic, 1 uploaded" in card


def test_no_source_column_without_uploaded_rows(store: Store) -> None:
    job_id = make_job(store, SENTIMENT, TRICKY, sources=["synthetic", "kept", "synthetic"])
    assert read_csv(render_dataset(store, job_id, "csv"))[0] == ["text", "label"]
    assert "source" not in json.loads(render_dataset(store, job_id, "json"))[0]


# --- the card and files -----------------------------------------------------------------------


def test_card_reports_spec_model_counts_rejections_tokens_and_time(store: Store) -> None:
    job_id = make_job(store, SENTIMENT, TRICKY,
                      rejected={"duplicate": 3, "near-duplicate": 2, "bad label": 4, "over quota": 1})
    card = render_card(store, job_id)
    assert card.startswith("# Dataset card: everyday life")
    assert "Model: test-model via http://127.0.0.1/v1" in card
    assert "| negative | 1 | 1 |" in card and "| positive | 2 | 2 |" in card
    assert "Duplicates removed: 5" in card
    assert "| bad label (a label that is not in the order) | 4 |" in card
    assert "| duplicate (an exact copy of another row) | 3 |" in card
    assert "| near-duplicate (almost the same as another row) | 2 |" in card
    assert "| not needed (a good row that came after its label already had enough) | 1 |" in card
    assert "over quota" not in card and "Warning" not in card  # no internal words; a server model needs no warning
    assert "Tokens: 1,545 (prompt 1,200, completion 345)" in card
    assert "Requests: 3" in card
    assert "Generation time: 2.5 s" in card
    assert "Status: done" in card
    assert "Generated: 20" in card  # a date
    spec_yaml = card.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert DatasetSpec.from_data(yaml.safe_load(spec_yaml)) == SENTIMENT  # the card's spec re-orders the same data


def test_card_for_a_quiz_counts_answer_letters(store: Store) -> None:
    job_id = make_job(store, QUIZ, [(row, "") for row in QUIZ_ROWS])
    card = render_card(store, job_id)
    assert "| a | 1 |" in card and "| b | 1 |" in card and "| c | 0 |" in card
    assert "Rows rejected: none" in card


def test_export_job_writes_the_file_and_the_card_beside_it(store: Store, tmp_path: Path) -> None:
    job_id = make_job(store, SENTIMENT, TRICKY)
    target = tmp_path / "new" / "dir" / "sentiment.csv"
    result = export_job(store, job_id, target)
    assert (result.path, result.card_path, result.rows) == (target, tmp_path / "new" / "dir" / "sentiment.card.md", 3)
    assert read_csv(target.read_bytes())[0] == ["text", "label"]
    assert "File: `sentiment.csv`" in result.card_path.read_text(encoding="utf-8")
    assert sorted(p.name for p in target.parent.iterdir()) == ["sentiment.card.md", "sentiment.csv"]  # no temp files


@pytest.mark.parametrize(
    ("name", "spec_format", "explicit", "expected"),
    [
        ("out.csv", "json", None, "csv"),
        ("out.JSON", "csv", None, "json"),
        ("out.jsonl", "csv", None, "jsonl"),
        ("out.jsonl", "openai_jsonl", None, "openai_jsonl"),  # the suffix fits the spec's choice
        ("out.txt", "jsonl", None, "jsonl"),
        ("out", "json", None, "json"),
        ("out.csv", "csv", "openai_jsonl", "openai_jsonl"),
        ("out.csv", "csv", " JSON ", "json"),
    ],
)
def test_format_choice(name: str, spec_format: str, explicit: str | None, expected: str) -> None:
    assert format_for_path(Path(name), OutputFormat(spec_format), explicit) == OutputFormat(expected)


def test_unknown_format_and_job_are_clear_errors(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown format 'parquet'"):
        format_for_path(Path("x.csv"), OutputFormat.csv, "parquet")
    with pytest.raises(ExportError, match="job 999 does not exist"):
        export_job(store, 999, tmp_path / "x.csv")


def test_card_path_names() -> None:
    assert card_path_for(Path("/d/out.csv")) == Path("/d/out.card.md")
    assert card_path_for(Path("/d/out")) == Path("/d/out.card.md")


# --- end to end with the engine -----------------------------------------------------------------


async def test_generated_job_with_uploaded_rows_exports_exact_counts(settings: Settings, tmp_path: Path) -> None:
    store = Store.from_url(settings.database_url)
    llm = make_backend(settings)
    try:
        uploaded = [{"text": "I spilled coffee on my new laptop this morning.", "label": "negative"},
                    {"text": "Our team finally shipped the release today!", "label": "positive"}]
        generator = Generator(llm, store, settings)
        job_id = generator.create_job(SENTIMENT, Guidance(existing=uploaded))
        result = await generator.run(job_id)
        assert result.status == "done"
        exported = export_job(store, job_id, tmp_path / "out.csv")
    finally:
        await llm.aclose()
        store.close()
    table = read_csv(exported.path.read_bytes())
    assert table[0] == ["text", "label", "source"]
    synthetic = [row for row in table[1:] if row[2] == "synthetic"]
    assert sorted(row[1] for row in synthetic) == ["negative", "positive", "positive"]
    assert [row[:2] for row in table[1:] if row[2] == "uploaded"] == [[r["text"], r["label"]] for r in uploaded]
    assert len({row[0] for row in table[1:]}) == len(table) - 1
    assert exported.rows == 5


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(max_size=80), min_size=1, max_size=5))
def test_any_text_round_trips_through_csv(tmp_path_factory: pytest.TempPathFactory, texts: list[str]) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path_factory.mktemp('csv')}/p.db")
    try:
        order = DatasetSpec.from_data({"labels": ["negative", "positive"],
                                       "label_counts": {"negative": 1, "positive": len(texts)}})  # rows within the order
        job_id = make_job(store, order, [({"text": text, "label": "positive"}, "positive") for text in texts])
        table = read_csv(render_dataset(store, job_id, "csv"))
        assert table == [["text", "label"], *([neutralise_cell(text), "positive"] for text in texts)]
        assert [json.loads(line)["text"] for line in render_dataset(store, job_id, "jsonl").decode().splitlines()] == texts
    finally:
        store.close()


def comparable(data: bytes, fmt: OutputFormat) -> bytes | dict[str, bytes]:
    """The file's bytes; for XLSX its parts but the save time openpyxl stamps in docProps/core.xml
    (two renders straddling a second boundary differ there only)."""
    if fmt != OutputFormat.xlsx:
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return {name: book.read(name) for name in book.namelist() if name != "docProps/core.xml"}


@pytest.mark.parametrize("fmt", list(OutputFormat))
@pytest.mark.parametrize("what", ["sentiment", "uploaded", "quiz", "empty"])
def test_export_job_streams_the_same_bytes_as_the_in_memory_render(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: OutputFormat, what: str
) -> None:
    """export_job writes the file a chunk of rows at a time (bounded memory for huge jobs); the
    bytes and the card must be those of the in-memory render, across chunk boundaries too."""
    import core.export_stream

    monkeypatch.setattr(core.export_stream, "CHUNK", 2)  # several chunks even for these few rows
    rows = TRICKY * 3
    if what == "quiz":
        job_id = make_job(store, QUIZ, [(row, "") for row in QUIZ_ROWS * 3])
    elif what == "uploaded":
        job_id = make_job(store, SENTIMENT, rows, sources=["uploaded", "synthetic", "kept"] * 3)
    elif what == "empty":
        job_id = make_job(store, SENTIMENT, [])
    else:
        job_id = make_job(store, SENTIMENT, rows, rejected={"duplicate": 2})
    target = tmp_path / f"out-{what}{'.csv' if fmt == OutputFormat.csv else '.json' if fmt == OutputFormat.json else '.jsonl'}"
    result = export_job(store, job_id, target, fmt)
    assert comparable(target.read_bytes(), fmt) == comparable(render_dataset(store, job_id, fmt), fmt)
    def same_parts(card: str) -> list[str]:  # the export time and the re-order hint's file name differ
        return [line for line in card.split("\n") if not line.startswith(("- Exported:", "Save this as"))]

    in_memory_card = same_parts(render_card(store, job_id))
    streamed_card = result.card_path.read_text(encoding="utf-8").replace(f"File: `{target.name}`\n\n", "")
    assert same_parts(streamed_card) == in_memory_card
    assert f"-o {target.name}`" in streamed_card


def test_card_in_polish_with_the_embedded_models_warning_and_no_internal_words(store: Store) -> None:
    from core.export import render_delivery

    job_id = make_job(store, SENTIMENT, TRICKY,
                      rejected={"over quota": 2, "label as text": 1, "not text": 1, "bad label": 1})
    store.start_job(job_id, model="SmolLM2-135M-Instruct (embedded, CPU)")
    card = render_delivery(store, job_id, "csv", "dataset-1.csv", "pl").card
    assert card.startswith("# Karta zbioru danych: everyday life")
    assert "**Uwaga: zrobione małym wbudowanym modelem.**" in card and "OPENAI_API_KEY" in card
    assert "## Wiersze na etykietę" in card and "| Powód | Wiersze |" in card and "Usunięte duplikaty: 0" in card
    for internal in ("over quota", "label as text", "not text", "bad label", "Rows", "Label"):
        assert internal not in card, internal
    english = render_delivery(store, job_id, "csv", "dataset-1.csv", "en").card
    assert "**Warning: made with the small embedded model.**" in english and "OPENAI_BASE_URL" in english


def test_an_export_never_writes_more_than_each_labels_quota(store: Store, tmp_path: Path) -> None:
    """Whatever the table holds (e.g. surplus a second process stored), the file is the order."""
    order = DatasetSpec.from_data({"labels": ["negative", "positive"], "label_counts": {"negative": 1, "positive": 2}})
    rows = [({"text": f"bad day number {i}"}, "negative") for i in range(3)]
    rows += [({"text": f"good day number {i}"}, "positive") for i in range(4)]
    job_id = make_job(store, order, [({**fields, "label": label}, label) for fields, label in rows])
    for fmt in (OutputFormat.csv, OutputFormat.jsonl):  # the streamed writer
        path = tmp_path / f"capped.{fmt.value}"
        export_job(store, job_id, path, fmt)
        labels = ([row[1] for row in read_csv(path.read_bytes())[1:]] if fmt == OutputFormat.csv
                  else [json.loads(line)["label"] for line in path.read_text(encoding="utf-8").splitlines()])
        assert sorted(labels) == ["negative", "positive", "positive"]
    in_memory = read_csv(render_dataset(store, job_id, OutputFormat.csv))[1:]  # the chat's delivery path
    assert [row[0] for row in in_memory] == ["bad day number 0", "good day number 0", "good day number 1"]


def test_the_cards_reorder_hint_names_the_orders_own_file(store: Store, tmp_path: Path) -> None:
    job_id = make_job(store, QUIZ, [(row, "") for row in QUIZ_ROWS])
    result = export_job(store, job_id, tmp_path / "quiz.json")
    card = result.card_path.read_text(encoding="utf-8")
    assert "datagen generate spec.yaml -o quiz.json" in card and "-o out.csv" not in card


def test_card_reports_variety_language_share_and_actual_cost(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAGEN_PRICES", "test-model=1/2")  # $1 / $2 per million: 1,200 + 345 tokens
    job_id = make_job(store, SENTIMENT, TRICKY, rejected={"wrong language": 1})
    card = render_card(store, job_id)
    assert "## Variety" in card and "variety: 100% of 2-word phrases unique" in card
    assert "Cost: <$0.01 at list prices" in card
    polish = DatasetSpec.from_data({"labels": ["a", "b"], "label_counts": {"a": 1, "b": 2}, "language": "Polish"})
    polish_id = make_job(store, polish, TRICKY, rejected={"wrong language": 1})
    assert "Written in the ordered language: 75% of the rows checked" in render_card(store, polish_id)
    monkeypatch.setenv("DATAGEN_PRICES", "")
    assert "Cost: unknown (no price for test-model" in render_card(store, job_id)


def test_a_polish_row_model_card_has_no_english_column_figures(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from core.export import render_delivery
    from core.messages import TEXTS

    monkeypatch.setenv("DATAGEN_PRICES", "test-model=1/2")
    spec = DatasetSpec.load(Path(__file__).resolve().parent.parent / "examples" / "custom_columns.yaml")
    rows = [({"product_name": f"washing machine model {i}", "complaint": f"it leaks water after wash number {i}",
              "urgency": urgency, "wants_refund": i % 2 == 0}, urgency)
            for i, urgency in enumerate(["low"] * 15 + ["medium"] * 15 + ["high"] * 20)]
    job_id = make_job(store, spec, rows)
    card = render_delivery(store, job_id, "csv", "complaints.csv", "pl").card
    assert "## Wiersze według kolumny urgency" in card and "| Kolumna | Typ | Liczby |" in card
    assert "znaków, średnio" in card and "prawda 25, fałsz 25" in card and "## Różnorodność" in card
    # Every card text but the level words ("medium" is also a value of this order's urgency column).
    keys = [key for key in TEXTS if key.startswith(("card_", "variety_"))
            and key not in ("card_model", "card_spec_hint", "variety_high", "variety_medium", "variety_low")]
    for key in keys:
        for fragment in re.split(r"\{\w+\}", TEXTS[key]["en"]):
            fragment = fragment.strip(" |.:-()`*")
            if len(fragment) >= 6 and fragment != TEXTS[key]["pl"].strip(" |.:-()`*"):
                assert fragment not in card, (key, fragment)


@pytest.mark.parametrize(("language", "shown"), [("Polish", "polski"), ("German", "niemiecki"), ("English", "angielski")])
def test_a_polish_card_names_the_orders_language_in_polish_and_explains_the_spec_keys(
        store: Store, language: str, shown: str) -> None:
    from core.export import render_delivery
    from core.intake.languages import LANGUAGE_BY_NAME

    spec = DatasetSpec.from_data({"labels": ["negative", "positive"], "label_counts": {"negative": 1, "positive": 2},
                                  "topic": "everyday life", "tone": "casual", "language": language})
    card = render_delivery(store, make_job(store, spec, TRICKY), "csv", "dataset-1.csv", "pl").card
    before, _, rest = card.partition("```yaml\n")
    spec_file, _, after = rest.partition("```")
    outside = before + after
    assert f"- Język: {shown}" in outside
    for name in LANGUAGE_BY_NAME:  # "Polish", "German", "English", ...: no English language name outside the spec file
        assert name not in outside, name
    # The spec file keeps the keys and values `datagen generate` reads, each key explained in Polish above it.
    assert f"# język danych: {shown}\nlanguage: {language}" in spec_file
    assert "# rodzaj zadania\ntask: classification" in spec_file and "# etykiety\nlabels:" in spec_file
    assert DatasetSpec.from_data(yaml.safe_load(spec_file)) == spec
    english = render_delivery(store, make_job(store, spec, TRICKY), "csv", "dataset-1.csv", "en").card
    assert f"- Language: {language}" in english and "#" not in english.partition("```yaml\n")[2]


def test_a_documents_cards_spec_file_leaves_the_passages_to_the_documents_folder(store: Store) -> None:
    from core.documents.passages import Passage

    secret = "The pump must be primed with water before its first use."
    passages = [Passage(document="manual.pdf", source=f"manual.pdf p. {n}", text=f"{secret} Page {n}.") for n in range(3)]
    spec = DatasetSpec.from_data({"task": "documents", "count": 1}).model_copy(update={"passages": passages})
    row = {"question": "What must be done first?", "answer": "Prime it with water.", "context": secret,
           "source": "manual.pdf p. 0", "question_type": "factual"}
    card = render_card(store, make_job(store, spec, [(row, "factual")]))
    spec_file = card.partition("```yaml\n")[2].partition("```")[0]
    assert secret not in spec_file and "passages" not in spec_file  # only the context column carries the text
    assert DatasetSpec.from_data(yaml.safe_load(spec_file)) == spec.model_copy(update={"passages": None})
    assert "datagen generate spec.yaml --documents FOLDER -o out.csv" in card
