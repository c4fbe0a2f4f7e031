"""After a preview: is a message feedback on how the rows read, an explicit change to the order, or unclear?

"complaints should sound angry about a late or broken order" describes rows: it is feedback for
the next prompts, not a new topic and tone for the whole order. Only an explicit change ("make it
500", "add a neutral label", "in German", "as JSON") changes the order. When a message does both
or neither clearly, the dialog asks with two buttons.
"""

from __future__ import annotations

import re
from enum import Enum

from core.intake.draft import SpecDraft
from core.intake.interpret import Interpretation, interpret
from core.intake.labels import match_label
from core.intake.questions import Intent
from core.intake.text import bare_form, prepare


class AfterPreview(str, Enum):
    feedback = "feedback"  # how the rows should read: acknowledged, kept, used in the next prompts
    order_change = "order_change"  # an explicit change to the order: apply it and say what changed
    unsure = "unsure"  # ask: "Change the order" / "Use as feedback"


# Fields whose change is always explicit: nobody describes a row with a count, a label list or a file format.
_ORDER_FIELDS = {"task", "labels", "label_counts", "label_shares", "count", "language", "format"}
# Tone, topic and instructions are also how rows read; they change the order only when said as a command.
_EXPLICIT_STYLE = re.compile(
    r"^\s*(?:(?:please\s+)?(?:make|change|set|switch)\s+(?:it|them|the\s+(?:tone|topic|style|order|dataset))\b|"
    r"(?:tone|topic|style|domain|subject|instructions|ton|temat|styl|dziedzina|instrukcje)\s*[:=]|"
    r"(?:change|switch|set)\s+(?:the\s+)?(?:tone|topic|style|domain|subject)\s+to\b|"
    r"(?:zmien|ustaw)\s+(?:ton|temat|styl)\b|niech\s+(?:ton|temat)\b|"
    r"(?:more|less|bardziej|mniej)\s+[\w-]+\s*$|[\w-]+\s+(?:tone|ton)\s*$|in\s+an?\s+[\w-]+\s+tone\s*$)"
)
# Words that describe how rows read (feedback), English and Polish, folded.
_DESCRIBES_ROWS = re.compile(
    r"\b(?:should|shouldn't|must|sound\w*|read like|feel\w*|seem\w*|look like|too|realistic|natural|varied|"
    r"variety|diverse|repetitive|similar|same|boring|generic|shorter|longer|short|long|simpler|specific|details?|"
    r"mention\w*|avoid|don't|do not|never|always|instead|rather|like a|more like|less like|wrong|bad|good|"
    r"better|worse|examples? (?:are|is|were)|rows? (?:are|is|were)|powinn\w*|brzmi\w*|wyglada\w*|za (?:dlugie|krotkie|podobne|proste)|"
    r"zbyt|krotsz\w*|dluzsz\w*|realistyczn\w*|naturaln\w*|zroznicowan\w*|podobn\w*|nudn\w*|unikaj|nie uzywaj|"
    r"wspomin\w*|zawsze|nigdy|lepiej|gorzej|zamiast|jak (?:prawdziw|od)\w*)\b"
)


def classify_after_preview(text: str, draft: SpecDraft, interp: Interpretation | None = None) -> AfterPreview:
    """What a message typed after a preview is. `interp` is the rules' reading of it, when the caller
    already has one (the same `interpret(text, draft)`)."""
    interp = interp if interp is not None else interpret(text, draft)
    _, folded = prepare(str(text))
    bare = bare_form(folded)
    if interp.intent != Intent.order or interp.favoured_label is not None:
        return AfterPreview.unsure if not interp.changes else AfterPreview.order_change
    says_order = bool(set(interp.changes) & _ORDER_FIELDS or interp.add_labels or interp.remove_labels or interp.each)
    says_style = bool(set(interp.changes) & {"tone", "topic", "instructions"})
    describes = bool(_DESCRIBES_ROWS.search(folded)) or _names_a_label_first(bare, draft)
    explicit_style = says_style and bool(_EXPLICIT_STYLE.search(bare))
    if interp.remarks and not interp.changes:
        return AfterPreview.order_change  # "make it 10,000,000": an order change the dialog refuses
    if says_order:
        return AfterPreview.unsure if describes and len(bare.split()) > 6 else AfterPreview.order_change
    if explicit_style:
        return AfterPreview.order_change
    if describes or says_style:
        return AfterPreview.feedback
    if interp.yes is not None or len(bare.split()) < 2:
        return AfterPreview.unsure
    return AfterPreview.feedback


def _names_a_label_first(bare: str, draft: SpecDraft) -> bool:
    """"complaints ..." / "the positive ones ...": a sentence about one label's rows."""
    words = re.sub(r"^(?:the|all|those|these|te|wszystkie)\s+", "", bare).split()
    return bool(words) and match_label(words[0], list(draft.labels or [])) is not None
