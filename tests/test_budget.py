"""Spending limits against the fake OpenAI server: a running job stops before DATAGEN_MAX_COST_USD
(rows kept, resumable with a raised limit), and a chat user's DATAGEN_USER_DAILY_BUDGET_USD refuses
an order before it starts, saying what is left, and stops a chat job that runs over what was left."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from core import budget, estimate
from core.events import ChatRef
from core.generator import Generator
from core.llm_openai import OpenAIBackend
from core.settings import Settings
from core.spec import DatasetSpec
from storage.store import Store
from tests.dialog_support import documents, find_choice, new_user, previews, progress, texts
from tests.fakes.openai_server import FakeOpenAI
from tests.test_generator_e2e import INTENTS, assert_exact_and_clean

ORDER = {**INTENTS, "count": 200}
PRICES = "fake-model=1000/1000"  # $1 per 1,000 tokens: a few requests cost dollars


def cost(job: object) -> float:
    found = estimate.cost_of("fake-model", job.prompt_tokens, job.completion_tokens, PRICES)  # type: ignore[attr-defined]
    assert found is not None
    return found


async def preview_estimate(settings: Settings, order: str, about: str,
                           chat: ChatRef | None = None) -> tuple[float, Store]:
    """The order's cost the preview shows ("about $1.23" / "około $1.23"), and the chat's store (kept after)."""
    user = await new_user(settings, chat=chat)
    store = user.dialog.store
    assert isinstance(store, Store)
    try:
        shown = previews(await user.press(await user.send(order), "preview"))[0]
        found = re.search(about + r" \$([\d.,]+)", shown.text)
        assert found, shown.text
        return float(found.group(1).replace(",", "")), store
    finally:
        await user.dialog.aclose()


async def run(settings: Settings, store: Store, job_id: int | None = None, spec: DatasetSpec | None = None) -> int:
    llm = OpenAIBackend.from_settings(settings)
    try:
        generator = Generator(llm, store, settings)
        if job_id is None:
            assert spec is not None
            job_id = generator.create_job(spec)
        await generator.run(job_id)
    finally:
        await llm.aclose()
    return job_id


async def test_a_running_job_stops_near_the_limit_and_continues_when_it_is_raised(settings: Settings,
                                                                                 fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"prices": PRICES, "verify": "off"})
    spec = DatasetSpec.from_data(ORDER)
    # What the whole order costs without a limit, on its own database.
    whole_store = Store.from_url(f"sqlite:///{settings.output_dir}/whole.db")
    whole = whole_store.get_job(await run(settings, whole_store, spec=spec))
    assert whole is not None and whole.status == "done"
    full_cost, full_requests = cost(whole), whole.requests
    assert full_requests >= 10, "the order must need many requests for a stop in its middle to mean anything"

    limit = full_cost / 3
    store = Store.from_url(settings.database_url)
    limited = settings.model_copy(update={"max_cost_usd": limit})
    job_id = await run(limited, store, spec=spec)
    job = store.get_job(job_id)
    assert job is not None and job.status == "failed"
    assert job.error is not None and job.error.startswith(budget.STOP_PREFIX), job.error
    per_request = full_cost / full_requests
    assert limit - 2 * per_request <= cost(job) <= limit, (cost(job), limit)  # stopped near it, never over
    kept = {row.id for row in store.accepted_rows(job_id)}
    assert 0 < len(kept) < spec.count  # the rows made are kept
    assert "zatrzymane na limicie kosztów: wydano" in (budget.describe(job.error, "pl") or "")

    # The same limit again: it stops again at once, after at most the one request the average of
    # the first run still leaves room for.
    asked = len(fake_llm.requests)
    store.reopen_job(job_id)
    await run(limited, store, job_id)
    again = store.get_job(job_id)
    assert again is not None and again.status == "failed" and again.error.startswith(budget.STOP_PREFIX)  # type: ignore[union-attr]
    assert len(fake_llm.requests) - asked <= 1 and cost(again) <= limit + per_request

    # A raised limit: the same job goes on to the exact order, its first rows still in it.
    store.reopen_job(job_id)
    await run(settings.model_copy(update={"max_cost_usd": full_cost * 3}), store, job_id)
    job = store.get_job(job_id)
    assert job is not None and job.status == "done"
    assert kept <= {row.id for row in store.accepted_rows(job_id)}
    assert Counter(row.label for row in store.accepted_rows(job_id)) == Counter(spec.quotas())


async def test_without_a_price_the_limit_cannot_stop_a_job(settings: Settings, fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"max_cost_usd": 0.0, "verify": "off"})  # "fake-model" has no price
    spec = DatasetSpec.from_data(INTENTS)
    store = Store.from_url(settings.database_url)
    job_id = await run(settings, store, spec=spec)
    assert store.get_job(job_id).status == "done"  # type: ignore[union-attr]


async def test_the_chat_says_in_polish_that_the_job_stopped_at_the_limit_and_generate_all_continues(
        settings: Settings, fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"prices": PRICES})
    order = "wygeneruj 200 przykładów, 100 pozytywnych i 100 negatywnych, o hotelach, po polsku"
    estimated, store = await preview_estimate(settings, order, "około")  # what the preview estimates, without a limit
    # A limit above the estimate: the order may start. Then the model starts writing half of its
    # rows with labels outside the order, so the job costs about twice the estimate.
    user = await new_user(settings.model_copy(update={"max_cost_usd": estimated * 1.4}), store=store,
                          chat=ChatRef("chat-2", "user-1", "Ada"))
    try:
        shown = previews(await user.press(await user.send(order), "preview"))[0]
        assert "DATAGEN_MAX_COST_USD" not in shown.text  # not over the limit in advance
        fake_llm.inject("wrong_labels", times=10_000, fraction=0.5)
        stopped = await user.press([shown], "generate")
        said = texts(stopped)
        assert "zatrzymane na limicie kosztów" in said and "DATAGEN_MAX_COST_USD" in said, said
        assert not documents(stopped)
        job_id = progress(stopped)[-1].job_id
        made = len(store.accepted_rows(job_id))
        assert 0 < made < 200
        find_choice(stopped, "generate")  # Generate all is offered again
    finally:
        await user.dialog.aclose()
    fake_llm.clear_faults()
    # Whoever runs the bot raised the limit and restarted it: Generate all continues the same job.
    user = await new_user(settings.model_copy(update={"max_cost_usd": 1000.0}), store=store,
                          chat=ChatRef("chat-2", "user-1", "Ada"))
    try:
        done = await user.press(stopped, "generate")
        dataset, _card, _chart = documents(done)
        assert dataset.filename == f"dataset-{job_id}.csv"
        assert Counter(row.label for row in store.accepted_rows(job_id)) == Counter({"positive": 100, "negative": 100})
    finally:
        await user.dialog.aclose()


async def test_a_users_daily_budget_refuses_an_order_over_what_is_left(settings: Settings,
                                                                      fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"prices": "fake-model=5/5"})
    first = await new_user(settings)
    store = first.dialog.store
    assert isinstance(store, Store)
    try:  # a first order, no daily limit yet: it is spent
        summary = await first.send("generate 40 examples, 20 positive and 20 negative, about hotel stays")
        shown = previews(await first.press(summary, "preview"))[0]
        documents(await first.press([shown], "generate"))
    finally:
        await first.dialog.aclose()
    spent = budget.spent_by(store.user_jobs_since("test", "user-1", estimate_since()), settings.prices)
    assert spent > 0

    # The limit leaves a little: a preview may run, the order's estimate is over what is left.
    daily = settings.model_copy(update={"user_daily_budget_usd": round(spent * 1.6, 4)})
    user = await new_user(daily, store=store, chat=ChatRef("chat-2", "user-1", "Ada"))
    try:
        summary = await user.send("generate 400 examples, 200 positive and 200 negative, about hotel stays")
        shown = previews(await user.press(summary, "preview"))[0]
        asked, jobs = len(fake_llm.requests), len(store.user_jobs_since("test", "user-1", estimate_since()))
        refused = texts(await user.press([shown], "generate"))
        assert "of your daily budget of" in refused and "is left" in refused, refused
        assert len(fake_llm.requests) == asked  # nothing started
        assert len(store.user_jobs_since("test", "user-1", estimate_since())) == jobs  # no job made
    finally:
        await user.dialog.aclose()

    # Another user on the same bot has their own day.
    other = await new_user(daily, store=store, chat=ChatRef("chat-3", "user-2", "Bo"))
    try:
        summary = await other.send("generate 40 examples, 20 positive and 20 negative, about hotel stays")
        assert previews(await other.press(summary, "preview"))
    finally:
        await other.dialog.aclose()

    # Used up: not even a preview starts, in Polish too.
    used = settings.model_copy(update={"user_daily_budget_usd": spent / 2})
    user = await new_user(used, store=store, chat=ChatRef("chat-4", "user-1", "Ada"))
    try:
        summary = await user.send("wygeneruj 40 przykładów, 20 pozytywnych i 20 negatywnych, po polsku")
        asked = len(fake_llm.requests)
        refused = texts(await user.press(summary, "preview"))
        assert "Twój dzienny budżet" in refused and "jest wykorzystany" in refused, refused
        assert len(fake_llm.requests) == asked
    finally:
        await user.dialog.aclose()


async def test_a_chat_job_stops_where_the_users_daily_budget_runs_out_and_continues_the_next_day(
        settings: Settings, fake_llm: FakeOpenAI) -> None:
    settings = settings.model_copy(update={"prices": PRICES})
    order = "generate 200 examples, 100 positive and 100 negative, about hotel stays"
    # what the preview estimates for the order, on another user's day
    estimated, store = await preview_estimate(settings, order, "about", ChatRef("chat-p", "probe", "Probe"))
    # The day leaves room for the estimate (after Ada's own preview), so Generate all may start; then
    # the model writes half of its rows with labels outside the order: the job costs about twice that.
    daily_usd = round(estimated * 1.6, 2)
    daily = settings.model_copy(update={"user_daily_budget_usd": daily_usd})
    ada = ChatRef("chat-2", "user-1", "Ada")
    user = await new_user(daily, store=store, chat=ada)
    try:
        shown = previews(await user.press(await user.send(order), "preview"))[0]
        assert "daily budget" not in texts([shown])
        fake_llm.inject("wrong_labels", times=10_000, fraction=0.5)
        stopped = await user.press([shown], "generate")
        said = texts(stopped)
        assert "stopped at your daily budget" in said and f"of your daily budget of ${daily_usd:.2f} is left" in said, said
        assert "DATAGEN_MAX_COST_USD" not in said  # the per-order limit is not the one reached
        assert not documents(stopped)
        job_id = progress(stopped)[-1].job_id
        job = store.get_job(job_id)
        assert job is not None and job.status == "failed" and job.error.startswith(budget.STOP_PREFIX)  # type: ignore[union-attr]
        made = len(store.accepted_rows(job_id))
        assert 0 < made < 200  # stopped in its middle, its rows kept
        cap = store.job_cost_cap(job_id)
        assert cap is not None and cap[1] == daily_usd and cost(job) <= cap[0] < daily_usd
        spent = budget.spent_by(store.user_jobs_since("test", "user-1", estimate_since()), PRICES)
        assert estimated < spent <= daily_usd  # over the estimate, never over the day
        find_choice(stopped, "generate")  # Generate all is offered again

        # The same day: Generate all is refused before anything is sent, the job stays as it was.
        asked = len(fake_llm.requests)
        refused = texts(await user.press(stopped, "generate"))
        assert "daily budget" in refused, refused
        assert len(fake_llm.requests) == asked
        assert len(store.accepted_rows(job_id)) == made
    finally:
        await user.dialog.aclose()
    fake_llm.clear_faults()
    # The next day (the user's jobs moved 25 hours back), the same budget: Generate all gives the same
    # job a new cap, what it had spent plus a whole day, and it ends exact.
    yesterday = datetime.now(timezone.utc) - timedelta(hours=25)
    for old in store.user_jobs_since("test", "user-1", estimate_since()):
        store.update_job(old.id, created_at=yesterday, finished_at=yesterday)
    user = await new_user(daily, store=store, chat=ada)
    try:
        done = await user.press(stopped, "generate")
        dataset, _card, _chart = documents(done)
        assert dataset.filename == f"dataset-{job_id}.csv"
        assert Counter(row.label for row in store.accepted_rows(job_id)) == Counter({"positive": 100, "negative": 100})
        new_cap = store.job_cost_cap(job_id)
        assert new_cap is not None and new_cap == (pytest.approx(cost(job) + daily_usd), daily_usd)
    finally:
        await user.dialog.aclose()


async def test_a_jobs_stored_daily_cap_stops_it_in_any_process_and_says_so_in_polish(
        settings: Settings, fake_llm: FakeOpenAI) -> None:
    """An external worker or a restart has no chat: the cap stored with the job is what stops it."""
    settings = settings.model_copy(update={"prices": PRICES, "verify": "off"})  # no daily setting here
    store = Store.from_url(settings.database_url)
    spec = DatasetSpec.from_data(ORDER)
    llm = OpenAIBackend.from_settings(settings)
    try:
        job_id = Generator(llm, store, settings).create_job(spec)
    finally:
        await llm.aclose()
    store.save_job_cost_cap(job_id, (3.0, 5.0))  # $3 left of a $5 day when the user pressed Generate all
    await run(settings.model_copy(update={"max_cost_usd": 10.0}), store, job_id)  # the lower limit wins
    job = store.get_job(job_id)
    assert job is not None and job.status == "failed" and job.error is not None
    assert 0 < cost(job) <= 3.0 and 0 < len(store.accepted_rows(job_id)) < spec.count
    assert "DATAGEN_USER_DAILY_BUDGET_USD" in job.error, job.error
    said = budget.describe(job.error, "pl") or ""
    assert said.startswith("zatrzymane na Twoim dziennym budżecie") and "z Twojego dziennego budżetu $5.00" in said, said
    # A per-order limit below the cap is the one reached, and says so.
    store.reopen_job(job_id)
    store.save_job_cost_cap(job_id, (100.0, 100.0))
    await run(settings.model_copy(update={"max_cost_usd": cost(job) + 1.0}), store, job_id)
    again = store.get_job(job_id)
    assert again is not None and again.status == "failed"
    assert "stopped at the cost limit" in (budget.describe(again.error, "en") or ""), again.error


async def test_a_running_jobs_cap_is_reserved_so_a_second_chat_cannot_spend_it_too(settings: Settings,
                                                                                 fake_llm: FakeOpenAI) -> None:
    daily = settings.model_copy(update={"prices": PRICES, "user_daily_budget_usd": 5.0})
    store = Store.from_url(settings.database_url)
    # Another chat of the same user runs a job given all that was left ($5 of $5); it spent nothing yet.
    other_chat = store.get_or_create_conversation("test", "chat-9", "user-1")
    running = store.create_job(DatasetSpec.from_data(ORDER).model_dump_json(), conversation_id=other_chat.id,
                               model="fake-model")
    store.update_job(running, status="running")
    store.save_job_cost_cap(running, (5.0, 5.0))
    user = await new_user(daily, store=store, chat=ChatRef("chat-2", "user-1", "Ada"))
    try:
        summary = await user.send("generate 40 examples, 20 positive and 20 negative, about hotel stays")
        asked = len(fake_llm.requests)
        refused = texts(await user.press(summary, "preview"))
        assert "Your daily budget of $5.00 is used up" in refused, refused
        assert len(fake_llm.requests) == asked
    finally:
        await user.dialog.aclose()
    # Once that job is over, only what it really spent counts: the preview runs.
    store.finish_job(running, "done")
    user = await new_user(daily, store=store, chat=ChatRef("chat-2", "user-1", "Ada"))
    try:
        summary = await user.send("generate 40 examples, 20 positive and 20 negative, about hotel stays")
        assert previews(await user.press(summary, "preview"))
    finally:
        await user.dialog.aclose()


def estimate_since() -> datetime:
    return datetime.now(timezone.utc) - timedelta(hours=24)
