"""Variety and quality figures of a finished dataset, for the card and the delivery message.

- distinct n-grams (distinct-1/2/3, Li et al. 2016): unique word n-grams / all word n-grams;
  the user-readable line is built on 2-word phrases, which react to template-like rows;
- near-duplicates and duplicates the engine threw away (its rejections by reason);
- a similarity spread: for each row, its estimated similarity to the closest other row, from
  the MinHash signatures core.quality's duplicate index computes (share of equal values);
  the median and 90th percentile say whether rows circle a few situations;
- text length per label (characters), and the language share when the language is checked.

Pure functions of the rows and the job's counters: the chat layer turns them into a message.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from core import language as lang_check
from core import messages
from core.duplicates import DuplicateIndex
from core.quality import row_text
from core.spec import DatasetSpec, TaskType

#: Above this many rows the similarity spread is estimated on a fixed sample (all pairs of 2,000
#: rows take ~0.3 s; a 100,000-row job would take hours).
SIMILARITY_SAMPLE = 2_000
#: Levels of the user-readable line, on the share of unique 2-word phrases.
HIGH_VARIETY, MEDIUM_VARIETY = 0.8, 0.5

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class LengthSpread:
    rows: int
    shortest: int
    median: int
    p90: int
    longest: int


@dataclass(frozen=True)
class VarietyReport:
    rows: int
    distinct: dict[int, float]  # n -> unique n-grams / all n-grams (1.0 when there are none)
    duplicates: int  # exact copies rejected by the engine
    near_duplicates: int  # near copies rejected by the engine
    closest_median: float  # estimated similarity of a row to its closest other row, median
    closest_p90: float
    lengths: dict[str, LengthSpread]  # per label ("" for tasks without labels)
    rejected: dict[str, int] = field(default_factory=dict)  # by reason, as the engine stored them
    language_share: float | None = None  # share of rows in the ordered language (None: not checked)

    @property
    def level(self) -> str:
        share = self.distinct.get(2, 1.0)
        return "high" if share >= HIGH_VARIETY else "medium" if share >= MEDIUM_VARIETY else "low"

    def summary(self, lang: str | None) -> str:
        """"high variety: 94% of 2-word phrases unique" in the user's language."""
        level = messages.text(lang, f"variety_{self.level}")
        return messages.text(lang, "variety_line", level=level, percent=round(100 * self.distinct.get(2, 1.0)))

    def card_section(self, lang: str | None = "en") -> list[str]:
        """Markdown lines for the dataset card, in the card's language."""
        def t(key: str, **values: object) -> str:
            return messages.text(lang, key, **values)

        summary = self.summary(lang)
        lines = [f"## {t('card_variety')}", "", f"- {summary[:1].upper()}{summary[1:]}"]
        lines.append("- " + t("card_distinct", shares=", ".join(
            t("card_distinct_n", n=n, share=f"{share:.0%}") for n, share in sorted(self.distinct.items()))))
        lines.append("- " + t("card_variety_duplicates", exact=self.duplicates, near=self.near_duplicates))
        lines.append("- " + t("card_similarity", median=f"{self.closest_median:.2f}", p90=f"{self.closest_p90:.2f}"))
        if self.language_share is not None:
            lines.append("- " + t("card_language_share", share=f"{self.language_share:.0%}"))
        if self.lengths:
            lines += ["", t("card_lengths_header"), "|---|---:|---:|---:|---:|---:|"]
            for label, spread in self.lengths.items():
                name = label.replace("|", chr(92) + "|") or f"({t('card_all')})"
                lines.append(f"| {name} | {spread.rows} | {spread.shortest} | "
                             f"{spread.median} | {spread.p90} | {spread.longest} |")
            lines.append("")
            lines.append(t("card_lengths_note"))
        lines.append("")
        return lines


class _Row(Protocol):
    label: str
    fields: dict[str, str]


def pairs_of(task: TaskType, rows: Iterable[_Row]) -> list[tuple[str, str]]:
    """(label, main text) of stored rows (storage's StoredRow), what measure() and the chart take."""
    return [(row.label, row_text(task, row.fields)) for row in rows]


def spec_pairs(spec: DatasetSpec, rows: Iterable[_Row]) -> list[tuple[str, str]]:
    """pairs_of for any task, the row model's too: its main text is what its duplicates are judged on."""
    from core.rows.rules import RowRules  # the row model's presets load lazily: only a delivery needs them

    rules = RowRules(spec)
    return [(row.label, rules.text_of(row.fields)) for row in rows]


def distinct_ngrams(texts: Sequence[str], n: int) -> float:
    """Unique word n-grams / all word n-grams over the texts (1.0 when there are none)."""
    grams: Counter[tuple[str, ...]] = Counter()
    for text in texts:
        words = _WORD.findall(text.casefold())
        grams.update(zip(*(words[i:] for i in range(n))))
    total = sum(grams.values())
    return len(grams) / total if total else 1.0


def closest_similarities(texts: Sequence[str], *, sample: int = SIMILARITY_SAMPLE, seed: int = 0) -> np.ndarray:
    """Each (sampled) row's estimated similarity to its closest other row, from MinHash."""
    if len(texts) < 2:
        return np.zeros(0)
    if len(texts) > sample:
        chosen = np.random.default_rng(seed).choice(len(texts), size=sample, replace=False)
        texts = [texts[i] for i in sorted(chosen)]
    signatures = DuplicateIndex().minhashes(texts)
    count, width = signatures.shape
    closest = np.zeros(count)
    for start in range(0, count, 256):  # 256 x n x 40 comparisons at a time: bounded memory
        block = signatures[start : start + 256]
        similar = (block[:, None, :] == signatures[None, :, :]).sum(axis=2) / width
        similar[np.arange(len(block)), np.arange(start, start + len(block))] = 0.0  # not itself
        closest[start : start + len(block)] = similar.max(axis=1)
    return closest


def _spread(texts: Sequence[str]) -> LengthSpread:
    lengths = np.array([len(text) for text in texts])
    return LengthSpread(len(texts), int(lengths.min()), int(np.median(lengths)), int(np.percentile(lengths, 90)),
                        int(lengths.max()))


def measure(
    rows: Sequence[tuple[str, str]],
    rejected: Mapping[str, int] | None = None,
    *,
    language: str | None = None,
    check_language: bool = False,
) -> VarietyReport:
    """The figures for `rows` as (label, main text) pairs ("" as the label for tasks without one),
    with the engine's rejections by reason (Store.rejected_reasons)."""
    texts = [text for _, text in rows]
    by_label: dict[str, list[str]] = {}
    for label, text in rows:
        by_label.setdefault(label, []).append(text)
    closest = closest_similarities(texts)
    rejected = dict(rejected or {})
    return VarietyReport(
        rows=len(texts),
        distinct={n: distinct_ngrams(texts, n) for n in (1, 2, 3)},
        duplicates=rejected.get("duplicate", 0),
        near_duplicates=rejected.get("near-duplicate", 0),
        closest_median=float(np.median(closest)) if len(closest) else 0.0,
        closest_p90=float(np.percentile(closest, 90)) if len(closest) else 0.0,
        lengths={label: _spread(group) for label, group in by_label.items()},
        rejected=rejected,
        language_share=_language_share(texts, rejected, language, check_language),
    )


def _language_share(texts: Sequence[str], rejected: Mapping[str, int], language: str | None,
                    checked: bool) -> float | None:
    """With the check on, accepted rows passed it: the share is of all rows the model wrote
    that were judged. With it off, the delivered rows are measured now."""
    if not lang_check.is_checked(language):
        return None
    if checked:
        wrong = rejected.get(lang_check.REASON, 0)
        return len(texts) / (len(texts) + wrong) if texts or wrong else None
    return lang_check.language_share(list(texts), language)
