"""One message -> an Interpretation: the finders run in order over a folded copy of the text."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from core.intake import row_orders
from core.intake.draft import SpecDraft, clean_changes
from core.intake.find_fields import (
    canonical_tone,
    find_count,
    find_format,
    find_instructions,
    find_language,
    find_language_parts,
    find_more,
    find_multiplied,
    find_negative,
    find_task,
    find_tone,
    find_topic,
)
from core.intake.find_labels import (
    find_add_remove,
    find_described_labels,
    find_each,
    find_favoured,
    find_label_counts,
    find_label_number,
    find_labels,
    find_shares,
    find_split,
    find_unlabeled_ratio,
)
from core.intake.labels import PRESETS, SENTIMENT_LABELS, SENTIMENT_WORDS, TOXICITY_LABELS, TOXICITY_WORDS, has_labels_of, match_label, split_label_list
from core.intake.languages import detect_language, language_name, language_signal
from core.intake.numbers import HUGE_NUMBER, clamp, format_count
from core.intake.questions import Intent, Remark, find_intent
from core.intake.text import SKIP_WORDS, bare_form, fold, mask, prepare, starts_with_yes_no, yes_no
from core.spec import TaskType

log = logging.getLogger(__name__)


@dataclass
class Interpretation:
    """What one message says about the order. `changes` holds SpecDraft fields to set."""

    changes: dict[str, Any] = field(default_factory=dict)
    yes: bool | None = None
    language: str = "en"  # the language the user writes in ("en"/"pl"), for the bot's replies
    add_labels: list[str] = field(default_factory=list)
    remove_labels: list[str] = field(default_factory=list)
    #: False when the text carries no sign of its language ("200", "ok", "👍"): keep the previous one.
    language_detected: bool = False
    #: "50 each" / "po 50 na etykietę": `count` is per label (already expanded into label_counts when
    #: the labels are known).
    each: bool = False
    #: What the user wants from this message: an order (change) or an answer to a question.
    intent: Intent = Intent.order
    #: What the bot must tell the user (a refused number, a kind it cannot make, a question to ask),
    #: each a core.messages text: `remark.text(lang)`.
    remarks: list[Remark] = field(default_factory=list)
    #: "more complaints than anything else": the label wanted most, with no number yet (the
    #: `intake_ask_balance` remark asks for one).
    favoured_label: str | None = None
    #: Fields this message said something about that were refused ("-10", "10,000,000", "NER"):
    #: nobody else (the LLM's reading) may set them from this message either.
    refused: set[str] = field(default_factory=set)

    def is_empty(self) -> bool:
        """Nothing to act on: no change, no yes / no, nothing to say, no question."""
        return (
            not (self.changes or self.add_labels or self.remove_labels or self.remarks)
            and self.yes is None and self.intent == Intent.order
        )


def interpret(
    text: str,
    draft: SpecDraft | None = None,
    *,
    asking: str | None = None,
    max_count: int | None = None,
    expecting: str | None = None,
) -> Interpretation:
    """Read one message with the rules. Pure; never raises.

    `asking` (optional) names the field the bot just asked for ("labels", "topic", "language",
    "language_other", "tone", "count", "format", "task"): a bare answer is then read as that field.
    `expecting` is its old name, accepted until every caller says `asking`.
    A count below zero, or above `max_count` (pass the operator's setting; None: no limit here, to_spec
    still refuses), is not taken: a remark says so instead.
    """
    asking = asking or expecting
    if asking == "language_other":
        asking = "language"
    if asking and asking.startswith(FAVOURED):
        text, asking = _favoured_answer(str(text), asking.removeprefix(FAVOURED)), None
    try:
        return _interpret(str(text), draft, asking, max_count)
    except Exception:  # a rule bug must cost one message's understanding, never the conversation
        log.exception("intake rules failed on %r", str(text)[:200])
        safe = str(text) if isinstance(text, str) else ""
        return Interpretation(language=detect_language(safe), language_detected=language_signal(safe))


def _interpret(text: str, draft: SpecDraft | None, asking: str | None, max_count: int | None) -> Interpretation:
    original, folded = prepare(text)
    result = Interpretation(language=detect_language(original), language_detected=language_signal(original))
    bare = bare_form(folded)
    if not bare:
        return result
    result.yes = yes_no(bare)
    changes = result.changes
    draft_labels = list(draft.labels or []) if draft is not None else []

    if asking in row_orders.ROW_MODEL_QUESTIONS and len(original) <= 500 and find_intent(folded)[0] == Intent.order:
        row_orders.bare_answer(original.strip().strip(".!?").strip(), asking, draft, changes)
        if changes:  # "PERSON, ORG" answers the question; the label rules must not read it as labels
            result.yes = None
            return result

    asked_topic = asking == "topic" or (asking is None and draft is not None and draft.missing()[:1] == ["topic"])
    if asked_topic and (bare in SKIP_WORDS or result.yes is False):
        changes["topic"] = ""  # "skip" / "any" / "no" to the topic question: any topic
        result.yes = None
        return result

    result.intent, unsupported = find_intent(folded)
    negative, folded = find_negative(folded)
    label_number, folded = find_label_number(folded)  # "3 classes" is never the number of examples
    language_parts, folded = find_language_parts(folded)  # "5 po angielsku i 5 po polsku": one language per order
    # "neutral tone" / "ton neutralny" first: "neutral" is also a sentiment label.
    neutral_tone = re.search(r"\b(?:in an?\s+)?neutral\w*\s+(?:tone|ton|style|styl\w*)\b|\b(?:tone|ton|w tonie)\s*:?\s*neutral\w*", folded)
    if neutral_tone:
        folded = mask(folded, neutral_tone.start(), neutral_tone.end())
    split_shares, folded = find_split(original, folded)
    # Labels next: they are the vocabulary that per-label counts are read with.
    described, meanings, folded = find_described_labels(original, folded)  # "labels: refund - wants money back, ..."
    labels, folded = find_labels(original, folded)
    labels = described or labels
    added, removed, folded = find_add_remove(folded, draft_labels)
    result.add_labels.extend(added)
    result.remove_labels.extend(removed)
    labels_masked = folded  # task words are read here: a count like "100 FAQ pairs" still says "FAQ"

    vocabulary = [*labels, *draft_labels, *result.add_labels]
    shares, folded = find_shares(folded, vocabulary)
    shares.update({match_label(word, vocabulary) or word: share for word, share in split_shares.items()})
    ratio, folded = find_unlabeled_ratio(folded)  # "3 in 10 examples": a share of which label? (asked)
    label_counts, folded = find_label_counts(original, folded, vocabulary)
    result.favoured_label, folded = find_favoured(original, folded, vocabulary)
    each_count, folded = find_each(folded)
    more, folded = find_more(folded)
    multiplied, folded = find_multiplied(folded, draft.count if draft is not None else None)
    count, folded = find_count(folded, bare, asking)
    if multiplied is not None and count is None:
        count = clamp(multiplied)
    if more is not None and count is None:
        current = draft.count if draft is not None else None
        count = clamp(current + more) if current is not None else more

    task, task_labels = find_task(labels_masked)
    if task_labels == SENTIMENT_LABELS and (label_number == 3 or re.search(r"(?<![\w-])neutral\w*", labels_masked)):
        task_labels = [*SENTIMENT_LABELS, "neutral"]  # "sentiment with neutral too" / "sentiment, 3 classes"
    if task is not None:
        changes["task"] = task
    if labels:
        changes["labels"] = labels
    elif task_labels and not has_labels_of(draft_labels, task_labels):
        found_keys = set(label_counts) | set(shares)
        extra = [key for key in found_keys if key not in task_labels]
        changes["labels"] = task_labels + sorted(extra, key=lambda k: list(found_keys).index(k))
    elif (label_counts or shares) and not draft_labels:
        # "70% positive" alone: complete a sentiment/toxicity pair the user clearly means.
        keys = list(label_counts) + [k for k in shares if k not in label_counts]
        if set(keys) <= SENTIMENT_WORDS:
            changes["labels"] = SENTIMENT_LABELS + [k for k in keys if k not in SENTIMENT_LABELS]
        elif set(keys) <= TOXICITY_WORDS:
            changes["labels"] = list(TOXICITY_LABELS)
    if result.favoured_label is not None and not changes.get("labels") and not draft_labels:
        # "250 reviews, mostly negative": the sentiment (toxicity) pair the word belongs to; how many is asked
        if result.favoured_label in SENTIMENT_WORDS:
            changes["labels"] = SENTIMENT_LABELS + [w for w in [result.favoured_label] if w not in SENTIMENT_LABELS]
        elif result.favoured_label in TOXICITY_WORDS:
            changes["labels"] = list(TOXICITY_LABELS)
    if label_counts:
        changes["label_counts"] = label_counts
    if shares:
        changes["label_shares"] = shares
    if each_count is not None:
        result.each = True
        known = changes.get("labels") or draft_labels
        if known:
            changes["label_counts"] = {label: each_count for label in known}
        else:
            changes["count"] = each_count
    if count is not None:
        changes["count"] = count
    if ("labels" in changes or "label_counts" in changes) and "task" not in changes:
        if draft is None or draft.task in (None, TaskType.classification):
            changes["task"] = TaskType.classification

    language = find_language(folded, bare, asking)
    if language:
        changes["language"] = language
    if language_parts:  # the first part now; the remark says how to order the others
        changes["count"], changes["language"] = language_parts[0][0], language_parts[0][1]
        result.remarks.append(Remark("intake_one_language", values={
            "first": original[language_parts[0][2]:language_parts[0][3]].strip(),
            "next": ", ".join(original[start:end].strip() for _, _, start, end in language_parts[1:])}))
    fmt = find_format(folded)
    if fmt:
        changes["format"] = fmt
    tone = "neutral" if neutral_tone else find_tone(original, folded, draft.tone if draft else None)
    if tone:
        changes["tone"] = tone
    topic = find_topic(original, labels_masked)  # never inside a label list ("..., pytanie o dostawę")
    if topic is not None:
        changes["topic"] = topic
    instructions = find_instructions(original, folded)
    if meanings:  # what each label means goes to the writer with the order's instructions
        instructions = "; ".join(f"{label}: {text}" for label, text in meanings.items()) \
            + (f". {instructions}" if instructions else "")
    if instructions:
        changes["instructions"] = instructions

    row_orders.read_into(original, changes, draft)  # entities, translation, red team, columns, messy rows
    if asking and not (changes or result.add_labels or result.remove_labels) and result.yes is None and negative is None:
        _bare_answer(original, bare, asking, changes)
    _refuse(result, negative, unsupported, max_count)
    if ratio is not None:
        result.remarks.append(Remark("intake_ratio_which_label", values={"part": str(ratio[0]), "whole": str(ratio[1])}))
        if "count" not in changes:
            result.refused.add("count")  # nor may the LLM's reading take the 3 of "3 in 10" for a count
    if changes or result.add_labels or result.remove_labels:
        # "yes, 500" is a change; "no" at the start of "no neutral label" is not a refusal.
        if result.yes is not None and not starts_with_yes_no(bare):
            result.yes = None
    return result


#: `asking` after the intake_ask_balance remark: "favoured:complaint" (how many of that label?).
FAVOURED = "favoured:"
_BALANCE_ANSWER = re.compile(
    r"(?:about |around |okolo |ok\.? )?\d[\d,. ]{0,12}(?:\s*(?:%|percent|procent\w*)|\s+(?:in|out of|of every|na|z)\s+\d{1,4}"
    r"(?:\s+[\w-]+)?)?")


def _favoured_answer(text: str, label: str) -> str:
    """ "40", "50%", "3 in 10 examples" answering "how many complaint examples?": said of that label."""
    bare = bare_form(fold(text)) if len(text) <= 100 else ""
    return f"{label} {text.strip()}" if bare and _BALANCE_ANSWER.fullmatch(bare) else text


def _refuse(result: Interpretation, negative: str | None, unsupported: Remark | None, max_count: int | None) -> None:
    """Drop what cannot be taken and say why: a negative or too large count, a kind the bot cannot make."""
    changes = result.changes
    if negative is not None:
        result.remarks.append(Remark("intake_count_negative", values={"number": negative}))
        result.refused |= {"count", "label_counts"}
    if unsupported is not None:
        for name in ("task", "labels", "label_counts", "label_shares"):
            changes.pop(name, None)
        result.add_labels.clear()
        result.remove_labels.clear()
        result.remarks.append(unsupported)
        result.refused |= {"task", "labels", "label_counts", "label_shares"}
    counts = changes.get("label_counts") or {}
    largest = max(changes.get("count") or 0, sum(counts.values()) if counts else 0)
    if max_count is not None and largest > max_count:
        for name in ("count", "label_counts", "label_shares"):
            changes.pop(name, None)
        result.each = False
        result.refused |= {"count", "label_counts", "label_shares"}
        remark = Remark("intake_count_too_large", values={"count": format_count(largest), "max": format_count(max_count)})
        if largest >= HUGE_NUMBER:  # a clamped number: "That many examples ..."
            remark = Remark("intake_count_too_large", values={"max": format_count(max_count)}, named={"count": "order_count_enormous"})
        result.remarks.append(remark)
    if result.favoured_label is not None and not counts and "label_shares" not in changes:
        result.remarks.append(Remark("intake_ask_balance", values={"label": result.favoured_label}))
    elif result.favoured_label is not None:
        result.favoured_label = None  # the message also said how many: nothing to ask


def _bare_answer(original: str, bare: str, asking: str, changes: dict[str, Any]) -> None:
    """An answer to the question just asked that the general rules did not recognise."""
    answer = original.strip().strip(".!?").strip()
    if not answer or len(answer) > 300:
        return
    if asking == "labels":
        labels = split_label_list(answer)
        if labels:
            changes["labels"] = labels
    elif asking == "topic":
        changes["topic"] = answer
    elif asking == "tone" and len(answer) <= 60:
        changes["tone"] = canonical_tone(answer) or answer
    elif asking == "language" and re.fullmatch(r"[^\W\d_]{2,30}", answer):
        changes["language"] = language_name(answer) or answer.capitalize()
    elif asking == "task":
        folded = fold(answer)
        for name in PRESETS:
            if folded == name:
                changes.update(clean_changes(PRESETS[name]))


