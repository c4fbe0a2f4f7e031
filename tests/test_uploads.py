"""core.uploads.parse_upload on hostile files: too wide, too many cells, nested thousands deep,
lone surrogates; each gets a clear answer (English and Polish) and nothing hangs or crashes.
Timing is measured in benchmarks/uploads.py; here only the behaviour is asserted."""

from __future__ import annotations

import json

import pytest

from core import messages as m
from core.uploads import MAX_CELLS, MAX_COLUMNS, MAX_DEPTH, LabeledRows, UploadError, parse_upload

LIMIT = 10 * 1024 * 1024


def wide_csv(rows: int, columns: int) -> bytes:
    header = ",".join(f"c{i}" for i in range(columns))
    body = "\n".join(",".join(str((r + c) % 10) for c in range(columns)) for r in range(rows))
    return f"{header}\n{body}\n".encode()


def refusal(filename: str, data: bytes, **limits: int) -> UploadError:
    with pytest.raises(UploadError) as caught:
        parse_upload(filename, data, LIMIT, **limits)
    return caught.value


def both_languages(error: UploadError) -> tuple[str, str]:
    return m.text("en", error.key, **error.values), m.text("pl", error.key, **error.values)


def test_a_thousand_by_a_thousand_csv_is_refused_as_too_wide_in_both_languages() -> None:
    error = refusal("wide.csv", wide_csv(1_000, 1_000))
    assert error.key == "upload_too_wide"
    english, polish = both_languages(error)
    assert english == (
        f"wide.csv has 1000 columns; I read at most {MAX_COLUMNS:,}. Keep the text and label columns and send it again."
    )
    assert "ma 1000 kolumn" in polish and f"najwyżej {MAX_COLUMNS}" in polish


def test_a_thousand_wide_file_parses_exactly_when_the_limits_allow_it() -> None:
    table = parse_upload("wide.csv", wide_csv(1_000, 1_000), LIMIT, max_columns=1_000, max_cells=1_000_000)
    assert table.columns == [f"c{i}" for i in range(1_000)]
    assert len(table.records) == 1_000
    assert table.records[999]["c999"] == str((999 + 999) % 10)
    assert table.records[3]["c0"] == "3"


def test_a_json_file_wider_than_the_limit_is_refused() -> None:
    # Keys spread over records: the union of columns is what counts.
    records = [{"text": "t", "label": "l", **{f"extra{r}_{i}": 1 for i in range(10)}} for r in range(20)]
    error = refusal("wide.json", json.dumps(records).encode())
    assert error.key == "upload_too_wide"
    assert error.values["limit"] == MAX_COLUMNS


def test_json_columns_come_in_order_of_first_appearance() -> None:
    data = json.dumps([{"text": "a", "label": "x"}, {"label": "y", "note": "n", "text": "b"}, {"id": 3}]).encode()
    table = parse_upload("rows.json", data, LIMIT)
    assert table.columns == ["text", "label", "note", "id"]
    assert table.records[2] == {"id": "3"}


def test_too_many_cells_is_refused_with_the_limit() -> None:
    rows = MAX_CELLS // 2 + 1
    data = ("text,label\n" + "a,b\n" * rows).encode()
    error = refusal("long.csv", data)
    assert error.key == "upload_too_many_cells"
    english, polish = both_languages(error)
    assert f"more than {MAX_CELLS:,} cells" in english
    assert f"ponad {MAX_CELLS} komórek" in polish
    # One row fewer fits exactly.
    table = parse_upload("long.csv", ("text,label\n" + "a,b\n" * (rows - 1)).encode(), LIMIT)
    assert len(table.records) == rows - 1


def test_short_rows_are_padded_and_cells_beyond_the_header_dropped() -> None:
    data = b"text,label,note\nonly text\nfull,pos,n,extra,extra2\n\nlast,neg,\n"
    table = parse_upload("ragged.csv", data, LIMIT)
    assert table.columns == ["text", "label", "note"]
    assert table.records == [
        {"text": "only text", "label": "", "note": ""},
        {"text": "full", "label": "pos", "note": "n"},
        {"text": "last", "label": "neg", "note": ""},
    ]
    labeled = LabeledRows.from_table(table, "text", "label")
    assert labeled.skipped == 1 and labeled.counts == {"pos": 1, "neg": 1}


@pytest.mark.parametrize("filename", ["deep.json", "deep.jsonl"])
def test_json_nested_a_hundred_thousand_deep_gets_an_answer_not_a_recursion_error(filename: str) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    error = refusal(filename, deep)
    assert error.key == "upload_too_deep"
    english, polish = both_languages(error)
    assert f"more than {MAX_DEPTH} levels" in english and '{"text": ..., "label": ...}' in english
    assert "zbyt głęboko" in polish


def test_a_nested_cell_beyond_the_depth_limit_is_refused_and_a_shallow_one_kept_as_json() -> None:
    nested: object = "bottom"
    for _ in range(MAX_DEPTH + 5):
        nested = {"k": nested}
    error = refusal("deep_cell.json", json.dumps([{"text": "t", "label": "l", "meta": nested}]).encode())
    assert error.key == "upload_too_deep"
    shallow = [{"text": "t", "label": "l", "meta": {"tags": ["ą", 1, None], "ok": True}}]
    table = parse_upload("cell.json", json.dumps(shallow).encode(), LIMIT)
    assert json.loads(table.records[0]["meta"]) == {"tags": ["ą", 1, None], "ok": True}


def test_lone_surrogates_are_replaced_and_surrogate_pairs_kept() -> None:
    data = b'[{"text": "broken \\ud83d emoji", "label": "pos\\udc00"}, {"text": "fine \\ud83d\\ude00", "label": "neg"}]'
    table = parse_upload("surrogates.json", data, LIMIT)
    assert table.records[0] == {"text": "broken \ufffd emoji", "label": "pos\ufffd"}
    assert table.records[1]["text"] == "fine 😀"
    for record in table.records:  # what storage and export will do with it
        for key, value in record.items():
            (key + value).encode("utf-8")


def test_lone_surrogate_in_a_key_is_replaced_too() -> None:
    table = parse_upload("keys.jsonl", b'{"text": "a", "label": "b", "n\\ud800": "c"}\n', LIMIT)
    assert table.columns == ["text", "label", "n\ufffd"]


def test_lacking_to_balance_still_counts_up_to_the_largest_class() -> None:
    table = parse_upload("rows.csv", b"text,label\na,x\nb,x\nc,x\nd,y\n", LIMIT)
    assert LabeledRows.from_table(table, "text", "label").lacking_to_balance() == {"x": 0, "y": 2}
