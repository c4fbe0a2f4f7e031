"""`datagen generate` end to end: a real subprocess, the real openai client, the fake server on 127.0.0.1."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from core.settings import Settings
from tests.fakes.openai_server import FakeOpenAI

ROOT = Path(__file__).resolve().parent.parent
SENTIMENT = ROOT / "examples" / "sentiment.yaml"
ANSI = "\x1b["


def datagen_command() -> list[str]:
    script = Path(sys.executable).with_name("datagen")  # the installed console script when there is one
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


def environment(base_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATAGEN_", "OPENAI_", "TELEGRAM_", "SLACK_")) and k != "DATABASE_URL"}
    env.update(OPENAI_API_KEY="test-key", OPENAI_BASE_URL=base_url, DATAGEN_MODEL="fake-model",
               DATABASE_URL=f"sqlite:///{tmp_path}/jobs.db", DATAGEN_PROGRESS_INTERVAL="0",
               DATAGEN_REQUEST_TIMEOUT="5", DATAGEN_MAX_RETRIES="2", PYTHONUNBUFFERED="1", COLUMNS="120",
               DATAGEN_ATTRIBUTES="off")  # faults and request counts here mean generation requests (conftest)
    env.update(extra)
    return env


def generate(tmp_path: Path, env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    # cwd is the temp dir, so a developer's .env in the repo can't change what is tested.
    return subprocess.run([*datagen_command(), "generate", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=timeout)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_sentiment_example_gives_exactly_the_seeds_order(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    done = generate(tmp_path, environment(fake_llm.base_url, tmp_path), str(SENTIMENT), "-o", "out.csv")
    assert done.returncode == 0, done.stderr
    rows = read_rows(tmp_path / "out.csv")
    assert Counter(row["label"] for row in rows) == {"negative": 2, "positive": 8}
    assert list(rows[0]) == ["text", "label"]
    assert len({row["text"] for row in rows}) == 10
    card = (tmp_path / "out.card.md").read_text(encoding="utf-8")
    assert "| negative | 2 | 2 |" in card and "| positive | 8 | 8 |" in card
    assert "fake-model via 127.0.0.1" in card and "/v1" not in card  # the host, not the URL
    # stdout: where the files are and what is in them
    assert "wrote out.csv (10 rows: negative 2, positive 8)" in done.stdout
    assert "card: out.card.md" in done.stdout
    assert "chart: out.chart.png" in done.stdout and "variety: " in done.stdout
    assert (tmp_path / "out.chart.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "## Variety" in card and "Cost: unknown (no price for fake-model" in card
    # stderr, piped: the model, the job id, plain progress lines (no terminal escapes)
    assert "model: fake-model via 127.0.0.1\n" in done.stderr
    assert "--resume 1" in done.stderr
    assert ANSI not in done.stderr + done.stdout
    progress = [line for line in done.stderr.splitlines() if re.match(r"job 1: \d+/10 rows \(negative \d/2, positive \d/8\)", line)]
    assert progress and progress[-1].startswith("job 1: 10/10 rows (negative 2/2, positive 8/8)")
    assert len(fake_llm.requests) >= 2  # batches of one label each: at least one per label


def test_format_flag_wins_over_the_suffix(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    # (the suffix and spec rules are unit-tested in test_export.py::test_format_choice)
    done = generate(tmp_path, environment(fake_llm.base_url, tmp_path), str(SENTIMENT), "-o", "ft.jsonl",
                    "--format", "openai_jsonl")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in (tmp_path / "ft.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 10 and all([m["role"] for m in line["messages"]] == ["system", "user", "assistant"]
                                    for line in lines)


@pytest.mark.parametrize(
    ("spec_text", "args", "message"),
    [
        ("task: classification\nlabels: [only]\ncount: 3\n", [], "at least 2 distinct labels"),
        ("labels: [a, b\n", [], "cannot parse spec.yaml"),
        ("labels: [a, b]\ncount: 4\n", ["--format", "parquet"], "unknown format 'parquet'"),
        ("labels: [a, b]\ncount: 4\n", ["--resume", "42"], "there is no job 42"),
    ],
)
def test_bad_input_exits_2_with_one_line(fake_llm: FakeOpenAI, tmp_path: Path, spec_text: str, args: list[str],
                                         message: str) -> None:
    (tmp_path / "spec.yaml").write_text(spec_text, encoding="utf-8")
    done = generate(tmp_path, environment(fake_llm.base_url, tmp_path), "spec.yaml", "-o", "out.csv", *args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ") and message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.csv").exists()
    assert fake_llm.requests == []  # nothing reached the model


def test_an_unwritable_output_is_refused_before_any_request(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    done = generate(tmp_path, environment(fake_llm.base_url, tmp_path), str(SENTIMENT), "-o", "a-file/out.csv")
    assert done.returncode == 2
    assert done.stderr.startswith("error: cannot create the folder a-file") and done.stderr.count("\n") == 1
    assert fake_llm.requests == []


def test_missing_spec_file_exits_2(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    done = generate(tmp_path, environment(fake_llm.base_url, tmp_path), "nope.yaml", "-o", "out.csv")
    assert (done.returncode, done.stderr) == (2, "error: spec file not found: nope.yaml\n")


def test_a_failing_job_exits_1_with_a_one_line_reason(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    fake_llm.inject("wrong_labels", times=10_000)  # the model never uses the ordered labels
    done = generate(tmp_path, environment(fake_llm.base_url, tmp_path, DATAGEN_CONCURRENCY="4"),
                    str(SENTIMENT), "-o", "out.csv")
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "job 1 failed" in errors[0] and "label" in errors[0], done.stderr
    assert done.stderr.splitlines()[-1] == errors[0]
    assert not (tmp_path / "out.csv").exists()


def test_a_silent_server_shows_waiting_and_fails_within_the_limit(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    fake_llm.inject("slow", times=100, delay=60)  # takes the request, never answers
    env = environment(fake_llm.base_url, tmp_path, DATAGEN_REQUEST_TIMEOUT="60", DATAGEN_NO_ANSWER_TIMEOUT="3")
    started = time.monotonic()
    done = generate(tmp_path, env, str(SENTIMENT), "-o", "out.csv")
    assert done.returncode == 1, done.stderr
    assert time.monotonic() - started < 20
    assert re.search(r"job 1: 0/10 rows .*waiting for the model \(\d+ s without an answer; gives up after 3 s\)",
                     done.stderr), done.stderr
    error = done.stderr.splitlines()[-1]
    assert error.startswith("error: job 1 failed:") and "has not answered for 3 s" in error


def test_an_unusable_model_setting_exits_1(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    env = environment(fake_llm.base_url, tmp_path, DATAGEN_LLM="local", DATAGEN_LOCAL_MODEL=str(tmp_path / "no.gguf"))
    done = generate(tmp_path, env, str(SENTIMENT), "-o", "out.csv")
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot start the model:") and done.stderr.count("\n") == 1


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_says_how_to_resume_and_resume_completes_exactly(tmp_path: Path,
                                                                         stop_signal: signal.Signals) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text("labels: [negative, positive]\nlabel_counts: {negative: 8, positive: 16}\n", encoding="utf-8")
    # 1 s per answer: after the first stored rows at least 5 answers (5 s) remain, so the signal lands
    # mid-job even on a loaded machine (0.1 s let a 24-row job finish before the signal did).
    with FakeOpenAI(latency=1.0) as fake:
        env = environment(fake.base_url, tmp_path, DATAGEN_CONCURRENCY="1", DATAGEN_BATCH_SIZE="4")
        stderr_path = tmp_path / "stderr.txt"
        with stderr_path.open("w") as stderr:
            process = subprocess.Popen([*datagen_command(), "generate", "big.yaml", "-o", "out.csv"], cwd=tmp_path,
                                       env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
            deadline = time.monotonic() + 30
            while not re.search(r"job 1: [1-9]\d*/24", stderr_path.read_text()) and time.monotonic() < deadline:
                assert process.poll() is None, stderr_path.read_text()
                time.sleep(0.02)
            process.send_signal(stop_signal)
            process.communicate(timeout=30)
        message = stderr_path.read_text()
        assert process.returncode == 130, message
        assert "interrupted: job 1 stopped with" in message
        assert "datagen generate big.yaml -o out.csv --resume 1" in message
        assert "Traceback" not in message
        assert not (tmp_path / "out.csv").exists()

        if stop_signal != signal.SIGINT:
            return  # resuming is the same after either signal; run it once
        resumed = generate(tmp_path, env, "big.yaml", "-o", "out.csv", "--resume", "1")
        assert resumed.returncode == 0, resumed.stderr
        assert "job 1: resuming" in resumed.stderr
        rows = read_rows(tmp_path / "out.csv")
        assert Counter(row["label"] for row in rows) == {"negative": 8, "positive": 16}
        assert len({row["text"] for row in rows}) == 24

        # A finished job re-exports (here in another format) without asking the model again.
        asked = len(fake.requests)
        again = generate(tmp_path, env, "big.yaml", "-o", "again.json", "--resume", "1")
        assert again.returncode == 0, again.stderr
        assert "already done" in again.stderr and len(fake.requests) == asked
        assert [row["text"] for row in json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))] == [
            row["text"] for row in rows]


def _start_and_kill(tmp_path: Path, env: dict[str, str], *args: str, rows: int = 1) -> str:
    """Start `datagen generate`, SIGKILL it once its job has `rows`+ rows; return its stderr."""
    stderr_path = tmp_path / "killed.txt"
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen([*datagen_command(), "generate", *args], cwd=tmp_path, env=env,
                                   stdout=subprocess.DEVNULL, stderr=stderr, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = re.findall(r"job \d+: (\d+)/", stderr_path.read_text())
            if done and int(done[-1]) >= rows:
                break
            assert process.poll() is None, stderr_path.read_text()
            time.sleep(0.02)
        process.kill()  # no clean-up at all: the job stays "running" in the database
        process.wait(timeout=30)
    return stderr_path.read_text()


def test_running_the_same_command_again_continues_the_unfinished_job(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text("labels: [negative, positive]\nlabel_counts: {negative: 8, positive: 16}\n", encoding="utf-8")
    with FakeOpenAI(latency=0.1) as fake:
        env = environment(fake.base_url, tmp_path, DATAGEN_CONCURRENCY="1", DATAGEN_BATCH_SIZE="4")
        _start_and_kill(tmp_path, env, "big.yaml", "-o", "out.csv", rows=8)
        asked_before = len(fake.generation_requests)

        again = generate(tmp_path, env, "big.yaml", "-o", "out.csv")
        assert again.returncode == 0, again.stderr
        assert re.search(r"job 1: continuing this command's unfinished job \((\d+)/24 rows already stored\); "
                         r"add --fresh to start over", again.stderr), again.stderr
        assert "job 2" not in again.stderr
        rows = read_rows(tmp_path / "out.csv")
        assert Counter(row["label"] for row in rows) == {"negative": 8, "positive": 16}
        assert len({row["text"] for row in rows}) == 24
        # The rows stored before the kill were not paid for again: 24 rows in batches of 4 is 6 requests.
        assert len(fake.generation_requests) - asked_before < 6
        from storage.store import Store

        store = Store.from_url(env["DATABASE_URL"])
        try:
            assert store.get_job(1).status == "done" and store.get_job(2) is None  # type: ignore[union-attr]
        finally:
            store.close()

        # Done: the same command again is a new order; --fresh always is; another file is another job.
        assert "job 2: started" in generate(tmp_path, env, "big.yaml", "-o", "out.csv").stderr
        _start_and_kill(tmp_path, env, "big.yaml", "-o", "other.csv")  # job 3, left unfinished
        fresh = generate(tmp_path, env, "big.yaml", "-o", "other.csv", "--fresh")
        assert fresh.returncode == 0 and "job 4: started" in fresh.stderr, fresh.stderr
        assert "job 5: started" in generate(tmp_path, env, "big.yaml", "-o", "third.csv").stderr


def test_running_the_command_again_while_it_runs_elsewhere_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text("labels: [negative, positive]\nlabel_counts: {negative: 8, positive: 16}\n", encoding="utf-8")
    with FakeOpenAI(latency=0.3) as fake:
        env = environment(fake.base_url, tmp_path, DATAGEN_CONCURRENCY="1", DATAGEN_BATCH_SIZE="4")
        first = subprocess.Popen([*datagen_command(), "generate", "big.yaml", "-o", "out.csv"], cwd=tmp_path, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30
            while not fake.requests and time.monotonic() < deadline:  # the first process is generating
                time.sleep(0.02)
            again = generate(tmp_path, env, "big.yaml", "-o", "out.csv")
            assert again.returncode == 1, again.stderr
            assert "job 1 is being generated by another process since" in again.stderr.splitlines()[-1]
            _, first_err = first.communicate(timeout=60)
        finally:
            if first.poll() is None:
                first.kill()
        assert first.returncode == 0, first_err
        rows = read_rows(tmp_path / "out.csv")
        assert Counter(row["label"] for row in rows) == {"negative": 8, "positive": 16}


def test_fresh_and_resume_together_is_refused(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    done = generate(tmp_path, environment(fake_llm.base_url, tmp_path), str(SENTIMENT), "-o", "out.csv",
                    "--fresh", "--resume", "1")
    assert done.returncode == 2 and done.stderr.startswith("error: --fresh") and not fake_llm.requests


def test_env_example_lists_every_setting() -> None:
    listed = set(re.findall(r"^# ([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(encoding="utf-8"), re.M))
    names = {field.validation_alias.choices[0] for field in Settings.model_fields.values()}  # type: ignore[union-attr]
    assert names == listed
