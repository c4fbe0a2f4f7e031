"""Documents -> sections with their place (PDF page, Markdown/DOCX/HTML heading).

Libraries: `pypdf` for PDF (pure Python, small, keeps page boundaries, so a passage's source
names its page); `markitdown` for DOCX and HTML (Microsoft's maintained converter: DOCX through
mammoth, HTML through BeautifulSoup, both to Markdown, so headings survive and name the
section). Markdown and text files are read as they are. Everything runs offline.
docling was not chosen: it downloads layout models at run time and installs ~1 GB.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path

from core.documents.passages import Passage, Section, split_sections

SUFFIXES = (".pdf", ".docx", ".md", ".markdown", ".html", ".htm", ".txt")
#: Text kept from all documents together (about 600 pages): the passages are stored with the job.
MAX_TOTAL_CHARS = 2_000_000
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


class DocumentError(Exception):
    """A document that cannot be read, with a one-line reason for the user; `reason` names the kind
    ("password", "scan", "pdf", "encoding", "empty", "too_much", "type", "other") so a chat can say it
    in the user's language."""

    def __init__(self, message: str, reason: str = "other") -> None:
        super().__init__(message)
        self.reason = reason


def _markdown_sections(document: str, text: str) -> list[Section]:
    """Sections at Markdown headings; the text before the first heading is its own section."""
    sections: list[Section] = []
    matches = list(_HEADING.finditer(text))
    if not matches or matches[0].start() > 0:
        head = text[: matches[0].start() if matches else len(text)]
        if head.strip():
            sections.append(Section(document=document, location="", text=head.strip()))
    for number, match in enumerate(matches):
        end = matches[number + 1].start() if number + 1 < len(matches) else len(text)
        body = text[match.end():end].strip()
        title = match.group(2).strip().strip("*_ ")
        if body:
            sections.append(Section(document=document, location=f"\u00a7 {title}", text=f"{title}\n\n{body}"))
        else:  # a heading straight over a subheading: the title still goes with the next text
            sections.append(Section(document=document, location=f"\u00a7 {title}", text=title))
    return sections


def _pdf_sections(document: str, data: bytes) -> list[Section]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentError(f"{document} is password-protected", "password")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError(f"{document} is not a readable PDF ({exc})", "pdf") from None
    sections = [Section(document=document, location=f"p. {number}", text=_tidy(text))
                for number, text in enumerate(pages, 1) if text.strip()]
    if not sections:
        raise DocumentError(f"{document} has no text layer (a scan?); only PDFs with text can be used", "scan")
    return sections


def _markitdown_sections(document: str, data: bytes, suffix: str) -> list[Section]:
    try:
        from markitdown import MarkItDown, StreamInfo
    except ImportError:
        raise DocumentError(f"{document}: reading {suffix} files needs markitdown (pip install 'datagen-bot[documents]')") \
            from None
    try:
        result = MarkItDown(enable_plugins=False).convert_stream(io.BytesIO(data), stream_info=StreamInfo(extension=suffix))
    except Exception as exc:  # markitdown wraps each converter's own errors
        raise DocumentError(f"{document} could not be converted ({str(exc).splitlines()[0][:200]})") from None
    return _markdown_sections(document, _tidy(result.text_content or ""))


def _tidy(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return re.sub(r"[ \t]+\n", "\n", text).strip()


def sections_of(name: str, data: bytes) -> list[Section]:
    """One document's sections; DocumentError with the reason when it cannot be read."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(f"{name}: only {', '.join(SUFFIXES)} files can be used", "type")
    if suffix == ".pdf":
        return _pdf_sections(name, data)
    if suffix in (".docx", ".html", ".htm"):
        return _markitdown_sections(name, data, suffix)
    try:
        text = _tidy(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise DocumentError(f"{name} is not UTF-8 text", "encoding") from None
    return _markdown_sections(name, text)


def passages_of(files: Iterable[tuple[str, bytes]]) -> list[Passage]:
    """Every document's passages, documents in the given order; DocumentError for an unreadable
    one, an empty set or more text than MAX_TOTAL_CHARS."""
    sections: list[Section] = []
    total = 0
    for name, data in files:
        for section in sections_of(name, data):
            total += len(section.text)
            if total > MAX_TOTAL_CHARS:
                raise DocumentError(f"the documents hold more than {MAX_TOTAL_CHARS:,} characters of text; "
                                    f"send fewer or shorter documents", "too_much")
            sections.append(section)
    passages = split_sections(sections)
    if not passages:
        raise DocumentError("the documents hold no text", "empty")
    return passages


def read_folder(folder: Path) -> list[Passage]:
    """The passages of every supported file in a folder (sorted by name; subfolders too)."""
    if not folder.is_dir():
        raise DocumentError(f"{folder} is not a folder")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not files:
        raise DocumentError(f"{folder} holds no {', '.join(SUFFIXES)} files")
    return passages_of((str(p.relative_to(folder)), p.read_bytes()) for p in files)
