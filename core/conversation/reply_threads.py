"""The replies' own worker threads: the blocking (database) calls made while a user waits for an answer.

`asyncio.to_thread` uses the event loop's default pool (a handful of threads), which the running
jobs fill with their row writes, claims and deliveries. A chat event makes several blocking calls
one after the other (its lock, its state, its job, its save): queued behind the jobs' calls each
time, a reply took seconds while many orders ran. Here they never wait behind background work.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

#: Few: a reply makes its calls one after the other, and each thread may hold a database connection.
REPLY_THREADS = 4

_pool = ThreadPoolExecutor(max_workers=REPLY_THREADS, thread_name_prefix="datagen-reply")


async def blocking(fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)` in a reply thread, as `asyncio.to_thread` does it (context variables included)."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_pool, call)
