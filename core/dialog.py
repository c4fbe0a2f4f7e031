"""The conversation's entry point for channel adapters; the machine itself is `core.conversation`."""

from core.conversation import Dialog

__all__ = ["Dialog"]
