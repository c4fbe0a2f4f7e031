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
