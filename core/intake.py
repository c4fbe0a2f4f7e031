"""Intake: free text -> changes to a draft order. Rules first (English + Polish, no LLM), LLM second.

    interp = interpret("wygeneruj 50 przykładów, 40 pozytywnych i 10 negatywnych, po polsku", draft)
    draft = apply(draft, interp)            # an updated copy; counts, shares and labels reconciled
    draft.missing()                         # what to ask next, in asking order
    spec = draft.to_spec(max_count)         # a validated DatasetSpec, or SpecError with a user-facing line
    fields = await extract_with_llm(llm, text, draft)   # what an LLM reads; rules win where both speak

The rules are hand-written regular expressions over a lower-cased, diacritics-folded copy of
the text: no library parses "40 pozytywnych i 10 negatywnych" into label counts, and the
dialog needs an answer without waiting for an LLM.

Conventions the dialog relies on:
- `label_shares` are fractions (0.7 for "70%"); they become exact `label_counts` (largest
  remainder) as soon as the total count is known.
- `topic == ""` means "any topic" (asked once, skipped); `None` means not asked yet.
- An interpretation that by itself makes a whole order (a count plus a task or labels) fills
  the optional questions with defaults (language = the language the user writes in, any topic,
  CSV), so an order pasted in one message goes straight to the summary; an order given piece
  by piece asks each of them.
"""

from __future__ import annotations

import json
import logging
import math
import re
import unicodedata
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from core.llm import LLMBackend
from core.spec import DEFAULT_MAX_COUNT, DatasetSpec, OutputFormat, SpecError, TaskType, split_evenly

log = logging.getLogger(__name__)

#: Rules read at most this much of a message: chat messages are far shorter, and the regexes stay fast.
MAX_RULES_CHARS = 20_000
#: Numbers are clamped here: such orders are rejected anyway, and the number must stay printable.
HUGE_NUMBER = 10**30
DEFAULT_TONE = "neutral"
DEFAULT_FORMAT = OutputFormat.csv

SENTIMENT_LABELS = ["positive", "negative"]
TOXICITY_LABELS = ["toxic", "non-toxic"]
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

# --- the draft ------------------------------------------------------------------------------


class SpecDraft(BaseModel):
    """An order being assembled: every DatasetSpec field optional; stored as JSON in the conversation."""

    model_config = ConfigDict(extra="ignore")

    task: TaskType | None = None
    topic: str | None = None
    labels: list[str] | None = None
    label_counts: dict[str, int] | None = None
    label_shares: dict[str, float] | None = None
    count: int | None = None
    language: str | None = None
    tone: str | None = None
    format: OutputFormat | None = None
    instructions: str | None = None

    def missing(self) -> list[str]:
        """What must still be asked, in asking order. Tone is never asked (default: neutral)."""
        out: list[str] = []
        if self.task is None:
            out.append("task")
        if self.task == TaskType.classification and len(self.labels or []) < 2:
            out.append("labels")
        if self.count is None and not _complete(self.label_counts, self.labels):
            out.append("count")
        if self.language is None:
            out.append("language")
        if self.topic is None:
            out.append("topic")
        if self.format is None:
            out.append("format")
        return out

    def required_missing(self) -> list[str]:
        """Only what has no sensible default (task, labels, count)."""
        return [name for name in self.missing() if name in ("task", "labels", "count")]

    def with_defaults(self, user_language: str = "en") -> "SpecDraft":
        """A copy with the optional fields filled: data language from the user's, any topic, CSV."""
        return self.model_copy(
            update={
                "language": self.language or ("Polish" if user_language == "pl" else "English"),
                "topic": "" if self.topic is None else self.topic,
                "format": self.format or DEFAULT_FORMAT,
            }
        )

    def to_spec(self, max_count: int = DEFAULT_MAX_COUNT, *, lang: str = "en") -> DatasetSpec:
        """The validated order; SpecError with a one-line message in `lang` ("en"/"pl") otherwise."""
        say = _error_texts(lang)
        if self.task is None:
            raise SpecError(say["task"])
        count = self.count
        labels = list(self.labels or [])
        label_counts: dict[str, int] | None = None
        if self.task == TaskType.classification:
            if len(labels) < 2:
                raise SpecError(say["labels"])
            if self.label_counts:
                label_counts = {label: self.label_counts[label] for label in labels if label in self.label_counts}
                lacking = [label for label in labels if label not in label_counts]
                if lacking:
                    if count is None:
                        raise SpecError(say["label_lacking"].format(labels=", ".join(lacking)))
                    rest = count - sum(label_counts.values())
                    if rest < 0:
                        raise SpecError(say["counts_exceed"].format(total=_fmt(sum(label_counts.values())), count=_fmt(count)))
                    label_counts.update(split_evenly(rest, lacking))
                total = sum(label_counts.values())
                if count is None:
                    count = total
                elif total != count:
                    raise SpecError(say["counts_mismatch"].format(total=_fmt(total), count=_fmt(count)))
            elif self.label_shares:
                if count is None:
                    raise SpecError(say["count"])
                label_counts = shares_to_counts(count, self.label_shares, labels)
                if label_counts is None:
                    percent = sum(self.label_shares.values()) * 100
                    raise SpecError(say["shares"].format(percent=f"{percent:g}"))
        if count is None:
            raise SpecError(say["count"])
        if count < 1:
            raise SpecError(say["count_small"])
        if count > max_count:
            shown = _fmt(count) if count < HUGE_NUMBER else say["enormous"]
            raise SpecError(say["count_big"].format(count=shown, max=_fmt(max_count)))
        data: dict[str, Any] = {
            "task": self.task,
            "topic": self.topic or "",
            "count": count,
            "language": self.language or "English",
            "tone": self.tone or DEFAULT_TONE,
            "format": self.format or DEFAULT_FORMAT,
            "instructions": self.instructions or "",
        }
        if self.task == TaskType.classification:
            data["labels"] = labels
            data["label_counts"] = label_counts
        return DatasetSpec.from_data(data, max_count=max_count)

    def summary(self, lang: str = "en") -> str:
        """A compact, human summary ("en" or "pl"); unset fields show as "?"."""
        pl = lang == "pl"
        unknown = "?"
        names = _SUMMARY_PL if pl else _SUMMARY_EN
        lines = []
        task = names["tasks"][self.task.value] if self.task else unknown
        lines.append(f"{names['task']}: {task}")
        if self.task in (None, TaskType.classification) and (self.labels or self.task):
            lines.append(f"{names['labels']}: {self._labels_text(names) or unknown}")
        count = self.count
        if count is None and _complete(self.label_counts, self.labels):
            count = sum((self.label_counts or {}).values())
        lines.append(f"{names['count']}: {_fmt(count) if count is not None else unknown}")
        language = self.language
        if language and pl:
            language = _LANG_BY_NAME[language].pl_name if language in _LANG_BY_NAME else language
        lines.append(f"{names['language']}: {language or unknown}")
        topic = unknown if self.topic is None else (self.topic or names["any"])
        lines.append(f"{names['topic']}: {topic}")
        tone = self.tone or DEFAULT_TONE
        if pl:
            tone = _TONE_PL.get(tone, tone)
        lines.append(f"{names['tone']}: {tone}")
        fmt = self.format.value if self.format else None
        lines.append(f"{names['format']}: {_FORMAT_NAMES.get(fmt, unknown) if fmt else unknown}")
        if self.instructions:
            lines.append(f"{names['instructions']}: {self.instructions}")
        return "\n".join(lines)

    def _labels_text(self, names: dict[str, Any]) -> str:
        labels = list(self.labels or [])
        if not labels:
            return ""
        if self.label_counts and _complete(self.label_counts, labels):
            return ", ".join(f"{label} {_fmt(self.label_counts[label])}" for label in labels)
        if self.label_shares:
            shown = []
            for label in labels:
                share = self.label_shares.get(label)
                shown.append(f"{label} {share * 100:g}%" if share is not None else label)
            return ", ".join(shown)
        if self.count is not None and len(labels) >= 2:
            return f"{', '.join(labels)} ({names['equal']})"
        return ", ".join(labels)


_SUMMARY_EN: dict[str, Any] = {
    "task": "Task", "labels": "Labels", "count": "Examples", "language": "Language", "topic": "Topic",
    "tone": "Tone", "format": "Format", "instructions": "Instructions", "any": "any", "equal": "equal split",
    "tasks": {"classification": "classification", "multiple_choice": "multiple-choice quiz (4 options)",
              "qa": "questions and answers"},
}
_SUMMARY_PL: dict[str, Any] = {
    "task": "Zadanie", "labels": "Etykiety", "count": "Liczba przykładów", "language": "Język", "topic": "Temat",
    "tone": "Ton", "format": "Format", "instructions": "Instrukcje", "any": "dowolny", "equal": "po równo",
    "tasks": {"classification": "klasyfikacja", "multiple_choice": "quiz wielokrotnego wyboru (4 odpowiedzi)",
              "qa": "pytania i odpowiedzi"},
}
_FORMAT_NAMES = {"csv": "CSV", "json": "JSON", "jsonl": "JSONL", "openai_jsonl": "JSONL (OpenAI fine-tuning)"}
_TONE_PL = {
    "neutral": "neutralny", "formal": "formalny", "casual": "swobodny", "sarcastic": "sarkastyczny",
    "friendly": "przyjazny", "professional": "profesjonalny", "humorous": "humorystyczny", "angry": "gniewny",
    "polite": "uprzejmy", "rude": "niegrzeczny", "enthusiastic": "entuzjastyczny", "academic": "akademicki",
    "serious": "poważny", "very formal": "bardzo formalny", "very casual": "bardzo swobodny",
}


def _error_texts(lang: str) -> dict[str, str]:
    return _ERRORS_PL if lang == "pl" else _ERRORS_EN


_ERRORS_EN = {
    "task": "Which kind of dataset: classification, multiple-choice quiz or questions and answers?",
    "labels": "A classification dataset needs at least two labels, e.g. positive, negative.",
    "label_lacking": "How many examples of {labels}?",
    "counts_exceed": "The label counts add up to {total}, more than the total of {count}.",
    "counts_mismatch": "The label counts add up to {total}, but the total is {count}. Which one is right?",
    "count": "How many examples in total?",
    "shares": "The percentages add up to {percent}%, not 100%.",
    "count_small": "The number of examples must be at least 1.",
    "count_big": "{count} examples is more than I can make at once (at most {max}). Please ask for fewer.",
    "enormous": "That many",
}
_ERRORS_PL = {
    "task": "Jaki zbiór: klasyfikacja, quiz wielokrotnego wyboru czy pytania i odpowiedzi?",
    "labels": "Klasyfikacja potrzebuje co najmniej dwóch etykiet, np. pozytywna, negatywna.",
    "label_lacking": "Ile przykładów dla: {labels}?",
    "counts_exceed": "Liczby dla etykiet sumują się do {total}, więcej niż łącznie {count}.",
    "counts_mismatch": "Liczby dla etykiet sumują się do {total}, a łącznie ma być {count}. Które jest dobre?",
    "count": "Ile przykładów łącznie?",
    "shares": "Procenty sumują się do {percent}%, a nie do 100%.",
    "count_small": "Liczba przykładów musi wynosić co najmniej 1.",
    "count_big": "{count} przykładów to więcej, niż mogę zrobić naraz (najwyżej {max}). Poproś o mniej.",
    "enormous": "Tak wiele",
}


def _fmt(number: int) -> str:
    return f"{number:,}"


def _complete(counts: dict[str, int] | None, labels: list[str] | None) -> bool:
    return bool(counts) and bool(labels) and all(label in counts for label in labels or [])


# --- numbers and shares ---------------------------------------------------------------------


def allocate(total: int, weights: dict[str, Any]) -> dict[str, int]:
    """Split `total` in proportion to `weights`, exactly (largest remainder; ties by order)."""
    keys = list(weights)
    if not keys:
        return {}
    fractions = {key: _fraction(weights[key]) for key in keys}
    weight_sum = sum(fractions.values(), Fraction(0))
    if weight_sum <= 0:
        return split_evenly(total, keys)
    exact = {key: total * fractions[key] / weight_sum for key in keys}
    result = {key: math.floor(exact[key]) for key in keys}
    left = total - sum(result.values())
    by_remainder = sorted(range(len(keys)), key=lambda i: (-(exact[keys[i]] - result[keys[i]]), i))
    for i in by_remainder[: max(0, left)]:
        result[keys[i]] += 1
    return result


def _fraction(value: Any) -> Fraction:
    if isinstance(value, float):
        return Fraction(value).limit_denominator(10**6) if math.isfinite(value) else Fraction(0)
    return Fraction(value)


def shares_to_counts(total: int, shares: dict[str, float], labels: list[str]) -> dict[str, int] | None:
    """Exact counts from shares ("70% positive"); labels without a share split what is left.
    None when the shares cannot make 100% (over 100%, or under 100% with no label left to fill)."""
    covered = {label: shares[label] for label in labels if label in shares}
    share_sum = sum(covered.values())
    rest = [label for label in labels if label not in covered]
    if share_sum > 1.005 or (not rest and share_sum < 0.995):
        return None
    weights: dict[str, Any] = {label: _fraction(value) for label, value in covered.items()}
    leftover = max(Fraction(0), 1 - sum(weights.values(), Fraction(0)))
    for label in rest:
        weights[label] = leftover / len(rest)
    ordered = {label: weights[label] for label in labels}
    return allocate(total, ordered)


_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "hundred": 100, "a hundred": 100, "a thousand": 1000, "a dozen": 12, "dozen": 12,
    "dwa": 2, "dwie": 2, "trzy": 3, "cztery": 4, "piec": 5, "szesc": 6, "siedem": 7, "osiem": 8,
    "dziewiec": 9, "dziesiec": 10, "dwadziescia": 20, "trzydziesci": 30, "piecdziesiat": 50, "sto": 100,
    "tysiac": 1000,
}
_WORD_NUMBER_RE = "|".join(sorted((re.escape(w) for w in _WORD_NUMBERS), key=len, reverse=True))
_MULTIPLIER = r"(?:k|thousand|thousands|tys\.?|tysiecy|tysiace|mln|million|millions|milion\w*)"
# One number as people write it: 1,000 / 1 000 / 1k / 2,5 tys. / 10^12 / 1e6 / 200 / ten.
NUM = (
    r"(?<![\w.,^])(?:\d+\s*\^\s*\d+|\d+(?:\.\d+)?e\d+|\d{1,3}(?:,\d{3})+(?![\d,])"
    r"|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)|\d+(?:[.,]\d+)?\s*" + _MULTIPLIER + r"(?![\w])|\d+"
    r"|(?:" + _WORD_NUMBER_RE + r"))(?![\w])"
)


def parse_number(raw: str) -> int | None:
    """'1,000' -> 1000, '1k' -> 1000, '10^12' -> 10**12; None for what is not a whole number.
    Clamped to HUGE_NUMBER so absurd inputs stay cheap and printable."""
    s = raw.strip().lower().replace("\u00a0", " ").replace("\u202f", " ")
    if s in _WORD_NUMBERS:
        return _WORD_NUMBERS[s]
    power = re.fullmatch(r"(\d+)\s*\^\s*(\d+)", s)
    if power:
        return _power(_int(power.group(1)), _int(power.group(2)))
    sci = re.fullmatch(r"(\d+(?:\.\d+)?)e(\d+)", s)
    if sci:
        mantissa, exponent = Fraction(sci.group(1)[:40]), _int(sci.group(2))
        if exponent > 40:
            return HUGE_NUMBER
        return _clamp(int(mantissa * 10**exponent))
    multiplied = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(" + _MULTIPLIER + r")", s)
    if multiplied:
        number = multiplied.group(1).replace(",", ".")
        if len(number) > 40:
            return HUGE_NUMBER
        factor = 1_000_000 if multiplied.group(2).startswith(("m", "mln")) else 1000
        return _clamp(int(Fraction(number) * factor))
    if re.fullmatch(r"\d{1,3}(?:[, ]\d{3})+", s):
        return _int(re.sub(r"[, ]", "", s))
    if s.isdigit() and s.isascii():
        return _int(s)
    return None


def _int(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    if len(digits) > 30:  # int() of thousands of digits is slow and limited; the value is rejected anyway
        return HUGE_NUMBER
    return _clamp(int(digits))


def _power(base: int, exponent: int) -> int:
    if base <= 1:
        return base
    if exponent * math.log10(base) > 30:
        return HUGE_NUMBER
    return _clamp(base**exponent)


def _clamp(value: int) -> int:
    return min(value, HUGE_NUMBER)


# --- languages ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Language:
    name: str  # stored in the spec (English name)
    en: tuple[str, ...]  # English names, lower case
    pl_adverb: str  # "po polsku"
    pl_stem: str  # polski / polskim / polskie
    pl_name: str  # shown in Polish summaries


_LANGUAGES = [
    _Language("English", ("english",), "angielsku", "angielsk", "angielski"),
    _Language("Polish", ("polish",), "polsku", "polsk", "polski"),
    _Language("German", ("german",), "niemiecku", "niemieck", "niemiecki"),
    _Language("French", ("french",), "francusku", "francusk", "francuski"),
    _Language("Spanish", ("spanish",), "hiszpansku", "hiszpansk", "hiszpański"),
    _Language("Italian", ("italian",), "wlosku", "wlosk", "włoski"),
    _Language("Portuguese", ("portuguese",), "portugalsku", "portugalsk", "portugalski"),
    _Language("Dutch", ("dutch",), "niderlandzku", "niderlandzk", "niderlandzki"),
    _Language("Ukrainian", ("ukrainian",), "ukrainsku", "ukrainsk", "ukraiński"),
    _Language("Russian", ("russian",), "rosyjsku", "rosyjsk", "rosyjski"),
    _Language("Czech", ("czech",), "czesku", "czesk", "czeski"),
    _Language("Slovak", ("slovak",), "slowacku", "slowack", "słowacki"),
    _Language("Swedish", ("swedish",), "szwedzku", "szwedzk", "szwedzki"),
    _Language("Norwegian", ("norwegian",), "norwesku", "norwesk", "norweski"),
    _Language("Danish", ("danish",), "dunsku", "dunsk", "duński"),
    _Language("Finnish", ("finnish",), "finsku", "finsk", "fiński"),
    _Language("Japanese", ("japanese",), "japonsku", "japonsk", "japoński"),
    _Language("Chinese", ("chinese", "mandarin"), "chinsku", "chinsk", "chiński"),
    _Language("Korean", ("korean",), "koreansku", "koreansk", "koreański"),
    _Language("Turkish", ("turkish",), "turecku", "tureck", "turecki"),
    _Language("Greek", ("greek",), "grecku", "greck", "grecki"),
    _Language("Hungarian", ("hungarian",), "wegiersku", "wegiersk", "węgierski"),
    _Language("Romanian", ("romanian",), "rumunsku", "rumunsk", "rumuński"),
    _Language("Arabic", ("arabic",), "arabsku", "arabsk", "arabski"),
    _Language("Hebrew", ("hebrew",), "hebrajsku", "hebrajsk", "hebrajski"),
    _Language("Lithuanian", ("lithuanian",), "litewsku", "litewsk", "litewski"),
    _Language("Vietnamese", ("vietnamese",), "wietnamsku", "wietnamsk", "wietnamski"),
    _Language("Hindi", ("hindi",), "hindi", "hindi", "hindi"),
]
_LANG_BY_NAME = {lang.name: lang for lang in _LANGUAGES}
_LANG_BY_WORD: dict[str, _Language] = {}
for _lang in _LANGUAGES:
    for _word in _lang.en:
        _LANG_BY_WORD[_word] = _lang
    _LANG_BY_WORD[_lang.pl_adverb] = _lang
    _LANG_BY_WORD[_lang.pl_stem] = _lang
    _LANG_BY_WORD[_lang.name.lower()] = _lang
_EN_LANG_RE = "|".join(sorted(_LANG_BY_WORD.keys() - {lang.pl_adverb for lang in _LANGUAGES}
                              - {lang.pl_stem for lang in _LANGUAGES}, key=len, reverse=True))
_PL_ADVERB_RE = "|".join(sorted({lang.pl_adverb for lang in _LANGUAGES}, key=len, reverse=True))
_PL_STEM_RE = "|".join(sorted({lang.pl_stem for lang in _LANGUAGES}, key=len, reverse=True))


def language_name(word: str) -> str | None:
    """'german' / 'niemiecki' / 'po niemiecku' / 'Deutsch'-less: the English name, or None."""
    w = _fold(word).strip().removeprefix("po ").strip()
    if w in _LANG_BY_WORD:
        return _LANG_BY_WORD[w].name
    for lang in _LANGUAGES:
        if w.startswith(lang.pl_stem) and len(w) <= len(lang.pl_stem) + 3:
            return lang.name
    return None


# --- text normalisation ---------------------------------------------------------------------

_DEACCENT = str.maketrans("ąćęłńóśźż", "acelnoszz")
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "`": "'"})
# An output-template line such as `Q: <sentence>` or `Intent: <intent>`: describes the format, not the order.
_TEMPLATE_LINE = re.compile(r"""^[ \t]*[^\n:<>]{0,30}:[ \t]*["']?<[^<>\n]{0,60}>["']?[ \t]*$""", re.M)


def _fold(text: str) -> str:
    """Lower-case and fold Polish diacritics, keeping every character's position."""
    return "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text).translate(_DEACCENT)


def _prepare(text: str) -> tuple[str, str]:
    """(original, folded): NFKC, quotes unified, template lines blanked; both of equal length."""
    text = unicodedata.normalize("NFKC", text[:MAX_RULES_CHARS]).translate(_QUOTES)
    text = _TEMPLATE_LINE.sub(lambda m: " " * len(m.group(0)), text)
    return text, _fold(text)


def _mask(folded: str, start: int, end: int) -> str:
    return folded[:start] + " " * (end - start) + folded[end:]


# --- label vocabulary -----------------------------------------------------------------------

# Sentiment and toxicity words, English and Polish (inflected), folded; non-toxic before toxic.
_KNOWN_LABELS: list[tuple[str, str]] = [
    (r"non[- ]?toxic|not[- ]toxic|nie[- ]?toksyczn\w*|nontoxic", "non-toxic"),
    (r"(?<![\w-])toxic|(?<![\w-])toksyczn\w*", "toxic"),
    (r"positiv\w*|pozytywn\w*", "positive"),
    (r"negativ\w*|negatywn\w*", "negative"),
    (r"neutral\w*", "neutral"),
    (r"mixed|mieszan\w*", "mixed"),
]
_KNOWN_LABEL_RE = "(?:" + "|".join(p for p, _ in _KNOWN_LABELS) + ")"
_SENTIMENT = {"positive", "negative", "neutral", "mixed"}
_TOXICITY = {"toxic", "non-toxic"}


def canonical_label(word: str) -> str:
    """Sentiment/toxicity words (any language, any inflection) -> the English label; else as written."""
    cleaned = word.strip().strip("\"'[](){}.,;:!?").strip()
    folded = _fold(cleaned)
    for pattern, label in _KNOWN_LABELS:
        if re.fullmatch(pattern, folded):
            return label
    return cleaned


def _label_key(label: str) -> str:
    return label.strip().lower()


# Nouns that name the examples themselves ("200 reviews"), so a number before them is the total.
_COUNT_NOUNS = (
    r"(?:examples?|exemplars?|samples?|rows?|items?|records?|reviews?|messages?|sentences?|questions?|"
    r"phrases?|tweets?|texts?|comments?|posts?|e-?mails?|tickets?|utterances?|queries|query|prompts?|pairs?|"
    r"entries|entry|lines?|instances?|quizz?es|quiz|dialogs?|dialogues?|conversations?|headlines?|titles?|"
    r"statements?|opinions?|replies|reply|chats?|data ?points?|datapoints?|snippets?|descriptions?|"
    r"paragraphs?|documents?|articles?|stories|story|jokes?|requests?|inquiries|complaints?|"
    r"przyklad\w*|zdan\w*|pytan\w*|recenzj\w*|opini\w*|wiadomosc\w*|tekst\w*|rekord\w*|wiersz\w*|fraz\w*|"
    r"komentarz\w*|tweet\w*|wpis\w*|zgloszen\w*|maili|zapytan\w*|wypowiedz\w*|probek|probki|elementow|"
    r"dialog\w*|rozmow\w*|quiz\w*|sztuk|pozycj\w*|komunikat\w*|postow|par|zdania)"
)
_FILLER_WORDS = {
    "the", "a", "an", "of", "other", "new", "short", "long", "user", "customer", "product",
    "more", "different", "unique", "synthetic", "labeled", "labelled", "training", "test", "sample",
    "multiple-choice", "multiple", "choice", "quiz", "chat", "online", "support", "sentiment", "movie",
}

# --- task hints ------------------------------------------------------------------------------

_MULTIPLE_CHOICE_RE = re.compile(
    r"multiple[- ]?choice|\bquiz\w*|\bmcq|\babcd\b|wielokrotnego wyboru|jednokrotnego wyboru|"
    r"pytani\w* (?:testow\w*|quizow\w*|zamkniet\w*)|testow\w* pytan\w*|\b4 (?:options|odpowiedzi|warianty)"
)
_QA_RE = re.compile(
    r"\bq ?& ?a\b|\bq/a\b|question[- ]answer\w*|questions? (?:and|&) answers?|\bqa\b|\bfaq\b|"
    r"pytan\w* i odpowiedz\w*|pytanie[- ]odpowiedz\w*|par\w* pytan\w*"
)
_SENTIMENT_RE = re.compile(r"sentiment|sentyment")
_TOXIC_RE = re.compile(r"(?<![\w-])toxic|toksyczn|cyberbullying|cyberprzemoc|\bbullying|hate speech|\bhejt|mowa nienawisci")
_CLASSIFICATION_RE = re.compile(
    r"classif|klasyfik|\blabels?\b|\betykiet|categori[sz]|\bcategor|kategori|\bintent|intencj|\bspam\b"
)

# --- formats -------------------------------------------------------------------------------

_OPENAI_FORMAT_RE = re.compile(
    r"openai[_ -]?jsonl|openai (?:fine[- ]?tun\w*|chat) (?:format|jsonl)|openai format|fine[- ]?tun\w* (?:format|jsonl)|"
    r"\bjsonl\b[^\n.]{0,30}fine[- ]?tun|fine[- ]?tun\w*[^\n.]{0,30}\bjsonl\b|chat (?:messages )?format"
)
_FORMAT_PATTERNS: list[tuple[re.Pattern[str], OutputFormat]] = [
    (re.compile(r"\bjsonl\b|json ?lines|jsonlines|ndjson"), OutputFormat.jsonl),
    (re.compile(r"\bjson\b(?!\s*lines)"), OutputFormat.json),
    (re.compile(r"\bcsv\b|\bexcel\b|spreadsheet|arkusz\w*"), OutputFormat.csv),
]

# --- tones ---------------------------------------------------------------------------------

_TONES: list[tuple[str, str]] = [
    (r"informal\w*|nieformaln\w*|casual\w*|luzn\w*|swobodn\w*|potoczn\w*|colloquial", "casual"),
    (r"formal\w*|formaln\w*|oficjaln\w*", "formal"),
    (r"sarcas\w*|sarkasty\w*|ironic\w*|ironiczn\w*", "sarcastic"),
    (r"friendly|przyjazn\w*|zyczliw\w*", "friendly"),
    (r"professional\w*|profesjonaln\w*", "professional"),
    (r"humou?rous|funny|zabawn\w*|humorystyczn\w*|smieszn\w*|witty|dowcipn\w*", "humorous"),
    (r"angry|zdenerwowan\w*|wsciekl\w*|gniewn\w*", "angry"),
    (r"polite|uprzejm\w*|grzeczn\w*", "polite"),
    (r"\brude\b|niegrzeczn\w*|chamsk\w*", "rude"),
    (r"enthusiastic|entuzjastyczn\w*|excited", "enthusiastic"),
    (r"academic|akademick\w*|naukow\w*|scientific", "academic"),
    (r"serious|powazn\w*", "serious"),
]
_OPPOSITE_TONE = {"formal": "casual", "casual": "formal"}
_TONE_WORD_RE = "(?:" + "|".join(p for p, _ in _TONES) + ")"


def _canonical_tone(word: str) -> str | None:
    folded = _fold(word.strip())
    for pattern, tone in _TONES:
        if re.fullmatch(pattern, folded):
            return tone
    if re.fullmatch(r"neutral\w*", folded):
        return "neutral"
    return None


# --- yes / no --------------------------------------------------------------------------------

_YES = {
    "yes", "y", "yeah", "yep", "yup", "sure", "ok", "okay", "okey", "k", "go", "go ahead", "do it", "let's go",
    "lets go", "sounds good", "looks good", "correct", "right", "confirm", "confirmed", "fine", "great", "perfect",
    "yes please", "ok go", "go on", "proceed", "tak", "dobrze", "jasne", "pewnie", "zgoda", "dawaj", "git",
    "smialo", "oczywiscie", "potwierdzam", "tak jest", "w porzadku", "moze byc", "super", "okej", "jedziemy",
    "tak prosze", "👍", "✅", "ja",
}
_NO = {
    "no", "n", "nope", "nah", "not yet", "no thanks", "no thank you", "nie", "nie teraz", "nie dziekuje",
    "raczej nie", "👎", "❌",
}
_SKIP = {
    "skip", "any", "none", "no topic", "any topic", "whatever", "doesn't matter", "does not matter", "nothing",
    "no preference", "pomin", "dowolny", "dowolna", "dowolne", "obojetnie", "bez tematu", "dowolny temat",
    "wszystko jedno", "brak", "-", "nie ma znaczenia", "general", "ogolny", "ogolne",
}

# --- detect the user's language ---------------------------------------------------------------

_PL_CHARS = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
_PL_WORDS = {
    "sie", "ze", "jest", "nie", "tak", "czy", "dla", "jak", "albo", "lub", "oraz", "wygeneruj", "zrob", "prosze",
    "chce", "potrzebuje", "polsku", "angielsku", "niemiecku", "etykiety", "etykieta", "ile", "tylko", "bardziej",
    "mniej", "niech", "bedzie", "dodaj", "usun", "zmien", "jeszcze", "moze", "tez", "juz", "bez", "temat",
    "dziekuje", "dzieki", "czesc", "witam", "dzien", "dobry", "pytania", "odpowiedzi", "jezyk", "jezyku",
    "zrobmy", "daj", "anuluj", "dalej", "gotowe", "jasne", "zgoda", "pomin", "dowolny", "dowolna", "formalnie",
    "sto", "tysiac", "przyklady", "przykladow", "zdan", "pytan", "recenzji", "opinii", "wiadomosci", "tekstow",
    "pozytywnych", "negatywnych", "pozytywne", "negatywne", "neutralne", "okej", "dobrze", "pewnie", "na", "temat",
    "formalny", "formalne", "swobodny", "swobodnie", "luzny", "luzno", "sarkastyczny", "przyjazny", "polski",
    "angielski", "niemiecki", "hiszpanski", "francuski", "pomin", "wlasne", "wlasny", "quizowe", "pytanie",
    "wiecej", "krotsze", "dluzsze", "niz", "ktore", "ktory", "jako", "wszystkie", "kazdy", "kazdej",
}
# Bounded repeats: unbounded nested ones go quadratic on one 20,000-letter "word".
_PL_WORD_SHAPE = re.compile(
    r"\b[a-z]{2,20}(?:rz|sz|cz|dz)[a-z]{0,12}(?:y|ych|ie|ego|ej|emu)\b|\b[a-z]{3,20}(?:ych|ami|owie|acja|acji|osci|nego|nej|owy|owa|owe)\b"
)
_EN_AMBIGUOUS = {"ok", "okay", "csv", "json", "jsonl", "k", "go", "hi", "yes", "no", "qa"}


def detect_language(text: str) -> str:
    """'pl' if the text looks Polish (diacritics or common Polish words), else 'en'."""
    return "pl" if _looks_polish(text) else "en"


def _looks_polish(text: str) -> bool:
    sample = text[:MAX_RULES_CHARS]
    if any(ch in _PL_CHARS for ch in sample):
        return True
    folded = _fold(sample)
    words = re.findall(r"[a-z]+", folded)
    if any(word in _PL_WORDS for word in words):
        return True
    return bool(_PL_WORD_SHAPE.search(folded))


def _language_signal(text: str) -> bool:
    """Whether the text says anything about its language (an emoji, '200' or 'ok' do not)."""
    if _looks_polish(text):
        return True
    words = re.findall(r"[a-z]{3,}", text[:MAX_RULES_CHARS].lower())
    return any(word not in _EN_AMBIGUOUS for word in words)


# --- the interpretation ----------------------------------------------------------------------


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

    def is_empty(self) -> bool:
        return not (self.changes or self.add_labels or self.remove_labels) and self.yes is None


def interpret(text: str, draft: SpecDraft | None = None, *, expecting: str | None = None) -> Interpretation:
    """Read one message with the rules. Pure; never raises.

    `expecting` (optional) names the field the bot just asked for ("labels", "topic", "language",
    "tone", "count", "format", "task"): a bare answer is then read as that field.
    """
    try:
        return _interpret(str(text), draft, expecting)
    except Exception:  # a rule bug must cost one message's understanding, never the conversation
        log.exception("intake rules failed on %r", str(text)[:200])
        safe = str(text) if isinstance(text, str) else ""
        return Interpretation(language=detect_language(safe), language_detected=_language_signal(safe))


def _interpret(text: str, draft: SpecDraft | None, expecting: str | None) -> Interpretation:
    original, folded = _prepare(text)
    unmasked = folded
    result = Interpretation(language=detect_language(original), language_detected=_language_signal(original))
    bare = _bare(folded)
    if not bare:
        return result
    result.yes = _yes_no(bare)
    changes = result.changes
    draft_labels = list(draft.labels or []) if draft is not None else []

    asked_topic = expecting == "topic" or (expecting is None and draft is not None and draft.missing()[:1] == ["topic"])
    if asked_topic and (bare in _SKIP or result.yes is False):
        changes["topic"] = ""  # "skip" / "any" / "no" to the topic question: any topic
        result.yes = None
        return result

    # "neutral tone" / "ton neutralny" first: "neutral" is also a sentiment label.
    neutral_tone = re.search(r"\b(?:in an?\s+)?neutral\w*\s+(?:tone|ton|style|styl\w*)\b|\b(?:tone|ton|w tonie)\s*:?\s*neutral\w*", folded)
    if neutral_tone:
        folded = _mask(folded, neutral_tone.start(), neutral_tone.end())
    # Labels next: they are the vocabulary that per-label counts are read with.
    labels, folded = _find_labels(original, folded)
    folded = _find_add_remove(folded, result, draft_labels)
    labels_masked = folded  # task words are read here: a count like "100 FAQ pairs" still says "FAQ"

    vocabulary = [*labels, *draft_labels, *result.add_labels]
    shares, folded = _find_shares(folded, vocabulary)
    label_counts, folded = _find_label_counts(folded, vocabulary)
    each_count, folded = _find_each(folded)
    more, folded = _find_more(folded)
    count, folded = _find_count(folded, bare, expecting)
    if more is not None and count is None:
        current = draft.count if draft is not None else None
        count = _clamp(current + more) if current is not None else more

    task, task_labels = _find_task(labels_masked)
    if task is not None:
        changes["task"] = task
    if labels:
        changes["labels"] = labels
    elif task_labels and not _has_labels_of(draft_labels, task_labels):
        found_keys = set(label_counts) | set(shares)
        extra = [key for key in found_keys if key not in task_labels]
        changes["labels"] = task_labels + sorted(extra, key=lambda k: list(found_keys).index(k))
    elif (label_counts or shares) and not draft_labels:
        # "70% positive" alone: complete a sentiment/toxicity pair the user clearly means.
        keys = list(label_counts) + [k for k in shares if k not in label_counts]
        if set(keys) <= _SENTIMENT:
            changes["labels"] = SENTIMENT_LABELS + [k for k in keys if k not in SENTIMENT_LABELS]
        elif set(keys) <= _TOXICITY:
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

    language = _find_language(folded, bare, expecting)
    if language:
        changes["language"] = language
    fmt = _find_format(folded)
    if fmt:
        changes["format"] = fmt
    tone = "neutral" if neutral_tone else _find_tone(folded, draft.tone if draft else None)
    if tone:
        changes["tone"] = tone
    topic = _find_topic(original, unmasked)
    if topic is not None:
        changes["topic"] = topic
    instructions = _find_instructions(original, folded)
    if instructions:
        changes["instructions"] = instructions

    if expecting and not (changes or result.add_labels or result.remove_labels) and result.yes is None:
        _bare_answer(original, bare, expecting, changes)
    if changes or result.add_labels or result.remove_labels:
        # "yes, 500" is a change; "no" at the start of "no neutral label" is not a refusal.
        if result.yes is not None and not _starts_with_yes_no(bare):
            result.yes = None
    return result


def _bare(folded: str) -> str:
    """The message without surrounding punctuation/space, folded: for whole-message matches."""
    return re.sub(r"\s+", " ", folded).strip(" \t\n.!?,;:()[]\"'")


def _yes_no(bare: str) -> bool | None:
    if bare in _YES:
        return True
    if bare in _NO:
        return False
    words = bare.split()
    if len(words) > 1 and all(word in _YES for word in words):
        return True  # "yes go", "ok sure"
    head = re.split(r"[,;.!\-–—]", bare, maxsplit=1)[0].strip()
    if head != bare:
        if head in _YES:
            return True
        if head in _NO:
            return False
    return None


def _starts_with_yes_no(bare: str) -> bool:
    head = re.split(r"[,;.!\-–—]", bare, maxsplit=1)[0].strip()
    return head in _YES or head in _NO


def _bare_answer(original: str, bare: str, expecting: str, changes: dict[str, Any]) -> None:
    """An answer to the question just asked that the general rules did not recognise."""
    answer = original.strip().strip(".!?").strip()
    if not answer or len(answer) > 300:
        return
    if expecting == "labels":
        labels = split_label_list(answer)
        if labels:
            changes["labels"] = labels
    elif expecting == "topic":
        changes["topic"] = answer
    elif expecting == "tone" and len(answer) <= 60:
        changes["tone"] = _canonical_tone(answer) or answer
    elif expecting == "language" and re.fullmatch(r"[^\W\d_]{2,30}", answer):
        changes["language"] = language_name(answer) or answer.capitalize()
    elif expecting == "task":
        folded = _fold(answer)
        for name in PRESETS:
            if folded == name:
                changes.update(_clean_changes(PRESETS[name]))


# --- finders: each returns what it found and the text with that part blanked ------------------

_LIST_SEPARATOR = re.compile(r"\s*(?:,|;|\||/|\bor\b|\band\b|\bvs\.?|\bversus\b|\blub\b|\balbo\b|\boraz\b|\bczy\b|\bi\b|\n)\s*")
_LABEL_CUE = (
    r"(?:labels?|categories|category|classes|class|intents|intencje|tags|etykiety|etykietami|etykiet|klasy|kategorie)"
)


def split_label_list(raw: str) -> list[str]:
    """'a, b and c' / '["a", "b"]' / 'a or b' / 'a vs b' -> labels (sentiment words in English)."""
    raw = raw.strip().strip("[](){}").strip()
    quoted = re.findall(r"\"([^\"\n]{1,60})\"|'([^'\n]{1,60})'", raw)
    items = [a or b for a, b in quoted] if len(quoted) >= 2 else _LIST_SEPARATOR.split(_fold_separators(raw))
    labels: list[str] = []
    for item in items:
        item = re.sub(r"^(?:either|one of|the|a|an)\s+", "", item.strip(), flags=re.I)
        label = canonical_label(item)
        if not label or len(label) > 60 or len(label.split()) > 4:
            continue
        if _label_key(label) not in {_label_key(x) for x in labels}:
            labels.append(label)
    return labels


def _fold_separators(raw: str) -> str:
    # Case-insensitive separators without losing the labels' own case.
    return re.sub(r"(?i)\b(or|and|vs|versus|lub|albo|oraz|czy)\b", lambda m: m.group(1).lower(), raw)


def _find_labels(original: str, folded: str) -> tuple[list[str], str]:
    found: list[str] = []

    def take(items: Iterable[str]) -> None:
        for item in items:
            if _label_key(item) not in {_label_key(x) for x in found}:
                found.append(item)

    # 1. "labels: a, b, c" / "intents: [...]" / "etykiety: a, b" (to the end of the line or sentence).
    for m in re.finditer(
        r"\b" + _LABEL_CUE + r"\s*(?:are|is|should be|to|=|:|-)\s*(\[[^\]\n]{1,500}\]|[^\n.;!?]{1,300})", folded
    ):
        items = split_label_list(original[m.start(1):m.end(1)])
        if len(items) >= 2:
            take(items)
            folded = _mask(folded, m.start(), m.end())
    # 2. A bracketed list of quoted words near a cue ("one of the intents: [...]").
    for m in re.finditer(r"\[((?:\s*[\"'][^\"'\]\n]{1,60}[\"']\s*,?){2,})\]", folded):
        items = split_label_list(original[m.start(1):m.end(1)])
        if len(items) >= 2:
            take(items)
            folded = _mask(folded, m.start(), m.end())
    # 3. "categorized as either positive or negative" / 'label each as "toxic" or "non-toxic"'.
    # A list item; never a preposition, so "…, shipping or returns, in Spanish" stops before "in".
    item = r"(?:\"[^\"\n]{1,40}\"|'[^'\n]{1,40}'|(?!(?:in|po|with|for|about|as|on|w|z|na|o|the|and|or|i|lub)\b)[\w-]+)"
    joiner = r"\s*(?:,|/|\bor\b|\band\b|\bvs\.?|\blub\b|\balbo\b|\bi\b|\bczy\b)\s*"
    for m in re.finditer(
        r"\b(?:categori[sz]ed|classified|classify(?:\s+[\w-]+){0,2}|labell?ed|label each|label them|tagged|marked|sorted|split|grouped|"
        r"oznacz\w*|sklasyfikowan\w*|klasyfikowan\w*|podzielon\w*|etykiet\w*)\s+(?:them\s+|each\s+)?"
        r"(?:as|into|jako|na)\s+(?:either\s+|one of\s+|jedn\w* z\s+)?(" + item + r"(?:" + joiner + item + r")+)",
        folded,
    ):
        items = split_label_list(original[m.start(1):m.end(1)])
        if len(items) >= 2:
            take(items)
            folded = _mask(folded, m.start(1), m.end(1))
    # 3b. "labeled billing, shipping or returns" / "tagged with a, b and c".
    for m in re.finditer(
        r"\b(?:labell?ed|tagged|etykietowan\w*)\s+(?:with\s+|jako\s+)?(" + item + r"(?:" + joiner + item + r")+)", folded
    ):
        items = [x for x in split_label_list(original[m.start(1):m.end(1)])
                 if not re.fullmatch(r"[\d\W]+|" + _COUNT_NOUNS + "|" + _WORD_NUMBER_RE, _fold(x))]
        if len(items) >= 2:
            take(items)
            folded = _mask(folded, m.start(1), m.end(1))
    # 4. Known label words paired: "positive or negative", "pozytywne lub negatywne", "toxic vs non-toxic".
    pair = _KNOWN_LABEL_RE + r"(?:\s*(?:,|/|\bor\b|\band\b|\bvs\.?|\bversus\b|\blub\b|\balbo\b|\bi\b|\boraz\b|\bczy\b)\s*" + _KNOWN_LABEL_RE + r")+"
    for m in re.finditer(r"(?<![\d\w])" + pair, folded):
        items = [canonical_label(w) for w in re.findall(_KNOWN_LABEL_RE, m.group(0))]
        if len(set(items)) >= 2:
            take(items)
            folded = _mask(folded, m.start(), m.end())
    # 5. Any "x vs y" ("spam vs ham") and quoted pairs ('"spam" or "ham"').
    for m in re.finditer(r"(?<![\w-])([\w-]{2,30})\s+(?:vs\.?|versus)\s+([\w-]{2,30})(?![\w-])", folded):
        take([canonical_label(original[m.start(1):m.end(1)]), canonical_label(original[m.start(2):m.end(2)])])
        folded = _mask(folded, m.start(), m.end())
    for m in re.finditer(r"\"([^\"\n]{1,40})\"\s*(?:or|lub|albo|czy|,)\s*\"([^\"\n]{1,40})\"", folded):
        take([canonical_label(original[m.start(1):m.end(1)]), canonical_label(original[m.start(2):m.end(2)])])
        folded = _mask(folded, m.start(), m.end())
    return found, folded


def _find_add_remove(folded: str, result: Interpretation, draft_labels: list[str]) -> str:
    cue = r"(?:labels?|class|category|etykiet\w*|klas\w*|kategori\w*)"
    word = r"[\"']?([\w][\w-]{0,40})[\"']?"
    patterns_add = [
        r"\b(?:add|include|dodaj|uwzglednij)\s+(?:an?\s+|the\s+|also\s+)?" + word + r"\s+" + cue,
        r"\b(?:add|include|dodaj|uwzglednij)\s+(?:an?\s+|the\s+|also\s+)?" + cue + r"\s*:?\s*" + word,
        r"\b(?:add|include|dodaj|uwzglednij)\s+(?:an?\s+|the\s+|also\s+)?(" + _KNOWN_LABEL_RE + r")(?!\s+(?:tone|ton|style|styl))",
    ]
    patterns_remove = [
        r"\b(?:remove|drop|delete|usun|wyrzuc|skasuj)\s+(?:the\s+)?" + word + r"\s+" + cue,
        r"\b(?:remove|drop|delete|usun|wyrzuc|skasuj)\s+(?:the\s+)?" + cue + r"\s*:?\s*" + word,
        r"\b(?:remove|drop|delete|usun|wyrzuc|skasuj|without|no more|bez)\s+(?:the\s+)?(" + _KNOWN_LABEL_RE + r"|[\w-]+)",
    ]
    draft_keys = {_label_key(label) for label in draft_labels}
    for pattern in patterns_add:
        for m in re.finditer(pattern, folded):
            label = canonical_label(m.group(1))
            if _label_key(label) in {"a", "an", "the", "new", "another", "one", "more", "label", "etykiete", "nowa"}:
                continue
            if _label_key(label) not in {_label_key(x) for x in result.add_labels}:
                result.add_labels.append(label)
            folded = _mask(folded, m.start(), m.end())
    for index, pattern in enumerate(patterns_remove):
        for m in re.finditer(pattern, folded):
            label = canonical_label(m.group(1))
            known = _label_key(label) in draft_keys or (index < 2 and not draft_labels)
            if not known:
                continue  # "without emojis" is an instruction, not a label removal
            match = next((x for x in draft_labels if _label_key(x) == _label_key(label)), label)
            if match not in result.remove_labels:
                result.remove_labels.append(match)
            folded = _mask(folded, m.start(), m.end())
    return folded


def _label_pattern(vocabulary: list[str]) -> str:
    """Regex of label words: known sentiment/toxicity words plus the draft's and message's labels."""
    custom = sorted({_fold(label) for label in vocabulary if label and _fold(label) not in ("", " ")}, key=len, reverse=True)
    parts = [re.escape(label) + r"(?![\w-])" for label in custom if len(label) <= 60]
    return "(?:" + "|".join([*parts, _KNOWN_LABEL_RE]) + ")"


def _resolve_label(word: str, vocabulary: list[str]) -> str:
    label = canonical_label(word)
    for known in vocabulary:
        if _label_key(known) == _label_key(label) or _fold(known) == _fold(word.strip()):
            return known
    return label


def _find_shares(folded: str, vocabulary: list[str]) -> tuple[dict[str, float], str]:
    labels = _label_pattern(vocabulary)
    percent = r"(\d{1,3}(?:[.,]\d+)?)\s*(?:%|percent|per cent|procent\w*)"
    shares: dict[str, float] = {}
    patterns = [
        percent + r"\s*(?:of\s+(?:them|the\s+\w+|all)\s+|z\s+nich\s+)?(?:should be\s+|to be\s+|be\s+|are\s+|ma byc\s+|powinno byc\s+)?(" + labels + r")",
        r"(" + labels + r")\s*(?:[:=]|-)?\s*" + percent,
    ]
    for m in re.finditer(r"\b(?:half|polowa|pol)\s+(?:of them\s+|z nich\s+)?(?:(?:should be|are|to be)\s+)?(" + labels + r")", folded):
        shares[_resolve_label(m.group(1), vocabulary)] = 0.5
        folded = _mask(folded, m.start(), m.end())
    for index, pattern in enumerate(patterns):
        for m in re.finditer(pattern, folded):
            number, word = (m.group(1), m.group(2)) if index == 0 else (m.group(2), m.group(1))
            value = float(number.replace(",", ".")) / 100
            if 0 <= value <= 1:
                shares[_resolve_label(word, vocabulary)] = value
                folded = _mask(folded, m.start(), m.end())
    return shares, folded


def _find_label_counts(folded: str, vocabulary: list[str]) -> tuple[dict[str, int], str]:
    labels = _label_pattern(vocabulary)
    counts: dict[str, int] = {}
    patterns = [
        r"(" + NUM + r")\s+(?:of\s+(?:the\s+)?|x\s+)?(" + labels + r")(?:\s+(?:ones|" + _COUNT_NOUNS + r"))?",
        r"(?<![\w-])(" + labels + r")\s*[:=]\s*(" + NUM + r")(?![\d%])",
        r"\b(?:make|set|change|zmien|ustaw)\s+(?:the\s+)?(" + labels + r")\w*\s+(?:to\s+|na\s+)?(" + NUM + r")(?![\d%])",
    ]
    for index, pattern in enumerate(patterns):
        for m in re.finditer(pattern, folded):
            number, word = (m.group(1), m.group(2)) if index == 0 else (m.group(2), m.group(1))
            if index == 2:
                word = re.sub(r"(?<=[a-z])s$", "", word)  # "make negatives 30"
            value = parse_number(number)
            if value is None:
                continue
            counts[_resolve_label(word, vocabulary)] = value
            folded = _mask(folded, m.start(), m.end())
    if not counts:
        # "30 spam and 70 ham": two or more "number word" pairs joined by and/i/commas name labels.
        pair = r"(" + NUM + r")\s+([a-z_][\w-]{0,30})"
        chain = pair + r"(?:\s*(?:,|;|\band\b|\bi\b|\boraz\b|&|\+)\s*" + pair + r")+"
        for m in re.finditer(chain, folded):
            pairs = re.findall(r"(" + NUM + r")\s+([a-z_][\w-]{0,30})", m.group(0))
            words = [w for _, w in pairs]
            if any(re.fullmatch(_COUNT_NOUNS, w) or w in _FILLER_WORDS or w in _WORD_NUMBERS for w in words):
                continue
            if len({w for w in words}) != len(words):
                continue
            for number, word in pairs:
                value = parse_number(number)
                if value is not None:
                    counts[_resolve_label(word, vocabulary)] = value
            folded = _mask(folded, m.start(), m.end())
    return counts, folded


def _find_each(folded: str) -> tuple[int | None, str]:
    m = re.search(
        r"(" + NUM + r")\s+(?:" + _COUNT_NOUNS + r"\s+)?(?:each|of each|per (?:label|class|category|intent)|for each(?: label| class)?)\b"
        r"|\bpo\s+(" + NUM + r")\s+(?:" + _COUNT_NOUNS + r"\s+)?(?:na|dla|z)\s+(?:kazd\w*|etykiet\w*|klas\w*)",
        folded,
    )
    if not m:
        return None, folded
    value = parse_number(m.group(1) or m.group(2))
    return value, _mask(folded, m.start(), m.end())


_COUNT_VERBS = (
    r"(?:make it|make that|make them|change (?:it|that|the count|the number)? ?to|count\s*[:=]|count to|total(?: of)?\s*:?|"
    r"in total|n\s*=|number\s*[:=]|generate|produce|create|write|give me|i need|i want|need|want|let's do|lets do|"
    r"ilosc\s*:?|liczba(?: przykladow)?\s*:?|zrob|zrobmy|niech bedzie|ma byc|wygeneruj|wygenerujmy|stworz|napisz|"
    r"daj|potrzebuje|chce|razem|lacznie|w sumie|lacznie|poprosze|zmien na|zamiast tego)"
)


def _find_more(folded: str) -> tuple[int | None, str]:
    """'100 more' / 'another 100' / 'jeszcze 100' / '100 więcej': added to the draft's count."""
    m = re.search(
        r"\b(?:another|jeszcze|kolejne|dodatkowe)\s+(" + NUM + r")(?!\s*%)|(" + NUM + r")\s+(?:more|extra|additional|wiecej)\b"
        r"(?!\s+(?:" + _KNOWN_LABEL_RE + r"))",
        folded,
    )
    if not m:
        return None, folded
    value = parse_number(m.group(1) or m.group(2))
    return value, _mask(folded, m.start(), m.end()) if value is not None else folded


def _find_count(folded: str, bare: str, expecting: str | None) -> tuple[int | None, str]:
    # "200 examples", "1,000 reviews", "5 multiple-choice questions", "50 przykładów".
    noun = re.search(
        r"(" + NUM + r")\s+(?:[\w&/-]+\s+){0,3}?" + _COUNT_NOUNS + r"(?![\w])",
        folded,
    )
    if noun:
        value = parse_number(noun.group(1))
        if value is not None:
            return value, _mask(folded, noun.start(), noun.end())
    verb = re.search(r"\b" + _COUNT_VERBS + r"\s+(?:about\s+|around\s+|okolo\s+)?(" + NUM + r")(?!\s*%)(?![\w.,])", folded)
    if verb:
        value = parse_number(verb.group(1))
        if value is not None:
            return value, _mask(folded, verb.start(), verb.end())
    trailing = re.search(r"(" + NUM + r")\s+(?:in total|total|altogether|razem|lacznie|w sumie)\b", folded)
    if trailing:
        value = parse_number(trailing.group(1))
        if value is not None:
            return value, _mask(folded, trailing.start(), trailing.end())
    # A bare number ("500", "500 please", "1k") answers "how many?".
    whole = re.fullmatch(r"(?:about |around |okolo )?(" + NUM + r")(?: please| prosze| pls)?", bare)
    if whole and expecting in (None, "count", "label_counts"):
        value = parse_number(whole.group(1))
        if value is not None:
            return value, " " * len(folded)
    return None, folded


def _find_task(folded: str) -> tuple[TaskType | None, list[str]]:
    if _MULTIPLE_CHOICE_RE.search(folded):
        return TaskType.multiple_choice, []
    if _QA_RE.search(folded):
        return TaskType.qa, []
    if _SENTIMENT_RE.search(folded):
        return TaskType.classification, list(SENTIMENT_LABELS)
    if _TOXIC_RE.search(folded):
        return TaskType.classification, list(TOXICITY_LABELS)
    if _CLASSIFICATION_RE.search(folded):
        return TaskType.classification, []
    return None, []


def _has_labels_of(draft_labels: list[str], family: list[str]) -> bool:
    """The draft's labels already belong to that family (e.g. it has positive/negative/neutral)."""
    keys = {_label_key(x) for x in draft_labels}
    family_keys = {_label_key(x) for x in family}
    pool = _SENTIMENT if family_keys <= _SENTIMENT else _TOXICITY if family_keys <= _TOXICITY else family_keys
    return bool(keys) and keys <= pool


# "questions about the French Revolution", "reviews of Chinese restaurants": nationality, not language.
_NOT_LANGUAGE_NOUNS = (
    r"(?:revolution|restaurants?|food|cuisine|history|culture|literature|politics|cars?|wines?|art|music|football|"
    r"movies?|films?|cities|city|people|kings?|empire|army|economy|law|market|companies|company|style|dishes)\b"
)


def _find_language(folded: str, bare: str, expecting: str | None) -> str | None:
    patterns = [
        r"\bin\s+(?:the\s+)?(" + _EN_LANG_RE + r")\b(?!\s+" + _NOT_LANGUAGE_NOUNS + r")",
        r"\b(" + _EN_LANG_RE + r")[- ]language\b",
        r"\blanguage\s*(?:[:=]|is|should be|to)?\s*(" + _EN_LANG_RE + r")\b",
        r"\b(?:translate|switch|change)\w*\s+(?:it\s+|them\s+|the language\s+)?(?:to|into)\s+(" + _EN_LANG_RE + r")\b",
        r"\b(" + _EN_LANG_RE + r")\s+(?:[\w-]+\s+)?" + _COUNT_NOUNS + r"(?![\w])",
        r"\bpo\s+(" + _PL_ADVERB_RE + r")\b",
        r"\bw\s+jezyku\s+(" + _PL_STEM_RE + r")\w*",
        r"\bjezyk\w*\s*[:=]?\s*(" + _PL_STEM_RE + r")\w*",
        r"\bna\s+(?:jezyk\s+)?(" + _PL_STEM_RE + r")i\b",
        r"\b(" + _PL_STEM_RE + r")\w{0,3}\s+(?:[\w-]+\s+)?" + _COUNT_NOUNS + r"(?![\w])",
    ]
    for pattern in patterns:
        m = re.search(pattern, folded)
        if m:
            name = language_name(m.group(1))
            if name:
                return name
    stripped = re.sub(r"\b(?:please|prosze|language|jezyk|only|tylko)\b", "", bare).strip(" ,.")
    if stripped and len(stripped) <= 20:
        name = language_name(stripped)
        if name:
            return name
    return None


def _find_format(folded: str) -> OutputFormat | None:
    if _OPENAI_FORMAT_RE.search(folded):
        return OutputFormat.openai_jsonl
    found = {fmt for pattern, fmt in _FORMAT_PATTERNS if pattern.search(folded)}
    return found.pop() if len(found) == 1 else None


def _find_tone(folded: str, current: str | None) -> str | None:
    # "more formal" / "bardziej formalnie" / "less formal".
    m = re.search(r"\b(more|less|bardziej|mniej|very|bardzo)\s+(" + _TONE_WORD_RE + r")", folded)
    if m:
        tone = _canonical_tone(m.group(2))
        if tone:
            if m.group(1) in ("less", "mniej"):
                return _OPPOSITE_TONE.get(tone)
            if m.group(1) in ("very", "bardzo") or current == tone:
                return f"very {tone}" if tone in _OPPOSITE_TONE else tone
            return tone
    m = re.search(r"\b(?:tone|ton|style|styl)\s*(?:[:=]|is|should be|-)\s*([^\n.,;!?]{1,40})", folded)
    if m:
        raw = m.group(1).strip()
        return _canonical_tone(raw) or (raw if len(raw.split()) <= 4 else None)
    m = re.search(r"\b(?:in an?|with an?|w)\s+([\w-]+(?:\s+[\w-]+)?)\s+(?:tone|style|tonie|stylu)\b", folded) or re.search(
        r"\b(?:w tonie|w stylu|tonem)\s+([\w-]+)", folded
    ) or re.search(r"\b([\w-]+)\s+(?:tone|ton)\b", folded) or re.search(r"\bton\s+([\w-]+)", folded)
    if m:
        raw = m.group(1).strip()
        tone = _canonical_tone(raw)
        if tone:
            return tone
    found = []
    for pattern, tone in _TONES:
        if re.search(r"(?<![\w-])(?:" + pattern + r")(?![\w-])", folded) and tone not in found:
            found.append(tone)
    if "casual" in found and "formal" in found and not re.search(r"(?<![\w-])(?:formal|formaln\w*|oficjaln\w*)", folded):
        found.remove("formal")
    return ", ".join(found) if found else None


_TOPIC_STOP = re.compile(
    r"[.;:!?\n(]|,|\s(?:in|po|w)\s+(?:the\s+)?(?:" + _EN_LANG_RE + "|" + _PL_ADVERB_RE + r"|jezyku)\b|"
    r"\s(?:labell?ed|with labels|categori[sz]ed|classified|as (?:csv|json)|in (?:csv|json)|formatted|format|"
    r"in an?\s+[\w-]+\s+tone|with an?\s+[\w-]+\s+tone|w tonie|tone|jako|oznaczon\w*|etykiet\w*|z etykiet\w*|"
    r"(?:and|i)\s+\d|\d|each|for fine|do fine|which|that|who|ktore|ktory|ktora|where|gdzie)\b"
)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)


def _find_topic(original: str, folded: str) -> str | None:
    if re.search(r"\b(?:any|no particular|no specific|whatever)\s+(?:topic|domain|subject)\b|\bdowoln\w+\s+(?:temat\w*|dziedzin\w*)|\bbez\s+(?:konkretnego\s+)?tematu\b", folded):
        return ""
    patterns = [
        r"\b(?:topic|domain|subject|theme|temat|tematyka|dziedzina|domena)\s*(?:[:=]|is|should be|-)\s*",
        r"\bon the (?:topic|subject) of\s+",
        r"\bin the (?:domain|field|area|context) of\s+",
        r"(?<!how )(?<!what )\b(?:about|regarding|concerning|related to|on the topic)\s+(?!\d|it\b|this\b|that\b|them\b|how\b|what\b|which\b|me\b|us\b|you\b)",
        r"\bna temat\s+",
        r"\b(?:dotycz\w+|odnosz\w+ sie do)\s+",
        r"\bz (?:dziedziny|zakresu|obszaru|branzy|tematu|tematyki)\s+",
        r"\b(?:" + _COUNT_NOUNS + r"|odpowiedz\w*|quiz\w*)\s+o\s+(?!\d)",
    ]
    for pattern in patterns:
        m = re.search(pattern, folded)
        if not m:
            continue
        start = m.end()
        stop = _TOPIC_STOP.search(folded, start)
        end = stop.start() if stop else len(folded)
        topic = _ARTICLE.sub("", original[start:end].strip()).strip(" \"'-–")
        topic = re.sub(r"\s+(?:and|or|i|lub|oraz)$", "", topic)
        if 2 <= len(topic) <= 100 and not re.fullmatch(r"[\W\d_]+", topic):
            return topic
    return None


def _find_instructions(original: str, folded: str) -> str | None:
    m = re.search(r"^[ \t]*(?:instructions?|instrukcje|instrukcja|notes?|uwagi|wskazowki)[ \t]*:[ \t]*([^\n]{2,1000})", folded, re.M)
    if not m:
        return None
    return original[m.start(1):m.end(1)].strip()


# --- applying an interpretation ----------------------------------------------------------------

_FIELD_ADAPTERS: dict[str, TypeAdapter[Any]] = {}


def _adapter(name: str) -> TypeAdapter[Any]:
    if name not in _FIELD_ADAPTERS:
        _FIELD_ADAPTERS[name] = TypeAdapter(SpecDraft.model_fields[name].annotation)
    return _FIELD_ADAPTERS[name]


def _clean_changes(raw: dict[str, Any]) -> dict[str, Any]:
    """Keep the changes that are valid SpecDraft values (anything else is dropped, never raised)."""
    clean: dict[str, Any] = {}
    if not isinstance(raw, dict):
        return clean
    for name, value in raw.items():
        if name not in SpecDraft.model_fields or value is None:
            continue
        try:
            value = _adapter(name).validate_python(value)
        except (ValidationError, TypeError, ValueError):
            continue
        if name == "count" and (isinstance(value, bool) or value < 0):
            continue
        if name == "labels":
            value = _distinct_labels(value)
            if not value:
                continue
        if name == "label_counts":
            value = {str(k).strip(): int(v) for k, v in value.items() if str(k).strip() and v >= 0}
            if not value:
                continue
        if name == "label_shares":
            shares = {}
            for key, share in value.items():
                if not str(key).strip() or not math.isfinite(share) or share < 0:
                    continue
                shares[str(key).strip()] = share / 100 if 1 < share <= 100 else share
            value = {k: v for k, v in shares.items() if v <= 1}
            if not value:
                continue
        if name in ("topic", "language", "tone", "instructions"):
            value = value.strip()
            if name != "topic" and not value:
                continue
        clean[name] = value
    return clean


def _distinct_labels(labels: Iterable[str]) -> list[str]:
    out: list[str] = []
    for label in labels:
        label = str(label).strip()
        if label and _label_key(label) not in {_label_key(x) for x in out}:
            out.append(label)
    return out


def apply(draft: SpecDraft, interp: Interpretation) -> SpecDraft:
    """A copy of `draft` with the interpretation applied; counts, shares and labels reconciled:
    "make it 500" rescales existing label counts (exact total), "2 negative and 8 positive" sets
    labels, counts and count=10, shares become counts once the total is known. Never raises."""
    try:
        return _apply(draft, interp)
    except Exception:  # a reconciliation bug must not lose the conversation: keep the old draft
        log.exception("intake.apply failed; draft left unchanged")
        return draft.model_copy(deep=True)


def _apply(draft: SpecDraft, interp: Interpretation) -> SpecDraft:
    changes = _clean_changes(interp.changes or {})
    data = draft.model_dump()
    for name in ("topic", "language", "tone", "format", "instructions"):
        if name in changes:
            data[name] = changes[name]

    task = changes.get("task", draft.task)
    old_labels = list(draft.labels or [])
    labels = list(changes["labels"]) if "labels" in changes else list(old_labels)
    if "task" in changes and changes["task"] != TaskType.classification:
        labels = []
    remove = {_label_key(x) for x in interp.remove_labels or [] if isinstance(x, str)}
    labels = [label for label in labels if _label_key(label) not in remove]
    labels = _distinct_labels([*labels, *(x for x in interp.add_labels or [] if isinstance(x, str))])

    def spelled(key: str) -> str:
        return next((label for label in labels if _label_key(label) == _label_key(key)), key)

    new_counts = {spelled(k): v for k, v in (changes.get("label_counts") or {}).items()}
    new_shares = {spelled(k): v for k, v in (changes.get("label_shares") or {}).items()}
    labels = _distinct_labels([*labels, *new_counts, *new_shares])
    if interp.each and "count" in changes and not new_counts and labels:
        new_counts = {label: changes["count"] for label in labels}
        changes = {k: v for k, v in changes.items() if k != "count"}

    count_new: int | None = changes.get("count")
    count = count_new if count_new is not None else draft.count
    keys = {_label_key(label) for label in labels}
    old_counts = {spelled(k): v for k, v in (draft.label_counts or {}).items() if _label_key(k) in keys}
    old_shares = {spelled(k): v for k, v in (draft.label_shares or {}).items() if _label_key(k) in keys}
    labels_changed = [_label_key(x) for x in labels] != [_label_key(x) for x in old_labels]

    counts: dict[str, int] | None = None
    shares: dict[str, float] | None = None
    if new_counts:
        counts = dict(new_counts)
        rest = [label for label in labels if label not in counts]
        if rest:
            if count_new is not None:
                remaining = count_new - sum(counts.values())
                if remaining >= 0:
                    kept = {label: old_counts[label] for label in rest if label in old_counts}
                    if len(kept) == len(rest) and sum(kept.values()) > 0:
                        counts.update(allocate(remaining, kept))
                    else:
                        counts.update(split_evenly(remaining, rest))
            elif all(label in old_counts for label in rest):
                counts.update({label: old_counts[label] for label in rest})
            elif count is not None and not old_counts and count - sum(counts.values()) >= 0:
                # "200 reviews" earlier, now "30 negative": the other labels share the rest.
                counts.update(split_evenly(count - sum(counts.values()), rest))
        if count_new is None and _complete(counts, labels):
            count = sum(counts.values())
        leftover_shares = {k: v for k, v in {**old_shares, **new_shares}.items() if k not in counts}
        shares = leftover_shares or None
    elif new_shares:
        shares = {**{k: v for k, v in old_shares.items()}, **new_shares}
    elif old_shares:
        shares = old_shares
    elif old_counts and (labels_changed or count_new is not None):
        # Keep the balance the user asked for; new labels get the average weight, the total stays.
        total = count if count is not None else sum(old_counts.values())
        average = Fraction(sum(old_counts.values()), len(old_counts))
        weights: dict[str, Any] = {label: old_counts.get(label, average) for label in labels}
        counts = allocate(total, weights) if labels and sum(weights.values()) > 0 else None
    elif old_counts:
        counts = old_counts

    if shares and count is not None and labels:
        converted = shares_to_counts(count, shares, labels)
        if converted is not None:
            counts = {**converted, **(counts or {})} if counts else converted
            if sum(counts.values()) == count:
                shares = None
    if counts and count is not None and not _complete(counts, labels):
        rest = [label for label in labels if label not in counts]
        remaining = count - sum(counts.values())
        if rest and remaining >= 0:
            counts.update(split_evenly(remaining, rest))
    if counts and count is None and _complete(counts, labels):
        count = sum(counts.values())

    if task is None and (len(labels) >= 2 or counts or shares):
        task = TaskType.classification
    if task not in (None, TaskType.classification):
        labels, counts, shares = [], None, None

    data.update(
        task=task,
        labels=labels or None,
        label_counts={label: counts[label] for label in labels if label in counts} if counts else None,
        label_shares=shares or None,
        count=count,
    )
    result = SpecDraft.model_validate(data)
    if _is_whole_order(changes, interp) and not result.required_missing():
        # A whole order in one message: take defaults for what it did not say (see module doc).
        result = result.with_defaults(interp.language)
    return result


def _is_whole_order(changes: dict[str, Any], interp: Interpretation) -> bool:
    says_count = "count" in changes or "label_counts" in changes or interp.each
    says_kind = "task" in changes or "labels" in changes or "label_counts" in changes
    return says_count and says_kind


def merge_llm(interp: Interpretation, extracted: dict[str, Any]) -> Interpretation:
    """The rules' interpretation plus what the LLM read, rules winning where both speak."""
    changes = dict(extracted)
    ruled = set(interp.changes)
    if ruled & {"labels", "label_counts", "label_shares"} or interp.add_labels or interp.remove_labels:
        ruled |= {"labels"}
    if ruled & {"label_counts"}:
        ruled |= {"count"}
    for name in ruled:
        changes.pop(name, None)
    changes.update(interp.changes)
    return Interpretation(
        changes=changes, yes=interp.yes, language=interp.language, add_labels=list(interp.add_labels),
        remove_labels=list(interp.remove_labels), language_detected=interp.language_detected, each=interp.each,
    )


# --- LLM extraction --------------------------------------------------------------------------

EXTRACTION_SCHEMA: dict[str, Any] = {
    "title": "dataset_order",
    "type": "object",
    "properties": {
        "task": {"type": ["string", "null"], "enum": ["classification", "multiple_choice", "qa", None]},
        "topic": {"type": ["string", "null"]},
        "labels": {"type": ["array", "null"], "items": {"type": "string"}},
        "count": {"type": ["integer", "null"]},
        "language": {"type": ["string", "null"]},
        "tone": {"type": ["string", "null"]},
        "instructions": {"type": ["string", "null"]},
    },
    "required": ["task", "topic", "labels", "count", "language", "tone", "instructions"],
    "additionalProperties": False,
}

_EXTRACTION_PROMPT = """You read one chat message in which a user orders a synthetic dataset (or changes an order).
Return a JSON object with exactly these keys; use null for everything the message does not say:
- task: "classification" (texts with a label each), "multiple_choice" (quiz questions with 4 options), "qa" (question and answer pairs)
- topic: the subject or domain of the examples, short (e.g. "restaurant reviews", "the French Revolution")
- labels: the class labels for classification, as short words (English for positive/negative/neutral)
- count: the total number of examples
- language: the language the examples must be written in, as an English name (e.g. "Polish"), only if the user says it
- tone: the writing tone or style (e.g. "formal", "sarcastic")
- instructions: other requirements for the examples (length, content, things to avoid), one short sentence
Do not guess; null is always fine."""


async def extract_with_llm(llm: LLMBackend, text: str, draft: SpecDraft) -> dict[str, Any]:
    """One structured call; the fields the model filled, cleaned. Never raises ({} on any problem)."""
    try:
        messages = [
            {"role": "system", "content": _EXTRACTION_PROMPT},
            {"role": "user", "content": f"Current order:\n{draft.summary('en')}\n\nMessage:\n{str(text)[:4000]}"},
        ]
        completion = await llm.complete(messages, schema=EXTRACTION_SCHEMA, max_tokens=400, temperature=0.0)
        return clean_extraction(parse_json_object(completion.text))
    except Exception as exc:  # extraction is a bonus on top of the rules: any failure means "nothing more"
        log.warning("LLM extraction failed: %s", exc)
        return {}


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a model's answer (code fences and chatter around it tolerated)."""
    text = text.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        text = fenced.group(1).strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            return {}
        try:
            data = json.loads(text[start:end + 1])
        except json.JSONDecodeError:
            return {}
    return data if isinstance(data, dict) else {}


def clean_extraction(data: dict[str, Any]) -> dict[str, Any]:
    """Only well-formed, non-null fields; sentiment labels in English; language as an English name."""
    out: dict[str, Any] = {}
    task = data.get("task")
    if isinstance(task, str) and task in TaskType.__members__:
        out["task"] = TaskType(task)
    for name, limit in (("topic", 200), ("tone", 60), ("instructions", 1000)):
        value = data.get(name)
        if isinstance(value, str) and value.strip() and len(value.strip()) <= limit:
            out[name] = value.strip()
    labels = data.get("labels")
    if isinstance(labels, list) and all(isinstance(x, str) for x in labels):
        cleaned = _distinct_labels(canonical_label(x) for x in labels if 0 < len(x.strip()) <= 60)
        if 2 <= len(cleaned) <= 50:
            out["labels"] = cleaned
    count = data.get("count")
    if isinstance(count, int) and not isinstance(count, bool) and count >= 1:
        out["count"] = _clamp(count)
    language = data.get("language")
    if isinstance(language, str) and 2 <= len(language.strip()) <= 40:
        out["language"] = language_name(language) or language.strip().capitalize()
    return out
