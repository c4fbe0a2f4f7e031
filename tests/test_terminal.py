"""`datagen chat` as a user runs it: a subprocess with piped stdin, the fake OpenAI server,
and the files it writes to DATAGEN_OUTPUT_DIR."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.dialog_support import SEED_PROMPT
from tests.fakes.openai_server import FakeOpenAI

ROOT = Path(__file__).resolve().parent.parent


def _command() -> list[str]:
    script = Path(sys.executable).parent / "datagen"
    if script.exists():
        return [str(script), "chat"]
    found = shutil.which("datagen")
    return [found, "chat"] if found else [sys.executable, "-m", "bot.cli", "chat"]


def _env(fake: FakeOpenAI, tmp_path: Path, out: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "DATAGEN_", "DATABASE_"))}
    env.update(
        OPENAI_API_KEY="test-key",
        OPENAI_BASE_URL=fake.base_url,
        DATAGEN_MODEL="fake-model",
        DATABASE_URL=f"sqlite:///{tmp_path}/chat.db",
        DATAGEN_OUTPUT_DIR=str(out),
        DATAGEN_PROGRESS_INTERVAL="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(lines: list[str], fake: FakeOpenAI, tmp_path: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(),
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(fake, tmp_path, out),
        timeout=120,
    )


def test_piped_order_preview_rating_and_file(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    out = tmp_path / "out"
    # The seed prompt is one message; in a terminal each line is one message, so it goes on one line.
    result = _run([" ".join(SEED_PROMPT.splitlines()), "1", "+1", "-2", "more upbeat", "1"], fake_llm, tmp_path, out)
    assert result.returncode == 0, result.stderr
    stdout = result.stdout
    assert "[1] Generate preview" in stdout
    assert "#1 " in stdout and "[1] Generate all" in stdout
    assert "👍 #1" in stdout and "👎 #2" in stdout
    assert "Traceback" not in stdout + result.stderr
    datasets = sorted(out.glob("dataset-*.csv"))
    assert len(datasets) == 1, stdout
    assert f"to {datasets[0]}" in stdout  # the path is printed
    with datasets[0].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    labels = sorted(row["label"].casefold() for row in rows)
    assert labels == ["negative"] * 2 + ["positive"] * 8
    assert list(out.glob("dataset-*.card.md"))
    [chart] = out.glob("dataset-*.chart.png")  # the chart is saved next to the dataset
    assert chart.stem.split(".")[0] == datasets[0].stem and chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "variety: " in stdout  # the delivery message carries the variety line
    assert any("more upbeat" in str(body) for body in fake_llm.requests)


def test_piped_upload_and_bad_path(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    out = tmp_path / "out"
    seed = tmp_path / "seed.csv"
    seed.write_text("text,label\n" + "".join(f"Nice thing {i},good\n" for i in range(5)) + "Awful thing,bad\n",
                    encoding="utf-8")
    # Balance, Generate preview, Generate all.
    lines = ["/upload /no/such/file.csv", f"/upload {seed}", "1", "1", "1"]
    result = _run(lines, fake_llm, tmp_path, out)
    assert result.returncode == 0, result.stderr
    assert "No such file" in result.stdout
    assert "good: 5, bad: 1" in result.stdout
    datasets = sorted(out.glob("dataset-*.csv"))
    assert len(datasets) == 1, result.stdout
    with datasets[0].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    counts = {(r["label"], r["source"]) for r in rows}
    assert ("bad", "synthetic") in counts
    assert sum(r["label"] == "bad" for r in rows) == sum(r["label"] == "good" for r in rows) == 5


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "crash"])
def test_interrupted_chat_resumes_next_time(fake_llm: FakeOpenAI, tmp_path: Path, stop: signal.Signals) -> None:
    out = tmp_path / "out"
    env = _env(fake_llm, tmp_path, out)
    fake_llm.latency = 0.3
    process = subprocess.Popen(
        _command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=tmp_path, env={**env, "DATAGEN_CONCURRENCY": "1", "DATAGEN_BATCH_SIZE": "5"},
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("Produce 40 examples: 20 positive and 20 negative reviews of trains.\n1\n")
    process.stdin.flush()
    # Wait for the preview, then start the whole job and stop the process mid-way with Ctrl-C.
    seen = ""
    deadline = time.monotonic() + 60
    while "[1] Generate all" not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    process.stdin.write("1\n")
    process.stdin.flush()
    while "Job #" not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    time.sleep(0.5)
    process.send_signal(stop)
    rest, errors = process.communicate(timeout=60)
    if stop == signal.SIGINT:
        assert process.returncode == 0, errors
        assert "resumes the next time" in rest
    else:
        assert process.returncode == -signal.SIGKILL  # no clean-up at all: the job stays "running"
    assert not list(out.glob("dataset-*.csv"))

    fake_llm.latency = 0
    result = subprocess.run(_command(), input="", capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "continuing job" in result.stdout
    datasets = sorted(out.glob("dataset-*.csv"))
    assert len(datasets) == 1, result.stdout
    with datasets[0].open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["label"] for r in rows) == ["negative"] * 20 + ["positive"] * 20
