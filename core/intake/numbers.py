"""Numbers as people write them (1,000 / 1k / 2,5 tys. / 10^12 / ten) and exact splits of a total."""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from core.spec import split_evenly

#: Numbers are clamped here: such orders are rejected anyway, and the number must stay printable.
HUGE_NUMBER = 10**30


def format_count(number: int) -> str:
    return f"{number:,}"



def allocate(total: int, weights: dict[str, Any]) -> dict[str, int]:
    """Split `total` in proportion to `weights`, exactly (largest remainder; ties by order)."""
    keys = list(weights)
    if not keys:
        return {}
    fractions = {key: _fraction(weights[key]) for key in keys}
    weight_sum = sum(fractions.values(), Fraction(0))
    if weight_sum <= 0:
        return split_evenly(total, keys)
    exact = {key: total * fractions[key] / weight_sum for key in keys}
    result = {key: math.floor(exact[key]) for key in keys}
    left = total - sum(result.values())
    by_remainder = sorted(range(len(keys)), key=lambda i: (-(exact[keys[i]] - result[keys[i]]), i))
    for i in by_remainder[: max(0, left)]:
        result[keys[i]] += 1
    return result


def _fraction(value: Any) -> Fraction:
    if isinstance(value, float):
        return Fraction(value).limit_denominator(10**6) if math.isfinite(value) else Fraction(0)
    return Fraction(value)


def shares_to_counts(total: int, shares: dict[str, float], labels: list[str]) -> dict[str, int] | None:
    """Exact counts from shares ("70% positive"); labels without a share split what is left.
    None when the shares cannot make 100% (over 100%, or under 100% with no label left to fill)."""
    covered = {label: shares[label] for label in labels if label in shares}
    share_sum = sum(covered.values())
    rest = [label for label in labels if label not in covered]
    if share_sum > 1.005 or (not rest and share_sum < 0.995):
        return None
    weights: dict[str, Any] = {label: _fraction(value) for label, value in covered.items()}
    leftover = max(Fraction(0), 1 - sum(weights.values(), Fraction(0)))
    for label in rest:
        weights[label] = leftover / len(rest)
    ordered = {label: weights[label] for label in labels}
    return allocate(total, ordered)


WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50, "hundred": 100, "a hundred": 100, "a thousand": 1000, "a dozen": 12, "dozen": 12,
    "dwa": 2, "dwie": 2, "trzy": 3, "cztery": 4, "piec": 5, "szesc": 6, "siedem": 7, "osiem": 8,
    "dziewiec": 9, "dziesiec": 10, "dwadziescia": 20, "trzydziesci": 30, "piecdziesiat": 50, "sto": 100,
    "tysiac": 1000, "dwiescie": 200, "trzysta": 300, "czterysta": 400, "piecset": 500, "szescset": 600,
    "siedemset": 700, "osiemset": 800, "dziewiecset": 900, "dwa tysiace": 2000,
}
WORD_NUMBER_RE = "|".join(sorted((re.escape(w) for w in WORD_NUMBERS), key=len, reverse=True))
_MULTIPLIER = r"(?:k|thousand|thousands|tys\.?|tysiecy|tysiace|mln|million|millions|milion\w*)"
# One number as people write it: 1,000 / 1 000 / 1k / 2,5 tys. / 10^12 / 1e6 / 200 / ten.
NUM = (
    r"(?<![\w.,^])(?:\d+\s*\^\s*\d+|\d+(?:\.\d+)?e\d+|\d{1,3}(?:,\d{3})+(?![\d,])"
    r"|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)|\d+(?:[.,]\d+)?\s*" + _MULTIPLIER + r"(?![\w])|\d+"
    r"|(?:" + WORD_NUMBER_RE + r")(?:[ -](?:hundred|thousand))?)(?![\w])"
)


def parse_number(raw: str) -> int | None:
    """'1,000' -> 1000, '1k' -> 1000, '10^12' -> 10**12; None for what is not a whole number.
    Clamped to HUGE_NUMBER so absurd inputs stay cheap and printable."""
    s = raw.strip().lower().replace("\u00a0", " ").replace("\u202f", " ")
    if s in WORD_NUMBERS:
        return WORD_NUMBERS[s]
    scaled = re.fullmatch(r"(.+?)[ -](hundred|thousand)", s)  # "five hundred", "two thousand"
    if scaled and scaled.group(1) in WORD_NUMBERS:
        return WORD_NUMBERS[scaled.group(1)] * (100 if scaled.group(2) == "hundred" else 1000)
    power = re.fullmatch(r"(\d+)\s*\^\s*(\d+)", s)
    if power:
        return _power(_int(power.group(1)), _int(power.group(2)))
    sci = re.fullmatch(r"(\d+(?:\.\d+)?)e(\d+)", s)
    if sci:
        mantissa, exponent = Fraction(sci.group(1)[:40]), _int(sci.group(2))
        if exponent > 40:
            return HUGE_NUMBER
        return clamp(int(mantissa * 10**exponent))
    multiplied = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(" + _MULTIPLIER + r")", s)
    if multiplied:
        number = multiplied.group(1).replace(",", ".")
        if len(number) > 40:
            return HUGE_NUMBER
        factor = 1_000_000 if multiplied.group(2).startswith(("m", "mln")) else 1000
        return clamp(int(Fraction(number) * factor))
    if re.fullmatch(r"\d{1,3}(?:[, ]\d{3})+", s):
        return _int(re.sub(r"[, ]", "", s))
    if s.isdecimal():  # any script's decimal digits ("٣٠"); never "²" or "①" (isdigit, but int() fails)
        return _int(s)
    return None


def _int(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    if len(digits) > 30:  # int() of thousands of digits is slow and limited; the value is rejected anyway
        return HUGE_NUMBER
    return clamp(int(digits))


def _power(base: int, exponent: int) -> int:
    if base <= 1:
        return base
    if exponent * math.log10(base) > 30:
        return HUGE_NUMBER
    return clamp(base**exponent)


def clamp(value: int) -> int:
    return min(value, HUGE_NUMBER)

