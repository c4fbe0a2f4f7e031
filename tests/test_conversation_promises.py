"""The conversation keeps its word (issue 15, the dialog's side), end to end: `datagen chat` in a
subprocess with piped input, against the fake OpenAI-compatible server."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.openai_server import FakeOpenAI
from tests.test_terminal import _run


def test_an_invalid_order_is_never_offered_for_preview_nor_called_ready(fake_llm: FakeOpenAI, tmp_path: Path) -> None:
    result = _run(
        ["10000000 tweets about football, positive or negative, in English, CSV", "yes", "/status",
         "4 tweets about football: 5 positive and 5 negative, English, CSV", "/status", "yes"],
        fake_llm, tmp_path, tmp_path / "out",
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Generate preview" not in out, out  # never offered for an order that cannot be generated
    assert "Order ready" not in out, out
    assert out.count("can't be generated yet") >= 5, out  # each answer says what is wrong instead
    assert "more than I can make at once" in out and "add up to 10, but the total is 4" in out
    assert not [body for body in fake_llm.requests if "Produce exactly" in str(body)]  # nothing generated
