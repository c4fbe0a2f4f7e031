"""`datagen annotate` end to end against the fake OpenAI-compatible server: every input row exactly
once, in order, other columns untouched, labeled with its true class; through 429s, spoiled ids,
and a SIGKILL + `--resume` that relabels nothing; low confidence where two answers differ."""

from __future__ import annotations

import asyncio
import csv
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.annotate_cli import run_annotate
from core.annotate import AnnotationOrder, Annotator
from core.llm_openai import OpenAIBackend
from core.row_sources import read_rows
from core.settings import Settings
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI, marked_text

REPO = Path(__file__).resolve().parents[1]
LABELS = ["greeting", "order_status", "complaint"]


def write_csv(path: Path, n: int, *, ambiguous: set[int] = frozenset(), seed: int = 11) -> list[str]:  # type: ignore[assignment]
    """n rows (id, text, note) whose true labels the fake knows; returns the labels by row."""
    rng = random.Random(seed)
    truth = [LABELS[(i * 5 + i // 7) % 3] for i in range(n)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "note"])
        for i, label in enumerate(truth):
            text = marked_text([label, LABELS[(LABELS.index(label) + 1) % 3]] if i in ambiguous else label, rng)
            writer.writerow([f"T-{i:05d}", text, f"=note {i}"])
    return truth


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def cli_env(fake: FakeOpenAI, database_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "OPENAI_API_KEY": "k", "OPENAI_BASE_URL": fake.base_url,
            "DATAGEN_LLM": "openai", "DATABASE_URL": database_url, "DATAGEN_PROGRESS_INTERVAL": "0",
            "DATAGEN_MAX_RETRIES": "6", **extra}


def labeling_texts(fake: FakeOpenAI, start: int = 0) -> Counter[str]:
    """Texts shown in labeling requests from request number `start` on."""
    shown: Counter[str] = Counter()
    for body in fake.requests[start:]:
        prompt = body["messages"][-1]["content"]
        if prompt.startswith("Classify each"):
            shown.update(re.findall(r"^\[\d+\] (.*)$", prompt, re.MULTILINE))
    return shown


async def test_1000_rows_through_429s_and_a_sigkill_resume(database_url: str, fake_llm: FakeOpenAI,
                                                           tmp_path: Path) -> None:
    fake_llm.latency = 0.05
    source, output = tmp_path / "tickets.csv", tmp_path / "labeled.csv"
    truth = write_csv(source, 1000)
    env = cli_env(fake_llm, database_url, DATAGEN_CONCURRENCY="4")
    datagen = Path(sys.executable).with_name("datagen")
    command = [str(datagen) if datagen.exists() else "datagen", "annotate", str(source),
               "--labels", ",".join(LABELS), "-o", str(output)]
    store = Store.from_url(database_url)
    fake_llm.inject("429", times=6, retry_after=0)

    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    try:
        while True:
            jobs = store.unfinished_jobs(kind="annotation")
            if jobs and sum(n for label, n in store.label_counts(jobs[0].id).items() if label) >= 200:
                break
            assert process.poll() is None, process.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "datagen annotate labeled no rows"
            await asyncio.sleep(0.02)
    finally:
        process.send_signal(signal.SIGKILL)  # no clean-up code runs
        process.wait(10)
        process.stderr.close()  # type: ignore[union-attr]
    assert fake_llm.pending_faults == 0  # the 429s were served, and survived
    job_id = jobs[0].id
    labeled_before = {row.fields["text"]: row.label for row in store.iter_annotation_rows(job_id) if row.label}
    assert 200 <= len(labeled_before) < 1000 and not output.exists()
    requests_before = len(fake_llm.requests)

    fake_llm.inject("429", times=3, retry_after=0)
    resumed = await asyncio.to_thread(subprocess.run, [*command, "--resume", str(job_id)], cwd=tmp_path, env=env,
                                      capture_output=True, text=True, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    rows = read_csv(output)
    assert [row["id"] for row in rows] == [f"T-{i:05d}" for i in range(1000)]  # every row once, in order
    assert [row["label"] for row in rows] == truth
    assert all(row["note"].startswith("'=note") for row in rows)  # untouched (and spreadsheet-safe)
    # The resumed run showed the model none of the rows labeled before the kill.
    shown_after = labeling_texts(fake_llm, requests_before)
    assert not set(shown_after) & set(labeled_before)
    assert {row["text"] for row in rows} - set(labeled_before) <= set(shown_after)
    assert "1000 rows" in resumed.stdout


async def test_low_confidence_rows_are_marked_and_written_apart(settings: Settings, fake_llm: FakeOpenAI,
                                                                tmp_path: Path) -> None:
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    ambiguous = {3, 17, 40}
    truth = write_csv(source, 60, ambiguous=ambiguous)
    code = await asyncio.to_thread(run_annotate, settings, source, ",".join(LABELS), output)
    assert code == 0
    rows = read_csv(output)
    assert {i for i, row in enumerate(rows) if row["confidence"] == "low"} == ambiguous
    assert [row["label"] for row in rows] == truth  # the first answer is kept
    low = read_csv(tmp_path / "out.low-confidence.csv")
    assert [row["id"] for row in low] == [f"T-{i:05d}" for i in sorted(ambiguous)]
    card = (tmp_path / "out.card.md").read_text(encoding="utf-8")
    low_by_label = Counter(truth[i] for i in ambiguous)
    for label in LABELS:
        n = truth.count(label)
        assert f"| {label} | {n} | " in card and f" {low_by_label[label]} ({low_by_label[label] / n:.0%}) |" in card


@pytest.mark.parametrize("fault", ["drop", "repeat", "reorder", "invent"])
async def test_answers_that_drop_repeat_or_reorder_ids(settings: Settings, fake_llm: FakeOpenAI, tmp_path: Path,
                                                       fault: str) -> None:
    source, output = tmp_path / "in.csv", tmp_path / "out.csv"
    truth = write_csv(source, 100)
    # 100 rows are 5 requests; a missing / ambiguous id is re-asked, so those faults hit re-asks too.
    fake_llm.inject_labeling(fault, times=8 if fault in ("drop", "repeat") else 5)
    code = await asyncio.to_thread(run_annotate, settings, source, ",".join(LABELS), output, samples=1)
    assert code == 0 and fake_llm.pending_labeling_faults == 0
    rows = read_csv(output)
    assert [row["label"] for row in rows] == truth and len(rows) == 100


class SlowCommits(Store):
    """The real store, with commits as slow as a busy disk or a far database server."""

    def set_labels(self, *args: Any, **kwargs: Any) -> None:
        time.sleep(0.3)
        super().set_labels(*args, **kwargs)


async def test_a_job_ends_only_after_every_answered_label_is_stored(settings: Settings, fake_llm: FakeOpenAI,
                                                                    tmp_path: Path) -> None:
    # With slow commits, the batches answered during a commit wait for the next one. The job must
    # not be marked done (and its file written) before they are stored: it was, and a file came
    # out with 60 of 100 rows unlabeled from a job marked done.
    truth = write_csv(tmp_path / "in.csv", 100)
    store = SlowCommits.from_url(settings.database_url)
    annotator = Annotator(OpenAIBackend.from_settings(settings), store, settings)
    job_id = annotator.create_job(AnnotationOrder(labels=LABELS, samples=1))
    assert annotator.load(job_id, read_rows(tmp_path / "in.csv")) == 100
    result = await annotator.run(job_id)
    assert result.status == "done"
    assert [row.label for row in store.iter_annotation_rows(job_id)] == truth


async def test_formats_keep_other_columns(settings: Settings, fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    from openpyxl import Workbook, load_workbook

    rng = random.Random(2)
    items = [(i, LABELS[i % 3], marked_text(LABELS[i % 3], rng)) for i in range(30)]
    (tmp_path / "in.json").write_text(json.dumps([{"n": i, "text": t, "tags": ["a"]} for i, _, t in items]),
                                      encoding="utf-8")
    (tmp_path / "in.txt").write_text("\n".join(t for _, _, t in items) + "\n\n", encoding="utf-8")
    book = Workbook()
    book.active.append(["message", "n"])
    for i, _, t in items:
        book.active.append([t, i])
    book.save(tmp_path / "in.xlsx")
    truth = [label for _, label, _ in items]

    assert await asyncio.to_thread(run_annotate, settings, tmp_path / "in.json", ",".join(LABELS),
                                   tmp_path / "out.jsonl") == 0
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["n"], r["tags"], r["label"]) for r in lines] == [(i, ["a"], label) for i, label, _ in items]

    assert await asyncio.to_thread(run_annotate, settings, tmp_path / "in.txt", ",".join(LABELS),
                                   tmp_path / "out.json") == 0
    assert [r["label"] for r in json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))] == truth

    assert await asyncio.to_thread(run_annotate, settings, tmp_path / "in.xlsx", ",".join(LABELS),
                                   tmp_path / "out.xlsx") == 0
    sheet = load_workbook(tmp_path / "out.xlsx").active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("message", "n", "label", "confidence")
    assert [(row[1], row[2]) for row in values[1:]] == [(str(i), label) for i, label, _ in items]


async def test_bad_input_gets_a_clear_answer(settings: Settings, fake_llm: FakeOpenAI, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in.csv").write_text("a,b\nx,y\n", encoding="utf-8")
    (tmp_path / "in.pdf").write_bytes(b"%PDF")
    cases = [
        (tmp_path / "in.pdf", "x,y", "use CSV, TSV, XLSX"),
        (tmp_path / "in.csv", "only", "at least two distinct labels"),
        (tmp_path / "in.csv", "x,y", "which column holds the text"),
        (tmp_path / "in.csv", "x,y", "no column 'body'; it has a, b"),
    ]
    for source, labels, expected in cases:
        column = "body" if "body" in expected else None
        code = await asyncio.to_thread(run_annotate, settings, source, labels, tmp_path / "out.csv",
                                       text_column=column)
        assert code == 2 and expected in capsys.readouterr().err
    assert fake_llm.requests == []  # nothing reached the model


async def test_storage_resume_skips_labeled_rows(database_url: str, settings: Settings, fake_llm: FakeOpenAI,
                                                 tmp_path: Path) -> None:
    """In process, on SQLite and PostgreSQL: cancel mid-job, resume, every row labeled once."""
    settings = settings.model_copy(update={"database_url": database_url, "concurrency": 2})
    fake_llm.latency = 0.05
    source = tmp_path / "in.csv"
    truth = write_csv(source, 300)
    store = Store.from_url(database_url)
    llm = OpenAIBackend.from_settings(settings)
    annotator = Annotator(llm, store, settings)
    job_id = annotator.create_job(AnnotationOrder(labels=LABELS, samples=1))
    assert annotator.load(job_id, read_rows(source)) == 300
    task = asyncio.create_task(annotator.run(job_id))
    while sum(n for label, n in store.label_counts(job_id).items() if label) < 60:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.get_job(job_id).status == "pending"  # type: ignore[union-attr]  # interrupted: resumable
    before = {row.position for row in store.iter_annotation_rows(job_id) if row.label}
    start = len(fake_llm.requests)
    result = await annotator.run(job_id)
    await llm.aclose()
    assert result.status == "done" and result.labeled == 300
    assert [row.label for row in store.iter_annotation_rows(job_id)] == truth
    texts = {row.position: row.fields["text"] for row in store.iter_annotation_rows(job_id)}
    assert not set(labeling_texts(fake_llm, start)) & {texts[p] for p in before}


async def test_sigterm_stops_like_ctrl_c_and_says_how_to_resume(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    fake_llm.latency = 0.05
    source = tmp_path / "in.csv"
    write_csv(source, 400)
    database_url = f"sqlite:///{tmp_path}/db.sqlite"
    env = cli_env(fake_llm, database_url, DATAGEN_CONCURRENCY="2")
    command = [sys.executable, "-m", "bot.cli", "annotate", str(source), "--labels", ",".join(LABELS),
               "-o", str(tmp_path / "out.csv")]
    store = Store.from_url(database_url)
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 60
    while True:
        jobs = store.unfinished_jobs(kind="annotation")
        if jobs and sum(n for label, n in store.label_counts(jobs[0].id).items() if label) >= 40:
            break
        assert process.poll() is None and time.monotonic() < deadline
        await asyncio.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.to_thread(process.communicate, timeout=30)
    assert process.returncode == 130, stderr
    assert f"--resume {jobs[0].id}" in stderr and "rows labeled" in stderr
    assert store.get_job(jobs[0].id).status == "pending"  # type: ignore[union-attr]  # interrupted: resumable
    assert not (tmp_path / "out.csv").exists()


async def test_batches_failing_together_stop_the_job_with_every_failure_read(
    settings: Settings, fake_llm: FakeOpenAI, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The server answers 500 to everything: several batches in flight fail in the same moment. The
    job fails once, saying why, and every batch's failure is read: one left unread was logged
    later by the garbage collector ("Task exception was never retrieved"), at a random moment
    of whatever ran then (CPython 3.11 formats that traceback with ast.parse; tests saw
    "AST constructor recursion depth mismatch" when that moment was another ast.parse)."""
    import gc

    from core import stop_reasons
    from tests.fakes.openai_server import FakeResponse

    fake_llm.latency = 0.05  # the requests of one round come back together
    fake_llm.responders.append(lambda body: FakeResponse(500, {"error": {"message": "down", "type": "server_error"}}))
    write_csv(tmp_path / "in.csv", 200)
    quick = settings.model_copy(update={"max_retries": 0})
    store = Store.from_url(quick.database_url)
    annotator = Annotator(OpenAIBackend.from_settings(quick), store, quick)
    job_id = annotator.create_job(AnnotationOrder(labels=LABELS, samples=1))
    annotator.load(job_id, read_rows(tmp_path / "in.csv"))
    with caplog.at_level("ERROR", logger="asyncio"):
        result = await annotator.run(job_id)
        await asyncio.sleep(0)
        gc.collect()
    assert result.status == "failed" and stop_reasons.parse(result.error)[0] == "llm_server_error", result.error
    assert len(fake_llm.requests) > 5, "several batches were in flight"
    unread = [record for record in caplog.records if "never retrieved" in record.getMessage()]
    assert not unread, unread[0].getMessage()
    store.close()
