"""Spending limits: a running job's (DATAGEN_MAX_COST_USD) and a chat user's day (DATAGEN_USER_DAILY_BUDGET_USD).

    budget = RunBudget.for_job(settings, model, prompt_tokens=job.prompt_tokens, completion_tokens=...,
                               requests=job.requests)
    budget.allows(in_flight=3, usage=state.usage, requests=state.requests)  # may one more request start?
    budget.stop_error()          # the job's stored error when it stops: "budget reached: spent $0.48 of $0.50 ..."
    describe(job.error, "pl")    # that error in the user's language (None: not a budget stop)

A running job stops before a request that would take it over the per-order limit: its spending so
far (every run of the job, at list prices, core.estimate) plus the requests in flight and the next
one, each at the highest cost of a request so far (the average of earlier runs before this run's first answer). It stops as "failed" with the budget error (its
rows are kept); Generate all, or `datagen generate` run again, continues it once the limit is raised.
A model without a price cannot be limited (there is nothing to compare). The judge's tokens
(label verification) are priced as the generating model's: the job stores one total.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from core import estimate, messages

STOP_PREFIX = "budget reached"
GROWTH_MARGIN = 1.25
_STOP = re.compile(r"^budget reached: spent (?P<spent>\S+) of (?P<limit>\S+) ")


@dataclass
class RunBudget:
    limit_usd: float
    price: tuple[float, float]  # USD per 1M input / output tokens
    prompt_before: int  # the job's totals from its earlier runs
    completion_before: int
    requests_before: int
    # The most a request has cost so far (measured between calls of `allows`): later requests of a
    # job carry more context ("do not repeat these"), so the average would let the job go over.
    _per_request: float = 0.0
    _seen: tuple[int, float] = (0, 0.0)  # this run's (requests, cost) at the last measurement

    @classmethod
    def for_job(cls, settings: Any, model: str, *, prompt_tokens: int, completion_tokens: int,
                requests: int) -> "RunBudget | None":
        """None when there is no limit or the model has no price."""
        limit = getattr(settings, "max_cost_usd", None)
        if limit is None:
            return None
        try:
            price = estimate.price_of(model.split(" via ", 1)[0], getattr(settings, "prices", ""))
        except estimate.PriceError:
            return None
        if price is None:
            return None
        return cls(limit, price, prompt_tokens, completion_tokens, requests)

    def _cost(self, prompt: int, completion: int) -> float:
        return (prompt * self.price[0] + completion * self.price[1]) / 1_000_000

    def spent(self, prompt: int, completion: int) -> float:
        """USD of every run so far, this run's `prompt` / `completion` tokens included."""
        return self._cost(self.prompt_before + prompt, self.completion_before + completion)

    def allows(self, *, in_flight: int, prompt: int, completion: int, requests: int) -> bool:
        """May one more generation request start, with `in_flight` already waiting? `requests`:
        this run's answered generation requests, whose tokens (their verification's included)
        are `prompt` / `completion`."""
        spent = self.spent(prompt, completion)
        if spent >= self.limit_usd:
            return False
        run_cost = self._cost(prompt, completion)
        if requests > self._seen[0]:
            self._per_request = max(self._per_request, (run_cost - self._seen[1]) / (requests - self._seen[0]))
            self._seen = (requests, run_cost)
        if requests:
            # Requests sent once answers are in carry up to MAX_RECENT earlier texts that the first
            # ones did not: a margin, so a first round of many requests does not go over.
            per_request = self._per_request * GROWTH_MARGIN
        elif self.requests_before:
            per_request = self._cost(self.prompt_before, self.completion_before) / self.requests_before
        else:  # nothing measured yet: one request at a time until the first answer says what one costs
            return in_flight == 0
        return spent + (in_flight + 1) * per_request <= self.limit_usd

    def stop_error(self, prompt: int, completion: int) -> str:
        return (f"{STOP_PREFIX}: spent {estimate.money(self.spent(prompt, completion))} of "
                f"{estimate.money(self.limit_usd)} per order (DATAGEN_MAX_COST_USD); raise it and run the job again "
                "to continue, its rows are kept")


def describe(error: str | None, lang: str | None) -> str | None:
    """A budget stop's stored error in the user's language; None for any other error."""
    found = _STOP.match(error or "")
    if found is None:
        return None
    return messages.text(lang, "budget_stopped", spent=found["spent"], limit=found["limit"])


# --- a chat user's day ---------------------------------------------------------------------------


def spent_by(jobs: Iterable[Any], prices: str = "") -> float:
    """USD the jobs cost at list prices (their stored tokens); a job whose model has no price counts 0."""
    total = 0.0
    for job in jobs:
        try:
            cost = estimate.cost_of((job.model or "").split("; ", 1)[0], job.prompt_tokens, job.completion_tokens, prices)
        except estimate.PriceError:
            cost = None
        total += cost or 0.0
    return total


def daily_problem(spent: float, order_cost: float | None, daily_usd: float | None, lang: str | None) -> str | None:
    """The refusal when the user's spending in the last 24 h plus this order's estimate is over
    their daily budget (or the budget is used up already); None when the order may start."""
    if daily_usd is None:
        return None
    left = max(0.0, daily_usd - spent)
    if spent >= daily_usd:
        return messages.text(lang, "daily_budget_used", limit=estimate.money(daily_usd), spent=estimate.money(spent))
    if order_cost is not None and order_cost > left:
        return messages.text(lang, "daily_budget_over", cost=estimate.money(order_cost), left=_left(left),
                             limit=estimate.money(daily_usd))
    return None


def _left(usd: float) -> str:
    return f"${usd:,.2f}"
