"""core.spec: validation messages, equal split, loading YAML/JSON, bad files; the shipped examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.spec import COLUMNS, DatasetSpec, OutputFormat, SpecError, TaskType, split_evenly

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def spec(**fields: object) -> DatasetSpec:
    return DatasetSpec.from_data(fields)


def error(**fields: object) -> str:
    with pytest.raises(SpecError) as info:
        DatasetSpec.from_data(fields)
    message = str(info.value)
    assert "\n" not in message, "SpecError messages are one line"
    return message


# --- validation -------------------------------------------------------------------------------


def test_label_counts_define_count_and_order() -> None:
    s = spec(labels=["negative", "positive"], label_counts={"positive": 8, "negative": 2})
    assert s.count == 10
    assert s.quotas() == {"negative": 2, "positive": 8}
    assert list(s.quotas()) == ["negative", "positive"]  # the labels' order, not the mapping's


def test_label_counts_alone_give_the_labels() -> None:
    s = spec(label_counts={"spam": 3, "ham": 7})
    assert s.labels == ["spam", "ham"] and s.count == 10


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"labels": ["positive"], "count": 5}, "at least 2 distinct labels"),
        ({"labels": [], "count": 5}, "at least 2 distinct labels"),
        ({"labels": ["Positive", "positive"], "count": 5}, "labels must be distinct"),
        ({"labels": ["a", " "], "count": 5}, "must not be empty"),
        ({"labels": ["a", "b"], "label_counts": {"a": 1, "c": 1}}, "must be exactly the labels"),
        ({"labels": ["a", "b"], "label_counts": {"a": 3, "b": -1}}, "0 or more"),
        ({"labels": ["a", "b"], "label_counts": {"a": 2, "b": 8}, "count": 12}, "add up to 10, but count is 12"),
        ({"labels": ["a", "b"]}, "count is required"),
        ({"labels": ["a", "b"], "count": 0}, "between 1 and 10,000"),
        ({"labels": ["a", "b"], "count": 10_001}, "between 1 and 10,000"),
        ({"labels": ["a", "b"], "count": 5, "format": "parquet"}, "format"),
        ({"labels": ["a", "b"], "count": 5, "task": "summarise"}, "task"),
        ({"labels": ["a", "b"], "count": 5, "colour": "red"}, "colour: unknown field"),
        ({"task": "qa", "labels": ["a", "b"], "count": 5}, "qa takes no labels"),
        ({"task": "multiple_choice"}, "count is required"),
        ({"labels": ["a", "b"], "count": "many"}, "count"),
    ],
)
def test_validation_messages(fields: dict, expected: str) -> None:
    assert expected in error(**fields)


def test_max_count_is_configurable() -> None:
    assert DatasetSpec.from_data({"task": "qa", "count": 50}, max_count=50).count == 50
    with pytest.raises(SpecError, match="between 1 and 49"):
        DatasetSpec.from_data({"task": "qa", "count": 50}, max_count=49)


@pytest.mark.parametrize(
    ("total", "labels", "expected"),
    [
        (10, ["a", "b"], {"a": 5, "b": 5}),
        (10, ["a", "b", "c"], {"a": 4, "b": 3, "c": 3}),
        (11, ["a", "b", "c"], {"a": 4, "b": 4, "c": 3}),
        (2, ["a", "b", "c"], {"a": 1, "b": 1, "c": 0}),
    ],
)
def test_equal_split_spreads_the_remainder_over_the_first_labels(total: int, labels: list[str], expected: dict) -> None:
    assert split_evenly(total, labels) == expected
    assert spec(labels=labels, count=total).quotas() == expected


def test_tasks_without_labels_have_one_bucket_and_their_columns() -> None:
    quiz = spec(task="multiple_choice", topic="the French Revolution", count=5)
    assert quiz.quotas() == {"": 5}
    assert quiz.columns == ("question", "option_a", "option_b", "option_c", "option_d", "answer")
    assert spec(task="qa", count=3).columns == COLUMNS[TaskType.qa] == ("question", "answer")
    assert spec(labels=["a", "b"], count=2).columns == ("text", "label")


def test_defaults() -> None:
    s = spec(labels=["a", "b"], count=4)
    assert (s.task, s.language, s.format) == (TaskType.classification, "English", OutputFormat.csv)


def test_round_trips_through_json() -> None:
    s = spec(labels=["neg", "pos"], label_counts={"neg": 2, "pos": 8}, topic="life", tone="casual", format="jsonl")
    assert DatasetSpec.model_validate_json(s.to_json()) == s


# --- files ------------------------------------------------------------------------------------


def test_loads_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "order.yaml"
    yaml_file.write_text("labels: [neg, pos]\nlabel_counts: {neg: 2, pos: 8}\nlanguage: Polish\n", encoding="utf-8")
    json_file = tmp_path / "order.json"
    json_file.write_text(json.dumps({"labels": ["neg", "pos"], "label_counts": {"neg": 2, "pos": 8},
                                     "language": "Polish"}), encoding="utf-8")
    assert DatasetSpec.load(yaml_file) == DatasetSpec.load(json_file)
    assert DatasetSpec.load(yaml_file).quotas() == {"neg": 2, "pos": 8}


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("bad.yaml", "labels: [a, b\ncount: 3\n", "cannot parse bad.yaml"),
        ("bad.json", '{"labels": ["a", "b"], "count": 3', "cannot parse bad.json"),
        ("list.yaml", "- a\n- b\n", "must hold a mapping"),
        ("empty.yaml", "", "must hold a mapping"),
        ("invalid.yaml", "labels: [a]\ncount: 3\n", "at least 2 distinct labels"),
    ],
)
def test_bad_files_give_one_line(tmp_path: Path, name: str, content: str, expected: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        DatasetSpec.load(path)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="not found"):
        DatasetSpec.load(tmp_path / "nope.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(SpecError, match="not UTF-8"):
        DatasetSpec.load(binary)


# --- the shipped examples -----------------------------------------------------------------------


def test_sentiment_example_is_the_seeds_order() -> None:
    s = DatasetSpec.load(EXAMPLES / "sentiment.yaml")
    assert s.task == TaskType.classification
    assert s.quotas() == {"negative": 2, "positive": 8}
    assert s.language == "English"


@pytest.mark.parametrize(
    ("name", "task", "quotas"),
    [
        ("intents.yaml", TaskType.classification,
         {"greeting": 10, "order_status": 10, "cancel_order": 10, "complaint": 10, "goodbye": 10}),
        ("toxicity.yaml", TaskType.classification, {"toxic": 20, "non-toxic": 20}),
        ("quiz.yaml", TaskType.multiple_choice, {"": 5}),
        ("qa.yaml", TaskType.qa, {"": 20}),
        ("polish_reviews.yaml", TaskType.classification, {"negatywny": 10, "neutralny": 5, "pozytywny": 15}),
    ],
)
def test_every_example_loads(name: str, task: TaskType, quotas: dict[str, int]) -> None:
    s = DatasetSpec.load(EXAMPLES / name)
    assert (s.task, s.quotas()) == (task, quotas)


def test_polish_example_asks_for_polish() -> None:
    assert DatasetSpec.load(EXAMPLES / "polish_reviews.yaml").language == "Polish"
