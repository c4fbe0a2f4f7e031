"""How fast and how right the intake rules are: latency per message and the seed prompts' reading.

    python benchmarks/intake.py              # 2,000 rounds over a corpus of EN/PL orders and corrections
    python benchmarks/intake.py --rounds 200

Prints the mean and p99 time of interpret()+apply() per message, the worst case over adversarial
inputs (20,000-char digit strings, repeated separators, ...), the time to read a 60- and a 1,000-label
list, and whether each seed prompt of
shared/seed-llm-data-generation.txt is read into a valid order with the expected quotas.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.intake import SpecDraft, apply, interpret  # noqa: E402
from core.spec import SpecError  # noqa: E402

SEEDS: list[tuple[str, dict[str, int]]] = [
    (
        "Produce 10 exemplars for sentiment analysis.\nExamples are categorized as either positive or negative.\n"
        "Produce 2 negative examples and 8 positive examples.\nUse this format for the examples:\nQ: <sentence>\nA: <sentiment>",
        {"positive": 8, "negative": 2},
    ),
    ("Write 5 multiple-choice questions about the French Revolution.\nEach should have 4 options with 1 correct answer.", {"": 5}),
    (
        'Generate 10 user messages.\nClassify them into one of the intents: ["greeting", "order_status", "cancel_order", '
        '"complaint", "goodbye"]\nFormat:\nText: "<message>"\nIntent: <intent>',
        {"greeting": 2, "order_status": 2, "cancel_order": 2, "complaint": 2, "goodbye": 2},
    ),
    ('Generate 8 phrases that represent toxic or bullying behavior in online chats.\nLabel each as "toxic" or "non-toxic".',
     {"toxic": 4, "non-toxic": 4}),
    ("wygeneruj 50 przykładów, 40 pozytywnych i 10 negatywnych, po polsku", {"positive": 40, "negative": 10}),
]
CORPUS = [
    "200 reviews about Italian restaurants, positive or negative, 70% positive, CSV",
    "make it 500", "add a neutral label", "in German", "more formal", "labels: greeting, order_status, complaint",
    "100 pytań quizowych o historii Polski po polsku", "zrób 300", "usuń etykietę neutral", "bardziej swobodnie",
    "tak", "no", "50 each", "toxic vs non-toxic, 1k examples, jsonl", "what can you do?", "👍",
]
ADVERSARIAL = [
    "9" * 20_000, ", " * 10_000, "positive or " * 2_000, "1 " * 10_000, "\n".join(["Q: <x>"] * 3_000), "a" * 20_000,
    "a/" * 10_000, "-1 " * 6_000, "more a than " * 1_500, "² " * 10_000, "labels:\n" + "\n" * 10_000,
]
#: Label lists are read whole (never cut at a length): their cost grows with the number of labels.
LABEL_LISTS = [60, 1_000]


def timed(text: str, draft: SpecDraft) -> tuple[float, SpecDraft]:
    start = time.perf_counter()
    updated = apply(draft, interpret(text, draft))
    return time.perf_counter() - start, updated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2_000)
    args = parser.parse_args()

    samples: list[float] = []
    for _ in range(args.rounds):
        draft = SpecDraft()
        for text in CORPUS:
            elapsed, draft = timed(text, draft)
            samples.append(elapsed)
    samples.sort()
    p99 = samples[int(len(samples) * 0.99) - 1]
    print(f"interpret+apply: {len(samples):,} messages, mean {statistics.mean(samples) * 1000:.2f} ms, "
          f"p99 {p99 * 1000:.2f} ms")
    worst = max(timed(text, SpecDraft())[0] for text in ADVERSARIAL)
    print(f"adversarial inputs (up to 20,000 chars): worst {worst * 1000:.0f} ms")
    for size in LABEL_LISTS:
        elapsed, draft = timed("labels: " + ", ".join(f"label_{i}" for i in range(size)), SpecDraft())
        assert len(draft.labels or []) == size
        print(f"a list of {size:,} labels: {elapsed * 1000:.0f} ms, every label kept")

    right = 0
    for text, quotas in SEEDS:
        _, draft = timed(text, SpecDraft())
        try:
            got = draft.to_spec().quotas()
        except SpecError as error:
            got = {"error": str(error)}  # type: ignore[dict-item]
        ok = got == quotas and not draft.missing()
        right += ok
        print(f"  {'ok ' if ok else 'BAD'} {text.splitlines()[0][:60]!r} -> {got}")
    print(f"seed prompts read into the expected order: {right}/{len(SEEDS)}")


if __name__ == "__main__":
    main()
