"""The conversation's stored state: uploaded rows live in their own table, and conversations
written by the previous (untyped) version continue after the upgrade."""

from __future__ import annotations

import json

from core.conversation.state import ConversationState, Phase
from core.events import ButtonPress
from core.settings import Settings
from tests.dialog_support import csv_rows, documents, find_choice, new_user, texts


def big_upload(rows: int) -> bytes:
    lines = ["text,label"] + [f"a positive review number {i},positive" for i in range(rows)]
    lines += [f"a negative review number {i},negative" for i in range(rows // 10)]
    return "\n".join(lines).encode()


async def test_uploaded_rows_stay_out_of_the_conversation_state(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        replies = await user.upload("big.csv", big_upload(5000))
        assert "5,500" in texts(replies) or "5500" in texts(replies), texts(replies)
        row = user.dialog.store.find_conversation("test", user.chat.conversation)
        assert row is not None and len(row.data_json) < 3000, len(row.data_json)  # 5,500 rows would be ~300 KB
        state = ConversationState.load(row.state, row.data_json)
        assert state.upload is not None and state.upload.size == 5500
        stored = user.dialog.store.load_upload(state.upload.upload_id)
        assert stored is not None and len(stored[2]) == 5500
        assert state.upload.counts == {"positive": 5000, "negative": 500}
    finally:
        await user.dialog.aclose()


async def test_a_conversation_stored_by_the_previous_version_continues(settings: Settings) -> None:
    """A row as the untyped dialog wrote it: upload rows inside data_json, buttons as triples,
    preview numbers as string keys, a "delivered" key this version no longer knows."""
    user = await new_user(settings)
    try:
        store = user.dialog.store
        conversation = store.get_or_create_conversation("test", user.chat.conversation, user.chat.user)
        rows = [{"text": f"good {i}", "label": "positive"} for i in range(6)] + [{"text": "bad 1", "label": "negative"}]
        old = {
            "greeted": True,
            "draft": {"task": "classification", "labels": ["positive", "negative"]},
            "upload": {"filename": "old.csv", "rows": rows, "counts": {"positive": 6, "negative": 1}},
            "upload_plan": {"positive": 0, "negative": 5},
            "offered": [["Generate 5 rows", "balance", ""], ["Cancel", "cancel", ""]],
            "preview_items": {"1": 99},
            "delivered": 3,
        }
        store.save_conversation(conversation.id, state="upload_offer", data=old, language="en")

        replies = await user.send("1")  # the typed "[1] Generate 5 rows" offered by the old version
        summary_text = texts(replies)
        assert "7" in summary_text, summary_text  # the summary counts the 7 uploaded rows
        row = store.find_conversation("test", user.chat.conversation)
        assert "good 3" not in row.data_json  # the rows moved to their own table
        assert Phase(row.state) == Phase.confirm

        shown = await user.press(replies, "preview")
        done = await user.press(shown, "generate")
        delivered = csv_rows(documents(done)[0])
        by_source = {(r["label"], r["source"]) for r in delivered}
        assert ("negative", "synthetic") in by_source and ("positive", "uploaded") in by_source
        assert sum(1 for r in delivered if r["label"] == "negative") == 6  # 1 uploaded + 5 generated
    finally:
        await user.dialog.aclose()


async def test_unreadable_stored_state_starts_over_instead_of_failing_every_message(settings: Settings) -> None:
    user = await new_user(settings)
    try:
        store = user.dialog.store
        conversation = store.get_or_create_conversation("test", user.chat.conversation, user.chat.user)
        store.save_conversation(conversation.id, state="rating", data={"ratings": "not a dict", "offered": 5})
        replies = await user.send(ButtonPress("generate"))
        assert "went wrong" not in texts(replies)
        replies = await user.send("10 tweets about football, positive or negative")
        find_choice(replies, "preview")
    finally:
        await user.dialog.aclose()
