"""Finders for labels and per-label numbers. Each returns what it found and the folded text with that part blanked."""

from __future__ import annotations

import re
from typing import Iterable

from core.annotation_labels import described_labels
from core.intake.labels import (
    COUNT_NOUNS,
    FILLER_WORDS,
    KNOWN_LABEL_RE,
    canonical_label,
    label_key,
    match_label,
    split_label_list,
)
from core.intake.languages import language_name
from core.intake.numbers import NUM, WORD_NUMBER_RE, WORD_NUMBERS, parse_number
from core.intake.text import fold, mask

_LABEL_CUE = (
    r"(?:labels?|categories|category|classes|class|intents?|intencj\w*|tags|etykiety|etykietami|etykiet|klasy|kategorie)"
)
# "3 classes" / "5 labels" / "3 klasy": how many labels, never the number of examples.
_LABEL_NUMBER = re.compile(
    r"(" + NUM + r")\s+(?=(?:different\s+|distinct\s+|roznych\s+)?(?:classes|labels|categories|intents|klas[ay]?\b|"
    r"etykiet\w*|kategori\w*|intencj\w*))"
)
# Where a label list stops: at a count ("..., neutral, 15 rows", "..., 50 each") or a spaced dash.
_LIST_END = re.compile(
    r"(?:^|,|;|\band\b|\bi\b)\s*(?:" + NUM + r")\s+(?:(?:[\w-]+\s+){0,2}?" + COUNT_NOUNS + r"|each|per|po|na)(?![\w])"
    r"|\s[\u2014\u2013-]\s"  # a spaced dash ends the list: "labels a, b, c — 50 each"
)


# A language or format word closing a label list ("..., goodbye, English, CSV") is a field, not a label.
_FORMAT_WORD = re.compile(r"(?:in\s+|as\s+|w\s+)?(?:csv|tsv|jsonl?|json lines|excel|xlsx)")


# "..., English, CSV, any topic": the topic question answered in the same list.
_ANY_TOPIC = re.compile(r"(?:any|no|no particular|whatever)\s+(?:topic|domain|subject)|dowoln\w+\s+(?:temat\w*|dziedzin\w*)|bez\s+tematu")


def cut_trailing_fields(folded: str, start: int, end: int) -> int:
    """The end of a label list without the language/format words that close it (left to the field
    finders); never below two items, nor in a list of languages ("labels: english, polish, french")."""
    while True:
        if all(language_name(item) for item in split_label_list(folded[start:end])):
            return end
        last = max(folded.rfind(",", start, end), folded.rfind(" and ", start, end))
        if last < 0 or len(split_label_list(folded[start:last])) < 2:
            return end
        item = folded[last:end].lstrip(",").strip().removeprefix("and ").strip()
        if not (_FORMAT_WORD.fullmatch(item) or language_name(item.removeprefix("in ")) is not None
                or _ANY_TOPIC.fullmatch(item)):
            return end
        end = last


def find_label_number(folded: str) -> tuple[int | None, str]:
    """"make it 3 classes: ...": how many labels, with the 3 blanked (a number of labels, never of
    examples); the list after "classes:" says which labels."""
    number = None
    for m in _LABEL_NUMBER.finditer(folded):
        number = number or parse_number(m.group(1))
        folded = mask(folded, m.start(1), m.end(1))
    return number, folded


def find_split(original: str, folded: str) -> tuple[dict[str, float], str]:
    """"split 60/40 positive/negative" / "positive/negative 60/40": shares for the two words, read
    before the label finders (which take "positive/negative" as the label pair); only the numbers are blanked."""
    split = r"(?<![\w.,])(\d{1,3})\s*/\s*(\d{1,3})(?![\w.,])"
    pair = r"(?<![\w-])([\w-]{1,40})\s*/\s*([\w-]{1,40})(?![\w-])"  # anchored and bounded: linear on long words
    shares: dict[str, float] = {}
    for index, pattern in enumerate((split + r"\s+(?:split\s+)?" + pair, pair + r"\s+(?:split\s+)?" + split)):
        for m in re.finditer(pattern, folded):
            numbers, words = ((1, 2), (3, 4)) if index == 0 else ((3, 4), (1, 2))
            a, b = int(m.group(numbers[0])), int(m.group(numbers[1]))
            if a + b != 100:
                continue
            for group, value in zip(words, (a, b)):
                shares[canonical_label(original[m.start(group):m.end(group)])] = value / 100
            folded = mask(mask(folded, m.start(numbers[0]), m.end(numbers[0])), m.start(numbers[1]), m.end(numbers[1]))
    return shares, folded


# The list of "labels: refund - wants money back, bug - something broken, other": to the end of the
# line or sentence; a count after it ("..., 100 rows") ends it too (a spaced dash does not: it describes).
_DESCRIBED_LIST = re.compile(r"\b" + _LABEL_CUE + r"\s*[:=]\s*([^\n.!?]+)")
_COUNT_AFTER = re.compile(r"(?:,|;|\band\b|\bi\b|\s[\u2014\u2013-])\s*(?:" + NUM + r")\s+(?:(?:[\w-]+\s+){0,2}?" + COUNT_NOUNS
                          + r"|each|per|po|na)(?![\w])")


def find_described_labels(original: str, folded: str) -> tuple[list[str], dict[str, str], str]:
    """"labels: refund - wants money back, bug - something broken, other": the labels, what each
    described one means, and the folded text with the list blanked; ([], {}, folded) when the
    message has no such list (the other label finders read plain lists)."""
    for m in _DESCRIBED_LIST.finditer(folded):
        start, end = m.start(1), m.end(1)
        stop = _COUNT_AFTER.search(folded, start, end)
        end = cut_trailing_fields(folded, start, stop.start() if stop else end)
        described = described_labels(original[start:end])
        if described is not None:
            labels, descriptions = described
            return [canonical_label(label) for label in labels], \
                {canonical_label(label): text for label, text in descriptions.items()}, mask(folded, m.start(), end)
    return [], {}, folded


def find_labels(original: str, folded: str) -> tuple[list[str], str]:
    found: list[str] = []
    seen: set[str] = set()

    def take(items: Iterable[str]) -> None:
        for item in items:
            if label_key(item) not in seen:
                seen.add(label_key(item))
                found.append(item)

    # 1. "labels: a, b, c" / "intents: [...]" / "etykiety: a, b": the whole list, to the end of the line
    # or sentence (never cut at a length: a 60-label list keeps its 60 labels), or one label per line.
    for m in re.finditer(
        r"\b" + _LABEL_CUE + r"\s*(?::[ \t]*\n((?:[ \t]*[^\n:]{1,80}(?:\n|$))+)|(?:are|is|should be|to|=|:|-|"
        r"(?<=s)\s(?=[\w\"'][^\n.;!?,]{0,60},))\s*(\[[^\]\n]+\]|[^\n.;!?]+))",  # "labels a, b, c" too
        folded,
    ):
        group = 1 if m.group(1) is not None else 2
        start, end = m.start(group), m.end(group)
        stop = _LIST_END.search(folded, start, end)
        if stop:
            end = stop.start()
        end = cut_trailing_fields(folded, start, end)
        items = split_label_list(original[start:end])
        if len(items) >= 2:
            take(items)
            folded = mask(folded, m.start(), end)
    # 1b. "4 categories (billing, technical, sales, other)", "etykiety (a, b)".
    for m in re.finditer(r"\b" + _LABEL_CUE + r"\s*\(([^()\n]{1,300})\)", folded):
        items = split_label_list(original[m.start(1):m.end(1)])
        if len(items) >= 2:
            take(items)
            folded = mask(folded, m.start(), m.end())
    # 2. A bracketed list of quoted words near a cue ("one of the intents: [...]").
    for m in re.finditer(r"\[((?:\s*[\"'][^\"'\]\n]{1,60}[\"']\s*,?){2,})\]", folded):
        items = split_label_list(original[m.start(1):m.end(1)])
        if len(items) >= 2:
            take(items)
            folded = mask(folded, m.start(), m.end())
    # 3. "categorized as either positive or negative" / 'label each as "toxic" or "non-toxic"'.
    # A list item; never a preposition, so "…, shipping or returns, in Spanish" stops before "in".
    item = r"(?:\"[^\"\n]{1,40}\"|'[^'\n]{1,40}'|(?!(?:in|po|with|for|about|as|on|by|w|z|na|o|the|and|or|i|lub)\b)[\w-]+)"
    joiner = r"\s*(?:,\s*(?:(?:or|and|lub|albo|i|oraz)\s+)?|/|\bor\b|\band\b|\bvs\.?|\blub\b|\balbo\b|\bi\b|\bczy\b)\s*"
    for m in re.finditer(
        r"\b(?:categori[sz]ed|classified|classify(?:\s+[\w-]+){0,2}|labell?ed|label(?:\s+[\w-]+){1,3}|tagged|marked|sorted|split|grouped|"
        r"oznacz\w*|sklasyfikowan\w*|klasyfikowan\w*|podzielon\w*|etykiet\w*)\s+(?:them\s+|each\s+)?"
        r"(?:as|into|jako|na)\s+(?:either\s+|one of\s+|jedn\w* z\s+)?(" + item + r"(?:" + joiner + item + r")+)",
        folded,
    ):
        end = cut_trailing_fields(folded, m.start(1), m.end(1))
        items = split_label_list(original[m.start(1):end])
        if len(items) >= 2:
            take(items)
            folded = mask(folded, m.start(1), end)
    # 3b. "labeled billing, shipping or returns" / "tagged with a, b and c".
    for m in re.finditer(
        r"\b(?:labell?ed|tagged|etykietowan\w*)\s+(?:with\s+|jako\s+)?(" + item + r"(?:" + joiner + item + r")+)", folded
    ):
        end = cut_trailing_fields(folded, m.start(1), m.end(1))
        # A count noun opening the list is what is labelled; later on it is a label ("greeting or complaint").
        items = [x for index, x in enumerate(split_label_list(original[m.start(1):end]))
                 if not re.fullmatch(r"[\d\W]+|" + WORD_NUMBER_RE + ("|" + COUNT_NOUNS if index == 0 else ""), fold(x))]
        if len(items) >= 2:
            take(items)
            folded = mask(folded, m.start(1), end)
    # 3c. "labeled by urgency (low, medium, high)" / "sorted by priority: low, high" / "oznaczone wg pilności (niska, wysoka)".
    for m in re.finditer(
        r"\b(?:labell?ed|tagged|classified|categori[sz]ed|sorted|grouped|split|oznaczon\w*|podzielon\w*|sklasyfikowan\w*)\s+"
        r"(?:by|according to|wedlug|wg\.?|pod wzgledem)\s+(?:their\s+|its\s+|the\s+)?[\w-]+(?:\s+[\w-]+)?\s*"
        r"(?:\(([^)\n]{1,300})\)|[:=]\s*([^\n.;!?]{1,300}))", folded,
    ):
        group = 1 if m.group(1) is not None else 2
        start, end = m.start(group), m.end(group)
        stop = _LIST_END.search(folded, start, end)
        end = cut_trailing_fields(folded, start, stop.start() if stop else end)
        items = split_label_list(original[start:end])
        if len(items) >= 2:
            take(items)
            folded = mask(folded, m.start(), m.end() if group == 1 else end)
    # 4. Known label words paired: "positive or negative", "pozytywne lub negatywne", "toxic vs non-toxic".
    pair = KNOWN_LABEL_RE + r"(?:\s*(?:,|/|\bor\b|\band\b|\bvs\.?|\bversus\b|\blub\b|\balbo\b|\bi\b|\boraz\b|\bczy\b)\s*" + KNOWN_LABEL_RE + r")+"
    for m in re.finditer(r"(?<![\d\w])" + pair, folded):
        items: list[str] = []
        end = m.start()
        for word in re.finditer(KNOWN_LABEL_RE, m.group(0)):
            if canonical_label(word.group(0)) in items:
                break  # "positive or negative, negative in 3 in 10": the repeat starts another part
            items.append(canonical_label(word.group(0)))
            end = m.start() + word.end()
        if len(items) >= 2:
            take(items)
            folded = mask(folded, m.start(), end)
    # 5. Any "x vs y" ("spam vs ham") and quoted pairs ('"spam" or "ham"').
    for m in re.finditer(r"(?<![\w-])([\w-]{2,30})\s+(?:vs\.?|versus)\s+([\w-]{2,30})(?![\w-])", folded):
        take([canonical_label(original[m.start(1):m.end(1)]), canonical_label(original[m.start(2):m.end(2)])])
        folded = mask(folded, m.start(), m.end())
    for m in re.finditer(r"\"([^\"\n]{1,40})\"\s*(?:or|lub|albo|czy|,)\s*\"([^\"\n]{1,40})\"", folded):
        take([canonical_label(original[m.start(1):m.end(1)]), canonical_label(original[m.start(2):m.end(2)])])
        folded = mask(folded, m.start(), m.end())
    # 7. "1-5 stars", "rated 1 to 5 stars", "ocena 1-5 gwiazdek": the ratings are the labels.
    stars = re.search(r"(?<![\w.,])(\d{1,2})\s*(?:-|\u2013|to|do)\s*(\d{1,2})\s*(?:stars?|gwiazd\w*)(?![\w])"
                      r"|\b(?:stars?|gwiazd\w*|star rating|rating|ocen\w*)\s*(?:from\s+|od\s+)?(\d{1,2})\s*(?:-|\u2013|to|do)\s*(\d{1,2})(?![\w.,])",
                      folded)
    if stars and not found:
        low, high = (int(stars.group(1)), int(stars.group(2))) if stars.group(1) else (int(stars.group(3)), int(stars.group(4)))
        if 0 <= low < high <= 10:
            take([str(n) for n in range(low, high + 1)])
            folded = mask(folded, stars.start(), stars.end())
    # 6. A list item that is only "a or b" / "a/b" ("100 messages, spam or ham", "spam or not, 50 emails").
    if not found:
        for m in _ALTERNATIVES_ITEM.finditer(folded):
            items = _alternatives(original, m)
            if items:
                take(items)
                folded = mask(folded, m.start("body"), m.end("body"))
                break
    return found, folded


# An item of the message (between commas, colons, sentence ends or spaced dashes) that is just
# alternatives, optionally with its count and noun around them: "spam or ham", "100 spam/ham emails".
_ALTERNATIVE = r"(?:(?:not|nie|non) )?[^\W\d][\w-]{0,30}"  # one word ("bullying behaviour" describes)
_ALTERNATIVES_ITEM = re.compile(
    # [ \t]* where a run of blanks can follow: \s* would rescan the rest after every new line (quadratic)
    r"(?:^|(?<=[,;:.!?\n])|(?<=\s[-\u2013\u2014]))[ \t]*(?:" + NUM + r"[ \t]+)?(?P<body>" + _ALTERNATIVE
    + r"(?:[ \t]*(?:/|\bor\b|\blub\b|\balbo\b|\bczy\b)[ \t]*" + _ALTERNATIVE + r")+)(?:[ \t]+" + COUNT_NOUNS
    + r")?[ \t]*(?=[,;:.!?\n]|\s[-\u2013\u2014]\s|$)"
)
# Words that make "a or b" something else than labels: "with or without emojis", "more or less",
# "short or long", "yes or no" (an answer), "one or two sentences".
_NOT_ALTERNATIVE = re.compile(
    r"(?:with|without|more|less|both|either|neither|any|some|all|one|two|short|long|longer|shorter|yes|no|tak|"
    r"z|bez|wiecej|mniej|krotk\w*|dlug\w*|oba|obie|jeden|jedna|dwa|the|a|an|in|po|w|na|to|of|for|about|o|"
    + COUNT_NOUNS + r"|" + WORD_NUMBER_RE + r")"
)


def _alternatives(original: str, m: re.Match[str]) -> list[str]:
    """The labels of one "a or b" item, or [] when it names something else (a language, a format,
    a tone, a length). "spam or not" / "spam czy nie" -> spam, not spam / nie spam."""
    from core.intake.find_fields import canonical_tone  # the tone words (find_fields reads tones)

    raw = original[m.start("body"):m.end("body")]
    parts = [part.strip() for part in re.split(r"\s*(?:/|\bor\b|\blub\b|\balbo\b|\bczy\b)\s*", raw, flags=re.I)]
    items: list[str] = []
    for index, part in enumerate(parts):
        folded = fold(part)
        if index and folded in ("not", "nie") and items:  # "spam or not": the second label is "not spam"
            items.append(f"{part} {items[0]}")
            continue
        if any(_NOT_ALTERNATIVE.fullmatch(word) for word in folded.split() if word not in ("not", "nie", "non")):
            return []
        negated = len(parts) == 2 and fold(parts[1]) in ("not", "nie")  # "sarcastic or not": labels, not a tone
        if language_name(folded) or _FORMAT_WORD.fullmatch(folded) or (canonical_tone(folded) and not negated):
            return []
        items.append(canonical_label(part))
    return items if len({label_key(x) for x in items}) >= 2 else []


def find_add_remove(folded: str, draft_labels: list[str]) -> tuple[list[str], list[str], str]:
    """"add a neutral label" / "usuń etykietę neutral": (labels to add, labels to remove, folded text)."""
    added: list[str] = []
    removed: list[str] = []
    cue = r"(?:labels?|class|category|etykiet\w*|klas\w*|kategori\w*)"
    word = r"[\"']?([\w][\w-]{0,40})[\"']?"
    patterns_add = [
        r"\b(?:add|include|dodaj|uwzglednij)\s+(?:an?\s+|the\s+|also\s+)?" + word + r"\s+" + cue,
        r"\b(?:add|include|dodaj|uwzglednij)\s+(?:an?\s+|the\s+|also\s+)?" + cue + r"\s*:?\s*" + word,
        r"\b(?:add|include|dodaj|uwzglednij)\s+(?:an?\s+|the\s+|also\s+)?(" + KNOWN_LABEL_RE + r")(?!\s+(?:tone|ton|style|styl))",
    ]
    patterns_remove = [
        r"\b(?:remove|drop|delete|usun|wyrzuc|skasuj)\s+(?:the\s+)?" + word + r"\s+" + cue,
        r"\b(?:remove|drop|delete|usun|wyrzuc|skasuj)\s+(?:the\s+)?" + cue + r"\s*:?\s*" + word,
        r"\b(?:remove|drop|delete|usun|wyrzuc|skasuj|without|no more|no|bez)\s+(?:the\s+)?(" + KNOWN_LABEL_RE + r"|[\w-]+)",
    ]
    # "rename neutral to mixed" / "zmień nazwę neutral na mixed": one label out, one in.
    for m in re.finditer(r"\b(?:rename|zmien nazwe)\s+(?:the\s+)?(?:label\s+|etykiet\w*\s+)?" + word + r"\s+(?:to|na)\s+" + word, folded):
        old = next((x for x in draft_labels if label_key(x) == label_key(canonical_label(m.group(1)))), None)
        if old is not None:
            removed.append(old)
            added.append(canonical_label(m.group(2)))
            folded = mask(folded, m.start(), m.end())
    draft_keys = {label_key(label) for label in draft_labels}
    for pattern in patterns_add:
        for m in re.finditer(pattern, folded):
            label = canonical_label(m.group(1))
            if label_key(label) in {"a", "an", "the", "new", "another", "one", "more", "label", "etykiete", "nowa"}:
                continue
            if label_key(label) not in {label_key(x) for x in added}:
                added.append(label)
            folded = mask(folded, m.start(), m.end())
    for index, pattern in enumerate(patterns_remove):
        for m in re.finditer(pattern, folded):
            label = canonical_label(m.group(1))
            known = label_key(label) in draft_keys or (index < 2 and not draft_labels)
            if not known:
                continue  # "without emojis" is an instruction, not a label removal
            match = next((x for x in draft_labels if label_key(x) == label_key(label)), label)
            if match not in removed:
                removed.append(match)
            folded = mask(folded, m.start(), m.end())
    return added, removed, folded


def _label_pattern(vocabulary: list[str]) -> str:
    """Regex of label words: known sentiment/toxicity words plus the draft's and message's labels."""
    custom = sorted({fold(label) for label in vocabulary if label and fold(label) not in ("", " ")}, key=len, reverse=True)
    parts = [re.escape(label) + r"(?![\w-])" for label in custom if len(label) <= 60]
    return "(?:" + "|".join([*parts, KNOWN_LABEL_RE]) + ")"


def _resolve_label(word: str, vocabulary: list[str]) -> str:
    label = canonical_label(word)
    for known in vocabulary:
        if label_key(known) == label_key(label) or fold(known) == fold(word.strip()):
            return known
    return label


def find_shares(folded: str, vocabulary: list[str]) -> tuple[dict[str, float], str]:
    labels = _label_pattern(vocabulary)
    percent = r"(\d{1,3}(?:[.,]\d+)?)\s*(?:%|percent|per cent|procent\w*)"
    shares: dict[str, float] = {}
    patterns = [
        percent + r"\s*(?:of\s+(?:them|the\s+\w+|all)\s+|z\s+nich\s+)?(?:should be\s+|to be\s+|be\s+|are\s+|ma byc\s+|powinno byc\s+)?(" + labels + r")",
        r"(" + labels + r")\s*(?:[:=]|-)?\s*" + percent,
    ]
    # "twice as many positive as negative" / "dwa razy więcej pozytywnych niż negatywnych".
    times = r"(twice|two times|2x|three times|3x|thrice|four times|4x|dwa razy|trzy razy|cztery razy)"
    for m in re.finditer(times + r"\s+(?:as many|more|wiecej)\s+(" + labels + r")\s+(?:as|than|niz)\s+(" + labels + r")", folded):
        factor = {"tw": 2, "2x": 2, "dw": 2, "th": 3, "3x": 3, "tr": 3, "fo": 4, "4x": 4, "cz": 4}.get(m.group(1)[:2], 2)
        shares[_resolve_label(m.group(2), vocabulary)] = factor / (factor + 1)
        shares[_resolve_label(m.group(3), vocabulary)] = 1 / (factor + 1)
        folded = mask(folded, m.start(), m.end())
    for m in re.finditer(r"\b(?:half|polowa|pol)\s+(?:of them\s+|z nich\s+)?(?:(?:should be|are|to be)\s+)?(" + labels + r")", folded):
        shares[_resolve_label(m.group(1), vocabulary)] = 0.5
        folded = mask(folded, m.start(), m.end())
    # "1 in 3 negative", "1 in 3 reviews negative", "2 out of 10 should be spam", "1 na 4 negatywne": a ratio.
    ratio = (r"(?<![\w.,])(\d{1,4})\s+(?:in|out of|of every|na|z)\s+(\d{1,4})\s+(?:[\w-]+\s+)?"
             r"(?:should be\s+|are\s+|is\s+|to be\s+|ma byc\s+|powinno byc\s+|jest\s+)?(" + labels + r")")
    for m in re.finditer(ratio, folded):
        part, whole = int(m.group(1)), int(m.group(2))
        if 0 < part <= whole:
            shares[_resolve_label(m.group(3), vocabulary)] = part / whole
            folded = mask(folded, m.start(), m.end())
    # "spam 3 in 10 examples", "negative in 3 out of 10 reviews", "toksyczne 1 na 4": the label first.
    label_first = r"(?<![\w-])(" + labels + r")\s*(?:[:=]|-)?\s*(?:in\s+|w\s+)?" + _RATIO + r"(?:\s+" + COUNT_NOUNS + r")?(?![\w])"
    for m in re.finditer(label_first, folded):
        part, whole = int(m.group(2)), int(m.group(3))
        if 0 < part <= whole:
            shares[_resolve_label(m.group(1), vocabulary)] = part / whole
            folded = mask(folded, m.start(), m.end())
    for index, pattern in enumerate(patterns):
        for m in re.finditer(pattern, folded):
            number, word = (m.group(1), m.group(2)) if index == 0 else (m.group(2), m.group(1))
            value = float(number.replace(",", ".")) / 100
            if 0 <= value <= 1:
                shares[_resolve_label(word, vocabulary)] = value
                folded = mask(folded, m.start(), m.end())
    return shares, folded


# "3 in 10", "1 out of 4", "2 of every 10", "1 na 4", "3 z 10": a share, never a count.
_RATIO = r"(?<![\w.,])(\d{1,4})\s+(?:in|out of|of every|in every|na|z|na kazde|z kazdych)\s+(\d{1,4})(?![\w.,]|[.,]\d)"
_UNLABELED_RATIO = re.compile(_RATIO + r"\s+" + COUNT_NOUNS + r"(?![\w])")


def find_unlabeled_ratio(folded: str) -> tuple[tuple[int, int] | None, str]:
    """"3 in 10 examples" with no label: a share the user means of some label (the dialog asks which),
    never a count of 3; ((3, 10), the folded text with it blanked)."""
    m = _UNLABELED_RATIO.search(folded)
    if m is None or not 0 < int(m.group(1)) <= int(m.group(2)):
        return None, folded
    return (int(m.group(1)), int(m.group(2))), mask(folded, m.start(), m.end())


def find_label_counts(original: str, folded: str, vocabulary: list[str]) -> tuple[dict[str, int], str]:
    labels = _label_pattern(vocabulary)
    counts: dict[str, int] = {}
    patterns = [
        r"(" + NUM + r")\s+(?:of\s+(?:the\s+)?|of them\s+(?:should be\s+|are\s+|be\s+)?|z nich\s+|x\s+)?(" + labels + r")"
        r"(?:\s+(?:ones|" + COUNT_NOUNS + r"))?",
        r"(?<![\w-])(" + labels + r")\s*[:=]?\s*(" + NUM + r")(?![\d%\w]|[.,]\d)",
        r"\b(?:make|set|change|zmien|ustaw)\s+(?:the\s+)?(" + labels + r")\w*\s+(?:to\s+|na\s+)?(" + NUM + r")(?![\d%])",
    ]
    for index, pattern in enumerate(patterns):
        if index == 1 and not vocabulary:
            continue  # "positive 8" needs a known label; unknown words are read by the chains below
        for m in re.finditer(pattern, folded):
            number, word = (m.group(1), m.group(2)) if index == 0 else (m.group(2), m.group(1))
            if index == 2:
                word = re.sub(r"(?<=[a-z])s$", "", word)  # "make negatives 30"
            value = parse_number(number)
            if value is None:
                continue
            counts[_resolve_label(word, vocabulary)] = value
            folded = mask(folded, m.start(), m.end())
    if not counts:
        counts, folded = _find_count_chain(original, folded, vocabulary)
    return counts, folded


_WORD = r"([a-z_][\w-]{0,30})"
_CHAIN_JOIN = r"\s*(?:,|;|\band\b|\bi\b|\boraz\b|&|\+)\s*"


def _find_count_chain(original: str, folded: str, vocabulary: list[str]) -> tuple[dict[str, int], str]:
    """Two or more "number word" or "word number" pairs joined by commas / and / i name labels:
    "30 spam and 70 ham", "complaint 4, greeting 2, goodbye 1" (spelled as the user wrote them)."""
    counts: dict[str, int] = {}
    number_first = r"(" + NUM + r")\s+" + _WORD
    word_first = r"(?<![\w-])" + _WORD + r"\s*:?\s+(" + NUM + r")(?![\d%\w]|[.,]\d)"
    for pair, word_group in ((number_first, 2), (word_first, 1)):
        chain = pair + r"(?:" + _CHAIN_JOIN + pair + r")+"
        for m in re.finditer(chain, folded):
            pairs = list(re.finditer(pair, folded[: m.end()][m.start():]))
            words = [p.group(word_group) for p in pairs]
            # "200 complaints and 50 reviews" are totals; "complaint 4, greeting 2" are labels.
            nouns = [w for w in words if re.fullmatch(COUNT_NOUNS, w)] if word_group == 2 else []
            if nouns or any(w in FILLER_WORDS or w in WORD_NUMBERS or w in _NOT_LABELS for w in words):
                continue
            if len(set(words)) != len(words):
                continue
            for p in pairs:
                value = parse_number(p.group(3 - word_group))
                start, end = m.start() + p.start(word_group), m.start() + p.end(word_group)
                if value is not None:
                    counts[_resolve_label(original[start:end], vocabulary)] = value
            folded = mask(folded, m.start(), m.end())
        if counts:
            break
    return counts, folded


# Words that precede a number without naming a label ("make it 500, top 10").
_NOT_LABELS = {"it", "to", "make", "of", "top", "about", "around", "okolo", "only", "tylko", "just", "total", "razem", "lacznie"}


def find_each(folded: str) -> tuple[int | None, str]:
    m = re.search(
        r"(" + NUM + r")\s+(?:" + COUNT_NOUNS + r"\s+)?(?:each|of each|per (?:label|class|category|intent)|for each(?: label| class)?)\b"
        r"|\bpo\s+(" + NUM + r")\s+(?:" + COUNT_NOUNS + r"\s+)?(?:na|dla|z)\s+(?:kazd\w*|etykiet\w*|klas\w*)"
        r"|(" + NUM + r")\s+(?:" + COUNT_NOUNS + r"\s+)?(?:na|dla)\s+kazd\w*(?:\s+(?:etykiet\w*|klas\w*|kategori\w*))?",
        folded,
    )
    if not m:
        return None, folded
    value = parse_number(m.group(1) or m.group(2) or m.group(3))
    return value, mask(folded, m.start(), m.end())




_FAVOURED = [
    r"\bmore\s+([\w-]+)\s+than\b",
    r"\b(?:mostly|mainly|largely|predominantly|above all)\s+([\w-]+)",
    r"\bmost(?:\s+of them)?\s+(?:should\s+be\s+)?([\w-]+)",
    r"\bwiecej\s+([\w-]+)\s+niz\b",
    r"\b(?:glownie|przewaznie|najwiecej|przewaga)\s+([\w-]+)",
]


def find_favoured(original: str, folded: str, vocabulary: list[str]) -> tuple[str | None, str]:
    """"more complaints than anything else" / "mostly complaints": the label the user wants more of,
    without saying how many (the dialog asks). Only a label of the order or a known label word counts."""
    for pattern in _FAVOURED:
        for m in re.finditer(pattern, folded):
            word = original[m.start(1):m.end(1)]
            label = match_label(word, vocabulary)
            if label is None and re.fullmatch(KNOWN_LABEL_RE, fold(word)):
                label = canonical_label(word)
            if label is not None:
                return label, mask(folded, m.start(), m.end())
    return None, folded
