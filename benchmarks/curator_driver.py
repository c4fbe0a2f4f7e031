"""Runs bespokelabs-curator against an OpenAI-compatible server, for benchmarks/throughput.py.

Run with curator's own interpreter (a separate venv: curator pins other versions of openai,
pydantic and friends):  /path/to/curator-venv/bin/python benchmarks/curator_driver.py URL PROMPTS.json
PROMPTS.json is a list of prompt strings (rendered by our engine, line-template answers). Prints
one JSON line: rows parsed, seconds, rows/s. Curator's defaults otherwise (its dispatcher decides
how many requests are in flight), except the assumed rate limit (see below).
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time


def main() -> None:
    base_url, prompts_path = sys.argv[1], sys.argv[2]
    os.environ.setdefault("OPENAI_API_KEY", "bench")
    os.environ["CURATOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="curator-bench-")
    os.environ.setdefault("CURATOR_DISABLE_CACHE", "1")
    os.environ.setdefault("TELEMETRY_ENABLED", "false")
    os.environ.setdefault("CURATOR_VIEWER", "0")
    # Offline: tiktoken's cl100k_base file ships inside litellm (a curator dependency).
    import litellm.litellm_core_utils.tokenizers as bundled

    os.environ.setdefault("TIKTOKEN_CACHE_DIR", os.path.dirname(bundled.__file__))
    from bespokelabs import curator  # slow import: not part of the timed run

    prompts = json.load(open(prompts_path, encoding="utf-8"))

    class Rows(curator.LLM):
        def prompt(self, item: dict) -> str:
            return item["prompt"]

        def parse(self, item: dict, response: str) -> list[dict]:
            texts = re.findall(r"^Q: (.+)$", response, flags=re.M)
            labels = re.findall(r"^A: (.+)$", response, flags=re.M)
            return [{"text": t, "label": l} for t, l in zip(texts, labels)]

    llm = Rows(model_name="gpt-4o-mini", backend="openai",
               # Without rate-limit headers from the server curator assumes 200 requests/minute;
               # lifted so that only its dispatcher (up to 200 requests at once) limits it.
               backend_params={"base_url": base_url, "api_key": "bench", "max_retries": 3,
                               "max_requests_per_minute": 1_000_000, "max_tokens_per_minute": 1_000_000_000})
    started = time.perf_counter()
    dataset = llm([{"prompt": p} for p in prompts])
    elapsed = time.perf_counter() - started
    rows = len(dataset.dataset) if hasattr(dataset, "dataset") else len(dataset)
    print(json.dumps({"rows": rows, "elapsed": elapsed, "rows_per_s": rows / elapsed}))


if __name__ == "__main__":
    main()
