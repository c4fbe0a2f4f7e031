"""Quality figures for a 1,000-row order against the fake OpenAI-compatible server.

    python benchmarks/quality.py
    python benchmarks/quality.py --embedded-judge    # also: the embedded model as a judge (minutes)

Label verification: the fake writes 20% of its rows with the neighbouring label (it knows each
row's true class and answers verification requests truthfully). Prints, with verification off
and on: mislabeled rows delivered, requests and prompt+completion tokens per accepted row, and
what verification costs on top (extra requests and tokens per accepted row), plus the time
against the fake's 0.3 s per request at concurrency 16.

Then the other trust figures (core.estimate, core.variety, core.chart): the estimate a 5-row
preview gives against what the order used, the variety report of the delivered rows, and the
time the figures and the chart take.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.fake_order import order_run  # noqa: E402

ORDER = {"task": "classification", "topic": "messages to an online shop's chatbot",
         "labels": ["greeting", "order_status", "cancel_order", "complaint", "goodbye"], "count": 1000}
MISLABEL_SHARE = 0.2
LATENCY = 0.3


async def verification_run(verify: str, folder: Path) -> dict[str, float]:
    from core.spec import DatasetSpec
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI(latency=LATENCY) as fake:
        fake.mislabel_share = MISLABEL_SHARE
        async with order_run(fake.base_url, DatasetSpec.from_data(ORDER), f"sqlite:///{folder}/quality-{verify}.sqlite",
                             verify=verify, attributes="off") as run:
            rows = run.store.accepted_rows(run.job_id)
        delivered = {" ".join(row.fields["text"].split()) for row in rows}
        return {
            "rows": len(rows),
            "mislabeled_written": len(fake.mislabeled),
            "mislabeled_delivered": len(delivered & fake.mislabeled),
            "requests": run.job.requests,
            "labeling_requests": fake.labeling_requests,
            "tokens": run.job.prompt_tokens + run.job.completion_tokens,
            "elapsed": run.elapsed,
            "disagreements": run.result.rejected.get("label disagreement", 0),
        }


def verification() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        off = asyncio.run(verification_run("off", Path(tmp)))
        on = asyncio.run(verification_run("on", Path(tmp)))
    print(f"Label verification: {ORDER['count']:,}-row order, fake server writing {MISLABEL_SHARE:.0%} of rows "
          f"with the neighbouring label, {LATENCY:g} s per request, concurrency 16, 10 rows per request")
    print("| verification | mislabeled rows delivered | requests / accepted row | tokens / accepted row | time |")
    print("|---|---:|---:|---:|---:|")
    for name, f in (("off", off), ("on", on)):
        print(f"| {name} | {f['mislabeled_delivered']:.0f} of {f['rows']:.0f} | {f['requests'] / f['rows']:.3f} | "
              f"{f['tokens'] / f['rows']:.0f} | {f['elapsed']:.1f} s |")
    extra_requests = on["requests"] / on["rows"] - off["requests"] / off["rows"]
    extra_tokens = on["tokens"] / on["rows"] - off["tokens"] / off["rows"]
    print(f"verification costs {extra_requests:+.3f} requests and {extra_tokens:+.0f} tokens per accepted row "
          f"({on['labeling_requests']:.0f} verification requests, {on['disagreements']:.0f} rows rejected for "
          f"label disagreement, {on['mislabeled_written']:.0f} mislabeled rows written)")


POSITIVE = ["I love this phone, it works perfectly.", "What a wonderful day at the beach!",
            "The staff were friendly and helpful.", "Best pizza I have ever eaten.", "I'm so happy with my new bike.",
            "This book was a delight to read.", "Great service and fast delivery.", "The concert was amazing.",
            "My kids adored the museum.", "Fantastic value for the money."]
NEGATIVE = ["The food was cold and tasteless.", "My package arrived broken.", "Worst customer service ever.",
            "The train was late again and I missed my meeting.", "This app keeps crashing.",
            "I hated the ending of that movie.", "The hotel room was dirty.",
            "They charged me twice and never refunded.", "The shoes fell apart after a week.", "Terrible, rude waiter."]


async def embedded_judge() -> None:
    """Why DATAGEN_VERIFY=auto leaves verification off for the embedded model: how it labels 20
    sentences whose sentiment is not in doubt."""
    from core.classify import Classifier, ClassifyTask, Item
    from core.llm import make_backend
    from core.settings import Settings

    llm = make_backend(Settings(llm="local", _env_file=None))
    items = [Item(f"p{i}", text) for i, text in enumerate(POSITIVE)] + [Item(f"n{i}", text) for i, text in
                                                                       enumerate(NEGATIVE)]
    classifier = Classifier(llm, batch_size=10, concurrency=1, samples=1, seed=1)
    started = time.perf_counter()
    result = await classifier.classify(items, ClassifyTask(labels=("positive", "negative")))
    elapsed = time.perf_counter() - started
    await llm.aclose()
    right = sum(verdict.label == ("positive" if item_id[0] == "p" else "negative")
                for item_id, verdict in result.verdicts.items())
    print(f"\nEmbedded model as a judge: {right} of {len(items)} obvious sentiment sentences labeled right, "
          f"{len(result.unresolved)} never answered, {result.requests} requests, {elapsed:.0f} s")


async def trust_figures(folder: Path) -> None:
    """The estimate a 5-row preview gives against what the 1,000-row order used, the variety
    figures of the delivered rows (core.variety) and the chart's cost (core.chart). The fake
    writes random pseudo-words: high variety by construction, so these check the figures' cost
    and the estimate, not any model."""
    from core.chart import render_chart
    from core.estimate import estimate_order, preview_figures
    from core.generator import Generator
    from core.llm_openai import OpenAIBackend
    from core.quality import row_text
    from core.settings import Settings
    from core.spec import DatasetSpec, split_evenly
    from core.variety import measure, pairs_of
    from storage.store import Store
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI(latency=LATENCY) as fake:
        settings = Settings(openai_api_key="bench", openai_base_url=fake.base_url, llm="openai", verify="off", attributes="off",
                            database_url=f"sqlite:///{folder}/trust.db", concurrency=16, progress_interval=1.0,
                            request_timeout=60, _env_file=None)
        store = Store.from_url(settings.database_url)
        llm = OpenAIBackend.from_settings(settings)
        generator = Generator(llm, store, settings)

        async def job(spec: DatasetSpec) -> int:
            job_id = generator.create_job(spec)
            result = await generator.run(job_id)
            if result.status != "done":
                raise SystemExit(f"job failed: {result.error}")
            return job_id

        labels = ORDER["labels"]
        spec = DatasetSpec.from_data(ORDER)
        preview_spec = DatasetSpec.from_data({**ORDER, "count": 5, "label_counts": split_evenly(5, labels)})
        preview_id = await job(preview_spec)
        preview = store.get_job(preview_id)
        assert preview is not None
        figures = preview_figures(
            requests=preview.requests, prompt_tokens=preview.prompt_tokens, completion_tokens=preview.completion_tokens,
            seconds=preview.elapsed_seconds,
            rows=[(row.fields, row_text(spec.task, row.fields)) for row in store.accepted_rows(preview_id)],
            rejected=store.rejected_reasons(preview_id), concurrency=len(labels), verified=False,
        )
        estimate = estimate_order(spec.quotas(), figures, model="gpt-4o-mini", batch_size=settings.batch_size,
                                  concurrency=16)
        started = time.perf_counter()
        order_id = await job(spec)
        elapsed = time.perf_counter() - started
        order = store.get_job(order_id)
        assert order is not None
        used = order.prompt_tokens + order.completion_tokens
        print(f"\nEstimate from a 5-row preview vs the {spec.count:,}-row order (gpt-4o-mini prices, concurrency 16)")
        print(f"  shown to the user: {estimate.text('en')}")
        print(f"  tokens   estimated {estimate.tokens:>10,}  used {used:>10,}  ratio {estimate.tokens / used:.2f}")
        print(f"  requests estimated {estimate.requests:>10,}  used {order.requests:>10,}  "
              f"ratio {estimate.requests / order.requests:.2f}")
        print(f"  time     estimated {estimate.seconds:>9.1f}s  took {elapsed:>9.1f}s  ratio {estimate.seconds / elapsed:.2f}")
        pairs = pairs_of(spec.task, store.accepted_rows(order_id))
        started = time.perf_counter()
        report = measure(pairs, store.rejected_reasons(order_id), language=spec.language, check_language=True)
        measured = time.perf_counter() - started
        started = time.perf_counter()
        png = render_chart(pairs, spec.topic)
        charted = time.perf_counter() - started
        print(f"\nVariety of the {report.rows:,} delivered rows ({measured:.2f} s to compute)")
        print("  " + "\n  ".join(line for line in report.card_section() if line))
        print(f"\nChart: {len(png) / 1024:.0f} KB PNG in {charted:.2f} s (first call includes importing matplotlib)")
        await llm.aclose()
        store.close()


def main() -> None:
    verification()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(trust_figures(Path(folder)))
    if "--embedded-judge" in sys.argv:
        asyncio.run(embedded_judge())


if __name__ == "__main__":
    main()
