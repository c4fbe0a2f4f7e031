"""The layout rules DESIGN.md promises, checked on the source: no import cycles, core/ never imports a
platform library nor storage (it talks to storage through core/store_port.py). Static (ast), so it
sees imports inside functions too."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "storage", "bot")
PLATFORM_LIBRARIES = ("telegram", "slack_bolt", "slack_sdk")
#: What core/ must not import: the platforms, and our storage (even for a type: core owns the Protocol).
FORBIDDEN_IN_CORE = (*PLATFORM_LIBRARIES, "storage")
#: Cycles that exist today; to be removed, never to grow: any cycle not listed fails the test.
KNOWN_CYCLES: list[list[str]] = []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """Imports under `if TYPE_CHECKING:` only name types; they never run, so they make no cycle."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            skipped.update(id(inner) for inner in ast.walk(node))
    return skipped


def _imports(path: Path, modules: dict[str, Path], *, with_type_checking: bool = False) -> set[str]:
    """Every module of ours (or any other name) `path` imports, at top level or in a function
    (and under `if TYPE_CHECKING:` when asked)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = set() if with_type_checking else _type_checking_nodes(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules.keys()
            names.update(submodules)
            if len(submodules) < len(node.names):
                names.add(node.module)
    return names


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: {m for m in _imports(path, modules) if m in modules and m != name} for name, path in modules.items()}


def _import_graph_in_a_fresh_process() -> dict[str, set[str]]:
    """CPython 3.11 can raise "SystemError: AST constructor recursion depth mismatch" from
    ast.parse in a process where an earlier test hit a RecursionError; a fresh interpreter is clean."""
    code = ("import json, tests.test_architecture as t; "
            "print(json.dumps({k: sorted(v) for k, v in t._import_graph().items()}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return {name: set(deps) for name, deps in json.loads(done.stdout).items()}


def test_no_new_import_cycles() -> None:
    graph = _import_graph_in_a_fresh_process()
    assert "core.conversation.machine" in graph  # the scan saw the code
    assert [cycle for cycle in _cycles(graph) if cycle not in KNOWN_CYCLES] == []


def _imports_of_core_in_a_fresh_process(*, with_type_checking: bool) -> dict[str, list[str]]:
    code = ("import json, tests.test_architecture as t; m = t._modules(); "
            f"print(json.dumps({{k: sorted(t._imports(p, m, with_type_checking={with_type_checking})) "
            "for k, p in m.items() if k.startswith('core')}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def forbidden_imports(imports: dict[str, list[str]]) -> dict[str, list[str]]:
    """module -> the names it imports that core/ must not (a name or any of its submodules)."""
    offenders = {name: [n for n in found if n.split(".")[0] in FORBIDDEN_IN_CORE] for name, found in imports.items()}
    return {name: found for name, found in offenders.items() if found}


def test_the_check_finds_a_forbidden_import() -> None:
    assert forbidden_imports({"core.x": ["core.spec", "storage.store"], "core.y": ["telegram.ext", "storagex"]}) == {
        "core.x": ["storage.store"], "core.y": ["telegram.ext"]}


def test_core_never_imports_a_platform_library_nor_storage() -> None:
    imports = _imports_of_core_in_a_fresh_process(with_type_checking=True)
    assert "core.store_port" in imports  # the scan saw the code
    assert forbidden_imports(imports) == {}


#: Files small enough to read in one sitting, classes small enough to hold in one's head (issue 10).
MAX_FILE_LINES = 500
MAX_CLASS_LINES = 300


def too_long(sources: dict[str, str]) -> list[str]:
    """'name: N lines' for each file over MAX_FILE_LINES and each class over MAX_CLASS_LINES."""
    found = []
    for name, source in sources.items():
        lines = len(source.splitlines())
        if lines > MAX_FILE_LINES:
            found.append(f"{name}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > MAX_CLASS_LINES:
                    found.append(f"{name}.{node.name}: {length} lines")
    return found


def test_the_size_check_finds_a_long_file_and_a_long_class() -> None:
    # In a fresh interpreter too (seen once after test_annotate_lease: SystemError from ast.parse,
    # suspected: a leftover thread of that test formatting a traceback, which in 3.11 calls ast.parse).
    code = ("import json, tests.test_architecture as t; "
            "long_class = 'class Big:\\n' + '    x = 1\\n' * t.MAX_CLASS_LINES; "
            "print(json.dumps(t.too_long({'a': 'x = 1\\n' * (t.MAX_FILE_LINES + 1), 'b': long_class, "
            "'c': 'x = 1\\n'})))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [f"a: {MAX_FILE_LINES + 1} lines", f"b.Big: {MAX_CLASS_LINES + 1} lines"]


def test_no_core_file_or_class_is_too_long() -> None:
    # In a fresh interpreter, for the reason _import_graph_in_a_fresh_process gives.
    code = ("import json, tests.test_architecture as t; "
            "s = {k: p.read_text(encoding='utf-8') for k, p in t._modules().items() if k.startswith('core')}; "
            "print(json.dumps([len(s), t.too_long(s)]))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    scanned, found = json.loads(done.stdout)
    assert scanned > 50  # the scan saw the code
    assert found == []
