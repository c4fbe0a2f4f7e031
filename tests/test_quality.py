"""core.quality: normalisation, row validation, exact and near-duplicate detection, CSV neutralisation."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import numpy as np
import xxhash

from core.duplicates import DuplicateIndex, _xxh32_windows, jaccard
from core.quality import (
    dedupe_key,
    neutralise_cell,
    normalise_text,
    row_text,
    validate_row,
)
from core.spec import TaskType

LABELS = ["negative", "positive"]
MC_OK = {"question": "When did the storming of the Bastille happen?",
         "option_a": "1789", "option_b": "1799", "option_c": "1776", "option_d": "1815", "answer": "a"}

# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Great   day!\n", "Great day!"),
        ("1. Great day!", "Great day!"),
        ("2) Great day!", "Great day!"),
        ("(3) Great day!", "Great day!"),
        ("- Great day!", "Great day!"),
        ("* Great day!", "Great day!"),
        ("• Great day!", "Great day!"),
        ('"Great day!"', "Great day!"),
        ("“Great day!”", "Great day!"),
        ("„Świetny dzień!”", "Świetny dzień!"),
        ("«Belle journée»", "Belle journée"),
        ('1. "Great day!"', "Great day!"),
        ("-5 degrees again", "-5 degrees again"),  # a minus sign is not a bullet
        ("1990s music rules", "1990s music rules"),
        ('"Hi," she said, "bye"', '"Hi," she said, "bye"'),  # quotes that don't wrap the whole text
        ("e\u0301te\u0301", "\u00e9t\u00e9"),  # NFC: decomposed accents become one character
        ("", ""),
    ],
)
def test_normalise_text(raw: str, expected: str) -> None:
    assert normalise_text(raw) == expected


def test_dedupe_key_ignores_case_punctuation_spacing_and_apostrophes() -> None:
    assert dedupe_key("I'm SO happy -- right now!!") == dedupe_key("im so happy right now")
    assert dedupe_key("well-known") == dedupe_key("well known")
    assert dedupe_key("Zażółć gęślą jaźń") == "zażółć gęślą jaźń"
    assert dedupe_key("नमस्ते दुनिया!") == "नमस्ते दुनिया"  # combining vowel signs stay part of the word
    assert dedupe_key("I love it") != dedupe_key("I loved it")


def test_row_text_picks_the_judged_field() -> None:
    assert row_text(TaskType.classification, {"text": "t", "label": "l"}) == "t"
    assert row_text(TaskType.multiple_choice, MC_OK) == MC_OK["question"]
    assert row_text(TaskType.qa, {"question": "q?", "answer": "a"}) == "q?"


# --- validation -------------------------------------------------------------------------------


def test_classification_row_is_cleaned_to_exactly_the_columns() -> None:
    row, reason = validate_row(
        TaskType.classification, {"Text": ' 1. "I got  the job!" ', "Label": " Positive. ", "extra": 1}, LABELS
    )
    assert reason is None
    assert row == {"text": "I got the job!", "label": "positive"}
    assert list(row) == ["text", "label"]


@pytest.mark.parametrize("label", ["positiv", "pos", "positive negative", "neutral", "", "1"])
def test_a_wrong_label_is_rejected_never_guessed(label: str) -> None:
    row, reason = validate_row(TaskType.classification, {"text": "I got the job!", "label": label}, LABELS)
    assert row is None
    assert reason == ("empty" if label == "" else "bad label")


def test_label_keeps_the_orders_spelling() -> None:
    row, _ = validate_row(TaskType.classification, {"text": "Kocham to", "label": "POZYTYWNY"}, ["negatywny", "Pozytywny"])
    assert row is not None and row["label"] == "Pozytywny"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"text": "I got the job!"}, "missing field"),
        ({"label": "positive"}, "missing field"),
        ({"text": None, "label": "positive"}, "missing field"),
        ({"text": ["a", "list"], "label": "positive"}, "missing field"),
        ({"text": "   ", "label": "positive"}, "empty"),
        ({"text": "Ok", "label": "positive"}, "too short"),
        ({"text": "x" * 2001, "label": "positive"}, "too long"),
        ({"text": "Positive.", "label": "positive"}, "label as text"),
        ({"text": "negative", "label": "positive"}, "label as text"),
        ({"text": "Positive,", "label": "positive"}, "label as text"),
        ({"text": "2018-04-30 2:09:00", "label": "positive"}, "not text"),
        ({"text": ")},", "label": "positive"}, "not text"),
        ({"text": "12/5/2020 7:53 PM", "label": "positive"}, "not text"),
    ],
)
def test_classification_rejections(raw: dict, reason: str) -> None:
    assert validate_row(TaskType.classification, raw, LABELS) == (None, reason)


def test_length_bounds_are_configurable() -> None:
    raw = {"text": "Fine day", "label": "positive"}
    assert validate_row(TaskType.classification, raw, LABELS, min_chars=20)[1] == "too short"
    assert validate_row(TaskType.classification, raw, LABELS, max_chars=5)[1] == "too long"
    assert validate_row(TaskType.classification, raw, LABELS, min_chars=8, max_chars=8)[1] is None


def test_not_a_mapping_is_rejected_not_a_crash() -> None:
    assert validate_row(TaskType.classification, ["text", "label"], LABELS) == (None, "missing field")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("answer", "letter"),
    [("a", "a"), ("A", "a"), ("b)", "b"), ("(c)", "c"), ("D.", "d"), ("Option B", "b"), ("option_c", "c"),
     ("1799", "b"), (" 1815 ", "d")],
)
def test_multiple_choice_answer_forms(answer: str, letter: str) -> None:
    row, reason = validate_row(TaskType.multiple_choice, {**MC_OK, "answer": answer}, [])
    assert reason is None and row is not None
    assert row["answer"] == letter
    assert list(row) == ["question", "option_a", "option_b", "option_c", "option_d", "answer"]


@pytest.mark.parametrize("answer", ["e", "1", "2", "the first one", "1788", "ab"])
def test_multiple_choice_bad_answer(answer: str) -> None:
    assert validate_row(TaskType.multiple_choice, {**MC_OK, "answer": answer}, []) == (None, "bad answer")


def test_multiple_choice_options_must_be_distinct() -> None:
    raw = {**MC_OK, "option_c": " 1789. "}  # the same as option a once case/punctuation are ignored
    assert validate_row(TaskType.multiple_choice, raw, []) == (None, "options not distinct")


def test_options_differing_only_in_symbols_are_distinct() -> None:
    raw = {"question": "Which language has templates?", "option_a": "C++", "option_b": "C#", "option_c": "C",
           "option_d": "Go", "answer": "a"}
    assert validate_row(TaskType.multiple_choice, raw, [])[1] is None


def test_multiple_choice_accepts_an_options_list_and_strips_copied_letters() -> None:
    raw = {"question": "Who was executed in 1793?",
           "options": ["A) Louis XVI", "B) Napoleon", "C) Lafayette", "D) Danton"], "answer": "Louis XVI"}
    row, reason = validate_row(TaskType.multiple_choice, raw, [])
    assert reason is None and row is not None
    assert (row["option_a"], row["option_d"], row["answer"]) == ("Louis XVI", "Danton", "a")


def test_multiple_choice_keeps_an_option_that_merely_starts_like_a_letter() -> None:
    raw = {**MC_OK, "option_a": "A. Lincoln", "answer": "a"}  # only one option has a prefix: it's content
    row, _ = validate_row(TaskType.multiple_choice, raw, [])
    assert row is not None and row["option_a"] == "A. Lincoln"


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"option_d": None}, "missing field"), ({"option_b": ""}, "empty"), ({"question": "Q?"}, "too short"),
     ({"answer": ""}, "empty")],
)
def test_multiple_choice_rejections(change: dict, reason: str) -> None:
    raw = {**MC_OK, **change}
    if change.get("option_d", "") is None:
        del raw["option_d"]
    assert validate_row(TaskType.multiple_choice, raw, []) == (None, reason)


def test_qa_short_answers_are_fine_but_the_question_has_a_minimum() -> None:
    assert validate_row(TaskType.qa, {"question": "Capital of France?", "answer": "Paris"}, []) == (
        {"question": "Capital of France?", "answer": "Paris"}, None)
    assert validate_row(TaskType.qa, {"question": "Is 7 prime?", "answer": "Yes"}, [])[1] is None
    assert validate_row(TaskType.qa, {"question": "Q?", "answer": "Paris"}, [])[1] == "too short"
    assert validate_row(TaskType.qa, {"question": "Capital of France?"}, [])[1] == "missing field"
    assert validate_row(TaskType.qa, {"question": "Capital of France?", "answer": 42}, [])[0] == {
        "question": "Capital of France?", "answer": "42"}


# --- duplicates -------------------------------------------------------------------------------


def test_exact_duplicates_ignore_case_punctuation_and_spacing() -> None:
    index = DuplicateIndex()
    assert index.check_and_add("I just got the best news ever!") is None
    assert index.check_and_add("i just got   the best news ever") == "duplicate"
    assert index.check_and_add('"I just got the best news ever!!!"') == "duplicate"
    assert len(index) == 1


def test_near_duplicates_are_caught_and_different_rows_pass() -> None:
    index = DuplicateIndex()
    base = "The weather outside is so gloomy today, and I hate waiting for the bus in the rain."
    assert index.check_and_add(base) is None
    assert index.check_and_add("The weather outside is so gloomy today, and I hate waiting for the bus in the rain again.") == "near-duplicate"
    assert index.check_and_add("The weather outside is so gloomy today and I hate waiting for the bus in the rain!!") == "duplicate"
    assert index.check_and_add("The weather outside is so gloomy today, and I hate waiting for a bus in the rain.") == "near-duplicate"
    # Same topic and words, but a different sentence: not a near-duplicate.
    assert index.check_and_add("I hate the rain, but the gloomy weather makes the bus ride cosy.") is None
    assert index.check_and_add("We just got a raise at work!") is None
    assert len(index) == 3


def test_verdicts_follow_the_exact_similarity() -> None:
    base = "My grandmother taught me to bake bread every Sunday morning in her tiny kitchen."
    variants = [
        "My grandmother taught me to bake bread every Sunday morning in her tiny kitchen, with love.",
        "My grandmother taught me to bake bread every Sunday morning in her small kitchen.",
        "Grandmother taught me to bake bread every Sunday morning in her tiny kitchen.",
        "My grandmother taught me how to bake bread every Sunday morning in her tiny kitchen.",
        "My grandmother taught me to bake cakes on Sundays.",
        "Every Sunday morning, bread was baked in the tiny kitchen by my grandmother.",
    ]
    for variant in variants:
        similarity = jaccard(base, variant)
        assert abs(similarity - 0.85) > 0.02, f"pick variants clearly on one side: {similarity:.3f}"
        index = DuplicateIndex(near_threshold=0.85)
        index.add(base)
        assert index.check_and_add(variant) == ("near-duplicate" if similarity >= 0.85 else None), variant


def _reference_band_keys(index: DuplicateIndex, key: str) -> list[int]:
    """MinHash + band keys the slow, obvious way: one xxh32 per 5-character shingle, Python ints."""
    data = key.encode("utf-32-le")
    hashes = [xxhash.xxh32_intdigest(data[i : i + 20]) for i in range(0, max(4, len(data) - 16), 4)]
    signature = [min(h * int(m) % 2**32 for h in hashes) for m in index._multipliers]
    return [sum(signature[band * 5 + row] * int(index._band_mix[band][row]) for row in range(5)) % 2**64
            for band in range(len(index._band_mix))]


def test_batched_signatures_match_one_shingle_at_a_time() -> None:
    # The vectorised shingle hashing must be xxh32 bit for bit and keep every text's shingles to itself,
    # also for texts shorter than a shingle and outside ASCII (4-byte code points included).
    rng = random.Random(11)
    alphabet = "abc xyz,.!ÄéßżŁ中文字🙂🎉\u0301"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(300)]
    texts += ["ok", "", "abcd", "abcde", "Zażółć gęślą jaźń 🙂"]
    long_texts = [text for text in texts if len(dedupe_key(text)) >= 5]
    index = DuplicateIndex()
    for batch in (long_texts[:40], long_texts[40:41], texts[:40], texts[300:]):  # all long / some short
        signatures = index.signatures(batch)
        assert [signature.key for signature in signatures] == [dedupe_key(text) for text in batch]
        assert [signature.band_list for signature in signatures] == [
            _reference_band_keys(index, dedupe_key(text)) for text in batch
        ]
    data = "".join(texts).encode("utf-32-le")
    expected = [xxhash.xxh32_intdigest(data[i : i + 20]) for i in range(0, len(data) - 16, 4)]
    assert _xxh32_windows(np.frombuffer(data, dtype=np.uint32)).tolist() == expected


def test_threshold_controls_what_counts_as_near() -> None:
    first, second = ("My sister baked a chocolate cake for my birthday party.",
                     "My sister baked a lemon cake for my birthday party.")
    strict, loose = DuplicateIndex(near_threshold=0.95), DuplicateIndex(near_threshold=0.4)
    for index in (strict, loose):
        index.add(first)
    assert strict.check_and_add(second) is None
    assert loose.check_and_add(second) == "near-duplicate"
    with pytest.raises(ValueError):
        DuplicateIndex(near_threshold=0)


def test_seeded_rows_count_as_seen() -> None:
    index = DuplicateIndex()
    index.add("Uploaded row about my new bike.")
    index.add("uploaded row about my new bike")  # an exact repeat in the upload is stored once
    assert len(index) == 1
    assert index.check_and_add("Uploaded row about my new bike!") == "duplicate"
    assert index.check_and_add("Uploaded row about my new bike, yay.") == "near-duplicate"


def test_short_texts_work() -> None:
    index = DuplicateIndex()
    assert index.check_and_add("Hi") is None
    assert index.check_and_add("hi!") == "duplicate"
    assert index.check_and_add("Yo") is None
    assert index.check_and_add("") is None
    assert index.check_and_add("...") == "duplicate"  # nothing left after normalisation: same as ""


def _sentences(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    common = "the a to and of i my is it in for so was this that with at on just be have today very we you".split()
    syllables = ["ka", "lo", "mi", "ne", "tra", "pol", "ver", "sun", "dar", "ben", "qui", "ro", "sta", "ment", "er"]
    vocabulary = sorted({"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(8000)})
    return [" ".join(rng.choice(common) if rng.random() < 0.35 else rng.choice(vocabulary)
                     for _ in range(rng.randint(6, 18))) for _ in range(count)]


def _mutate(text: str, rng: random.Random) -> str:
    words = text.split()
    words[rng.randrange(len(words))] += rng.choice(["s", "!", ""])  # one small edit in a long sentence
    return " ".join(words).upper() if rng.random() < 0.5 else " ".join(words) + "."


def test_scale_20k_rows_fast_with_few_false_positives_and_high_recall() -> None:
    rows = _sentences(20_000, seed=7)
    index = DuplicateIndex()
    started = time.perf_counter()
    verdicts = [index.check_and_add(text) for text in rows]
    elapsed = time.perf_counter() - started
    # Distinct random sentences: (almost) nothing may be flagged.
    flagged = sum(v is not None for v in verdicts)
    assert flagged <= len(rows) * 0.002, flagged
    # ~4x the speed we need for 100k rows in a few seconds, even on a slow CI machine.
    assert elapsed < 6.0, f"{len(rows)} rows took {elapsed:.1f}s"
    # Lightly edited copies of long rows must be caught.
    rng = random.Random(3)
    long_rows = [text for text in rows[:5000] if len(text) > 80][:500]
    caught = sum(index.check_and_add(_mutate(text, rng)) is not None for text in long_rows)
    assert caught >= 0.95 * len(long_rows), f"caught {caught} of {len(long_rows)}"


# --- CSV neutralisation -----------------------------------------------------------------------


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_formula_starts_are_neutralised(first: str) -> None:
    value = f"{first}HYPERLINK(\"http://x\")"
    assert neutralise_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Hello", "", " =1+1", "1+1", "'quoted", "a=b", "—dash"])
def test_ordinary_cells_are_untouched(value: str) -> None:
    assert neutralise_cell(value) == value


# --- properties -------------------------------------------------------------------------------


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert dedupe_key(dedupe_key(text)) == dedupe_key(text)
    assert once == once.strip()


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text())
def test_a_neutralised_cell_never_starts_a_formula(value: str) -> None:
    safe = neutralise_cell(value)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert safe.removeprefix("'") == value or safe == value


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=60), min_size=1, max_size=30))
def test_a_text_and_its_exact_copy_are_always_caught(texts: list[str]) -> None:
    index = DuplicateIndex()
    for text in texts:
        index.check_and_add(text)
    for text in texts:
        assert index.check_and_add(text) in ("duplicate", "near-duplicate")


def test_real_sentences_with_numbers_are_text() -> None:
    for text in ["Order #12345 is late again", "Hi!", "Zamówienie 5512 nie dotarło", "こんにちは、元気ですか"]:
        assert validate_row(TaskType.classification, {"text": text, "label": "positive"}, LABELS)[1] is None, text


def test_a_lone_surrogate_is_replaced_not_a_crash() -> None:
    row, reason = validate_row(TaskType.classification, {"text": "Great \ud800 day out", "label": "positive"}, LABELS)
    assert reason is None and row is not None
    row["text"].encode("utf-8")  # storable and exportable
