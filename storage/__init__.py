"""Persistence for jobs, generated rows, and conversations (sqlmodel).

The core talks to `Store`; the tables in `storage.models` are an implementation detail.
"""

from storage.store import Store

__all__ = ["Store"]
