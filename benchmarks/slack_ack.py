"""How fast the Slack app acknowledges requests while the LLM is slow (Slack's limit: 3 s).

    python benchmarks/slack_ack.py                     # 40 users, LLM latency 2 s
    python benchmarks/slack_ack.py --users 100 --latency 5

Each simulated user sends a really signed `/dataset <seed prompt>` to the app (HTTP mode on
127.0.0.1, fake Slack Web API, fake OpenAI-compatible server with the given latency), all at
once, then presses "Generate preview" as soon as the summary appears, which starts slow LLM
work, and asks for `status` while it runs. Prints p50 / p95 / max acknowledgement times per
request kind and how long until every preview was posted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import Settings  # noqa: E402
from tests.fakes.openai_server import FakeOpenAI  # noqa: E402
from tests.fakes.slack_server import FakeSlack  # noqa: E402
from tests.test_slack import SEED_PROMPT, button_for, has_action, running_bot  # noqa: E402


def _summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"{name:<18} n={len(values):<4} p50={statistics.median(ordered) * 1000:7.1f} ms  p95={p95 * 1000:7.1f} ms  max={ordered[-1] * 1000:7.1f} ms"


async def main(users: int, latency: float) -> None:
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI() as llm, FakeSlack() as slack:
        settings = Settings(
            openai_api_key="k", openai_base_url=llm.base_url, llm="openai", model="fake-model",
            database_url=f"sqlite:///{tmp}/bench.db", progress_interval=0, output_dir=Path(tmp), _env_file=None,
        )  # type: ignore[call-arg]
        async with running_bot(settings, slack, llm) as h:
            channels = [f"C{n:07d}" for n in range(users)]
            acks: dict[str, list[float]] = {"/dataset": [], "button press": [], "thread message": []}

            async def one_user(channel: str) -> None:
                _, _, elapsed = await h.command(SEED_PROMPT, channel=channel, user=f"U{channel[1:]}")
                acks["/dataset"].append(elapsed)
                summary = await slack.wait_message(has_action("preview", channel=channel), timeout=60)
                llm.latency = latency  # from the first summary on, every LLM call is slow
                _, _, elapsed = await h.press(summary, button_for(summary, "preview"), user=f"U{channel[1:]}")
                acks["button press"].append(elapsed)
                _, _, elapsed = await h.reply(channel, summary["thread_ts"], "status", user=f"U{channel[1:]}")
                acks["thread message"].append(elapsed)
                await slack.wait_message(has_action("up", thread_ts=summary["thread_ts"]), timeout=120)

            started = time.monotonic()
            await asyncio.gather(*(one_user(c) for c in channels))
            total = time.monotonic() - started
            print(f"{users} users at once, LLM latency {latency:g} s per call")
            for name, values in acks.items():
                print(_summary(name, values))
            print(f"all previews posted after {total:.1f} s; Slack Web API calls: {len(slack.calls)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--latency", type=float, default=2.0)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.latency))
