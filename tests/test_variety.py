"""core.variety: distinct n-grams, the similarity spread from MinHash, lengths per label and the
line the user reads, on datasets whose variety is known by construction."""

from __future__ import annotations

import random

import pytest

from core.variety import closest_similarities, distinct_ngrams, measure

_LETTERS = random.Random(0)
WORDS = ["".join(_LETTERS.choices("abcdefghijklmnopqrstuvwxyz", k=_LETTERS.randint(3, 9))) for _ in range(3000)]


def varied(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.sample(WORDS, rng.randint(8, 14))) for _ in range(n)]


def templated(n: int) -> list[str]:
    # What a model stuck in one situation writes: one frame, one slot.
    return [f"I really loved my stay at the hotel number {i} and would come back" for i in range(n)]


def test_distinct_ngrams_counts_repeated_phrases() -> None:
    assert distinct_ngrams(["a b c", "A b d"], 2) == pytest.approx(3 / 4)  # "a b" twice (case folded)
    assert distinct_ngrams(["a b c", "a b d"], 1) == pytest.approx(4 / 6)
    assert distinct_ngrams(["one"], 2) == 1.0  # no 2-word phrase at all: nothing repeats


def test_closest_similarity_separates_copies_from_unrelated_rows() -> None:
    unrelated = closest_similarities(varied(200))
    assert float(unrelated.max()) < 0.2
    copies = closest_similarities(["The parcel came two days late and the box was torn."] * 2 + varied(5))
    assert copies[0] == 1.0 and copies[1] == 1.0
    near = closest_similarities(templated(50))
    assert float(near.min()) > 0.5


def test_similarity_is_sampled_for_big_jobs() -> None:
    assert len(closest_similarities(varied(300), sample=100)) == 100


def test_user_line_and_level() -> None:
    high = measure([("positive", t) for t in varied(300)])
    assert high.level == "high"
    percent = round(100 * high.distinct[2])
    assert high.summary("en") == f"high variety: {percent}% of 2-word phrases unique"
    assert high.summary("pl") == f"wysoka różnorodność: {percent}% dwuwyrazowych fraz się nie powtarza"
    low = measure([("positive", t) for t in templated(300)])
    assert low.level == "low" and low.distinct[2] < 0.5
    assert low.closest_median > 0.5 > high.closest_median


def test_lengths_rejections_and_language_share() -> None:
    rows = [("positive", "x" * n) for n in (10, 20, 30, 40, 50)] + [("negative", "y" * 100)]
    report = measure(rows, {"near-duplicate": 3, "duplicate": 2, "wrong language": 4, "bad label": 1},
                     language="Polish", check_language=True)
    assert report.lengths["positive"].rows == 5
    assert (report.lengths["positive"].shortest, report.lengths["positive"].median,
            report.lengths["positive"].longest) == (10, 30, 50)
    assert report.lengths["negative"].median == 100
    assert (report.duplicates, report.near_duplicates) == (2, 3)
    assert report.language_share == pytest.approx(6 / 10)  # 6 delivered, 4 thrown away for language
    assert measure(rows, language="English", check_language=True).language_share is None
    card = "\n".join(report.card_section())
    assert "Removed as duplicates: 2 exact, 3 near" in card
    assert "| positive | 5 | 10 | 30 | 46 | 50 |" in card
    assert "60% of the rows checked" in card
