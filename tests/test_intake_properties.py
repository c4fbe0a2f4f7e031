"""Property tests of the intake rules: any text is read without an internal error, what a message
does not mention stays as it was, counts stay exact, numbers and label lists are read back as
written, and every draft either makes a spec whose quotas add up or a one-line SpecError."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.intake import Interpretation, SpecDraft, allocate, apply, interpret, parse_number, shares_to_counts
from core.intake.draft import clean_changes
from core.spec import OutputFormat, SpecError, TaskType

# Fragments the rules react to, so generated texts reach the interesting paths, not only noise.
FRAGMENTS = [
    "200 examples", "make it 500", "1,000", "1k", "10^12", "99999999999999999999999999999999999", "1e9999",
    "2 negative and 8 positive", "40 pozytywnych i 10 negatywnych", "70% positive", "120%", "0 examples",
    "labels:", "etykiety:", "positive or negative", "toxic vs non-toxic", "spam vs ham", '["a", "b"]',
    "add a neutral label", "usuń etykietę neutral", "remove", "each", "po 5 na etykietę", "sentiment", "quiz",
    "Q&A", "Q: <sentence>", "A: <label>", "in German", "po polsku", "csv", "json", "jsonl", "fine-tuning",
    "more formal", "less casual", "tone:", "about", "o", "na temat", "domain:", "instructions:", "yes", "nie",
    ",", " and ", " i ", " or ", "\n", "%", ":", "[", "]", '"', "🙂", "👍", "ąęłńóśźż", "İ", "ß", "\u0000",
    "\u202e", "٣", "五",
]

texts = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=25).map(" ".join),
    st.integers(min_value=0, max_value=10**60).map(str),
    st.from_regex(r"[0-9]{40,3000}( examples)?", fullmatch=True),
    st.text(alphabet=st.characters(categories=["So", "Sk", "Mn", "Zs", "Nd"]), max_size=100),
)

labels = st.lists(st.text(min_size=1, max_size=12).filter(lambda s: s.strip()), min_size=2, max_size=5, unique_by=lambda s: s.strip().lower())


@st.composite
def valid_drafts(draw: st.DrawFn) -> SpecDraft:
    task = draw(st.sampled_from(list(TaskType)))
    count = draw(st.integers(min_value=1, max_value=10_000))
    draft = SpecDraft(task=task, count=count, language="English", topic="", format=OutputFormat.csv)
    if task == TaskType.classification:
        names = [name.strip() for name in draw(labels)]
        draft.labels = names
        if draw(st.booleans()):
            weights = draw(st.lists(st.integers(0, 100), min_size=len(names), max_size=len(names)))
            draft.label_counts = allocate(count, dict(zip(names, [w + 1 for w in weights])))
    return draft


any_value = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40), st.floats(allow_nan=True),
    st.text(max_size=20), st.lists(st.text(max_size=10), max_size=4),
    st.dictionaries(st.text(max_size=10), st.integers(min_value=-5, max_value=10**35) | st.floats(), max_size=4),
)
field_names = st.sampled_from(
    ["task", "topic", "labels", "label_counts", "label_shares", "count", "language", "tone", "format", "instructions", "bogus"]
)
interpretations = st.builds(
    Interpretation,
    changes=st.dictionaries(field_names, any_value, max_size=6),
    yes=st.sampled_from([None, True, False]),
    language=st.sampled_from(["en", "pl", "xx"]),
    add_labels=st.lists(st.text(max_size=12), max_size=3),
    remove_labels=st.lists(st.text(max_size=12), max_size=3),
    each=st.booleans(),
)


class _ErrorRecords(logging.Handler):
    """interpret/apply swallow internal bugs (logged at ERROR) so users never see them; these tests
    must still see them, or they could not fail."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def intake_errors() -> Iterator[_ErrorRecords]:
    handler = _ErrorRecords()
    logger = logging.getLogger("core.intake")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


def _check_spec_or_error(draft: SpecDraft) -> None:
    try:
        spec = draft.to_spec(10_000)
    except SpecError as error:
        assert str(error) and "\n" not in str(error)
        return
    assert sum(spec.quotas().values()) == spec.count
    assert all(quota >= 0 for quota in spec.quotas().values())


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _check_draft(draft: SpecDraft) -> None:
    """What every draft must hold, whatever was said: labels distinct, counts only for its labels."""
    keys = [label.strip().lower() for label in draft.labels or []]
    assert len(keys) == len(set(keys))
    assert set(draft.label_counts or {}) <= set(draft.labels or [])
    assert all(value >= 0 for value in (draft.label_counts or {}).values())
    if draft.task not in (None, TaskType.classification):
        if draft.task == TaskType.documents:  # the question types are its labels
            assert set(draft.labels or []) <= {"factual", "reasoning", "unanswerable"}
        else:
            assert not draft.labels and not draft.label_counts
    assert SpecDraft.model_validate_json(draft.model_dump_json()) == draft


_UNTOUCHED = ("topic", "language", "tone", "format", "instructions")


@FAST
@given(text=texts, draft=st.none() | valid_drafts(), asking=st.sampled_from([None, "labels", "topic", "language", "tone", "count", "task"]))
def test_interpret_any_text(intake_errors: _ErrorRecords, text: str, draft: SpecDraft | None, asking: str | None) -> None:
    before = len(intake_errors.records)
    result = interpret(text, draft, asking=asking)
    assert len(intake_errors.records) == before, intake_errors.records[-1].getMessage()
    assert result.language in ("en", "pl")
    assert interpret(text, draft, asking=asking) == result  # pure: the same message reads the same
    start = draft or SpecDraft()
    updated = apply(start, result)
    assert len(intake_errors.records) == before, intake_errors.records[-1].getMessage()
    _check_draft(updated)
    said = clean_changes(result.changes)
    for name in _UNTOUCHED:  # what the message did not say stays (only empty fields may take defaults)
        if name not in said and getattr(start, name) is not None:
            assert getattr(updated, name) == getattr(start, name), name
    if updated.count is not None:
        assert f"{updated.count:,}" in updated.summary("en") and f"{updated.count:,}" in updated.summary("pl")
    _check_spec_or_error(updated)


@FAST
@given(draft=valid_drafts(), interp=interpretations)
def test_apply_any_interpretation(intake_errors: _ErrorRecords, draft: SpecDraft, interp: Interpretation) -> None:
    before = len(intake_errors.records)
    updated = apply(draft, interp)
    assert len(intake_errors.records) == before, intake_errors.records[-1].getMessage()
    _check_draft(updated)
    _check_spec_or_error(updated)


@FAST
@given(draft=valid_drafts())
def test_an_empty_interpretation_changes_nothing(draft: SpecDraft) -> None:
    assert apply(draft, Interpretation()) == draft


@FAST
@given(draft=valid_drafts(), count=st.integers(min_value=1, max_value=10_000))
def test_make_it_n_keeps_exact_totals(draft: SpecDraft, count: int) -> None:
    updated = apply(draft, interpret(f"make it {count}", draft))
    assert updated.count == count
    if updated.label_counts:
        assert sum(updated.label_counts.values()) == count
        assert set(updated.label_counts) == set(updated.labels or [])
    assert (updated.labels, updated.language, updated.topic) == (draft.labels, draft.language, draft.topic)


@FAST
@given(number=st.integers(min_value=0, max_value=10**29))
def test_numbers_are_read_back_as_written(number: int) -> None:
    assert parse_number(str(number)) == number
    assert parse_number(f"{number:,}") == number
    assert parse_number(f"{number:,}".replace(",", " ")) == number


@FAST
@given(count=st.integers(min_value=1, max_value=10**6), noun=st.sampled_from(["examples", "rows", "reviews", "przykładów", "zdań"]))
def test_a_count_with_its_noun_is_the_total(count: int, noun: str) -> None:
    assert interpret(f"{count:,} {noun}", max_count=10**6).changes["count"] == count


@FAST
@given(count=st.integers(min_value=1, max_value=10**40), limit=st.integers(min_value=1, max_value=10**6), draft=valid_drafts())
def test_a_count_over_the_limit_is_never_kept(count: int, limit: int, draft: SpecDraft) -> None:
    interp = interpret(f"make it {count}", draft, max_count=limit)
    updated = apply(draft, interp)
    if count > limit:
        assert updated.count == draft.count and updated.label_counts == draft.label_counts
        assert [remark.key for remark in interp.remarks] == ["intake_count_too_large"]
    else:
        assert updated.count == count and not interp.remarks


@FAST
@given(total=st.integers(min_value=0, max_value=10**9), weights=st.lists(st.integers(0, 1000), min_size=1, max_size=12))
def test_allocate_is_exact_and_proportional(total: int, weights: list[int]) -> None:
    named = {f"l{i}": w for i, w in enumerate(weights)}
    result = allocate(total, named)
    assert list(result) == list(named) and sum(result.values()) == total
    if sum(weights):
        for key, weight in named.items():
            assert abs(result[key] - total * weight / sum(weights)) < 1


@FAST
@given(total=st.integers(min_value=1, max_value=10**6), percents=st.lists(st.integers(0, 100), min_size=1, max_size=4))
def test_shares_are_exact_or_refused(total: int, percents: list[int]) -> None:
    labels = [f"l{i}" for i in range(len(percents) + 1)]
    shares = {label: p / 100 for label, p in zip(labels, percents)}
    counts = shares_to_counts(total, shares, labels)
    if sum(percents) > 100:
        assert counts is None
    else:
        assert counts is not None and sum(counts.values()) == total


@FAST
@given(whole=st.integers(min_value=2, max_value=1000), data=st.data(),
       noun=st.sampled_from(["examples", "rows", "emails", "przykładów", "wiadomości"]),
       joiner=st.sampled_from(["in", "out of", "of every", "na", "z"]), labelled=st.booleans())
def test_a_ratio_is_a_share_never_a_count(whole: int, data: st.DataObject, noun: str, joiner: str, labelled: bool) -> None:
    """ "spam 3 in 10 examples" is 30% spam; "3 in 10 examples" asks which label: neither is 3 rows."""
    part = data.draw(st.integers(min_value=1, max_value=whole))
    draft = SpecDraft(task=TaskType.classification, labels=["spam", "ham"], count=whole * 10)
    interp = interpret(f"{'spam ' if labelled else ''}{part} {joiner} {whole} {noun}", draft)
    updated = apply(draft, interp)
    assert updated.count == whole * 10
    if labelled:
        assert updated.label_counts == {"spam": part * 10, "ham": (whole - part) * 10}
    else:
        assert updated.label_counts is None and [r.key for r in interp.remarks] == ["intake_ratio_which_label"]
