"""How a user names the labels of their rows (core/annotation_labels.py): lists with descriptions."""

from __future__ import annotations

import pytest

from core.annotation_labels import described_labels


@pytest.mark.parametrize(("text", "labels", "descriptions"), [
    ("labels: refund - wants money back, bug - something broken",
     ["refund", "bug"], {"refund": "wants money back", "bug": "something broken"}),
    ("zwrot – chce pieniędzy; błąd – coś nie działa; inne",
     ["zwrot", "błąd", "inne"], {"zwrot": "chce pieniędzy", "błąd": "coś nie działa"}),
    # a last label without a description after a comma is a label, not the end of the description before it
    ("zwrot - klient chce oddać towar, błąd - coś nie działa, inne",
     ["zwrot", "błąd", "inne"], {"zwrot": "klient chce oddać towar", "błąd": "coś nie działa"}),
    ("refund - wants money back, bug - something broken, other",
     ["refund", "bug", "other"], {"refund": "wants money back", "bug": "something broken"}),
    ("zwrot - klient chce oddać towar, błąd - coś nie działa, inne sprawy",
     ["zwrot", "błąd", "inne sprawy"], {"zwrot": "klient chce oddać towar", "błąd": "coś nie działa"}),
    # after a closed "(...)" a comma starts the next label
    ("spam (ads), ham, other", ["spam", "ham", "other"], {"spam": "ads"}),
    # a description that goes on after a comma keeps its words
    ("refund - wants money, a refund, or credit, bug - broken",
     ["refund", "bug"], {"refund": "wants money, a refund, or credit", "bug": "broken"}),
    ("refund - wants money back, bug - broken, etc.",
     ["refund", "bug"], {"refund": "wants money back", "bug": "broken, etc"}),
    ("bug - broken, crashes, or freezes, refund - money",
     ["bug", "refund"], {"bug": "broken, crashes, or freezes", "refund": "money"}),
])
def test_described_labels(text: str, labels: list[str], descriptions: dict[str, str]) -> None:
    assert described_labels(text) == (labels, descriptions)


@pytest.mark.parametrize("text", ["complaint, order_status or greeting", "refund - wants money back", "sentiment"])
def test_lists_without_two_labels_and_a_description_are_left_to_the_plain_reader(text: str) -> None:
    assert described_labels(text) is None
