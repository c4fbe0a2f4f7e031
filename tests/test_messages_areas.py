"""The texts are kept by area (core/messages_<area>.py) and merged into core.messages.TEXTS. A key
defined in two areas would be silently overwritten by the merge, so it is checked in the source."""

from __future__ import annotations

import ast
import gc
import importlib.util
from collections import Counter
from pathlib import Path

from core import messages as m

CORE = Path(__file__).resolve().parent.parent / "core"


def defined_keys(source: str) -> list[str]:
    """Every key written in the module's top-level dict literals of texts, repeats included."""
    keys: list[str] = []
    # No garbage collection inside ast.parse: a finalizer logging a traceback there (3.11's traceback
    # calls ast.parse) can make it raise "SystemError: AST constructor recursion depth mismatch".
    gc.disable()
    try:
        tree = ast.parse(source)
    finally:
        gc.enable()
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if isinstance(value, ast.Dict):
            keys += [key.value for key in value.keys if isinstance(key, ast.Constant) and isinstance(key.value, str)]
    return keys


def keys_defined_twice(sources: dict[str, str]) -> dict[str, list[str]]:
    """key -> the modules defining it, for every key defined more than once (in one module or in several)."""
    where: dict[str, list[str]] = {}
    for module, source in sources.items():
        for key in defined_keys(source):
            where.setdefault(key, []).append(module)
    return {key: modules for key, modules in where.items() if len(modules) > 1}


def area_sources() -> dict[str, str]:
    sources = {}
    for module in m.AREA_MODULES:
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin is not None, module
        sources[module] = Path(spec.origin).read_text(encoding="utf-8")
    return sources


def test_no_key_is_defined_in_two_area_modules() -> None:
    assert keys_defined_twice(area_sources()) == {}


def test_the_check_finds_a_key_defined_twice() -> None:
    order = 'ORDER_TEXTS = {"ask_task": {"en": "a"}, "ask_count": {"en": "b"}}\n'
    jobs = 'JOB_TEXTS: dict[str, dict[str, str]] = {"ask_task": {"en": "c"}, "job_x": {"en": "d"}, "job_x": {"en": "e"}}\n'
    assert keys_defined_twice({"order": order, "jobs": jobs}) == {"ask_task": ["order", "jobs"], "job_x": ["jobs", "jobs"]}


def test_every_area_module_is_merged_and_nothing_else() -> None:
    on_disk = {f"core.{path.stem}" for path in CORE.glob("messages_*.py")} | {"core.messages"}
    assert set(m.AREA_MODULES) == on_disk
    defined = Counter(key for source in area_sources().values() for key in defined_keys(source))
    assert set(m.TEXTS) == set(defined)
