"""Where the LLM backends come from: the built-in backend modules, listed once here, and any
installed package's `datagen.llm_backends` entry points (simonw/llm's plugin model). Importing a
backend module registers it with `core.llm.register_backend`; `core.llm` imports none of them,
so there is no import cycle between the interface and its implementations.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import threading

log = logging.getLogger(__name__)

#: Built-in backends. A module's import must stay cheap: heavy libraries load on first use.
BUILTIN_BACKEND_MODULES = ("core.llm_openai", "core.llm_local")
ENTRY_POINT_GROUP = "datagen.llm_backends"

_loaded = False
_lock = threading.Lock()


def load_plugins() -> None:
    """Import every backend module once (thread-safe: backends are made in worker threads)."""
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        for module in BUILTIN_BACKEND_MODULES:
            importlib.import_module(module)
        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                entry_point.load()
            except Exception:  # a broken third-party plugin must not take the built-in backends down
                log.exception("could not load the LLM backend plugin %s", entry_point.value)
        _loaded = True
