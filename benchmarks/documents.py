"""Figures for questions from documents.

    python benchmarks/documents.py [--pages 300] [--questions 300]

1. Conversion: a PDF of `--pages` pages (written with fpdf2) and a Markdown file of the same
   size read into passages: pages per second and the RSS it added (pypdf, in this process).
2. Generation: `--questions` questions (equal thirds of factual / reasoning / unanswerable) against
   the fake server at 0.3 s per request, concurrency 16, with the grounding check on and 10% of the
   rows spoiled: questions per second, requests and tokens per delivered question, and what the
   grounding check adds; the ideal is the generation requests alone (2 questions each).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.fake_order import order_run  # noqa: E402

LATENCY = 0.3
TEXT = ("The pump must be primed with water before its first use. Its motor draws 800 watts and moves 3,500 "
        "litres per hour. The suction hose may be at most seven metres long. ")


def make_documents(folder: Path, pages: int) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.multi_cell(0, 5, f"Chapter {number}. " + TEXT * 14)
    pdf.output(str(folder / "manual.pdf"))
    (folder / "guide.md").write_text("\n\n".join(f"## Section {n}\n\n" + TEXT * 14 for n in range(pages)),
                                     encoding="utf-8")


def conversion(folder: Path, pages: int) -> None:
    from core.documents.convert import read_folder

    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    passages = read_folder(folder)
    elapsed = time.perf_counter() - started
    added = (process.memory_info().rss - before) / 2**20
    print(f"conversion: {pages} PDF pages + {pages} Markdown sections -> {len(passages)} passages in {elapsed:.1f} s "
          f"({2 * pages / elapsed:,.0f} pages/s), RSS +{added:.0f} MB")


async def generation(folder: Path, questions: int, verify: str) -> dict[str, float]:
    from core.documents.convert import read_folder
    from core.spec import DatasetSpec
    from tests.fakes.openai_server import FakeOpenAI

    with FakeOpenAI(latency=LATENCY, keep_requests=False) as fake:
        fake.ungrounded_share = 0.1
        spec = DatasetSpec.from_data({"task": "documents", "count": questions})
        spec = spec.model_copy(update={"passages": read_folder(folder / "docs")})
        async with order_run(fake.base_url, spec, f"sqlite:///{folder}/documents-{verify}.sqlite", verify=verify) as run:
            spoiled = sum(" ".join(row.fields["question"].split()) in fake.ungrounded
                          for row in run.store.accepted_rows(run.job_id))
        job, result, elapsed = run.job, run.result, run.elapsed
        delivered = sum(result.accepted.values())
        return {"elapsed": elapsed, "per_s": delivered / elapsed, "requests": job.requests / delivered,
                "tokens": (job.prompt_tokens + job.completion_tokens) / delivered,
                "spoiled": spoiled, "rejected": sum(n for reason, n in result.rejected.items() if not reason.startswith("over quota"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--questions", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        make_documents(docs, args.pages)
        conversion(docs, args.pages)
        small = Path(tmp) / "small" / "docs"
        small.mkdir(parents=True)
        make_documents(small, 20)
        ideal = args.questions / 2 / 16 * LATENCY
        for verify in ("off", "on"):
            figures = asyncio.run(generation(small.parent, args.questions, verify))
            print(f"grounding {verify:>3}: {args.questions} questions in {figures['elapsed']:.1f} s "
                  f"({figures['per_s']:.1f}/s; ideal {ideal:.1f} s, ratio {figures['elapsed'] / ideal:.2f}), "
                  f"{figures['requests']:.2f} requests and {figures['tokens']:,.0f} tokens per question, "
                  f"{figures['rejected']:.0f} rows rejected, {figures['spoiled']:.0f} spoiled rows delivered")


if __name__ == "__main__":
    main()
