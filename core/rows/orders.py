"""Reading row-model orders from chat text (English and Polish): which preset, its columns and
settings. Rules only; what they miss is left to the intake's LLM extraction.

    read_order("50 rows with columns product_name, complaint, urgency (low/medium/high), 20 high")
    -> {"task": "custom", "columns": [...], "labels": [...], "label_counts": {"high": 20}, ...}

The result is a dict of DatasetSpec fields (only what the text says); `to_ask` lists what the
chat must still ask (e.g. which column to balance when several are categorical).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from core.rows.columns import Column, ColumnType, column_name

# Preset words, English and Polish (lower-case text; \b-delimited where it matters).
_PRESETS: list[tuple[str, re.Pattern[str]]] = [
    ("red_team", re.compile(r"\bred[\s-]?team|\bjailbreak|prompt injection|\battack prompts|\badversarial prompts|"
                            r"\bprompts?\b[^.]*\b(?:leak|break|trick|bypass|fail|misbehave)|"
                            r"test\w* bezpiecze[nń]stw|\bataki na (?:czat)?bota|prompty atakuj|"
                            r"\bprompt\w*[^.]*(?:wyciek|wyci[aą]g|wydoby|z[łl]ama|oszuka|obej[śs][ćc])")),
    ("entities", re.compile(r"\bentit(?:y|ies)\b|\bner\b|named entit|slot filling|\bslots\b|\bencj[ia]|"
                            r"\bnazw w[łl]asnych|rozpoznawani[ea] nazw")),
    ("translation", re.compile(r"\btranslat|\bparaphras|\bt[łl]umacze[nń]|\bprzek[łl]ad|\bparafraz")),
    # Not "user messages": the seed's intent order says that of a classification.
    ("simulated_users", re.compile(r"simulated (?:users?|user messages|customers?)|simulat\w* users|\bpersonas?\b|"
                                   r"symulowan\w* (?:u[żz]ytkowni|klient|wiadomo)|\bpersony\b|\bpersonami\b")),
]
_COLUMNS_START = re.compile(r"\b(?:with |having |z )?(?:the )?(?:columns?|kolumn(?:ami|y|a)?|pola(?:mi)?|fields)\s*:?\s+",
                            re.I)
_ENTITY_TYPES = re.compile(r"(?:entity types?|types?|typy(?: encji)?|etykiety encji)\s*:?\s*"
                           r"((?:[A-Za-z_]+\s*(?:,|and|i|oraz)\s*)+[A-Za-z_]+)", re.I)
# "with entities: product, price, date", "zdania do NER po polsku: osoby, miejsca" (lower-case names after a colon)
_ENTITY_LIST = re.compile(r"(?:entit(?:y|ies)|\bner\b|encj\w*|nazw\w* w[łl]asn\w*)[^:\n.]{0,30}:\s*"
                          r"((?:[^\W\d][\w-]*(?: [^\W\d][\w-]*)?\s*(?:,|\band\b|\bi\b|\boraz\b)\s*)+[^\W\d][\w-]*(?: [^\W\d][\w-]*)?)",
                          re.I)
# "English-Polish", "angielski → polski", "EN>PL" is not read: the names (a source, then a target)
_LANGUAGE_PAIR = re.compile(r"\b([A-Za-ząćęłńóśźż]+)\s*(?:-|–|—|→|->|>|/)\s*([A-Za-ząćęłńóśźż]+)\b", re.I)
# "English and their German translation", "z tłumaczeniem na niemiecki" (the target named by its translation)
_TARGET_BEFORE = re.compile(r"\b([A-Za-z]+)\s+(?:translations?|versions?)\b", re.I)
_UPPER_LIST = re.compile(r"\b([A-Z][A-Z_]{1,}(?:\s*(?:,|/|\band\b|\bi\b|\boraz\b)\s*[A-Z][A-Z_]{1,})+)\b")
_NOISE = re.compile(r"(\d{1,3})\s*%[^.;]{0,30}?(?:messy|noisy|with (?:typos|errors|mistakes)|errors|typos|"
                    r"z b[łl][ęe]dami|z liter[óo]wkami|b[łl][ęe]dn|zaszumion|niechlujn)", re.I)
_SAME_LANGUAGE = re.compile(r"paraphras|parafraz|same language|tym samym j[ęe]zyku", re.I)
# "into Polish", "to German", "na angielski", "na język niemiecki"
_TARGET = re.compile(r"(?:\binto|\bto|\bna)\s+(?:j[ęe]zyk\s+)?([A-Za-ząćęłńóśźżĄĆĘŁŃÓŚŹŻ]+)", re.I)
# "from English", "z angielskiego" (the source's language)
_SOURCE = re.compile(r"(?:\bfrom|\bz)\s+(?:j[ęe]zyka\s+)?([A-Za-ząćęłńóśźżĄĆĘŁŃÓŚŹŻ]+)", re.I)
_LANGUAGES = {
    "english": "English", "polish": "Polish", "german": "German", "french": "French", "spanish": "Spanish",
    "italian": "Italian", "portuguese": "Portuguese", "ukrainian": "Ukrainian", "czech": "Czech", "dutch": "Dutch",
    "angielski": "English", "polski": "Polish", "niemiecki": "German", "francuski": "French",
    "hiszpański": "Spanish", "włoski": "Italian", "portugalski": "Portuguese", "ukraiński": "Ukrainian",
    "czeski": "Czech", "niderlandzki": "Dutch",
}
_COUNT_ITEM = re.compile(r"^(\d{1,6})\s+(.+)$")
_BOOLEAN_VALUES = {("yes", "no"), ("true", "false"), ("tak", "nie")}
_NUMBER_HINT = re.compile(r"\b(?:number|numeric|integer|liczba|int)\b", re.I)


def _language(word: str) -> str | None:
    """"English", "angielski", "angielskiego" (from/z ...) -> "English"."""
    word = word.lower()
    if word.endswith("iego"):
        word = word[:-4] + "i"
    return _LANGUAGES.get(word)


@dataclass
class RowOrder:
    """What a message says about a row-model order."""

    changes: dict[str, Any] = field(default_factory=dict)
    #: Category columns the user could balance on, when there are several and none was named.
    to_ask: list[str] = field(default_factory=list)


def _split_top_level(text: str) -> list[str]:
    """Commas outside parentheses: "a, b (x, y), c" -> ["a", "b (x, y)", "c"]."""
    items, depth, current = [], 0, []
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def _column(item: str) -> Column | None:
    match = re.match(r"^([^\s(:]+(?:\s[^\s(:]+){0,2})\s*(?:\((.*)\)|:\s*(.+))?$", item)
    if not match:
        return None
    name, inside = match.group(1), match.group(2) or match.group(3) or ""
    values = [v.strip() for v in re.split(r"\s*(?:/|\||,|\bor\b|\blub\b|\balbo\b)\s*", inside) if v.strip()]
    try:
        if len(values) >= 2 and tuple(v.lower() for v in values) in _BOOLEAN_VALUES:
            return Column(name=name, type=ColumnType.boolean)
        if len(values) >= 2:
            return Column(name=name, type=ColumnType.category, values=tuple(values))
        if inside and _NUMBER_HINT.search(inside):
            return Column(name=name, type=ColumnType.number)
        return Column(name=name, description=inside)
    except ValueError:
        return None


def read_columns(text: str) -> tuple[list[Column], dict[str, int]] | None:
    """The columns a message lists ("with columns a, b, c (x/y/z), 20 z"), and the per-value
    counts it gives; None when it lists none."""
    start = _COLUMNS_START.search(text)
    if start is None:
        return None
    rest = re.split(r"[.;\n](?:\s|$)", text[start.end():])[0]
    columns: list[Column] = []
    counts: dict[str, int] = {}
    for item in _split_top_level(rest):
        item = re.sub(r"^(?:and|i|oraz)\s+", "", item, flags=re.I)
        counted = _COUNT_ITEM.match(item)
        if counted:
            counts[counted.group(2).strip()] = int(counted.group(1))
            continue
        column = _column(item)
        if column is None:
            break
        columns.append(column)
    if not columns or len({c.name for c in columns}) != len(columns):
        return None
    return columns, counts


def read_order(text: str) -> RowOrder:
    """The row-model fields a message sets (may be empty: then it is a classic order)."""
    order = RowOrder()
    lowered = text.lower()
    read = read_columns(text)
    if read is not None:
        columns, counts = read
        categories = [c for c in columns if c.type == ColumnType.category]
        counted = [c for c in categories if any(v.casefold() in {k.casefold() for k in counts} for v in c.values)]
        chosen = counted[0] if len(counted) == 1 else categories[0] if len(categories) == 1 else None
        if chosen is not None:
            columns = [c.model_copy(update={"stratified": True}) if c is chosen else c for c in columns]
            order.changes["labels"] = list(chosen.values)
            by_fold = {v.casefold(): v for v in chosen.values}
            given = {by_fold[k.casefold()]: n for k, n in counts.items() if k.casefold() in by_fold}
            if given:
                order.changes["label_counts_partial"] = given
        elif len(categories) > 1:
            order.changes["to_balance"] = None
            order.to_ask = [c.name for c in categories]
        order.changes["task"] = "custom"
        order.changes["columns"] = [c.model_dump(mode="json") for c in columns]
    else:
        for task, pattern in _PRESETS:
            if pattern.search(lowered):
                order.changes["task"] = task
                break
    task = order.changes.get("task")
    if task == "entities":
        found = _UPPER_LIST.search(text) or _ENTITY_TYPES.search(text) or _ENTITY_LIST.search(text)
        if found:
            order.changes["entity_types"] = [t.strip() for t in re.split(r"\s*(?:,|/|\band\b|\bi\b|\boraz\b)\s*",
                                                                         found.group(1)) if t.strip()]
    if task == "translation":
        if _SAME_LANGUAGE.search(text):
            order.changes["target_language"] = None
        else:
            for match in [*_TARGET.finditer(text), *_TARGET_BEFORE.finditer(text)]:
                language = _language(match.group(1))
                if language:
                    order.changes["target_language"] = language
                    break
            source = _SOURCE.search(text)
            if source and _language(source.group(1)):
                order.changes["language"] = _language(source.group(1))
            pair = next((p for p in _LANGUAGE_PAIR.finditer(text) if _language(p.group(1)) and _language(p.group(2))), None)
            if pair is not None and "target_language" not in order.changes:
                order.changes["language"], order.changes["target_language"] = _language(pair.group(1)), _language(pair.group(2))
            target = order.changes.get("target_language")
            others = {name for word in re.findall(r"[A-Za-ząćęłńóśźż]+", text) if (name := _language(word)) and name != target}
            if target and "language" not in order.changes and len(others) == 1:
                order.changes["language"] = others.pop()  # "100 Polish sentences with English translations"
    noise = _NOISE.search(text)
    if noise and 0 < int(noise.group(1)) <= 100:
        order.changes["noise_share"] = int(noise.group(1)) / 100
    return order


def complete_counts(labels: list[str], partial: dict[str, int], count: int) -> dict[str, int] | None:
    """"20 high" of 50 over low/medium/high -> {low: 15, medium: 15, high: 20}: the rest split
    evenly over the values not named (the first ones get the remainder); None if it can't add up."""
    rest = count - sum(partial.values())
    others = [label for label in labels if label not in partial]
    if rest < 0 or (rest and not others):
        return None
    base, extra = divmod(rest, len(others)) if others else (0, 0)
    filled = {label: base + (i < extra) for i, label in enumerate(others)}
    return {label: partial.get(label, filled.get(label, 0)) for label in labels}


__all__ = ["RowOrder", "complete_counts", "read_columns", "read_order", "column_name"]
