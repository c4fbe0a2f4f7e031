"""The card's document figures: questions per document (and per type), next to each document's
share of the text, so coverage can be read at a glance; and the grounding check's outcome; in the card's language (`lang`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from core import messages
from core.documents import grounding
from core.documents.passages import SOURCE_SEPARATOR, Passage


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def document_lines(passages: Sequence[Passage], rows: Sequence[Mapping[str, Any]], types: Sequence[str],
                   rejected: Mapping[str, int], verified: bool, lang: str = "en") -> list[str]:
    """Markdown lines: a table of documents (text share, passages, questions per type) and the
    grounding check's rejections. A reasoning question over two documents counts for both."""
    document_of = {passage.source: passage.document for passage in passages}
    text = Counter()
    passage_count = Counter()
    for passage in passages:
        text[passage.document] += len(passage.text)
        passage_count[passage.document] += 1
    total_text = sum(text.values()) or 1
    per_type: dict[str, Counter[str]] = {document: Counter() for document in text}
    for row in rows:
        documents = {document_of.get(source, source) for source in str(row.get("source", "")).split(SOURCE_SEPARATOR)}
        for document in documents:
            per_type.setdefault(document, Counter())[str(row.get("question_type", ""))] += 1
    def t(key: str, **values: object) -> str:
        return messages.text(lang, key, **values)

    header = t("card_documents_header") + "".join(f" {_cell(kind)} |" for kind in types)
    lines = [f"## {t('card_documents')}", "", header, "|---|---:|---:|---:|" + "---:|" * len(types)]
    for document, counts in per_type.items():
        lines.append(f"| {_cell(document)} | {text[document] / total_text:.0%} | {passage_count[document]} | "
                     f"{sum(counts.values())} | " + " | ".join(str(counts.get(kind, 0)) for kind in types) + " |")
    lines += ["", t("card_documents_note"), "", f"## {t('card_grounding')}", ""]
    if verified:
        return [*lines, t("card_grounding_on"), "",
                f"- {t('card_grounding_unsupported', n=rejected.get(grounding.UNSUPPORTED, 0))}",
                f"- {t('card_grounding_answerable', n=rejected.get(grounding.ANSWERABLE, 0))}", ""]
    return [*lines, t("card_grounding_off"), ""]
