"""core/ talks to storage through Protocols it owns (core/store_port.py, core/conversation/ports.py);
storage.Store must have every method they name, with the same parameters, or an entry point passing
it in would fail at the first call. Checked on the signatures, so a renamed keyword fails here."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from core.conversation.ports import ConversationStore
from core.store_port import AnnotationStore, JobStore, NewRow
from storage.store import Store

PORTS = [JobStore, AnnotationStore, ConversationStore]


def _methods(port: type) -> list[str]:
    return sorted(name for name in dir(port) if not name.startswith("_") and callable(getattr(port, name)))


def _parameters(function: Any) -> list[tuple[str, Any, bool]]:
    """(name, kind, has a default) of each parameter, `self` left out."""
    return [(p.name, p.kind, p.default is not inspect.Parameter.empty)
            for p in inspect.signature(function).parameters.values() if p.name != "self"]


def mismatches(port: type, implementation: type) -> dict[str, str]:
    """method -> what is wrong with `implementation`'s version of it."""
    wrong = {}
    for name in _methods(port):
        if not hasattr(implementation, name):
            wrong[name] = "missing"
        elif _parameters(getattr(implementation, name)) != _parameters(getattr(port, name)):
            wrong[name] = f"{inspect.signature(getattr(implementation, name))} != {inspect.signature(getattr(port, name))}"
    return wrong


@pytest.mark.parametrize("port", PORTS, ids=lambda port: port.__name__)
def test_storage_implements_the_core_port(port: type) -> None:
    assert _methods(port)  # the port names something
    assert mismatches(port, Store) == {}


def test_the_check_finds_a_missing_method_and_a_renamed_parameter() -> None:
    class Partial:
        def get_job(self, job: int) -> None: ...

    found = mismatches(JobStore, Partial)
    assert found["get_job"].startswith("(self, job: ")
    assert found["create_job"] == "missing"


def test_storage_stores_the_row_type_of_the_port(tmp_path: Any) -> None:
    store = Store.from_url(f"sqlite:///{tmp_path}/t.db")
    try:
        job_id = store.create_job('{"task": "classification"}')
        store.add_examples(job_id, [NewRow({"text": "a", "label": "x"}, label="x"), NewRow({"text": "b"}, accepted=False,
                                                                                          reason="bad label")])
        assert [(row.label, row.fields) for row in store.accepted_rows(job_id)] == [("x", {"text": "a", "label": "x"})]
        assert store.rejected_reasons(job_id) == {"bad label": 1}
    finally:
        store.close()
