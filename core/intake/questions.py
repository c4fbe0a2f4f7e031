"""What a message asks of the bot rather than of the order: questions, and kinds of data it cannot make yet.

The dialog answers these (what the bot makes, a time estimate from the model's measured speed,
a plain "not yet"); intake only recognises them, so "can you do POS tagging?" never silently
becomes a sentence-classification order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from core import messages as m


class Intent(str, Enum):
    """What the user wants from this message."""

    order = "order"  # an order or a change to it (the default)
    ask_capabilities = "ask_capabilities"  # "what can you do?" / "co potrafisz?"
    ask_duration = "ask_duration"  # "how long will this take?" / "ile to potrwa?"
    unsupported = "unsupported"  # a kind of dataset the bot cannot make yet (POS tagging, summaries, images)


@dataclass
class Remark:
    """Something the bot must tell the user about a message: a refused number, a question to ask.
    `key` is a core.messages key; `values` fill its placeholders, `named` fills them with other keys' texts."""

    key: str
    values: dict[str, str] = field(default_factory=dict)
    named: dict[str, str] = field(default_factory=dict)

    def text(self, lang: str, **extra: object) -> str:
        names = {name: m.text(lang, key) for name, key in self.named.items()}
        return m.text(lang, self.key, **self.values, **names, **extra)


_CAPABILITIES = re.compile(
    r"\bwhat (?:can|do|could) you (?:do|make|generate|create|offer)\b|\bwhat kinds? of (?:data ?sets?|data|datasets)\b|"
    r"\bwhat (?:data ?sets?|datasets) can\b|\bhow does (?:this|it) work\b|\bwhat are you\b|"
    r"\bco (?:potrafisz|umiesz|mozesz zrobic|robisz)\b|\bjakie (?:zbiory|dane)\b|\bw czym (?:pomozesz|mozesz pomoc)\b|"
    r"\bjak to dziala\b|\b(?:what|which) (?:file )?formats\b|\bjakie formaty\b"
)
_DURATION = re.compile(
    r"\bhow long\b|\bhow much time\b|\bwhen will (?:it|this|that|the (?:data|dataset|file)) be (?:ready|done)\b|"
    r"\bhow fast\b|\bile (?:to )?(?:potrwa|zajmie|czasu)\b|\bjak dlugo\b|\bkiedy bedzie gotow\w*|\bjak szybko\b"
)
# Kinds the engine cannot make yet. Entities (NER) and translation pairs are row-model presets now
# (core.intake.row_orders reads those orders).
_UNSUPPORTED: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"part[- ]of[- ]speech|\bpos[- ]tagg|czesci mowy"), "kind_pos"),
    (re.compile(r"\bsummari[sz]ation|\bsummaries\b|\bstreszcze\w*"), "kind_summaries"),
    (re.compile(r"\b(?:images?|photos?|pictures?|audio|speech recordings?|obraz\w*|zdjec\w*|nagran\w*)\s+"
                r"(?:data ?sets?|datasets?|classification|klasyfikacj\w*|zbior\w*)"), "kind_images"),
]


def find_intent(folded: str) -> tuple[Intent, Remark | None]:
    """The message's intent, and the remark to say for a kind the bot cannot make yet."""
    for pattern, kind in _UNSUPPORTED:
        if pattern.search(folded):
            return Intent.unsupported, Remark("intake_unsupported", named={"kind": kind})
    if _CAPABILITIES.search(folded):
        return Intent.ask_capabilities, None
    if _DURATION.search(folded):
        return Intent.ask_duration, None
    return Intent.order, None
