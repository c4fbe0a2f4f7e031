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

A chat's dataset job also has a cap from its user's day (DATAGEN_USER_DAILY_BUDGET_USD): at
Generate all, the job's spending so far plus what is left of the day (`daily_cap`), stored with
the job so a resume or an external worker stops at the same place; the run's limit is the lower
of the two, and the stop says which one it reached. The next Generate all stores a fresh cap.
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
_DAILY_STOP = re.compile(r"of the user's daily budget of (?P<daily>\S+) \(DATAGEN_USER_DAILY_BUDGET_USD\), "
                         r"(?P<left>\S+) left")


@dataclass
class RunBudget:
    limit_usd: float
    price: tuple[float, float]  # USD per 1M input / output tokens
    prompt_before: int  # the job's totals from its earlier runs
    completion_before: int
    requests_before: int
    daily_usd: float | None = None  # set when the limit is the user's daily cap (lower than per order)
    # The most a request has cost so far (measured between calls of `allows`): later requests of a
    # job carry more context ("do not repeat these"), so the average would let the job go over.
    _per_request: float = 0.0
    _seen: tuple[int, float] = (0, 0.0)  # this run's (requests, cost) at the last measurement

    @classmethod
    def for_job(cls, settings: Any, model: str, *, prompt_tokens: int, completion_tokens: int,
                requests: int, cap: tuple[float, float] | None = None) -> "RunBudget | None":
        """None when there is no limit or the model has no price. `cap`: the job's stored
        (limit, daily budget) from its user's day (JobStore.job_cost_cap)."""
        limit = getattr(settings, "max_cost_usd", None)
        daily = None
        if cap is not None and (limit is None or cap[0] < limit):
            limit, daily = cap
        if limit is None:
            return None
        try:
            price = estimate.price_of(model.split(" via ", 1)[0], getattr(settings, "prices", ""))
        except estimate.PriceError:
            return None
        if price is None:
            return None
        return cls(limit, price, prompt_tokens, completion_tokens, requests, daily)

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
        spent = self.spent(prompt, completion)
        head = f"{STOP_PREFIX}: spent {estimate.money(spent)} of {estimate.money(self.limit_usd)} "
        if self.daily_usd is not None:
            left = _left(max(0.0, self.limit_usd - spent))
            return (head + f"this job could use of the user's daily budget of {estimate.money(self.daily_usd)} "
                    f"(DATAGEN_USER_DAILY_BUDGET_USD), {left} left; Generate all continues it once the day "
                    "leaves room, its rows are kept")
        return head + ("per order (DATAGEN_MAX_COST_USD); raise it and run the job again to continue, its rows "
                       "are kept")


def describe(error: str | None, lang: str | None) -> str | None:
    """A budget stop's stored error in the user's language; None for any other error."""
    found = _STOP.match(error or "")
    if found is None:
        return None
    daily = _DAILY_STOP.search(error or "")
    if daily is not None:
        return messages.text(lang, "daily_budget_stopped", spent=found["spent"], daily=daily["daily"],
                             left=daily["left"])
    return messages.text(lang, "budget_stopped", spent=found["spent"], limit=found["limit"])


# --- a chat user's day ---------------------------------------------------------------------------


def spent_by(jobs: Iterable[Any], prices: str = "", reserved: dict[int, float] | None = None) -> float:
    """USD the jobs cost at list prices (their stored tokens); a job whose model has no price counts 0.
    `reserved`: job id -> the cap of a job still running, counted whole (it may still spend it)."""
    total = 0.0
    for job in jobs:
        try:
            cost = estimate.cost_of((job.model or "").split("; ", 1)[0], job.prompt_tokens, job.completion_tokens, prices)
        except estimate.PriceError:
            cost = None
        total += max(cost or 0.0, (reserved or {}).get(job.id, 0.0))
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


def daily_cap(job_spent: float, spent_today: float, daily_usd: float | None) -> tuple[float, float] | None:
    """The (limit, daily budget) a chat job may spend in all (every run) when its user presses
    Generate all: what it spent already plus what is left of the day. `spent_today` is measured
    before a stopped job is reopened, so its own spending is in it only when it was in the last
    24 hours (a job stopped yesterday gets a whole new day). None without a daily budget."""
    if daily_usd is None:
        return None
    return job_spent + max(0.0, daily_usd - spent_today), daily_usd


def _left(usd: float) -> str:
    return f"${usd:,.2f}"
