"""Label sets for annotation: the presets and how a user names labels (chat and command line)."""

from __future__ import annotations

import re

#: The common tasks, so a user need not spell their labels (Polish names too).
PRESETS: dict[str, list[str]] = {
    "sentiment": ["positive", "negative", "neutral"],
    "toxicity": ["toxic", "non-toxic"],
    "intent": ["greeting", "order_status", "cancel_order", "complaint", "goodbye"],
}
PRESET_ALIASES = {"sentyment": "sentiment", "toksyczność": "toxicity", "toksycznosc": "toxicity",
                  "intencja": "intent", "intencje": "intent", "intents": "intent"}
_PREFIX = re.compile(r"^\s*(?:labels?|etykiety|etykieta|kategorie|categories)\s*[:=]?\s*", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s*(?:,|;|/|\||\bor\b|\blub\b|\band\b|\bi\b|\boraz\b)\s*", re.IGNORECASE)


def preset(name: str) -> list[str] | None:
    key = name.strip().strip(".!").lower()
    key = PRESET_ALIASES.get(key, key)
    return list(PRESETS[key]) if key in PRESETS else None


#: "refund - wants money back", "bug: something broken", "skarga – klient się skarży", "spam (ads)"
_DESCRIBED = re.compile(r"^\s*([^\s:=(][^:=(]{0,59}?)\s*(?:\s[-–—]\s|:|=|\()\s*(.+?)\)?\s*$")


def described_labels(text: str) -> tuple[list[str], dict[str, str]] | None:
    """'labels: refund - wants money back, bug - something broken' -> (labels, one-line description
    of each); None when the text names no description (then `labels_from_text` reads it). Items
    are separated by commas, semicolons or new lines; a label without a description is allowed."""
    body = _PREFIX.sub("", text.strip()).strip().rstrip(".")
    labels: list[str] = []
    descriptions: dict[str, str] = {}
    for item in _items(body):
        found = _DESCRIBED.match(item)
        if found:
            label, description = found.group(1).strip().strip("\"'“”„"), found.group(2).strip()
            descriptions[label] = description[:200]
        else:
            label = item.strip("\"'“”„")
        if not label or len(label) > 60 or len(label.split()) > 4:
            return None
        labels.append(label)
    if not descriptions or len(labels) < 2 or len({x.casefold() for x in labels}) != len(labels):
        return None
    return labels, descriptions


#: Words a description's comma part starts with when the description goes on ("..., or credit", "..., etc.").
_CONTINUES = re.compile(r"^(?:or|and|but|etc|e\.g|i\.e|such|like|lub|albo|i|oraz|ale|np|itd|itp|czy|a|an|the)\b",
                        re.IGNORECASE)


def _items(body: str) -> list[str]:
    """The list's items. A semicolon or a new line always parts them; a comma does unless it is inside
    a description: what follows it starts an item when it names a label with its own description,
    when the item before is a bare label or a closed "(...)", or when it is the list's short last part
    ("..., bug - something broken, other"); otherwise it goes on the description ("wants money, or credit")."""
    items: list[str] = []
    for chunk in re.split(r"\s*[;\n]\s*", body):
        pieces = [piece.strip() for piece in chunk.split(",") if piece.strip()]
        current, described = "", False  # the item so far, and whether it names a description
        for number, piece in enumerate(pieces, 1):
            starts = bool(_DESCRIBED.match(piece))
            trailing_label = number == len(pieces) and len(piece.split()) <= 3 and not _CONTINUES.match(piece)
            # "refund - wants money back, bug, other - anything else": one word between a phrase and
            # the next described label is a label; "spam - ads, scams, phishing" goes on describing.
            between = described and "," not in current and len(_description(current).split()) >= 2 \
                and _bare_run_ends(pieces, number - 1)
            if not current or starts or not described or current.endswith(")") or trailing_label or between:
                if current:
                    items.append(current)
                current, described = piece, starts
            else:
                current += ", " + piece
        if current:
            items.append(current)
    return items

_BARE_LABEL = re.compile(r"[^\W\d][\w-]{0,40}")


def _bare_run_ends(pieces: list[str], index: int) -> bool:
    """pieces[index:] starts with one-word pieces that run to the end or to a described label."""
    for piece in pieces[index:]:
        if _BARE_LABEL.fullmatch(piece) is None:
            return piece is not pieces[index] and bool(_DESCRIBED.match(piece))
    return True


def _description(item: str) -> str:
    found = _DESCRIBED.match(item)
    return found.group(2) if found else ""


def labels_from_text(text: str) -> list[str] | None:
    """'complaint, order_status or greeting' / 'etykiety: a, b' / 'sentiment' -> the labels;
    None when the text does not name at least two distinct labels."""
    found = preset(text)
    if found is not None:
        return found
    body = _PREFIX.sub("", text.strip()).strip().strip(".")
    parts = [part.strip().strip("\"'“”„") for part in _SEPARATORS.split(body)]
    labels = [part for part in parts if part]
    if len(labels) < 2 or any(len(label) > 60 or len(label.split()) > 4 for label in labels):
        return None
    if len({label.casefold() for label in labels}) != len(labels):
        return None
    return labels
