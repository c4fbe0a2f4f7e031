"""Property tests of the intake rules: any text is read without an exception, any interpretation
applies to any valid draft, and the result either makes a valid spec or a one-line SpecError."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.intake import Interpretation, SpecDraft, apply, interpret
from core.spec import DatasetSpec, OutputFormat, SpecError, TaskType

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
            from core.intake import allocate

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
    assert isinstance(spec, DatasetSpec)
    assert sum(spec.quotas().values()) == spec.count


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@FAST
@given(text=texts, draft=st.none() | valid_drafts(), expecting=st.sampled_from([None, "labels", "topic", "language", "tone", "count", "task"]))
def test_interpret_any_text(intake_errors: _ErrorRecords, text: str, draft: SpecDraft | None, expecting: str | None) -> None:
    before = len(intake_errors.records)
    result = interpret(text, draft, expecting=expecting)
    assert isinstance(result, Interpretation)
    assert result.language in ("en", "pl")
    assert isinstance(result.is_empty(), bool)
    assert len(intake_errors.records) == before, intake_errors.records[-1].getMessage()
    updated = apply(draft or SpecDraft(), result)
    assert len(intake_errors.records) == before, intake_errors.records[-1].getMessage()
    assert SpecDraft.model_validate_json(updated.model_dump_json()) == updated
    updated.summary("en"), updated.summary("pl")
    _check_spec_or_error(updated)


@FAST
@given(draft=valid_drafts(), interp=interpretations)
def test_apply_any_interpretation(intake_errors: _ErrorRecords, draft: SpecDraft, interp: Interpretation) -> None:
    before = len(intake_errors.records)
    updated = apply(draft, interp)
    assert isinstance(updated, SpecDraft)
    assert len(intake_errors.records) == before, intake_errors.records[-1].getMessage()
    assert SpecDraft.model_validate_json(updated.model_dump_json()) == updated
    updated.missing(), updated.summary("pl")
    _check_spec_or_error(updated)


@FAST
@given(draft=valid_drafts(), count=st.integers(min_value=1, max_value=10_000))
def test_make_it_n_keeps_exact_totals(draft: SpecDraft, count: int) -> None:
    updated = apply(draft, interpret(f"make it {count}", draft))
    assert updated.count == count
    if updated.label_counts:
        assert sum(updated.label_counts.values()) == count
        assert set(updated.label_counts) == set(updated.labels or [])
