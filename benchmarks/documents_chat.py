"""Figures for documents sent in a chat.

    python benchmarks/documents_chat.py [--pages 200]

One chat sends a PDF of `--pages` pages (written with fpdf2) to a real Dialog (SQLite, the fake
OpenAI server); meanwhile another chat sends /help every 20 ms. Printed: the time until the
upload's answer ("Read manual.pdf: ... passages"), next to the conversion alone (the ideal: what
the chat adds is storing the passages), and the other chat's slowest /help answer while the file
was read (the conversion runs in a thread, so the event loop stays free; the ideal is a few ms).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


async def main(pages: int) -> None:
    from benchmarks.documents import make_documents
    from core.conversation.documents import convert
    from core.documents.convert import MAX_TOTAL_CHARS
    from core.events import ChatRef, FileUpload, Message
    from core.settings import Settings
    from tests.dialog_support import new_user, texts
    from tests.fakes.openai_server import FakeOpenAI

    with tempfile.TemporaryDirectory() as folder, FakeOpenAI() as fake:
        make_documents(Path(folder), pages)
        data = (Path(folder) / "manual.pdf").read_bytes()
        started = time.perf_counter()
        passages, _ = convert("manual.pdf", data, MAX_TOTAL_CHARS)
        alone = time.perf_counter() - started
        settings = Settings(openai_api_key="x", openai_base_url=fake.base_url, llm="openai", model="fake-model",
                            database_url=f"sqlite:///{folder}/bench.db", progress_interval=0,
                            max_upload_bytes=100_000_000, _env_file=None)
        user = await new_user(settings)
        other = await new_user(settings, store=user.dialog.store, chat=ChatRef("other", "u2"))
        other.dialog = user.dialog
        await user.send("test questions from my manual")
        await other.send("/help")
        waits: list[float] = []
        done = asyncio.Event()

        async def ask_help() -> None:
            while not done.is_set():
                t0 = time.perf_counter()
                await user.dialog.handle(other.chat, Message("/help"))
                waits.append(time.perf_counter() - t0)
                await asyncio.sleep(0.02)

        helper = asyncio.create_task(ask_help())
        started = time.perf_counter()
        await user.dialog.handle(user.chat, FileUpload("manual.pdf", data))
        in_chat = time.perf_counter() - started
        done.set()
        await helper
        said = texts(user.take())
        await user.dialog.aclose()
    assert "Read manual.pdf" in said, said
    print(f"PDF: {pages} pages, {len(data) / 1e6:.1f} MB, {len(passages)} passages")
    print(f"conversion alone (ideal)     : {alone:.2f} s ({pages / alone:.0f} pages/s)")
    print(f"upload answered in the chat  : {in_chat:.2f} s (ratio to ideal {in_chat / alone:.2f})")
    print(f"other chat's /help meanwhile : {len(waits)} answered, median {statistics.median(waits) * 1000:.0f} ms, "
          f"slowest {max(waits) * 1000:.0f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=200)
    asyncio.run(main(parser.parse_args().pages))
