"""The conversation: an event in, replies out; one state machine for every channel.

Contract for channel adapters (bot/*.py):

    dialog = Dialog(channel="telegram", output=my_output_channel, settings=settings)
    await dialog.start()                      # opens storage/LLM, resumes interrupted jobs
    await dialog.handle(ChatRef(...), Message("200 reviews, positive or negative"))
    await dialog.handle(ChatRef(...), ButtonPress("up", "17"))
    await dialog.handle(ChatRef(...), FileUpload("seed.csv", data))
    await dialog.wait_idle()                  # background jobs done (terminal end of input, tests)
    await dialog.aclose()

`handle` returns quickly: replies go to `output.send(chat, reply)`; long work (preview,
generation) runs in background tasks that push Progress and Document replies later.
"""

from __future__ import annotations
