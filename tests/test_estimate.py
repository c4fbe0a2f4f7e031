"""core.estimate: prices, wording, the budget check, and an estimate from a real preview job on the
fake OpenAI-compatible server compared with the tokens the whole order then really used."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.estimate import (
    ADAPTIVE_START,
    Estimate,
    PreviewFigures,
    PriceError,
    budget_problem,
    cost_of,
    estimate_order,
    preview_figures,
    parse_prices,
    price_of,
)
from core.quality import row_text
from core.settings import Settings
from core.spec import DatasetSpec, split_evenly
from storage.store import Store
from tests.engine_support import run_job
from tests.fakes.openai_server import FakeOpenAI


def test_prices_match_dated_names_by_the_longest_family() -> None:
    assert price_of("gpt-4o-mini") == (0.15, 0.60)
    assert price_of("gpt-4o-mini-2024-07-18") == (0.15, 0.60)  # not gpt-4o's price
    assert price_of("gpt-4o-2024-08-06") == (2.50, 10.00)
    assert price_of("openai/GPT-4.1-mini") == (0.40, 1.60)
    assert price_of("llama3.1:8b") is None
    assert price_of("llama3.1:8b", "llama3.1=0.05/0.08") == (0.05, 0.08)
    assert price_of("gpt-4o-mini", "gpt-4o-mini=1/2") == (1.0, 2.0)  # the operator's price wins


def test_cost_of_a_finished_job_from_the_backend_description() -> None:
    assert cost_of("gpt-4o-mini via api.openai.com", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert cost_of("fake-model via 127.0.0.1:8000", 10, 10) is None


@pytest.mark.parametrize("bad", ["gpt-4o=0.1", "=1/2", "m=a/b", "m=-1/2", "m=inf/1"])
def test_unreadable_price_overrides_say_which_part(bad: str) -> None:
    with pytest.raises(PriceError, match="DATAGEN_PRICES"):
        parse_prices(bad)


def test_the_line_the_user_sees() -> None:
    estimate = Estimate(requests=100, prompt_tokens=1_000_000, completion_tokens=237_412, seconds=130, cost_usd=0.3124)
    assert estimate.text("en") == "about 1,240,000 tokens, about $0.31, about 2 minutes"
    assert estimate.text("pl") == "około 1,240,000 tokenów, około $0.31, około 2 min"
    unknown = Estimate(requests=1, prompt_tokens=700, completion_tokens=120, seconds=20, cost_usd=None)
    assert unknown.text("en") == "about 820 tokens, under a minute"
    assert Estimate(1, 10, 10, 75, 0.001).text("en") == "about 20 tokens, about <$0.01, about a minute"
    assert Estimate(1, 10, 10, 3 * 3600, 42.0).text("en").endswith("about $42.00, about 3.0 hours")


def test_scaling_from_a_preview() -> None:
    # 2 requests of 5 rows each, 1 of the 10 rows rejected; 1,000 prompt and 500 completion tokens.
    preview = PreviewFigures(requests=2, prompt_tokens=1000, completion_tokens=500, accepted=9, judged=10,
                             seconds=4.0, concurrency=2)
    estimate = estimate_order({"a": 500, "b": 500}, preview, model="gpt-4o-mini", batch_size=10, concurrency=16)
    # 9 accepted of 10 written -> 9 rows per request of 10 -> ceil(500/9) = 56 requests per label.
    assert estimate.requests == 112
    assert estimate.prompt_tokens == 500 * 112
    assert estimate.completion_tokens == round(500 / 9 * 1000)
    assert estimate.cost_usd == pytest.approx((56_000 * 0.15 + 55_556 * 0.60) / 1e6)
    assert estimate.seconds == pytest.approx(7 * 4.0)  # 112 requests in rounds of 16, 4 s per round
    # Requests after the first round of 16 repeat the label's last 8 texts: half of a written
    # row's 50 tokens each.
    with_context = estimate_order({"a": 500, "b": 500}, replace(preview, text_share=0.5), model="gpt-4o-mini",
                                  batch_size=10, concurrency=16)
    assert with_context.prompt_tokens == estimate.prompt_tokens + 8 * 25 * (112 - 16)


def test_budget_refuses_over_the_limit_only_when_the_cost_is_known() -> None:
    estimate = Estimate(requests=10, prompt_tokens=10, completion_tokens=10, seconds=1, cost_usd=2.5)
    assert budget_problem(estimate, None, "en") is None
    assert budget_problem(estimate, 3.0, "en") is None
    refusal = budget_problem(estimate, 1.0, "en")
    assert refusal is not None and "about $2.50" in refusal and "limit of $1.00" in refusal
    assert "limit $1.00" in (budget_problem(estimate, 1.0, "pl") or "")
    unknown = Estimate(requests=10, prompt_tokens=10, completion_tokens=10, seconds=1, cost_usd=None)
    assert budget_problem(unknown, 0.0, "en") is None


# --- against the fake server ---------------------------------------------------------------------

ORDER = {"task": "classification", "topic": "hotel reviews", "labels": ["positive", "negative", "neutral"],
         "count": 300}
PREVIEW_SIZE = 5  # what the dialog's preview asks for


async def run_done_job(settings: Settings, store: Store, spec: DatasetSpec) -> int:
    result = await run_job(settings, store, spec)
    assert result.status == "done", result.error
    return result.job_id


def figures(store: Store, job_id: int, spec: DatasetSpec, concurrency: int, verified: bool) -> PreviewFigures:
    job = store.get_job(job_id)
    assert job is not None
    return preview_figures(
        requests=job.requests, prompt_tokens=job.prompt_tokens, completion_tokens=job.completion_tokens,
        seconds=job.elapsed_seconds, rows=[(row.fields, row_text(spec.task, row.fields)) for row in store.accepted_rows(job_id)],
        rejected=store.rejected_reasons(job_id), concurrency=concurrency, verified=verified,
    )


@pytest.mark.parametrize("verify", ["off", "on"])
async def test_estimate_from_a_preview_is_within_a_quarter_of_the_tokens_used(
    settings: Settings, fake_llm: FakeOpenAI, verify: str
) -> None:
    settings = settings.model_copy(update={"verify": verify})
    store = Store.from_url(settings.database_url)
    spec = DatasetSpec.from_data(ORDER)
    preview_spec = DatasetSpec.from_data({**ORDER, "count": PREVIEW_SIZE,
                                          "label_counts": split_evenly(PREVIEW_SIZE, ORDER["labels"])})
    preview = figures(store, await run_done_job(settings, store, preview_spec), preview_spec, concurrency=3,
                      verified=verify == "on")
    estimate = estimate_order(spec.quotas(), preview, model="gpt-4o-mini", batch_size=settings.batch_size,
                              concurrency=settings.concurrency or ADAPTIVE_START)
    # Budget below the estimate: refused before anything runs.
    assert estimate.cost_usd is not None
    assert budget_problem(estimate, estimate.cost_usd / 2, "en") is not None
    requests_before = len(fake_llm.requests)
    job = store.get_job(await run_done_job(settings, store, spec))
    assert job is not None
    used = job.prompt_tokens + job.completion_tokens
    assert len(fake_llm.requests) > requests_before
    assert abs(estimate.tokens - used) <= 0.25 * used, (estimate, used, job.requests)
    assert abs(estimate.requests - job.requests) <= 0.25 * job.requests
