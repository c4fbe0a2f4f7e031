"""Generic diversity lists vs the order's own attributes (core/attributes.py) on the fake server.

    python benchmarks/attributes.py

A 1,000-row, 5-label order against the fake OpenAI-compatible server (0.3 s a request,
concurrency 16), once with DATAGEN_ATTRIBUTES=off (core.prompts' generic lists) and once on.
Prints, for each: the rows' distinct 2-grams, near-duplicate pairs (rows the engine rejected as
near copies, and pairs of delivered rows whose estimated similarity is >= 0.5), how many
different "For this batch" lines the requests carried, and what asking cost (requests, tokens).

What a fake can show: it writes random pseudo-words whatever the prompt says, so the rows' own
variety is the same in both runs by construction; the figures that mean something are the
prompt side (how many distinct combinations the requests got) and the cost of the one request.
Whether a real model's rows cover the domain better is the AttrPrompt finding (Yu et al. 2023),
not something this benchmark measures.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.fake_order import order_run  # noqa: E402

ORDER = {"task": "classification", "topic": "support tickets of an online shoe shop",
         "labels": ["sizing", "delivery", "returns", "payment", "product_quality"], "count": 1000}
LATENCY = 0.3
HINT = re.compile(r"^For this batch: .*$", re.MULTILINE)


async def run(mode: str, folder: Path) -> dict[str, float]:
    import numpy as np

    from core import attributes
    from core.spec import DatasetSpec
    from core.variety import closest_similarities, distinct_ngrams
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI(latency=LATENCY) as fake:
        async with order_run(fake.base_url, DatasetSpec.from_data(ORDER), f"sqlite:///{folder}/attributes-{mode}.db",
                             verify="off", attributes=mode, language_check=False) as run:
            texts = [row.fields["text"] for row in run.store.accepted_rows(run.job_id)]
            asked, asked_prompt, asked_completion = run.store.attributes_usage(run.job_id)
        prompts = ["\n".join(m["content"] for m in body["messages"]) for body in fake.requests]
        hints = [found.group(0) for prompt in prompts if attributes.MARKER not in prompt
                 if (found := HINT.search(prompt))]
        similar = closest_similarities(texts)
        return {
            "rows": len(texts), "distinct2": distinct_ngrams(texts, 2),
            "near_rejected": run.result.rejected.get("near-duplicate", 0),
            "similar_pairs": int(np.sum(similar >= 0.5)),
            "requests": run.job.requests, "hints": len(hints), "distinct_hints": len(set(hints)),
            "asked": asked, "asked_tokens": asked_prompt + asked_completion,
            "tokens": run.job.prompt_tokens + run.job.completion_tokens, "elapsed": run.elapsed,
        }


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        generic = asyncio.run(run("off", Path(folder)))
        domain = asyncio.run(run("on", Path(folder)))
    print(f"{ORDER['count']:,}-row order, {len(ORDER['labels'])} labels, fake server {LATENCY:g} s a request, "
          "concurrency 16, no verification")
    print(f"{'':28} {'generic lists':>14} {'domain attributes':>18}")
    rows = [
        ("distinct 2-grams", lambda f: f"{f['distinct2']:.1%}"),
        ("near-duplicates rejected", lambda f: f"{f['near_rejected']:,}"),
        ("rows with a near twin >=0.5", lambda f: f"{f['similar_pairs']:,}"),
        ("generation requests", lambda f: f"{f['requests'] - f['asked']:,}"),
        ("distinct batch lines", lambda f: f"{f['distinct_hints']:,} of {f['hints']:,}"),
        ("attribute requests", lambda f: f"{f['asked']:,}"),
        ("tokens, all", lambda f: f"{f['tokens']:,}"),
        ("tokens for the attributes", lambda f: f"{f['asked_tokens']:,}"),
        ("time", lambda f: f"{f['elapsed']:.1f} s"),
    ]
    for name, show in rows:
        print(f"{name:28} {show(generic):>14} {show(domain):>18}")


if __name__ == "__main__":
    main()
