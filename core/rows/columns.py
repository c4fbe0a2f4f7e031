"""The general row model's vocabulary: a dataset is a list of columns.

A column has a name, a short description and a type: `text`, `category` (with its allowed
values), `spans` (a list of `{text, type}` found verbatim in the row's text, e.g. entities),
`number` or `boolean`. At most one category column is *stratified*: its per-value counts are
exact, like labels (classification's `label` is one case of this).

A leaf module (pydantic only): core.spec validates `columns:` of spec files with it.
"""

from __future__ import annotations

import re
import unicodedata
from enum import Enum

from pydantic import BaseModel, ConfigDict, field_validator, model_validator


class ColumnType(str, Enum):
    text = "text"
    category = "category"
    spans = "spans"  # a list of {text, type}; offsets into the row's text are computed by us
    number = "number"
    boolean = "boolean"


_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_TYPE_ALIASES = {
    "string": "text", "str": "text", "label": "category", "categorical": "category", "enum": "category",
    "choice": "category", "list of spans": "spans", "span": "spans", "entities": "spans", "int": "number",
    "integer": "number", "float": "number", "bool": "boolean", "yes/no": "boolean",
}


def column_name(raw: str) -> str:
    """"Product name" -> "product_name", "pilność" -> "pilnosc": what users type, as a column
    name (ASCII: strict structured output wants plain property names)."""
    folded = unicodedata.normalize("NFKD", str(raw).strip().lower().replace("ł", "l"))
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    return re.sub(r"[^a-z0-9_]+", "_", folded).strip("_")


class Column(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    type: ColumnType = ColumnType.text
    #: category: the allowed values; spans: the allowed span types (e.g. PERSON, ORG).
    values: tuple[str, ...] = ()
    stratified: bool = False
    #: Filled in from the request, not written by the model (a question's passage and its source):
    #: left out of the schema, the column list and the line template the model sees.
    given: bool = False

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, value: object) -> str:
        name = column_name(str(value))
        if not _NAME.match(name):
            raise ValueError(f"column name {value!r} must start with a letter (letters, digits, _; up to 40)")
        return name

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, value: object) -> object:
        if isinstance(value, str):
            key = value.strip().lower()
            return _TYPE_ALIASES.get(key, key)
        return value

    @field_validator("values", mode="before")
    @classmethod
    def _values(cls, value: object) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [part for part in re.split(r"[,/|]", value)]
        cleaned = tuple(str(item).strip() for item in value)  # type: ignore[union-attr]
        if any(not item for item in cleaned):
            raise ValueError("values must not be empty strings")
        folded = [item.casefold() for item in cleaned]
        if len(set(folded)) != len(folded):
            raise ValueError(f"values must be distinct, got {list(cleaned)}")
        return cleaned

    @model_validator(mode="after")
    def _check(self) -> "Column":
        if self.type == ColumnType.category and len(self.values) < 2:
            raise ValueError(f"category column {self.name!r} needs at least 2 allowed values")
        if self.type == ColumnType.spans and not self.values:
            raise ValueError(f"spans column {self.name!r} needs its span types (e.g. PERSON, ORG)")
        if self.type not in (ColumnType.category, ColumnType.spans) and self.values:
            raise ValueError(f"{self.type.value} column {self.name!r} takes no values")
        if self.stratified and self.type != ColumnType.category:
            raise ValueError(f"only a category column can be stratified, not {self.name!r}")
        return self


def check_columns(columns: list[Column]) -> list[Column]:
    """The rules for a whole column list; raises ValueError with a one-line reason."""
    if not columns:
        raise ValueError("columns must not be empty")
    names = [column.name for column in columns]
    if len(set(names)) != len(names):
        raise ValueError(f"column names must be distinct, got {names}")
    if sum(column.stratified for column in columns) > 1:
        raise ValueError("at most one column can be stratified (balanced with exact counts)")
    if not any(column.type == ColumnType.text for column in columns):
        raise ValueError("at least one column must be text")
    return columns


def stratified_column(columns: list[Column] | tuple[Column, ...]) -> Column | None:
    return next((column for column in columns if column.stratified), None)


def category_columns(columns: list[Column] | tuple[Column, ...]) -> list[Column]:
    return [column for column in columns if column.type == ColumnType.category]
