"""Defence in depth for "exactly what was ordered": whatever the table holds (a second process
that wrote surplus, a bug), an export never writes more than each label's ordered count."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from core.spec import DatasetSpec


class _Row(Protocol):
    label: str
    source: str


def within_quotas(rows: Iterable[_Row], spec: DatasetSpec) -> Iterator[_Row]:
    """The rows in order, minus those past their label's quota. Uploaded rows are the user's own
    and count toward no quota (they are delivered as they came); 👍-kept rows count like generated ones."""
    quotas = spec.quotas()
    written: dict[str, int] = {}
    for row in rows:
        if row.source != "uploaded":
            key = row.label if row.label in quotas else ("" if "" in quotas else row.label)
            if key in quotas:
                if written.get(key, 0) >= quotas[key]:
                    continue
                written[key] = written.get(key, 0) + 1
        yield row
