"""Finders for labels and per-label numbers. Each returns what it found and the folded text with that part blanked."""

from __future__ import annotations

import re
from typing import Iterable

from core.intake.labels import (
    COUNT_NOUNS,
    FILLER_WORDS,
    KNOWN_LABEL_RE,
    canonical_label,
    label_key,
    split_label_list,
)
from core.intake.numbers import NUM, WORD_NUMBER_RE, WORD_NUMBERS, parse_number
from core.intake.text import fold, mask

_LABEL_CUE = (
    r"(?:labels?|categories|category|classes|class|intents|intencje|tags|etykiety|etykietami|etykiet|klasy|kategorie)"
)



def find_labels(original: str, folded: str) -> tuple[list[str], str]:
    found: list[str] = []

    def take(items: Iterable[str]) -> None:
        for item in items:
            if label_key(item) not in {label_key(x) for x in found}:
                found.append(item)

    # 1. "labels: a, b, c" / "intents: [...]" / "etykiety: a, b" (to the end of the line or sentence).
    for m in re.finditer(
        r"\b" + _LABEL_CUE + r"\s*(?:are|is|should be|to|=|:|-)\s*(\[[^\]\n]{1,500}\]|[^\n.;!?]{1,300})", folded
    ):
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
            folded = mask(folded, m.start(1), m.end(1))
    # 3b. "labeled billing, shipping or returns" / "tagged with a, b and c".
    for m in re.finditer(
        r"\b(?:labell?ed|tagged|etykietowan\w*)\s+(?:with\s+|jako\s+)?(" + item + r"(?:" + joiner + item + r")+)", folded
    ):
        items = [x for x in split_label_list(original[m.start(1):m.end(1)])
                 if not re.fullmatch(r"[\d\W]+|" + COUNT_NOUNS + "|" + WORD_NUMBER_RE, fold(x))]
        if len(items) >= 2:
            take(items)
            folded = mask(folded, m.start(1), m.end(1))
    # 4. Known label words paired: "positive or negative", "pozytywne lub negatywne", "toxic vs non-toxic".
    pair = KNOWN_LABEL_RE + r"(?:\s*(?:,|/|\bor\b|\band\b|\bvs\.?|\bversus\b|\blub\b|\balbo\b|\bi\b|\boraz\b|\bczy\b)\s*" + KNOWN_LABEL_RE + r")+"
    for m in re.finditer(r"(?<![\d\w])" + pair, folded):
        items = [canonical_label(w) for w in re.findall(KNOWN_LABEL_RE, m.group(0))]
        if len(set(items)) >= 2:
            take(items)
            folded = mask(folded, m.start(), m.end())
    # 5. Any "x vs y" ("spam vs ham") and quoted pairs ('"spam" or "ham"').
    for m in re.finditer(r"(?<![\w-])([\w-]{2,30})\s+(?:vs\.?|versus)\s+([\w-]{2,30})(?![\w-])", folded):
        take([canonical_label(original[m.start(1):m.end(1)]), canonical_label(original[m.start(2):m.end(2)])])
        folded = mask(folded, m.start(), m.end())
    for m in re.finditer(r"\"([^\"\n]{1,40})\"\s*(?:or|lub|albo|czy|,)\s*\"([^\"\n]{1,40})\"", folded):
        take([canonical_label(original[m.start(1):m.end(1)]), canonical_label(original[m.start(2):m.end(2)])])
        folded = mask(folded, m.start(), m.end())
    return found, folded


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
        r"\b(?:remove|drop|delete|usun|wyrzuc|skasuj|without|no more|bez)\s+(?:the\s+)?(" + KNOWN_LABEL_RE + r"|[\w-]+)",
    ]
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
    for m in re.finditer(r"\b(?:half|polowa|pol)\s+(?:of them\s+|z nich\s+)?(?:(?:should be|are|to be)\s+)?(" + labels + r")", folded):
        shares[_resolve_label(m.group(1), vocabulary)] = 0.5
        folded = mask(folded, m.start(), m.end())
    for index, pattern in enumerate(patterns):
        for m in re.finditer(pattern, folded):
            number, word = (m.group(1), m.group(2)) if index == 0 else (m.group(2), m.group(1))
            value = float(number.replace(",", ".")) / 100
            if 0 <= value <= 1:
                shares[_resolve_label(word, vocabulary)] = value
                folded = mask(folded, m.start(), m.end())
    return shares, folded


def find_label_counts(folded: str, vocabulary: list[str]) -> tuple[dict[str, int], str]:
    labels = _label_pattern(vocabulary)
    counts: dict[str, int] = {}
    patterns = [
        r"(" + NUM + r")\s+(?:of\s+(?:the\s+)?|x\s+)?(" + labels + r")(?:\s+(?:ones|" + COUNT_NOUNS + r"))?",
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
            folded = mask(folded, m.start(), m.end())
    if not counts:
        # "30 spam and 70 ham": two or more "number word" pairs joined by and/i/commas name labels.
        pair = r"(" + NUM + r")\s+([a-z_][\w-]{0,30})"
        chain = pair + r"(?:\s*(?:,|;|\band\b|\bi\b|\boraz\b|&|\+)\s*" + pair + r")+"
        for m in re.finditer(chain, folded):
            pairs = re.findall(r"(" + NUM + r")\s+([a-z_][\w-]{0,30})", m.group(0))
            words = [w for _, w in pairs]
            if any(re.fullmatch(COUNT_NOUNS, w) or w in FILLER_WORDS or w in WORD_NUMBERS for w in words):
                continue
            if len({w for w in words}) != len(words):
                continue
            for number, word in pairs:
                value = parse_number(number)
                if value is not None:
                    counts[_resolve_label(word, vocabulary)] = value
            folded = mask(folded, m.start(), m.end())
    return counts, folded


def find_each(folded: str) -> tuple[int | None, str]:
    m = re.search(
        r"(" + NUM + r")\s+(?:" + COUNT_NOUNS + r"\s+)?(?:each|of each|per (?:label|class|category|intent)|for each(?: label| class)?)\b"
        r"|\bpo\s+(" + NUM + r")\s+(?:" + COUNT_NOUNS + r"\s+)?(?:na|dla|z)\s+(?:kazd\w*|etykiet\w*|klas\w*)",
        folded,
    )
    if not m:
        return None, folded
    value = parse_number(m.group(1) or m.group(2))
    return value, mask(folded, m.start(), m.end())


