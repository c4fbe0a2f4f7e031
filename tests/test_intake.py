"""Intake rules: text -> changes to a draft order, English and Polish, plus reconciliation and to_spec."""

from __future__ import annotations

from typing import Any

import pytest

from core.intake import (
    PRESETS,
    Interpretation,
    SpecDraft,
    allocate,
    apply,
    detect_language,
    interpret,
    parse_number,
    shares_to_counts,
)
from core.spec import OutputFormat, SpecError, TaskType

SEED_SENTIMENT = (
    "Produce 10 exemplars for sentiment analysis.  \n"
    "Examples are categorized as either positive or negative.  \n"
    "Produce 2 negative examples and 8 positive examples.  \n"
    "Use this format for the examples:  \n"
    "Q: <sentence>  \n"
    "A: <sentiment>"
)
SEED_QUIZ = "Write 5 multiple-choice questions about the French Revolution.  \nEach should have 4 options with 1 correct answer."
SEED_INTENT = (
    "Generate 10 user messages.  \n"
    'Classify them into one of the intents: ["greeting", "order_status", "cancel_order", "complaint", "goodbye"]\n'
    "Format:  \n"
    'Text: "<message>"  \n'
    "Intent: <intent>"
)
SEED_TOXIC = 'Generate 8 phrases that represent toxic or bullying behavior in online chats.  \nLabel each as "toxic" or "non-toxic".'

CLS = TaskType.classification


def read(text: str, draft: SpecDraft | None = None, **kwargs: Any) -> dict[str, Any]:
    return interpret(text, draft, **kwargs).changes


def order(*messages: str, draft: SpecDraft | None = None) -> SpecDraft:
    """Feed messages one by one, as the dialog does."""
    current = draft or SpecDraft()
    for message in messages:
        current = apply(current, interpret(message, current))
    return current


# --- the seed's prompts ------------------------------------------------------------------------


def test_seed_sentiment_prompt_is_a_whole_order() -> None:
    changes = read(SEED_SENTIMENT)
    assert changes["task"] == CLS
    assert sorted(changes["labels"]) == ["negative", "positive"]
    assert changes["label_counts"] == {"negative": 2, "positive": 8}
    assert changes["count"] == 10
    # The template lines "Q: <sentence>" / "A: <sentiment>" are not read as anything.
    assert set(changes) == {"task", "labels", "label_counts", "count"}

    draft = order(SEED_SENTIMENT)
    assert draft.missing() == []  # straight to the summary, defaults taken for the rest
    spec = draft.to_spec(10_000)
    assert spec.quotas() == {"positive": 8, "negative": 2}
    assert spec.language == "English" and spec.format == OutputFormat.csv and spec.topic == ""


def test_seed_quiz_prompt() -> None:
    changes = read(SEED_QUIZ)
    assert changes["task"] == TaskType.multiple_choice
    assert changes["count"] == 5  # not the "4 options" nor the "1 correct answer"
    assert changes["topic"] == "French Revolution"
    assert "language" not in changes  # "French Revolution" is a topic, not a language
    assert order(SEED_QUIZ).to_spec().quotas() == {"": 5}


def test_seed_intent_prompt() -> None:
    changes = read(SEED_INTENT)
    assert changes["task"] == CLS
    assert changes["labels"] == ["greeting", "order_status", "cancel_order", "complaint", "goodbye"]
    assert changes["count"] == 10
    assert "format" not in changes  # "Format:" introduces the template, it names no file format
    spec = order(SEED_INTENT).to_spec()
    assert sum(spec.quotas().values()) == 10 and len(spec.quotas()) == 5


def test_seed_toxicity_prompt() -> None:
    changes = read(SEED_TOXIC)
    assert changes["task"] == CLS
    assert changes["labels"] == ["toxic", "non-toxic"]  # not "toxic or bullying"
    assert changes["count"] == 8
    assert order(SEED_TOXIC).to_spec().quotas() == {"toxic": 4, "non-toxic": 4}


# --- single messages, table-driven ------------------------------------------------------------

CASES: list[tuple[str, dict[str, Any]]] = [
    # counts
    ("200 examples", {"count": 200}),
    ("make it 500", {"count": 500}),
    ("1,000 reviews", {"count": 1000}),
    ("1k", {"count": 1000}),
    ("give me 2.5k tweets", {"count": 2500}),
    ("a hundred examples", {"count": 100}),
    ("300 in total", {"count": 300}),
    ("wygeneruj 50 przykładów", {"count": 50}),
    ("1 000 przykładów", {"count": 1000}),
    ("2,5 tys. zdań", {"count": 2500}),
    ("zrób 500", {"count": 500}),
    ("niech będzie 300", {"count": 300}),
    ("10^12 examples", {"count": 10**12}),
    ("99999999999", {"count": 99999999999}),
    # per-label counts
    ("2 negative and 8 positive", {"label_counts": {"negative": 2, "positive": 8}, "task": CLS}),
    ("40 pozytywnych i 10 negatywnych", {"label_counts": {"positive": 40, "negative": 10}}),
    ("30 spam and 70 ham", {"label_counts": {"spam": 30, "ham": 70}}),
    ("positive: 8, negative: 2", {"label_counts": {"positive": 8, "negative": 2}}),
    # shares
    ("70% positive", {"label_shares": {"positive": 0.7}, "labels": ["positive", "negative"]}),
    ("40 procent negatywnych", {"label_shares": {"negative": 0.4}}),
    ("200 reviews, 70% positive", {"count": 200, "label_shares": {"positive": 0.7}}),
    # label lists
    ("labels: greeting, order_status, complaint", {"labels": ["greeting", "order_status", "complaint"], "task": CLS}),
    ("positive or negative", {"labels": ["positive", "negative"], "task": CLS}),
    ("categorized as either positive or negative", {"labels": ["positive", "negative"]}),
    ("etykiety: a, b, c", {"labels": ["a", "b", "c"], "task": CLS}),
    ("toxic vs non-toxic", {"labels": ["toxic", "non-toxic"]}),
    ("spam vs ham", {"labels": ["spam", "ham"]}),
    ("labels are Billing and Shipping", {"labels": ["Billing", "Shipping"]}),
    ("pozytywne lub negatywne", {"labels": ["positive", "negative"]}),
    ("classify emails as spam or not_spam", {"labels": ["spam", "not_spam"]}),
    ("300 tickets labeled billing, shipping or returns, in Spanish",
     {"labels": ["billing", "shipping", "returns"], "count": 300, "language": "Spanish"}),
    ("half positive, half negative", {"label_shares": {"positive": 0.5, "negative": 0.5}}),
    ("50 Q&A pairs about Kubernetes", {"task": TaskType.qa, "count": 50, "topic": "Kubernetes"}),
    # task hints
    ("sentiment", {"task": CLS, "labels": ["positive", "negative"]}),
    ("analiza sentymentu", {"task": CLS, "labels": ["positive", "negative"]}),
    ("intent classification", {"task": CLS}),
    ("cyberbullying detection", {"task": CLS, "labels": ["toxic", "non-toxic"]}),
    ("a multiple-choice quiz", {"task": TaskType.multiple_choice}),
    ("pytania quizowe", {"task": TaskType.multiple_choice}),
    ("Q&A pairs", {"task": TaskType.qa}),
    ("pytania i odpowiedzi", {"task": TaskType.qa}),
    # languages
    ("in German", {"language": "German"}),
    ("po niemiecku", {"language": "German"}),
    ("po polsku", {"language": "Polish"}),
    ("w języku hiszpańskim", {"language": "Spanish"}),
    ("Polish", {"language": "Polish"}),
    ("angielski", {"language": "English"}),
    ("French reviews", {"language": "French"}),
    # formats
    ("csv", {"format": OutputFormat.csv}),
    ("as JSON", {"format": OutputFormat.json}),
    ("jsonl please", {"format": OutputFormat.jsonl}),
    ("JSONL for OpenAI fine-tuning", {"format": OutputFormat.openai_jsonl}),
    ("w formacie csv", {"format": OutputFormat.csv}),
    # tone
    ("formal", {"tone": "formal"}),
    ("more formal", {"tone": "formal"}),
    ("casual", {"tone": "casual"}),
    ("sarcastic", {"tone": "sarcastic"}),
    ("formalny", {"tone": "formal"}),
    ("bardziej swobodnie", {"tone": "casual"}),
    ("in a friendly tone", {"tone": "friendly"}),
    ("tone: like a pirate", {"tone": "like a pirate"}),
    ("positive or negative, neutral tone", {"labels": ["positive", "negative"], "tone": "neutral"}),
    ("ton neutralny", {"tone": "neutral"}),
    # topic
    ("reviews about Italian restaurants", {"topic": "Italian restaurants"}),
    ("on the topic of climate change", {"topic": "climate change"}),
    ("domain: banking", {"topic": "banking"}),
    ("pytania na temat piłki nożnej", {"topic": "piłki nożnej"}),
    ("50 recenzji o restauracjach", {"topic": "restauracjach", "count": 50}),
    ("any topic", {"topic": ""}),
    # instructions
    ("instructions: keep each under 20 words", {"instructions": "keep each under 20 words"}),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_rules_read(text: str, expected: dict[str, Any]) -> None:
    changes = read(text)
    for name, value in expected.items():
        assert changes.get(name) == value, f"{name}: {changes}"


NOT_CASES: list[tuple[str, str]] = [
    ("for fine-tuning", "format"),  # only an explicit format sets one
    ("CSV or JSON", "format"),  # ambiguous: ask
    ("questions about the French Revolution", "language"),
    ("Each should have 4 options with 1 correct answer", "count"),
    ("about 200 examples", "topic"),
    ("poproszę o 50 przykładów", "topic"),
    ("how about a formal tone", "topic"),
    ("reviews of meals in Chinese restaurants", "language"),
    ("40 pozytywnych i 10 negatywnych", "count"),  # the total comes from apply, not guessed here
]


@pytest.mark.parametrize(("text", "field"), NOT_CASES)
def test_rules_do_not_misread(text: str, field: str) -> None:
    assert field not in read(text)


def test_toxic_or_bullying_is_not_a_label_pair() -> None:
    assert read("toxic or bullying behaviour")["labels"] == ["toxic", "non-toxic"]  # the toxicity preset


@pytest.mark.parametrize(
    ("text", "yes"),
    [("yes", True), ("ok", True), ("sure", True), ("go", True), ("tak", True), ("jasne", True), ("yes go", True),
     ("no", False), ("nie", False), ("nope", False), ("nie wiem", None), ("make it 500", None), ("200", None)],
)
def test_yes_no(text: str, yes: bool | None) -> None:
    assert interpret(text).yes is yes


def test_add_and_remove_labels() -> None:
    draft = SpecDraft(task=CLS, labels=["positive", "negative", "neutral"])
    assert interpret("add a neutral label").add_labels == ["neutral"]
    assert interpret("add label sarcasm").add_labels == ["sarcasm"]
    assert interpret("dodaj etykietę neutralną").add_labels == ["neutral"]
    assert interpret("usuń etykietę neutral", draft).remove_labels == ["neutral"]
    assert interpret("remove neutral", draft).remove_labels == ["neutral"]
    assert interpret("without emojis", draft).remove_labels == []  # an instruction, not a label
    assert interpret("add a neutral tone").add_labels == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [("200 examples please", "en"), ("wygeneruj 50 przykładów", "pl"), ("zażółć", "pl"), ("tak", "pl"),
     ("po polsku", "pl"), ("sarkastyczny", "pl"), ("make it more formal", "en"), ("", "en")],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang
    assert interpret(text).language == lang


def test_language_detected_flag() -> None:
    assert not interpret("200").language_detected
    assert not interpret("👍").language_detected
    assert interpret("make it 200").language_detected
    assert interpret("tak").language_detected


def test_polish_whole_order() -> None:
    draft = order("wygeneruj 50 przykładów, 40 pozytywnych i 10 negatywnych, po polsku")
    assert draft.missing() == []
    spec = draft.to_spec()
    assert spec.quotas() == {"positive": 40, "negative": 10}
    assert spec.language == "Polish" and spec.count == 50


def test_whole_order_defaults_follow_the_users_language() -> None:
    assert order("100 recenzji, pozytywne lub negatywne").language == "Polish"
    assert order("100 reviews, positive or negative").language == "English"


def test_shares_become_exact_counts_with_the_total() -> None:
    draft = order("200 reviews, 70% positive")
    assert draft.label_counts == {"positive": 140, "negative": 60}
    assert draft.label_shares is None
    draft = order("70% positive")
    assert draft.label_shares == {"positive": 0.7} and draft.label_counts is None
    assert "count" in draft.missing()
    draft = order("70% positive", "333")
    assert draft.label_counts == {"positive": 233, "negative": 100}  # 233.1 / 99.9: largest remainder
    assert sum(draft.label_counts.values()) == 333


# --- piece by piece and corrections --------------------------------------------------------------


def test_order_piece_by_piece_asks_in_order() -> None:
    draft = SpecDraft()
    assert draft.missing() == ["task", "count", "language", "topic", "format"]
    draft = order("sentiment", draft=draft)
    assert draft.labels == ["positive", "negative"]
    assert draft.missing() == ["count", "language", "topic", "format"]
    draft = order("200", "po polsku", draft=draft)
    assert draft.missing() == ["topic", "format"]
    draft = order("pomiń", draft=draft)  # answering the topic question with "skip"
    assert draft.topic == "" and draft.missing() == ["format"]
    draft = order("json", draft=draft)
    assert draft.missing() == []
    spec = draft.to_spec()
    assert spec.quotas() == {"positive": 100, "negative": 100} and spec.format == OutputFormat.json
    assert spec.tone == "neutral"


def test_custom_task_asks_for_labels() -> None:
    draft = apply(SpecDraft(), Interpretation(changes=PRESETS["custom"]))
    assert draft.missing()[0] == "labels"
    draft = apply(draft, interpret("billing, shipping, returns", draft, asking="labels"))
    assert draft.labels == ["billing", "shipping", "returns"]


def test_corrections_keep_the_balance() -> None:
    draft = order(SEED_SENTIMENT, "make it 500")
    assert draft.label_counts == {"positive": 400, "negative": 100} and draft.count == 500
    draft = order("add a neutral label", draft=draft)
    assert draft.labels == ["positive", "negative", "neutral"]
    assert sum(draft.label_counts.values()) == 500 == draft.count
    assert draft.label_counts["positive"] > draft.label_counts["neutral"] > draft.label_counts["negative"]
    draft = order("remove neutral", draft=draft)
    assert draft.label_counts == {"positive": 400, "negative": 100}
    draft = order("in German", "more formal", draft=draft)
    assert (draft.language, draft.tone) == ("German", "formal")
    draft = order("make negatives 150", draft=draft)
    assert draft.label_counts == {"positive": 400, "negative": 150} and draft.count == 550


def test_correction_of_one_label_fills_the_known_total() -> None:
    draft = order("200 positive or negative reviews")
    assert draft.count == 200 and draft.label_counts is None
    draft = order("30 negative", draft=draft)
    assert draft.label_counts == {"positive": 170, "negative": 30}


def test_more_adds_to_the_count() -> None:
    draft = order("200 positive or negative reviews")
    assert order("100 more", draft=draft).count == 300
    assert order("jeszcze 50", draft=draft).count == 250
    assert order("another 100", draft=SpecDraft()).count == 100


def test_each_count() -> None:
    draft = order("labels: a, b, c", "50 each")
    assert draft.label_counts == {"a": 50, "b": 50, "c": 50} and draft.count == 150
    draft = order("labels: a, b", "po 20 na etykietę")
    assert draft.label_counts == {"a": 20, "b": 20}


def test_switching_task_drops_labels() -> None:
    draft = order(SEED_SENTIMENT, "actually make it a multiple-choice quiz")
    assert draft.task == TaskType.multiple_choice
    assert draft.labels is None and draft.label_counts is None
    assert draft.to_spec().quotas() == {"": 10}


def test_presets_make_valid_orders() -> None:
    for name, changes in PRESETS.items():
        draft = apply(SpecDraft(), Interpretation(changes=changes))
        if name == "custom":
            draft = apply(draft, Interpretation(changes={"labels": ["x", "y"]}))
        draft = apply(draft, Interpretation(changes={"count": 20}))
        assert draft.required_missing() == [], name
        assert sum(draft.to_spec().quotas().values()) == 20


def test_draft_round_trips_as_json() -> None:
    draft = order(SEED_SENTIMENT, "in German", "70% positive")
    assert SpecDraft.model_validate_json(draft.model_dump_json()) == draft


# --- to_spec errors and the summary ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        (("12 examples, 2 negative and 8 positive",), "add up to 10, but the total is 12"),
        (("sentiment", "70% positive and 50% negative", "100"), "add up to 120%"),
        (("sentiment", "10^12 examples"), "1,000,000,000,000 examples is more than"),
        (("sentiment", "9" * 5000 + " examples"), "more than I can make"),
        (("sentiment", "0 examples"), "at least 1"),
        (("sentiment",), "How many"),
        (("custom",), "at least two labels"),
    ],
)
def test_to_spec_errors_are_user_facing(messages: tuple[str, ...], fragment: str) -> None:
    draft = SpecDraft()
    for message in messages:
        changes = PRESETS[message] if message in PRESETS else None
        draft = apply(draft, Interpretation(changes=changes) if changes else interpret(message, draft))
    with pytest.raises(SpecError) as error:
        draft.to_spec(10_000)
    assert fragment in str(error.value)
    assert "\n" not in str(error.value)


def test_to_spec_error_in_polish() -> None:
    draft = order("12 przykładów, 2 negatywne i 8 pozytywnych")
    with pytest.raises(SpecError, match="sumują się do 10"):
        draft.to_spec(10_000, lang="pl")


def test_summary_en_and_pl() -> None:
    draft = order(SEED_SENTIMENT, "po niemiecku")
    english, polish = draft.summary("en"), draft.summary("pl")
    assert "positive 8, negative 2" in english and "German" in english and "CSV" in english
    assert "Język: niemiecki" in polish and "Liczba przykładów: 10" in polish
    assert "?" in SpecDraft().summary("en")


# --- the arithmetic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1,000", 1000), ("1 000", 1000), ("1k", 1000), ("2,5k", 2500), ("10^3", 1000), ("1e4", 10000),
     ("ten", 10), ("2.5", None), ("9" * 5000, 10**30), ("10^99999", 10**30)],
)
def test_parse_number(raw: str, value: int | None) -> None:
    assert parse_number(raw) == value


def test_allocate_is_exact() -> None:
    assert allocate(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert allocate(500, {"pos": 8, "neg": 2}) == {"pos": 400, "neg": 100}
    assert sum(allocate(7919, {"a": 0.333, "b": 0.333, "c": 0.334}).values()) == 7919
    assert shares_to_counts(10, {"a": 0.7, "b": 0.5}, ["a", "b"]) is None
    assert shares_to_counts(10, {"a": 0.25}, ["a", "b", "c"]) == {"a": 2, "b": 4, "c": 4}  # 2.5 / 3.75 / 3.75


# --- odd input (issue 9, item 6): never an exception, never a number nobody typed ------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [("²", None), ("①", None), ("٣٠", 30), ("３００", 300), ("9" * 5000, 10**30), ("\ud83d", None)],
)
def test_odd_digits(raw: str, value: int | None) -> None:
    assert parse_number(raw) == value


@pytest.mark.parametrize("text", ["²", "①", "10²", "\ud83d", "\udc00 examples", "½ of them"])
def test_odd_text_reads_as_nothing(text: str) -> None:
    assert "count" not in interpret(text).changes


def test_lone_surrogates_do_not_hide_the_rest() -> None:
    assert interpret("200 examples \ud83d, positive or negative").changes["count"] == 200
