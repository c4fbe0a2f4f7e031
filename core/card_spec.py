"""The dataset card's Spec section: the order as a spec file for `datagen generate`.

The keys and values stay the spec file's own (English: the command reads them, README "Spec file
fields"); in a card in another language a comment line above each key says what it is, so the
person who ordered can read the file without knowing the English words."""

from __future__ import annotations

import re

import yaml

from core import messages as m
from core.intake.languages import language_in
from core.spec import DatasetSpec

_TOP_KEY = re.compile(r"^([a-z_]+):")  # a top-level key of safe_dump's block style (nested lines are indented)


def spec_fields(spec: DatasetSpec) -> dict[str, object]:
    """What a spec file needs to order `spec` again (empty values left out). Not the documents'
    passages: the command reads them from the folder given with --documents, and a card must not
    carry the whole text of every document."""
    fields = spec.model_dump(mode="json", exclude_none=True, exclude={"passages"})
    return {name: value for name, value in fields.items() if value != ""}


def spec_yaml(spec: DatasetSpec, lang: str = "en") -> str:
    """The spec as YAML; for lang other than "en", each top-level key preceded by a comment naming it
    in that language (the language's value named there too: "# język danych: polski")."""
    text = yaml.safe_dump(spec_fields(spec), sort_keys=False, allow_unicode=True).rstrip()
    if lang == "en":
        return text
    lines = []
    for line in text.splitlines():
        key = _TOP_KEY.match(line)
        if key and f"spec_key_{key.group(1)}" in m.TEXTS:
            lines.append("# " + m.text(lang, f"spec_key_{key.group(1)}", language=language_in(spec.language, lang)))
        lines.append(line)
    return "\n".join(lines)
