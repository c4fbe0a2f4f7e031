"""What a newcomer reads first must be true: the license the package declares is there, and
every file the README and the docs point to exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_license_file_matches_the_declared_license() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Permission is hereby granted, free of charge" in text
    assert project.get("license-files") == ["LICENSE"]


def _mentioned_files(doc: Path) -> set[str]:
    text = doc.read_text(encoding="utf-8")
    links = {target for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text) if "://" not in target}
    # A top-level document named in prose ("Columns (DESIGN.md)") is a pointer too.
    named = set(re.findall(r"(?<![\w/.-])((?:docs/)?[A-Z][A-Z_-]*\.md)\b", text))
    return links | named


def test_every_file_the_docs_point_to_exists() -> None:
    missing = []
    for doc in DOCS:
        for target in _mentioned_files(doc):
            candidates = [doc.parent / target, ROOT / target]
            if not any(path.exists() for path in candidates) and not list(ROOT.glob(f"**/{Path(target).name}")):
                missing.append(f"{doc.relative_to(ROOT)}: {target}")
    assert missing == []
