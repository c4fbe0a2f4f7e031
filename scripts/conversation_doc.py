"""Rewrite the state-machine section of docs/conversation.md from core/conversation/table.py.

tests/test_conversation_table.py fails while the doc and the table disagree; run this to fix the doc.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.conversation.table import docs_section  # noqa: E402

BEGIN, END = "<!-- conversation-table:begin (generated) -->", "<!-- conversation-table:end -->"


def main() -> None:
    doc = ROOT / "docs" / "conversation.md"
    text = doc.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
    doc.write_text(pattern.sub(lambda _: f"{BEGIN}\n{docs_section()}{END}", text), encoding="utf-8")


if __name__ == "__main__":
    main()
