"""Label verification on the row model's stratified column (red-team category, simulated users'
intent, a custom stratified column), against the fake server writing 20% of its rows with the
neighbouring value and answering the judge truthfully: on, no mislabeled row is delivered and the
counts are exact; off, mislabeled rows get through (so the test can fail)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.export import render_card
from core.generator import Generator
from core.llm_openai import OpenAIBackend
from core.rows.columns import ColumnType
from core.rows.presets import row_model
from core.settings import Settings
from core.spec import DatasetSpec
from core.verify import DISAGREEMENT, agreement, verifiable
from storage.store import Store
from tests.fakes.openai_server import FakeOpenAI
from tests.test_generator_e2e import _rejected

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ORDERS = {
    "simulated users": yaml.safe_load((EXAMPLES / "simulated_users.yaml").read_text()),
    "custom columns": yaml.safe_load((EXAMPLES / "custom_columns.yaml").read_text()),
    "red team": {"task": "red_team", "topic": "a bank's support chatbot", "labels": ["phishing", "off_topic", "benign"],
                 "count": 30},
}


def judged_text(spec: DatasetSpec, fields: dict[str, Any]) -> str:
    """The row's first text column: the key the fake notes a written row's truth under."""
    column = next(c for c in row_model(spec).columns if c.type == ColumnType.text)
    return " ".join(str(fields[column.name]).split())


async def generate(settings: Settings, order: dict[str, Any]) -> tuple[Any, Store, DatasetSpec]:
    spec = DatasetSpec.from_data(order)
    store = Store.from_url(settings.database_url)
    llm = OpenAIBackend.from_settings(settings)
    try:
        generator = Generator(llm, store, settings)
        result = await generator.run(generator.create_job(spec))
    finally:
        await llm.aclose()
    return result, store, spec


@pytest.mark.parametrize("name", list(ORDERS))
async def test_verification_rejects_and_replaces_rows_with_the_wrong_stratified_value(
        settings: Settings, fake_llm: FakeOpenAI, name: str) -> None:
    fake_llm.mislabel_share = 0.2
    result, store, spec = await generate(settings.model_copy(update={"verify": "on"}), ORDERS[name])
    assert verifiable(spec)
    assert result.status == "done", result.error
    column = row_model(spec).stratified
    assert column is not None
    rows = store.accepted_rows(result.job_id)
    assert Counter(row.fields[column.name] for row in rows) == Counter(spec.quotas())  # exact counts
    assert fake_llm.mislabeled, "the fake wrote no mislabeled row: the test would prove nothing"
    delivered = {judged_text(spec, row.fields) for row in rows}
    assert not delivered & fake_llm.mislabeled
    disagreed = {judged_text(spec, json.loads(row.fields_json)) for row in _rejected(store, result.job_id)
                 if row.reason == DISAGREEMENT}
    assert disagreed and disagreed <= fake_llm.mislabeled
    shares = agreement(store, result.job_id)
    assert shares and min(shares.values()) < 1.0
    card = render_card(store, result.job_id)
    assert "## Label verification" in card and f"without its {column.name}" in card


@pytest.mark.parametrize("name", ["simulated users", "custom columns"])
async def test_without_verification_rows_with_the_wrong_stratified_value_get_through(
        settings: Settings, fake_llm: FakeOpenAI, name: str) -> None:
    fake_llm.mislabel_share = 0.2
    result, store, spec = await generate(settings.model_copy(update={"verify": "off"}), ORDERS[name])
    assert result.status == "done", result.error
    delivered = {judged_text(spec, row.fields) for row in store.accepted_rows(result.job_id)}
    assert delivered & fake_llm.mislabeled
