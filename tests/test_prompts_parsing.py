"""Prompt rendering, schemas and the two answer parsers (structured JSON, seed line template)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st

from core.generator import Guidance
from core.llm_openai import is_strict_compatible
from core.prompts import (
    ParseError,
    diversity_hint,
    format_row,
    parse_structured,
    parse_template,
    render_messages,
    response_schema,
)
from core.quality import validate_row
from core.spec import DatasetSpec, TaskType

SENTIMENT = DatasetSpec.from_data(
    {"task": "classification", "topic": "everyday life", "labels": ["positive", "negative"],
     "label_counts": {"positive": 8, "negative": 2}, "language": "Polish", "tone": "casual"}
)
QUIZ = DatasetSpec.from_data({"task": "multiple_choice", "topic": "the French Revolution", "count": 5})
QA = DatasetSpec.from_data({"task": "qa", "topic": "astronomy", "count": 5})

# The seed's own example output (shared/seed-llm-data-generation.txt), labels capitalised as there.
SEED_OUTPUT = """Q: I just got the best news ever!
A: Positive
Q: We just got a raise at work!
A: Positive
Q: I'm so proud of what I accomplished today.
A: Positive
Q: I'm having the best day ever!
A: Positive
Q: I'm really looking forward to the weekend.
A: Positive
Q: I just got the best present ever!
A: Positive
Q: I'm so happy right now.
A: Positive
Q: I'm so blessed to have such an amazing family.
A: Positive
Q: The weather outside is so gloomy.
A: Negative
Q: I just got some terrible news.
A: Negative
"""


def user_prompt(messages: list[dict[str, str]]) -> str:
    assert messages[0]["role"] == "system"
    return messages[-1]["content"]


# --- schemas ------------------------------------------------------------------------------------


def test_classification_schema_restricts_label_to_the_order() -> None:
    schema = response_schema(SENTIMENT)
    row = schema["properties"]["examples"]["items"]
    assert row["properties"]["label"]["enum"] == ["positive", "negative"]
    assert set(row["required"]) == {"text", "label"}
    assert is_strict_compatible(schema)


def test_schema_can_pin_one_requests_label_and_row_count() -> None:
    # Used for small local models, which mix labels and run on without these bounds.
    examples = response_schema(SENTIMENT, label="negative", rows=4)["properties"]["examples"]
    assert examples["items"]["properties"]["label"]["enum"] == ["negative"]
    assert (examples["minItems"], examples["maxItems"]) == (1, 4)
    assert "maxItems" not in response_schema(SENTIMENT)["properties"]["examples"]


def test_quiz_and_qa_schemas_have_the_task_columns() -> None:
    quiz_row = response_schema(QUIZ)["properties"]["examples"]["items"]
    assert list(quiz_row["properties"]) == ["question", "option_a", "option_b", "option_c", "option_d", "answer"]
    assert quiz_row["properties"]["answer"]["enum"] == ["a", "b", "c", "d"]
    qa_row = response_schema(QA)["properties"]["examples"]["items"]
    assert list(qa_row["properties"]) == ["question", "answer"]
    assert is_strict_compatible(response_schema(QUIZ)) and is_strict_compatible(response_schema(QA))


def test_schema_with_optional_field_is_not_strict() -> None:
    loose = {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"]}
    assert not is_strict_compatible(loose)


# --- prompts ------------------------------------------------------------------------------------


def test_prompt_carries_the_order() -> None:
    guidance = Guidance(
        few_shot=[{"text": "Świetna kawa, polecam!", "label": "positive"}, {"text": "Zimna kawa.", "label": "negative"}],
        avoid=[{"text": "Bad.", "label": "negative"}],
        feedback=["shorter sentences please"],
    )
    prompt = user_prompt(render_messages(SENTIMENT, count=7, label="negative", batch_index=3, guidance=guidance,
                                         recent=["Pociąg znowu się spóźnił."]))
    assert "Produce exactly 7 examples." in prompt
    assert 'the label "negative"' in prompt
    assert '"positive", "negative"' in prompt
    assert "Write every example in Polish." in prompt
    assert "Tone: casual." in prompt
    assert "everyday life" in prompt
    assert "shorter sentences please" in prompt
    assert "Q: Zimna kawa." in prompt  # few-shot of the label asked for ...
    assert "Świetna kawa" not in prompt  # ... never another label's rows (the model would copy them under this one)
    assert "Q: Bad." in prompt and "do NOT write" in prompt  # avoid-list
    assert "Pociąg znowu się spóźnił." in prompt  # don't repeat
    assert "JSON" in prompt


def test_template_prompt_shows_the_seed_format() -> None:
    prompt = user_prompt(render_messages(SENTIMENT, count=5, label="positive", structured=False))
    assert "Q: <sentence>\nA: <label>" in prompt
    quiz_prompt = user_prompt(render_messages(QUIZ, count=5, structured=False))
    assert "A) <option>" in quiz_prompt and "Answer: <letter>" in quiz_prompt


def test_diversity_hint_is_deterministic_and_varies_per_batch() -> None:
    hints = [diversity_hint(SENTIMENT, i) for i in range(40)]
    assert hints == [diversity_hint(SENTIMENT, i) for i in range(40)]
    assert len(set(hints)) >= 35
    assert diversity_hint(QA, 1) != diversity_hint(SENTIMENT, 1)


# --- structured parsing -------------------------------------------------------------------------


def test_parse_structured_reads_examples_and_code_fences() -> None:
    rows = [{"text": "Loved it", "label": "positive"}, {"text": "Hated it", "label": "negative"}]
    assert parse_structured(json.dumps({"examples": rows})) == rows
    assert parse_structured("```json\n" + json.dumps(rows) + "\n```") == rows
    assert parse_structured(json.dumps(rows[0])) == [rows[0]]


def test_truncated_json_keeps_its_complete_rows() -> None:
    text = json.dumps({"examples": [{"text": f"row {i}", "label": "positive"} for i in range(3)]})
    truncated = text[: text.rindex("{") + 10]
    assert [row["text"] for row in parse_structured(truncated)] == ["row 0", "row 1"]


@pytest.mark.parametrize("answer", ["Sure! Here are some examples.", '{"examples": [{"te', "", "[1, 2"])
def test_unreadable_json_raises_parse_error(answer: str) -> None:
    with pytest.raises(ParseError):
        parse_structured(answer)


# --- template parsing ---------------------------------------------------------------------------


def test_seed_output_parses_to_its_ten_rows() -> None:
    rows = parse_template(TaskType.classification, SEED_OUTPUT)
    assert len(rows) == 10
    labels = []
    for raw in rows:
        clean, reason = validate_row(TaskType.classification, raw, SENTIMENT.labels)
        assert reason is None and clean is not None
        labels.append(clean["label"])
    assert labels.count("positive") == 8 and labels.count("negative") == 2
    assert rows[0]["text"] == "I just got the best news ever!"


def test_template_parser_tolerates_preamble_numbering_and_drops_incomplete_rows() -> None:
    text = "Here you go:\n\n1. Q: First one\nA: positive\n\n2. Q: Second one\nA: negative\n\nQ: cut off mid"
    rows = parse_template(TaskType.classification, text)
    assert rows == [{"text": "First one", "label": "positive"}, {"text": "Second one", "label": "negative"}]


def test_qa_answers_may_span_lines() -> None:
    text = "Q: Why is the sky blue?\nA: Rayleigh scattering.\nShorter wavelengths scatter more.\n\nQ: What is a star?\nA: A ball of plasma."
    rows = parse_template(TaskType.qa, text)
    assert rows[0] == {"question": "Why is the sky blue?", "answer": "Rayleigh scattering. Shorter wavelengths scatter more."}
    assert rows[1]["answer"] == "A ball of plasma."


def test_multiple_choice_template() -> None:
    text = (
        "Q: When did the Bastille fall?\nA) 1789\nB) 1799\nC) 1776\nD) 1815\nAnswer: A\n\n"
        "Q: Who was executed in 1793?\nA) Napoleon\nB) Louis XVI\nC) Robespierre\nD) Danton\nAnswer: B\n\n"
        "Q: Incomplete?\nA) x\nB) y\n"
    )
    rows = parse_template(TaskType.multiple_choice, text)
    assert len(rows) == 2
    clean, reason = validate_row(TaskType.multiple_choice, rows[1], [])
    assert reason is None and clean is not None
    assert clean["answer"] == "b" and clean["option_b"] == "Louis XVI"


def test_prose_is_not_a_template_answer() -> None:
    with pytest.raises(ParseError):
        parse_template(TaskType.classification, "I'm sorry, I can't help with that.")


_line_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\n\r\x1c\x1d\x1e\x85"),
    min_size=1, max_size=60,
).map(str.strip).filter(lambda text: bool(text) and ":" not in text and "：" not in text)  # "x: y" lines are labels


@hypothesis_settings(max_examples=60, deadline=None)
@given(texts=st.lists(_line_text, min_size=1, max_size=6), answers=st.lists(_line_text, min_size=6, max_size=6))
def test_qa_template_round_trip(texts: list[str], answers: list[str]) -> None:
    rows = [{"question": text, "answer": answer} for text, answer in zip(texts, answers)]
    answer_text = "\n\n".join(format_row(TaskType.qa, row) for row in rows)
    parsed = parse_template(TaskType.qa, answer_text)
    assert parsed == [{"question": " ".join(r["question"].split()), "answer": " ".join(r["answer"].split())}
                      for r in rows]
