"""Uploaded files (balance my data) and labeling the user's own rows (annotation).

English and Polish; merged into core.messages.TEXTS (apart only to keep each file readable).
"""

from __future__ import annotations

UPLOAD_TEXTS: dict[str, dict[str, str]] = {
    # --- uploads --------------------------------------------------------------------------
    "upload_too_big": {
        "en": "{filename} is too big ({size}); the limit is {limit}.",
        "pl": "Plik {filename} jest za duży ({size}); limit to {limit}.",
    },
    "upload_bad_type": {
        "en": "I can read CSV or JSON files with labeled examples; {filename} is neither.",
        "pl": "Czytam pliki CSV lub JSON z oznaczonymi przykładami; {filename} nie jest żadnym z nich.",
    },
    "upload_not_utf8": {
        "en": "{filename} is not UTF-8 text. Save it as “CSV UTF-8” and send it again.",
        "pl": "Plik {filename} nie jest tekstem UTF-8. Zapisz go jako „CSV UTF-8” i wyślij ponownie.",
    },
    "upload_empty": {
        "en": "{filename} has no examples in it.",
        "pl": "W pliku {filename} nie ma żadnych przykładów.",
    },
    "upload_unreadable": {
        "en": "I couldn't read {filename}: {error}",
        "pl": "Nie udało się odczytać pliku {filename}: {error}",
    },
    "upload_what_next": {
        "en": "Tell me which labels and how many rows of each you want (e.g. “positive and negative, 50 of each”), "
        "send another file, or type {cmd_new} to start over.",
        "pl": "Napisz, jakie etykiety i ile wierszy każdej chcesz (np. „pozytywne i negatywne, po 50”), wyślij "
        "inny plik albo wpisz {cmd_new}, by zacząć od nowa.",
    },
    "upload_ask_columns": {
        "en": "{filename} has the columns {columns}, but I need a text column and a label column. Which is which? "
        "Answer like “text=review, label=stars”.",
        "pl": "Plik {filename} ma kolumny {columns}, a potrzebuję kolumny z tekstem i kolumny z etykietą. Która jest "
        "która? Odpowiedz np. „text=recenzja, label=ocena”.",
    },
    "upload_bad_columns": {
        "en": "Those aren't columns of the file. The columns are: {columns}. Answer like “text=review, label=stars”.",
        "pl": "To nie są kolumny tego pliku. Kolumny to: {columns}. Odpowiedz np. „text=recenzja, label=ocena”.",
    },
    "upload_one_label": {
        "en": "All {rows} rows of {filename} have the same label ({label}); I need at least two labels to balance. "
        "Tell me the other labels and counts (e.g. “labels: positive, negative, 50 of each”).",
        "pl": "Wszystkie {rows} wiersze pliku {filename} mają tę samą etykietę ({label}); do zbalansowania potrzebuję "
        "co najmniej dwóch. Podaj pozostałe etykiety i liczby (np. „etykiety: pozytywny, negatywny, po 50”).",
    },
    "upload_report": {
        "en": "Read {rows} rows from {filename}: {per_label}.{skipped}",
        "pl": "Wczytałem {rows} wierszy z {filename}: {per_label}.{skipped}",
    },
    "upload_skipped": {
        "en": " Skipped {n} rows with an empty text or label.",
        "pl": " Pominąłem {n} wierszy z pustym tekstem lub etykietą.",
    },
    "upload_offer": {
        "en": "To balance the classes I would generate {plan} (total {total} new rows), marked as synthetic in the file. "
        "Or name the counts you want per label (e.g. “100 of each”).",
        "pl": "Aby zbalansować klasy, wygeneruję {plan} (razem {total} nowych wierszy), oznaczonych w pliku jako "
        "syntetyczne. Albo podaj liczby, jakie chcesz mieć dla każdej etykiety (np. „po 100”).",
    },
    "upload_balanced": {
        "en": "The classes are already balanced. Name the counts you want per label (e.g. “100 of each”) and I'll top them up.",
        "pl": "Klasy są już zbalansowane. Podaj, ile chcesz mieć przykładów każdej etykiety (np. „po 100”), a uzupełnię.",
    },
    "upload_target_reached": {
        "en": "You already have that many rows for every label; name bigger counts.",
        "pl": "Masz już tyle wierszy dla każdej etykiety; podaj większe liczby.",
    },
    "upload_too_wide": {
        "en": "{filename} has {columns} columns; I read at most {limit:,}. Keep the text and label columns and send it again.",
        "pl": "Plik {filename} ma {columns} kolumn; czytam najwyżej {limit}. Zostaw kolumny z tekstem i etykietą "
        "i wyślij go ponownie.",
    },
    "upload_too_many_cells": {
        "en": "{filename} has more than {limit:,} cells (rows × columns), more than I read at once. Keep the text and "
        "label columns only, or send fewer rows.",
        "pl": "Plik {filename} ma ponad {limit} komórek (wiersze × kolumny), więcej niż czytam naraz. Zostaw tylko "
        "kolumny z tekstem i etykietą albo wyślij mniej wierszy.",
    },
    "upload_too_deep": {
        "en": "{filename} is nested too deeply (more than {limit} levels). Send a flat list of objects like "
        "{{\"text\": ..., \"label\": ...}}.",
        "pl": "Plik {filename} jest zagnieżdżony zbyt głęboko (ponad {limit} poziomów). Wyślij płaską listę obiektów "
        "w rodzaju {{\"text\": ..., \"label\": ...}}.",
    },
    # --- label my rows (annotation) --------------------------------------------------------
    "annotate_ask_upload": {
        "en": "Send me the file with your rows (CSV, XLSX, JSON, JSONL, or a .txt file with one row per line) and I "
        "will label every row.",
        "pl": "Wyślij mi plik ze swoimi wierszami (CSV, XLSX, JSON, JSONL albo plik .txt z jednym wierszem w linii), "
        "a oznaczę każdy wiersz.",
    },
    "annotate_rows_read": {
        "en": "Read {rows} rows to label from {filename} (text column: {column}).",
        "pl": "Wczytałem {rows} wierszy do oznaczenia z {filename} (kolumna z tekstem: {column}).",
    },
    "annotate_ask_labels": {
        "en": "Which labels should I use? Name them separated by commas (e.g. “complaint, order_status, greeting”), "
        "with a short description each if you like (“refund - wants money back, bug - something broken”), "
        "or pick a preset: sentiment, intent, toxicity.",
        "pl": "Jakich etykiet mam użyć? Wypisz je po przecinku (np. „skarga, status_zamówienia, powitanie”), jeśli "
        "chcesz z krótkim opisem każdej („zwrot - chce pieniędzy, błąd - coś nie działa”), albo wybierz gotowy "
        "zestaw: sentyment, intencja, toksyczność.",
    },
    "annotate_bad_labels": {
        "en": "I need at least two different labels separated by commas (e.g. “complaint, order_status”), or a preset: "
        "sentiment, intent, toxicity.",
        "pl": "Potrzebuję co najmniej dwóch różnych etykiet po przecinku (np. „skarga, status_zamówienia”) albo gotowego "
        "zestawu: sentyment, intencja, toksyczność.",
    },
    "annotate_no_text_column": {
        "en": "Which column of {filename} holds the text to label? It has: {columns}. Rename that column to “text” "
        "and send the file again.",
        "pl": "W której kolumnie pliku {filename} jest tekst do oznaczenia? Plik ma: {columns}. Nazwij tę kolumnę "
        "„text” i wyślij plik ponownie.",
    },
    "annotate_preview_intro": {
        "en": "The first {n} rows, labeled with {labels}. Rate them with 👍/👎 (or type +1 -3), correct a label by "
        "typing e.g. “#3 is {example}”; corrections become examples for the model. Then “{button}”.",
        "pl": "Pierwsze {n} wierszy oznaczonych etykietami: {labels}. Oceń je 👍/👎 (albo wpisz +1 -3), popraw "
        "etykietę wpisując np. „#3 to {example}”; poprawki staną się przykładami dla modelu. Potem „{button}”.",
    },
    "annotate_preview_failed": {
        "en": "I could not label the preview rows: {error}. Try again, or {cmd_cancel}.",
        "pl": "Nie udało się oznaczyć wierszy podglądu: {error}. Spróbuj ponownie albo {cmd_cancel}.",
    },
    "annotate_rated_up": {
        "en": "👍 #{number} stays {label}; I'll show it to the model as an example.",
        "pl": "👍 #{number} zostaje: {label}; pokażę go modelowi jako przykład.",
    },
    "annotate_rated_down": {
        "en": "👎 #{number}. What is the right label? Type e.g. “#{number} is {example}”.",
        "pl": "👎 #{number}. Jaka jest właściwa etykieta? Wpisz np. „#{number} to {example}”.",
    },
    "annotate_corrected": {
        "en": "Noted: #{number} is {label}. I'll show it to the model as an example.",
        "pl": "Zapisane: #{number} to {label}. Pokażę go modelowi jako przykład.",
    },
    "annotate_unknown_label": {
        "en": "“{label}” is not one of the labels ({labels}). Type e.g. “#{number} is {example}”.",
        "pl": "„{label}” nie jest jedną z etykiet ({labels}). Wpisz np. „#{number} to {example}”.",
    },
    "annotate_unknown_row": {
        "en": "There is no row #{number} in the preview (1–{n}).",
        "pl": "W podglądzie nie ma wiersza #{number} (1–{n}).",
    },
    "annotate_hint": {
        "en": "To correct a label, type e.g. “#3 is {example}”; to rate, +1 -3; or pick an option.",
        "pl": "Aby poprawić etykietę, wpisz np. „#3 to {example}”; aby ocenić, +1 -3; albo wybierz opcję.",
    },
    "annotate_ack": {
        "en": "Labeling all {rows} rows (job {job}). I'll send the file when it is done.",
        "pl": "Oznaczam wszystkie {rows} wierszy (zadanie {job}). Wyślę plik, gdy skończę.",
    },
    "annotate_caption": {
        "en": "{filename}: {rows} rows, each once, in your order, with label and confidence. Per label: {per_label}. "
        "Low confidence: {low}.",
        "pl": "{filename}: {rows} wierszy, każdy raz, w Twojej kolejności, z etykietą i pewnością. Według etykiet: "
        "{per_label}. Niska pewność: {low}.",
    },
    "annotate_low_caption": {
        "en": "The {n} rows whose two answers differed (confidence: low), for a human to check.",
        "pl": "{n} wierszy, dla których dwie odpowiedzi się różniły (pewność: niska), do sprawdzenia przez człowieka.",
    },
    "annotate_status": {
        "en": "Labeling {filename}: {rows} rows, labels: {labels}.",
        "pl": "Oznaczanie {filename}: {rows} wierszy, etykiety: {labels}.",
    },
    "annotate_busy": {
        "en": "Your rows are being labeled (job #{job}, {done}/{total}). I'll send the file here; type {cmd_cancel} to stop.",
        "pl": "Oznaczam Twoje wiersze (zadanie #{job}, {done}/{total}). Wyślę tu plik; wpisz {cmd_cancel}, by przerwać.",
    },
    "annotate_cancelled": {
        "en": "Stopped job #{job}. The labels so far are kept; Label all continues from there.",
        "pl": "Przerwałem zadanie #{job}. Dotychczasowe etykiety zostają; Oznacz wszystkie kontynuuje od tego miejsca.",
    },
    "btn_label_all": {"en": "Label all {rows} rows", "pl": "Oznacz wszystkie ({rows})"},
    "job_kind_annotation": {"en": "labeling", "pl": "oznaczanie"},
    # --- label my rows: the preview runs in the background ----------------------------------------
    "annotate_preview_working": {
        "en": "Labeling the first {n} rows for a preview… ({cmd_status} shows where it is, {cmd_cancel} stops it)",
        "pl": "Oznaczam pierwsze wiersze ({n}) do podglądu… ({cmd_status} pokaże postęp, {cmd_cancel} przerwie)",
    },
    "annotate_preview_busy": {
        "en": "I'm still labeling the preview rows; they come in a moment. {cmd_cancel} stops it.",
        "pl": "Wciąż oznaczam wiersze do podglądu; za chwilę będą. {cmd_cancel} przerywa.",
    },
    "annotate_preview_cancelled": {
        "en": "Preview stopped; your rows and labels are kept.",
        "pl": "Podgląd przerwany; Twoje wiersze i etykiety zostają.",
    },
    # --- file size limits of the channels, explained ------------------------------------------
    "telegram_download_limit": {
        "en": "{filename} is {size}: Telegram lets bots download files of at most 20 MB. Send a smaller file "
        "(e.g. split the PDF, or export only the chapters you need).",
        "pl": "Plik {filename} ma {size}: Telegram pozwala botom pobierać pliki najwyżej do 20 MB. Wyślij mniejszy "
        "plik (np. podziel PDF albo wyeksportuj tylko potrzebne rozdziały).",
    },
    "upload_limit_setting": {
        "en": "{filename} is {size}; this bot takes files up to {limit} (its DATAGEN_MAX_UPLOAD_BYTES setting). "
        "Send a smaller file, or ask whoever runs the bot to raise the limit.",
        "pl": "Plik {filename} ma {size}; ten bot przyjmuje pliki do {limit} (ustawienie DATAGEN_MAX_UPLOAD_BYTES). "
        "Wyślij mniejszy plik albo poproś osobę, która prowadzi bota, o podniesienie limitu.",
    },
    "upload_download_failed": {
        "en": "I couldn't download {filename}. Please share it again.",
        "pl": "Nie udało się pobrać pliku {filename}. Udostępnij go jeszcze raz.",
    },
    "upload_unsupported": {
        "en": "I can't use {filename}. I read tables of examples or rows to label (CSV, TSV, XLSX, JSON, JSONL, TXT) "
        "and documents to make test questions from (PDF, DOCX, Markdown, HTML, TXT).",
        "pl": "Nie mogę użyć pliku {filename}. Czytam tabele z przykładami albo wiersze do oznaczenia (CSV, TSV, XLSX, "
        "JSON, JSONL, TXT) oraz dokumenty, z których układam pytania testowe (PDF, DOCX, Markdown, HTML, TXT).",
    },
}
