"""What a dataset file looks like, shared by the in-memory writer (core/export.py) and the streamed
one (core/export_stream.py): the provenance column's name, the fine-tuning chat example and its
system prompt, and the line breaks JSONL escapes."""

from __future__ import annotations

from core.rows.presets import preset
from core.spec import COLUMNS, DatasetSpec, TaskType

LETTERS = ("a", "b", "c", "d")

# Line breaks other than \n that JSON may leave raw inside strings; readers using str.splitlines()
# would cut a JSONL line at them, so they are written escaped.
UNICODE_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def source_column(spec: DatasetSpec) -> str:
    """The provenance column's name: `source`, unless the dataset has a column of that name
    (translation pairs): then `origin`."""
    return "origin" if "source" in spec.columns else "source"


def system_prompt(spec: DatasetSpec) -> str:
    """The instruction a model fine-tuned on this dataset is trained to follow."""
    if spec.task not in COLUMNS:
        return preset(spec).system_prompt(spec)
    about = f" about {spec.topic}" if spec.topic else ""
    if spec.task == TaskType.classification:
        labels = ", ".join(spec.labels)
        return f"Classify the {spec.language} text{about}. Answer with exactly one label: {labels}."
    if spec.task == TaskType.multiple_choice:
        return (f"Answer the multiple-choice question{about} with the letter of the correct option "
                f"(a, b, c or d).")
    return f"Answer the question{about} in {spec.language}."


def chat_example(spec: DatasetSpec, system: str, record: dict) -> dict:
    if spec.task not in COLUMNS:
        user, assistant = preset(spec).chat_pair(spec, record)
    elif spec.task == TaskType.classification:
        user, assistant = record["text"], record["label"]
    elif spec.task == TaskType.multiple_choice:
        options = "\n".join(f"{letter}) {record[f'option_{letter}']}" for letter in LETTERS)
        user, assistant = f"{record['question']}\n{options}", record["answer"]
    else:
        user, assistant = record["question"], record["answer"]
    return {"messages": [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
        {"role": "assistant", "content": assistant},
    ]}
