"""The order's cost and time before "Generate all", from what its last preview measured (core.estimate).

Shown under the preview; an order whose estimate is over DATAGEN_MAX_COST_USD, or over what is left
of the user's DATAGEN_USER_DAILY_BUDGET_USD, is refused before its job is created. Recomputed each
time from the current order, so a changed count counts. A job that starts gets what is left of the
day as its cap (`store_daily_cap`), so it also stops while running when the estimate was low.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from core import budget, estimate
from core.conversation.reply_threads import blocking
from core.conversation.turn import Turn
from core.rows.rules import RowRules
from core.spec import DatasetSpec
from core.verify import VERIFIED_BY


def order_estimate(store: Any, settings: Any, spec: DatasetSpec, preview_job_id: int | None) -> estimate.Estimate | None:
    """The whole order's estimate scaled from its preview job; None without a finished preview.
    Blocking (storage reads): call it in a thread."""
    job = store.get_job(preview_job_id) if preview_job_id else None
    if job is None or job.status != "done" or not job.requests:
        return None
    preview_spec = DatasetSpec.model_validate_json(job.spec_json, context={"max_count": 10**12})
    rows = store.accepted_rows(preview_job_id, sources=("synthetic",))
    rules = RowRules(preview_spec)  # the main text of any task, the row model's too
    # The attributes request is the preview's alone: the order's job reuses its answer.
    asked, asked_prompt, asked_completion = store.attributes_usage(preview_job_id)
    figures = estimate.preview_figures(
        requests=job.requests - asked, prompt_tokens=job.prompt_tokens - asked_prompt,
        completion_tokens=job.completion_tokens - asked_completion,
        seconds=job.elapsed_seconds, rows=[(row.fields, rules.text_of(row.fields)) for row in rows],
        rejected=store.rejected_reasons(preview_job_id),
        concurrency=max(1, len(preview_spec.quotas())),  # a preview sends one request per label at once
        verified=VERIFIED_BY in (job.model or ""),
    )
    try:
        return estimate.estimate_order(spec.quotas(), figures, model=job.model or "", batch_size=settings.batch_size,
                                       concurrency=settings.concurrency or estimate.ADAPTIVE_START,
                                       prices=settings.prices)
    except estimate.PriceError:  # a bad DATAGEN_PRICES: no estimate rather than no order
        return None


async def estimate_for(turn: Turn, spec: DatasetSpec) -> estimate.Estimate | None:
    dialog = turn.dialog
    return await blocking(order_estimate, dialog.store, dialog.settings, spec, turn.state.preview_job)


async def over_budget(turn: Turn, spec: DatasetSpec) -> str | None:
    """The refusal to show when the order's estimate is over DATAGEN_MAX_COST_USD, else None."""
    limit = turn.dialog.settings.max_cost_usd
    if limit is None:
        return None
    found = await estimate_for(turn, spec)
    return estimate.budget_problem(found, limit, turn.lang) if found is not None else None


def spent_today(store: Any, settings: Any, channel: str, user: str) -> float:
    """USD the user's jobs on this channel cost in the last 24 hours (stored tokens, list prices),
    a job still running counted at its whole cap (two chats' jobs cannot both spend what is left).
    Blocking."""
    since = datetime.now(timezone.utc) - timedelta(hours=24)
    jobs = store.user_jobs_since(channel, user, since)
    reserved = {job.id: cap[0] for job in jobs
                if job.status in ("pending", "running") and (cap := store.job_cost_cap(job.id)) is not None}
    return budget.spent_by(jobs, settings.prices, reserved)


def daily_spending(store: Any, settings: Any, channel: str, user: str) -> float | None:
    """`spent_today` when there is a daily budget, else None. Blocking."""
    return None if settings.user_daily_budget_usd is None else spent_today(store, settings, channel, user)


def store_daily_cap(store: Any, settings: Any, job_id: int, spent_before: float | None) -> None:
    """Give the job what is left of its user's day as its cap (core.budget.daily_cap; `spent_before`:
    `daily_spending` before the job was created or reopened), or remove an old cap when there is no
    daily budget any more. Blocking."""
    job = store.get_job(job_id) if spent_before is not None else None
    cap = None if job is None else budget.daily_cap(budget.spent_by([job], settings.prices), spent_before,
                                                    settings.user_daily_budget_usd)
    store.save_job_cost_cap(job_id, cap)


async def over_daily_budget(turn: Turn, spec: DatasetSpec | None) -> str | None:
    """The refusal when the user's daily budget is used up, or (with `spec`) this order's estimate
    is over what is left of it; None when it may start."""
    dialog = turn.dialog
    daily = dialog.settings.user_daily_budget_usd
    if daily is None:
        return None
    spent = await blocking(spent_today, dialog.store, dialog.settings, dialog.channel, turn.chat.user)
    found = await estimate_for(turn, spec) if spec is not None and spent < daily else None
    return budget.daily_problem(spent, found.cost_usd if found is not None else None, daily, turn.lang)
