"""Random events through the real conversation: internal errors, unanswered events, time per event.

    python benchmarks/conversation_fuzz.py                   # 10,000 events in chats of 20 events
    python benchmarks/conversation_fuzz.py --events 2000 --seed 7

The events are the property test's (tests/test_conversation_table.py): odd texts ("²", "①", lone
surrogates, 5,000-digit numbers), commands, presses of any action/value, uploads (deeply nested
JSON, garbage, wrong columns). The dialog talks to the fake OpenAI-compatible server in this
process; background jobs are not awaited between events (as with a real user who keeps typing).
Prints events, internal errors, unanswered events and the p50 / p99 / max handling time (the time
until `Dialog.handle` returned, which is when every immediate reply has been sent).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.events import ButtonPress, ChatRef, Message  # noqa: E402
from tests.dialog_support import new_user, texts  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402
from tests.test_conversation_table import ACTIONS, COMMANDS, ODD_TEXTS, UPLOADS, VALUES, fuzz_settings  # noqa: E402

ALPHABET = "abcxyz 0123456789²①٣+-/=,;:.!?\n\ud800\udfff🤖ąęłżźćń"


async def main(total: int, per_chat: int, seed: int) -> None:
    random.seed(seed)
    times: list[float] = []
    errors = unanswered = 0
    examples: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as fake:
        settings = fuzz_settings(fake, Path(tmp) / "fuzz.db")
        user = await new_user(settings)
        chat_number = 0
        while len(times) < total:
            chat_number += 1
            user.chat = ChatRef(f"fuzz-{chat_number}", f"u{chat_number}")
            for _ in range(min(per_chat, total - len(times))):
                event = _draw()
                start = time.perf_counter()
                replies = await user.send(event, settle=False)
                times.append(time.perf_counter() - start)
                said = texts(replies)
                if not replies:
                    unanswered += 1
                    examples.append(f"no answer: {event!r:.100}")
                if "went wrong" in said:
                    errors += 1
                    examples.append(f"internal error: {event!r:.100}")
        await user.dialog.wait_idle()
        await user.dialog.aclose()
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * (len(ordered) - 1)))]
    print(f"events {len(times):,}  internal errors {errors}  unanswered {unanswered}")
    print(f"per event: p50 {statistics.median(ordered) * 1000:.1f} ms  p99 {p99 * 1000:.1f} ms  max {ordered[-1] * 1000:.1f} ms")
    for line in examples[:10]:
        print("  " + line)


def _draw() -> object:
    """One event, drawn like the property test's strategy (which hypothesis cannot sample reproducibly in bulk)."""
    kind = random.random()
    if kind < 0.3:
        return Message(random.choice(ODD_TEXTS))
    if kind < 0.45:
        return Message("".join(random.choice(ALPHABET) for _ in range(random.randint(0, 40))))
    if kind < 0.6:
        return Message(random.choice(COMMANDS))
    if kind < 0.92:
        return ButtonPress(random.choice(ACTIONS), random.choice(VALUES))
    return random.choice(UPLOADS)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--per-chat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.per_chat, args.seed))
