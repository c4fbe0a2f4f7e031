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

Modules, in the order a message flows through them:
    text.py         folding, template lines, masking, yes / no / skip
    numbers.py      numbers as people write them; exact splits of a total
    languages.py    the data language a message names; the language the user writes in
    labels.py       presets, sentiment / toxicity words (EN + PL), label lists
    find_labels.py  finders for labels, label changes, shares and per-label counts
    find_fields.py  finders for the total, task, data language, format, tone, topic, instructions
    interpret.py    one message -> an Interpretation (the finders in order)
    draft.py        SpecDraft: what is missing, the summary, the validated spec
    reconcile.py    apply(): draft + interpretation -> the updated draft
    extraction.py   the LLM's structured reading, merged under the rules
"""

from core.intake.after_preview import AfterPreview, classify_after_preview
from core.intake.draft import DEFAULT_FORMAT, DEFAULT_TONE, SpecDraft
from core.intake.extraction import EXTRACTION_SCHEMA, ExtractedOrder, extract_with_llm, merge_llm
from core.intake.interpret import FAVOURED, Interpretation, interpret
from core.intake.labels import INTENT_LABELS, PRESETS, SENTIMENT_LABELS, TOXICITY_LABELS, canonical_label, split_label_list
from core.intake.languages import detect_language, language_name
from core.intake.numbers import HUGE_NUMBER, allocate, parse_number, shares_to_counts
from core.intake.questions import Intent, Remark
from core.intake.reconcile import apply
from core.intake.text import MAX_RULES_CHARS, fold

__all__ = [
    "AfterPreview", "classify_after_preview",
    "DEFAULT_FORMAT", "DEFAULT_TONE", "FAVOURED", "EXTRACTION_SCHEMA", "ExtractedOrder", "HUGE_NUMBER", "INTENT_LABELS", "MAX_RULES_CHARS", "PRESETS",
    "SENTIMENT_LABELS", "TOXICITY_LABELS", "Intent", "Interpretation", "Remark", "SpecDraft", "allocate", "apply", "canonical_label",
    "detect_language", "extract_with_llm", "fold", "interpret", "language_name", "merge_llm",
    "parse_number", "shares_to_counts", "split_label_list",
]
