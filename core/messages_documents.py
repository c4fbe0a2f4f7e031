"""Questions from your documents (RAG evaluation sets): what the bot says, in English and Polish.

Merged into core.messages.TEXTS (apart only to keep each file readable)."""

from __future__ import annotations

DOCUMENT_TEXTS: dict[str, dict[str, str]] = {
    "documents_ask_upload": {
        "en": "Send me the documents to ask about (PDF, DOCX, Markdown, HTML or TXT; several files are fine, one "
        "after another). I will make test questions with answers, each with the passage and page it comes from.",
        "pl": "Wyślij mi dokumenty, z których mam ułożyć pytania (PDF, DOCX, Markdown, HTML albo TXT; może być kilka "
        "plików, jeden po drugim). Ułożę pytania testowe z odpowiedziami, każde z fragmentem i stroną, z której "
        "pochodzi.",
    },
    "documents_read": {
        "en": "Read {filename}: {places}, {passages} passages.",
        "pl": "Wczytałem {filename}: {places}, fragmentów: {passages}.",
    },
    "documents_total": {
        "en": "In all: {files} documents, {passages} passages. You can send more files.",
        "pl": "Razem: dokumentów: {files}, fragmentów: {passages}. Możesz wysłać kolejne pliki.",
    },
    "documents_pages": {"en": "{n} pages with text", "pl": "stron z tekstem: {n}"},
    "documents_sections": {"en": "{n} sections", "pl": "sekcji: {n}"},
    "documents_replaced": {
        "en": "{filename} was already here: I use the new copy.",
        "pl": "Plik {filename} już był: używam nowej wersji.",
    },
    "documents_unreadable": {
        "en": "I couldn't use {filename}: {reason}. Nothing changed; send another file.",
        "pl": "Nie mogę użyć pliku {filename}: {reason}. Nic się nie zmieniło; wyślij inny plik.",
    },
    "documents_reason_password": {
        "en": "the PDF is password-protected (save a copy without the password)",
        "pl": "PDF jest chroniony hasłem (zapisz kopię bez hasła)",
    },
    "documents_reason_scan": {
        "en": "the PDF has no text layer, it looks like a scan (only PDFs with selectable text can be used)",
        "pl": "PDF nie ma warstwy tekstu, wygląda na skan (można użyć tylko PDF-ów z zaznaczalnym tekstem)",
    },
    "documents_reason_pdf": {
        "en": "it is not a readable PDF",
        "pl": "to nie jest czytelny PDF",
    },
    "documents_reason_encoding": {
        "en": "it is not UTF-8 text (save it as UTF-8)",
        "pl": "to nie jest tekst UTF-8 (zapisz go jako UTF-8)",
    },
    "documents_reason_empty": {
        "en": "it holds no text",
        "pl": "nie ma w nim tekstu",
    },
    "documents_reason_too_much": {
        "en": "together with the other documents it is more than {limit} characters of text (about 600 pages)",
        "pl": "razem z pozostałymi dokumentami to ponad {limit} znaków tekstu (około 600 stron)",
    },
    "documents_reason_other": {
        "en": "{error}",
        "pl": "{error}",
    },
    "documents_ask_count": {
        "en": "How many questions? By default a third each of factual (one passage), reasoning (two passages) and "
        "unanswerable (the documents do not say); or name them, e.g. “10 factual, 5 reasoning, 5 unanswerable”.",
        "pl": "Ile pytań? Domyślnie po jednej trzeciej: faktograficzne (jeden fragment), wymagające rozumowania "
        "(dwa fragmenty) i bez odpowiedzi (dokumenty o tym nie mówią); albo podaj liczby, np. „10 faktograficznych, "
        "5 rozumowanie, 5 bez odpowiedzi”.",
    },
    "documents_ask_language": {
        "en": "In which language should the questions be? (the documents may be in another one)",
        "pl": "W jakim języku mają być pytania? (dokumenty mogą być w innym)",
    },
    "documents_unknown_type": {
        "en": "“{type}” is not a question type; the types are {types}.",
        "pl": "„{type}” to nie jest typ pytania; typy to {types}.",
    },
    "field_documents": {"en": "the documents", "pl": "dokumenty"},
    "summary_question_types": {"en": "Question types", "pl": "Typy pytań"},
    "summary_questions": {"en": "Questions", "pl": "Liczba pytań"},
    "summary_questions_language": {"en": "Language of the questions", "pl": "Język pytań"},
    "summary_documents_line": {"en": "Documents: {files}; {passages} passages",
                               "pl": "Dokumenty: {files}; fragmentów: {passages}"},
    "summary_task_documents": {"en": "test questions from your documents", "pl": "pytania testowe z Twoich dokumentów"},
    "question_type_factual": {"en": "factual", "pl": "faktograficzne"},
    "question_type_reasoning": {"en": "reasoning", "pl": "rozumowanie"},
    "question_type_unanswerable": {"en": "unanswerable", "pl": "bez odpowiedzi"},
    "documents_caption": {
        "en": "Questions per document: {per_document}.",
        "pl": "Pytania na dokument: {per_document}.",
    },
}
