"""Cost and time of an order before it starts, from what its preview measured.

    figures = PreviewFigures(requests=2, prompt_tokens=900, completion_tokens=400, accepted=6, judged=6, seconds=1.2)
    estimate = estimate_order(spec.quotas(), figures, model="gpt-4o-mini", batch_size=10, concurrency=16)
    estimate.text("en")   # "about 1,240,000 tokens, about $0.31, about 2 minutes"
    budget_problem(estimate, max_cost_usd=1.0, lang="en")   # None, or the refusal to show

With label verification, the rows of the generation answers go to judge requests (core/verify.py),
several answers' rows in one when they arrive within half an answer's time of each other
(core/verify_queue.py): with `concurrency` requests in flight about half of them do; the estimate
counts a quarter (at least one answer, at most JUDGE_BATCH rows a judge request), erring high. A
judge request costs its instructions (rendered here) plus each row's text.
The model: prompt tokens are paid per request (instructions, examples, and once the first round
of requests has answered, the last MAX_RECENT texts of the label), completion tokens per row the model writes;
rejected rows are written and paid for too, so both scale with 1 / acceptance. Requests = rows per label / (batch size x acceptance), rounded up per label;
time = rounds of `concurrency` requests x the preview's latency per round.

Prices: USD per million input / output tokens of common models (list prices, 2025), overridable
with DATAGEN_PRICES="model=in/out,other-model=in/out". A model without a price gets tokens and
time only, and a budget cannot refuse it (there is nothing to compare).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core import messages
from core.concurrency import INITIAL
from core.prompts import MAX_RECENT
from core.verify import JUDGE_BATCH

#: USD per 1,000,000 tokens: (input, output). A dated model name ("gpt-4o-mini-2024-07-18")
#: matches its family by the longest prefix.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
    "claude-3-5-haiku": (0.80, 4.00),
    "claude-3-5-sonnet": (3.00, 15.00),
    "claude-sonnet-4": (3.00, 15.00),
    "gemini-1.5-flash": (0.075, 0.30),
    "gemini-2.0-flash": (0.10, 0.40),
}


#: Where core.concurrency's adaptive limiter starts (it then grows while the server keeps up).
ADAPTIVE_START = INITIAL
#: A row's id and brackets in a judge request's prompt, and its answer per row ({"id": "7", "label": "x"}).
JUDGE_ROW_TOKENS, JUDGE_ANSWER_TOKENS = 2, 8


class PriceError(ValueError):
    """DATAGEN_PRICES cannot be read; the message says which part."""


def parse_prices(text: str) -> dict[str, tuple[float, float]]:
    """"my-model=0.2/0.8, gpt-4o-mini=0.15/0.6" -> {name: (input, output)} per million tokens."""
    prices: dict[str, tuple[float, float]] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        pieces = value.split("/")
        try:
            if not name.strip() or len(pieces) != 2:
                raise ValueError
            price = (float(pieces[0]), float(pieces[1]))
        except ValueError:
            raise PriceError(f"DATAGEN_PRICES: {part!r} is not like 'model=0.15/0.60' (USD per 1M input/output tokens)") from None
        if min(price) < 0 or not all(math.isfinite(p) for p in price):
            raise PriceError(f"DATAGEN_PRICES: {part!r} has a negative or infinite price")
        prices[name.strip().lower()] = price
    return prices


def price_of(model: str, overrides: str = "") -> tuple[float, float] | None:
    table = {**PRICES, **parse_prices(overrides)}
    name = model.strip().lower().rsplit("/", 1)[-1]  # "openai/gpt-4o-mini" on routers
    if name in table:
        return table[name]
    families = [family for family in table if name.startswith(family)]
    return table[max(families, key=len)] if families else None


def cost_of(model: str, prompt_tokens: int, completion_tokens: int, prices: str = "") -> float | None:
    """USD a job cost at list prices; `model` may be a backend's description ("gpt-4o-mini via
    api.openai.com"). None when the model has no price."""
    price = price_of(model.split(" via ", 1)[0], prices)
    return None if price is None else (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000


@dataclass(frozen=True)
class PreviewFigures:
    """What a preview (or any finished job) measured."""

    requests: int
    prompt_tokens: int
    completion_tokens: int
    accepted: int  # rows accepted
    judged: int  # rows accepted + rejected for quality (not "over quota")
    seconds: float  # generation time
    concurrency: int = 1  # requests that ran at once (a preview sends one per label)
    # Share of a written row's characters that are its main text: later requests repeat up to
    # MAX_RECENT earlier texts of their label ("do not repeat these"), which a preview's first
    # requests do not carry yet. 0 leaves that growth out.
    text_share: float = 0.0
    # Label verification (DATAGEN_VERIFY) was on: every generation answer was followed by one
    # judge request showing its rows, so half the requests were the judge's.
    verified: bool = False


def preview_figures(
    *,
    requests: int,
    prompt_tokens: int,
    completion_tokens: int,
    seconds: float,
    rows: Sequence[tuple[Mapping[str, str], str]],
    rejected: Mapping[str, int],
    concurrency: int,
    verified: bool = False,
) -> PreviewFigures:
    """PreviewFigures from a finished preview job: its counters (Job), its accepted rows as
    (fields, main text) pairs and its rejections by reason (Store.rejected_reasons)."""
    judged = len(rows) + sum(n for reason, n in rejected.items() if reason != "over quota")
    row_chars = sum(len(json.dumps(dict(fields), ensure_ascii=False)) for fields, _ in rows)
    text_chars = sum(len(text) for _, text in rows)
    return PreviewFigures(requests, prompt_tokens, completion_tokens, len(rows), judged, seconds, concurrency,
                          text_chars / row_chars if row_chars else 0.0, verified)


@dataclass(frozen=True)
class Estimate:
    requests: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cost_usd: float | None  # None: the model has no price

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def text(self, lang: str | None) -> str:
        parts = [messages.text(lang, "estimate_tokens", tokens=_round_tokens(self.tokens))]
        if self.cost_usd is not None:
            parts.append(messages.text(lang, "estimate_cost", cost=money(self.cost_usd)))
        parts.append(duration(self.seconds, lang))
        return ", ".join(parts)


def estimate_order(
    quotas: Mapping[str, int],
    preview: PreviewFigures,
    *,
    model: str,
    batch_size: int,
    concurrency: int,
    prices: str = "",
) -> Estimate:
    """The whole order's tokens, time and cost, scaled from the preview's figures.

    `concurrency`: requests in flight; with adaptive concurrency (DATAGEN_CONCURRENCY unset) pass
    ADAPTIVE_START, where the limiter begins: the time then errs long, never short."""
    accepted = max(1, preview.accepted)
    acceptance = min(1.0, accepted / max(1, preview.judged))
    prompt_per_request = preview.prompt_tokens / max(1, preview.requests)
    completion_per_row = preview.completion_tokens / accepted  # rejected rows included: they are paid for
    rows_per_request = max(1.0, batch_size * acceptance)
    per_label = [math.ceil(quota / rows_per_request) for quota in quotas.values() if quota > 0]
    requests = sum(per_label)
    # Requests sent once answers have come back repeat up to MAX_RECENT earlier texts of their
    # label; the first round (one per label at least, `concurrency` at most) goes out before any.
    context_per_request = MAX_RECENT * preview.text_share * preview.completion_tokens / max(1, preview.judged)
    later_requests = requests - min(requests, max(concurrency, len(per_label)))
    rows = sum(max(0, quota) for quota in quotas.values())
    rounds_in_preview = max(1, math.ceil(preview.requests / max(1, preview.concurrency)))
    seconds_per_round = preview.seconds / rounds_in_preview
    prompt_tokens = prompt_per_request * requests + context_per_request * later_requests
    if preview.verified:
        # A judge request: its instructions, then each row's text; it answers a short label per
        # row. The preview's answers were judged one per request (a few rows, arriving apart);
        # the order's share requests. Its generation requests are what is left of its figures.
        fixed = judge_instruction_tokens(quotas)
        written = max(0.0, preview.completion_tokens - preview.judged * JUDGE_ANSWER_TOKENS) / max(1, preview.judged)
        text_tokens = preview.text_share * written
        row_tokens = text_tokens + JUDGE_ROW_TOKENS
        preview_pairs = max(1.0, preview.requests / 2)
        generation_prompt = max(0.0, preview.prompt_tokens - preview_pairs * fixed - preview.judged * row_tokens)
        prompt_tokens = (generation_prompt / preview_pairs * requests
                         + MAX_RECENT * text_tokens * later_requests)
        answers_per_judge = max(1, min(concurrency // 4, int(JUDGE_BATCH // rows_per_request)))
        judge_requests = math.ceil(requests / answers_per_judge)
        prompt_tokens += judge_requests * fixed + rows / acceptance * row_tokens
        requests += judge_requests
    prompt_tokens = round(prompt_tokens)
    completion_tokens = round(completion_per_row * rows)  # the judge's answers are in the preview's too
    cost = cost_of(model, prompt_tokens, completion_tokens, prices)
    return Estimate(requests, prompt_tokens, completion_tokens, math.ceil(requests / concurrency) * seconds_per_round, cost)


def judge_instruction_tokens(quotas: Mapping[str, int]) -> float:
    """Tokens of a judge request without its rows (core/classify.py's prompt, 4 characters a token)."""
    from core.classify import ClassifyTask, render_messages

    labels = tuple(label for label in quotas if label) or ("label",)
    messages = render_messages([], ClassifyTask(labels=labels), structured=True)
    return sum(len(message["content"]) for message in messages) / 4


def budget_problem(estimate: Estimate, max_cost_usd: float | None, lang: str | None) -> str | None:
    """The refusal to show when the estimate is over DATAGEN_MAX_COST_USD, else None."""
    if max_cost_usd is None or estimate.cost_usd is None or estimate.cost_usd <= max_cost_usd:
        return None
    return messages.text(lang, "estimate_over_budget", cost=money(estimate.cost_usd), limit=money(max_cost_usd))


# --- wording ------------------------------------------------------------------------------------


def _round_tokens(tokens: int) -> str:
    # Three significant figures: 1,237,412 -> 1,240,000; an estimate is not more exact than that.
    if tokens < 1000:
        return f"{tokens:,}"
    digits = len(str(tokens)) - 3
    return f"{round(tokens, -digits):,}"


def money(usd: float) -> str:
    if usd < 0.01:
        return "<$0.01"
    return f"${usd:,.2f}" if usd < 100 else f"${usd:,.0f}"


def duration(seconds: float, lang: str | None) -> str:
    if seconds < 60:
        return messages.text(lang, "estimate_under_minute")
    minutes = round(seconds / 60)
    if minutes == 1:
        return messages.text(lang, "estimate_one_minute")
    if minutes < 90:
        return messages.text(lang, "estimate_minutes", n=minutes)
    return messages.text(lang, "estimate_hours", n=round(seconds / 3600, 1))
