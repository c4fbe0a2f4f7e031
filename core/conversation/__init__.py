"""The conversation, one module per concern (read `table.py` first):

  table.py       which event each phase accepts and who handles it (the whole machine, as data)
  state.py       Phase and the typed ConversationState (stored per chat, survives restarts)
  machine.py     Dialog: load, per-chat lock, dispatch through the table, save; the services handlers use
  classify.py    what the user sent -> the table key (typed buttons, "+1 -3" ratings, commands)
  collecting.py  collecting the order: questions, summary, order changes
  preview.py     preview and feedback: 👍/👎, feedback text, what the engine is told
  jobs.py        the dataset job: start, busy answers, cancel, what its end does to the chat
  background.py  the jobs' background tasks: progress, delivery, reporting back to the table
  uploads.py     the user's own rows: columns, balancing offer
  commands.py    /new /start /help /status /cancel: the table's fallbacks
  ports.py       what the conversation needs of storage (a Protocol)
  persistence.py a chat's lock, load and save; reply_threads.py: the threads its blocking calls run in
"""

from core.conversation.machine import Dialog

__all__ = ["Dialog"]
