"""The terminal channel (`datagen chat`): a line-based chat on stdin/stdout.

Choices print as `[1] Generate all`; typing the number or the label selects it (the dialog
does that, so every channel benefits). `+2` / `-3` rate preview example 2 / 3 with 👍 / 👎.
`/upload PATH` sends a local file. Delivered files go to DATAGEN_OUTPUT_DIR (default: the
current directory) and their path is printed.

Piped input works: lines are read by a daemon thread (so a blocked read never keeps the
process alive after Ctrl-C), and when stdin is not a terminal each line waits for the
background work it started, so a script like "order / 1 / 1" sees the preview before it
answers it. At end of input the running jobs finish, then the process exits 0.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import shlex
import sys
import threading
from pathlib import Path
from typing import TextIO

from core.dialog import Dialog
from core.events import ChatRef, Document, FileUpload, Message, Preview, Progress, Reply, choices_as_text, reply_as_text
from core.settings import Settings
from storage.store import Store

log = logging.getLogger(__name__)

BANNER = (
    "datagen chat: describe the dataset you need (e.g. “200 restaurant reviews, positive or negative, CSV”).\n"
    "Type a number to pick an option, +N/-N to rate preview example N, /upload PATH to send a file (CSV/JSON, or a PDF to ask about),\n"
    "/help for more. Ctrl-D (end of input) waits for running jobs and exits; Ctrl-C stops now, jobs resume next time."
)


class TerminalOutput:
    """Prints replies; writes documents to `output_dir`; prints each progress text once."""

    def __init__(self, output_dir: Path, stream: TextIO | None = None) -> None:
        self.output_dir = output_dir
        self.stream = stream or sys.stdout
        self._progress_seen: dict[int, str] = {}
        self.written: list[Path] = []

    def _print(self, text: str) -> None:
        self.stream.write(text.rstrip("\n") + "\n")
        self.stream.flush()

    async def send(self, chat: ChatRef, reply: Reply) -> None:
        if isinstance(reply, Document):
            path = self._write(reply)
            self._print(f"Saved {reply.filename} to {path}" + (f"\n{reply.caption}" if reply.caption else ""))
        elif isinstance(reply, Progress):
            previous = self._progress_seen.get(reply.job_id)
            if previous == reply.text:
                return
            self._progress_seen[reply.job_id] = reply.text
            # The Cancel option once per job, not on every progress line.
            show_choices = previous is None and not reply.finished and reply.choices
            self._print(reply.text + (("\n" + choices_as_text(reply.choices)) if show_choices else ""))
        elif isinstance(reply, Preview):
            self._print(reply_as_text(reply))
        else:
            self._print(reply_as_text(reply))

    def _write(self, document: Document) -> Path:
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / document.filename
        stem, suffix = _split_name(document.filename)
        n = 1
        while path.exists():  # never overwrite an earlier delivery (another database, another run)
            path = self.output_dir / f"{stem}-{n}{suffix}"
            n += 1
        path.write_bytes(document.data)
        self.written.append(path.resolve())
        return path.resolve()


def _split_name(filename: str) -> tuple[str, str]:
    # "dataset-3.card.md" -> ("dataset-3", ".card.md"): keep the double suffix together.
    name = Path(filename).name
    first_dot = name.find(".")
    return (name, "") if first_dot <= 0 else (name[:first_dot], name[first_dot:])


def upload_arguments(rest: str) -> list[str]:
    """The files after /upload: the whole rest when it names a file (a path with spaces), else
    several paths ("/upload manual.pdf guide.md", quoted when they hold spaces)."""
    raw = rest.strip().strip("\"'")
    if not raw or Path(raw).expanduser().exists():
        return [rest]
    try:
        parts = shlex.split(rest)
    except ValueError:  # an unbalanced quote: one path, as typed
        return [rest]
    return parts if len(parts) > 1 else [rest]


def read_upload(argument: str, max_bytes: int) -> FileUpload | str:
    """The file named after /upload, or a one-line error to print."""
    raw = argument.strip().strip("\"'")
    if not raw:
        return "Usage: /upload PATH (a CSV/JSON/XLSX/TXT of examples or rows to label, or a PDF/DOCX/MD/HTML document)"
    path = Path(raw).expanduser()
    try:
        with path.open("rb") as handle:
            # One byte past the limit is enough for the dialog to say "too big" without reading gigabytes.
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        return f"No such file: {path}"
    except IsADirectoryError:
        return f"{path} is a folder, not a file"
    except OSError as exc:
        return f"Cannot read {path}: {exc.strerror or exc}"
    return FileUpload(path.name, data)


def _start_reader(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None], stream: TextIO) -> None:
    def read() -> None:
        try:
            for line in stream:
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except Exception:  # a closed or broken stdin ends the chat like EOF does
            log.exception("reading stdin failed")
        finally:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, None)
            except RuntimeError:  # the loop is already closed (Ctrl-C)
                pass

    threading.Thread(target=read, name="stdin-reader", daemon=True).start()


async def chat_loop(settings: Settings, stdin: TextIO, stdout: TextIO) -> int:
    interactive = stdin.isatty()
    output = TerminalOutput(Path(settings.output_dir), stdout)
    dialog = Dialog("terminal", output, settings, open_store=Store.from_url)
    chat = ChatRef("terminal", _user_name())
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    try:
        await dialog.start()
        output._print(BANNER)
        _start_reader(asyncio.get_running_loop(), queue, stdin)
        while True:
            if interactive:
                stdout.write("> ")
                stdout.flush()
            line = await queue.get()
            if line is None:
                break
            line = line.rstrip("\r\n")
            command = line.strip().split(maxsplit=1)
            if command and command[0].lower() in ("/quit", "/exit"):
                break
            if command and command[0].lower() == "/upload":
                for argument in upload_arguments(command[1] if len(command) > 1 else ""):
                    upload = read_upload(argument, settings.max_upload_bytes)
                    if isinstance(upload, str):
                        output._print(upload)
                        continue
                    await dialog.handle(chat, upload)
            else:
                await dialog.handle(chat, Message(line))
            if not interactive:
                # A script's next line answers what this one started (e.g. the preview).
                await dialog.wait_idle()
        if dialog.running_jobs:
            output._print("End of input: waiting for the running job to finish…")
        await dialog.wait_idle()
        return 0
    finally:
        await dialog.aclose()


def _user_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers; it is only a label
        return "user"


def run_terminal(settings: Settings) -> int:
    """`datagen chat`: returns the process exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return asyncio.run(chat_loop(settings, sys.stdin, sys.stdout))
    except KeyboardInterrupt:
        print("\nStopped. An unfinished job is saved and resumes the next time you run `datagen chat`.", flush=True)
        return 0
