"""Label vocabulary: task presets, sentiment / toxicity words in English and Polish, label lists."""

from __future__ import annotations

import re
from typing import Any, Iterable

from core.intake.text import fold

SENTIMENT_LABELS = ["positive", "negative"]
TOXICITY_LABELS = ["toxic", "non-toxic"]
#: More labels than this in one order is a pasted document, not a label list.
MAX_LABELS = 1000

INTENT_LABELS = ["greeting", "order_status", "cancel_order", "complaint", "goodbye"]

#: Task presets behind the dialog's buttons: the changes each one makes to a draft.
PRESETS: dict[str, dict[str, Any]] = {
    "sentiment": {"task": "classification", "labels": list(SENTIMENT_LABELS)},
    "intent": {"task": "classification", "labels": list(INTENT_LABELS)},
    "toxicity": {"task": "classification", "labels": list(TOXICITY_LABELS)},
    "quiz": {"task": "multiple_choice"},
    "qa": {"task": "qa"},
    "custom": {"task": "classification"},
}


# Sentiment and toxicity words, English and Polish (inflected), folded; non-toxic before toxic.
_KNOWN_LABELS: list[tuple[str, str]] = [
    (r"non[- ]?toxic|not[- ]toxic|nie[- ]?toksyczn\w*|nontoxic", "non-toxic"),
    (r"(?<![\w-])toxic|(?<![\w-])toksyczn\w*", "toxic"),
    (r"positiv\w*|pozytywn\w*|pos(?![\w-])", "positive"),
    (r"negativ\w*|negatywn\w*|neg(?![\w-])", "negative"),
    (r"neutral\w*", "neutral"),
    (r"mixed|mieszan\w*", "mixed"),
]
KNOWN_LABEL_RE = "(?:" + "|".join(p for p, _ in _KNOWN_LABELS) + ")"
SENTIMENT_WORDS = {"positive", "negative", "neutral", "mixed"}
TOXICITY_WORDS = {"toxic", "non-toxic"}


def canonical_label(word: str) -> str:
    """Sentiment/toxicity words (any language, any inflection) -> the English label; else as written."""
    cleaned = word.strip().strip("\"'[](){}.,;:!?").strip()
    folded = fold(cleaned)
    for pattern, label in _KNOWN_LABELS:
        if re.fullmatch(pattern, folded):
            return label
    return cleaned


def label_key(label: str) -> str:
    return label.strip().lower()


# Nouns that name the examples themselves ("200 reviews"), so a number before them is the total.
COUNT_NOUNS = (
    r"(?:examples?|exemplars?|samples?|rows?|items?|records?|reviews?|messages?|sentences?|questions?|"
    r"phrases?|tweets?|texts?|comments?|posts?|e-?mails?|tickets?|utterances?|queries|query|prompts?|pairs?|"
    r"entries|entry|lines?|instances?|quizz?es|quiz|dialogs?|dialogues?|conversations?|headlines?|titles?|"
    r"statements?|opinions?|replies|reply|chats?|data ?points?|datapoints?|snippets?|descriptions?|"
    r"paragraphs?|documents?|articles?|stories|story|jokes?|requests?|inquiries|complaints?|q ?& ?as?|faqs?|"
    r"przyklad\w*|zdan\w*|pytan\w*|recenzj\w*|opini\w*|wiadomosc\w*|tekst\w*|rekord\w*|wiersz\w*|fraz\w*|"
    r"komentarz\w*|tweet\w*|wpis\w*|zgloszen\w*|maili|zapytan\w*|wypowiedz\w*|probek|probki|elementow|"
    r"dialog\w*|rozmow\w*|quiz\w*|sztuk|pozycj\w*|komunikat\w*|postow|par|zdania|prompt\w*)"
)
FILLER_WORDS = {
    "the", "a", "an", "of", "other", "new", "short", "long", "user", "customer", "product",
    "more", "different", "unique", "synthetic", "labeled", "labelled", "training", "test", "sample",
    "multiple-choice", "multiple", "choice", "quiz", "chat", "online", "support", "sentiment", "movie",
}


def distinct_labels(labels: Iterable[str]) -> list[str]:
    """Labels without blanks and case-insensitive repeats, first spelling kept (linear: lists can be long)."""
    out: list[str] = []
    seen: set[str] = set()
    for label in labels:
        label = str(label).strip()
        if label and label_key(label) not in seen:
            seen.add(label_key(label))
            out.append(label)
    return out


_LIST_SEPARATOR = re.compile(r"\s*(?:,|;|\||/|\bor\b|\band\b|\bvs\.?|\bversus\b|\blub\b|\balbo\b|\boraz\b|\bczy\b|\bi\b|\n)\s*")


def split_label_list(raw: str) -> list[str]:
    """'a, b and c' / '["a", "b"]' / 'a or b' / 'a vs b' -> labels (sentiment words in English)."""
    raw = raw.strip().strip("[](){}").strip()
    quoted = re.findall(r"\"([^\"\n]{1,60})\"|'([^'\n]{1,60})'", raw)
    items = [a or b for a, b in quoted] if len(quoted) >= 2 else _LIST_SEPARATOR.split(_fold_separators(raw))
    labels: list[str] = []
    for item in items:
        item = re.sub(r"^(?:[-*•]|\d{1,3}[.)])\s+", "", item.strip())  # a bulleted or numbered line
        item = re.sub(r"^(?:either|one of|the|a|an)\s+", "", item, flags=re.I)
        label = canonical_label(item)
        if label and len(label) <= 60 and len(label.split()) <= 4:
            labels.append(label)
    return distinct_labels(labels)


def _fold_separators(raw: str) -> str:
    # Case-insensitive separators without losing the labels' own case.
    return re.sub(r"(?i)\b(or|and|vs|versus|lub|albo|oraz|czy)\b", lambda m: m.group(1).lower(), raw)


def has_labels_of(draft_labels: list[str], family: list[str]) -> bool:
    """The draft's labels already belong to that family (e.g. it has positive/negative/neutral)."""
    keys = {label_key(x) for x in draft_labels}
    family_keys = {label_key(x) for x in family}
    pool = SENTIMENT_WORDS if family_keys <= SENTIMENT_WORDS else TOXICITY_WORDS if family_keys <= TOXICITY_WORDS else family_keys
    return bool(keys) and keys <= pool




def match_label(word: str, vocabulary: list[str]) -> str | None:
    """The label of `vocabulary` that `word` names, allowing plural and Polish case endings
    ("complaints" -> "complaint", "reklamacji" -> "reklamacja"); None when none is close."""
    folded = fold(word.strip())
    canonical = canonical_label(word)
    for label in vocabulary:
        if fold(label) == folded or label_key(label) == label_key(canonical):
            return label
    for label in vocabulary:
        stem = fold(label)
        common = len(_common_prefix(stem, folded))
        if common >= 4 and common >= len(stem) - 2 and common >= len(folded) - 3:
            return label
    return None


def _common_prefix(a: str, b: str) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return a[:i]
    return a[: min(len(a), len(b))]
