"""Running and delivering jobs: progress, captions, cancel and status.

English and Polish; merged into core.messages.TEXTS (apart only to keep each file readable).
"""

from __future__ import annotations

JOB_TEXTS: dict[str, dict[str, str]] = {
    # --- generation -----------------------------------------------------------------------
    "generate_ack": {
        "en": "Started generating {total} rows (job #{job}). I'll keep one progress message updated here and send the file when it's ready.",
        "pl": "Zaczynam generować {total} wierszy (zadanie #{job}). Będę aktualizować tu postęp i wyślę plik, gdy będzie gotowy.",
    },
    "progress_running": {
        "en": "Job #{job}: {done}/{total} rows ({percent}%), rejected {rejected}, duplicates {duplicates}",
        "pl": "Zadanie #{job}: {done}/{total} wierszy ({percent}%), odrzucone {rejected}, duplikaty {duplicates}",
    },
    "progress_done": {
        "en": "Job #{job}: done, {done}/{total} rows.",
        "pl": "Zadanie #{job}: gotowe, {done}/{total} wierszy.",
    },
    "progress_cancelled": {
        "en": "Job #{job}: cancelled at {done}/{total} rows.",
        "pl": "Zadanie #{job}: przerwane przy {done}/{total} wierszach.",
    },
    "progress_failed": {
        "en": "Job #{job}: failed ({error}).",
        "pl": "Zadanie #{job}: nie powiodło się ({error}).",
    },
    "job_failed_disagreement": {
        "en": "Job #{job} stopped: a second model checks each row by reading it without its {column}, and it placed "
        "{disagreed} of {checked} checked rows under another value (agreement, lowest first: {shares}). This usually "
        "means the text does not show the {column}: something like a sales channel or a region is not written in a "
        "message, so nothing in a row tells the values apart and most rows are rejected and written again.\n"
        "What you can do:\n"
        "• say how each row should show it, e.g. “every message mentions the {column}”, then press Generate all "
        "(the rows made so far are kept);\n"
        "• or order the data without exact counts for the {column} ({cmd_new} starts a new order);\n"
        "• or ask whoever runs the bot to turn this check off (DATAGEN_VERIFY=off).",
        "pl": "Zadanie #{job} zatrzymane: drugi model sprawdza każdy wiersz, czytając go bez wartości „{column}”, i "
        "przypisał {disagreed} z {checked} sprawdzonych wierszy inną wartość (zgodność, od najniższej: {shares}). "
        "Zwykle znaczy to, że tekst nie pokazuje wartości „{column}”: czegoś takiego jak kanał sprzedaży czy region "
        "nie widać w treści wiadomości, więc nic w wierszu nie odróżnia wartości i większość wierszy jest odrzucana "
        "i pisana od nowa.\nCo możesz zrobić:\n"
        "• napisz, jak każdy wiersz ma to pokazywać, np. „każda wiadomość podaje wartość {column}”, i naciśnij "
        "Generuj całość (dotychczasowe wiersze zostają);\n"
        "• albo zamów dane bez dokładnych liczności dla „{column}” ({cmd_new} zaczyna nowe zamówienie);\n"
        "• albo poproś osobę, która prowadzi bota, o wyłączenie tego sprawdzania (DATAGEN_VERIFY=off).",
    },
    "delivered_mostly_rejected": {
        "en": "The check rejected {disagreed} of the {checked} rows it read (and they were written again): the text "
        "may not show the {column}. If so, say how each row should show it next time, or ask whoever runs the bot "
        "to turn the check off for such orders (DATAGEN_VERIFY=off).",
        "pl": "Sprawdzanie odrzuciło {disagreed} z {checked} przeczytanych wierszy (i napisano je od nowa): tekst może "
        "nie pokazywać wartości „{column}”. Jeśli tak, następnym razem napisz, jak każdy wiersz ma ją pokazywać, "
        "albo poproś osobę, która prowadzi bota, o wyłączenie sprawdzania dla takich zamówień (DATAGEN_VERIFY=off).",
    },
    "progress_failed_disagreement": {
        "en": "Job #{job}: stopped, most rows were checked as another {column} (what to do is below).",
        "pl": "Zadanie #{job}: zatrzymane, większość wierszy sprawdzono jako inną wartość „{column}” (co zrobić, "
        "piszę niżej).",
    },
    "disagreement_the_label": {"en": "label", "pl": "etykieta"},
    "job_failed": {
        "en": "Generation failed: {error}. Your order is saved; press Generate all to try again (rows made so far are kept).",
        "pl": "Generowanie nie powiodło się: {error}. Zamówienie jest zapisane; naciśnij Generuj całość, by spróbować ponownie (dotychczasowe wiersze zostają).",
    },
    "caption": {
        "en": "{filename}: {rows} rows ({per_label}). Rejected: {rejected}, duplicates removed: {duplicates}, tokens: {tokens}.",
        "pl": "{filename}: {rows} wierszy ({per_label}). Odrzucone: {rejected}, usunięte duplikaty: {duplicates}, tokeny: {tokens}.",
    },
    "caption_sources": {
        "en": "The source column tells synthetic rows from yours: {sources}.",
        "pl": "Kolumna source odróżnia wiersze syntetyczne od Twoich: {sources}.",
    },
    "caption_ratings": {
        "en": "Your ratings were honoured: 👍 rows in the file: {up}; 👎 rows kept out (with rows like them): {down}.",
        "pl": "Twoje oceny zostały uwzględnione: wiersze z 👍 w pliku: {up}; wiersze z 👎 pominięte (z podobnymi): {down}.",
    },
    "caption_variety": {"en": "Variety: {line}.", "pl": "Różnorodność: {line}."},
    "caption_agreement": {
        "en": "Labels checked by a second look that did not see them, agreement: {shares}.",
        "pl": "Etykiety sprawdzone drugim spojrzeniem bez ich znajomości, zgodność: {shares}.",
    },
    "chart_caption": {
        "en": "Rows and text length per label.",
        "pl": "Liczba wierszy i długość tekstów według etykiet.",
    },
    "card_caption": {
        "en": "Dataset card: how this dataset was made.",
        "pl": "Karta zbioru danych: jak powstał ten zbiór.",
    },
    "after_delivery": {
        "en": "Done! Want changes? Tell me (e.g. “make it 500”), or type {cmd_new} for a new order.",
        "pl": "Gotowe! Chcesz zmian? Napisz (np. „zrób 500”) albo wpisz {cmd_new}, by zacząć nowe zamówienie.",
    },
    "busy_generating": {
        "en": "Your dataset is being generated (job #{job}, {done}/{total}). I'll send the file here; type {cmd_cancel} to stop it.",
        "pl": "Zbiór się generuje (zadanie #{job}, {done}/{total}). Wyślę tu plik; wpisz {cmd_cancel}, by przerwać.",
    },
    "resumed": {
        "en": "I was restarted: continuing job #{job} ({done}/{total} rows already made).",
        "pl": "Zostałem uruchomiony ponownie: kontynuuję zadanie #{job} (gotowe już {done}/{total} wierszy).",
    },
    # --- cancel, status, commands ---------------------------------------------------------
    "job_cancelled": {
        "en": "Stopped job #{job}. The rows made so far are kept; Generate all continues from there.",
        "pl": "Przerwałem zadanie #{job}. Dotychczasowe wiersze zostają; Generuj całość kontynuuje od tego miejsca.",
    },
    "order_cancelled": {
        "en": "Order dropped. Tell me a new one whenever you like.",
        "pl": "Zamówienie anulowane. Napisz nowe, kiedy chcesz.",
    },
    "nothing_to_cancel": {
        "en": "Nothing to cancel right now.",
        "pl": "Nie ma teraz nic do przerwania.",
    },
    "new_order": {
        "en": "Starting over. What dataset do you need?",
        "pl": "Zaczynamy od nowa. Jakiego zbioru danych potrzebujesz?",
    },
    "status_empty": {
        "en": "No order yet. Tell me what dataset you need, or type {cmd_help} for examples.",
        "pl": "Nie ma jeszcze zamówienia. Napisz, jakiego zbioru potrzebujesz, albo wpisz {cmd_help}, by zobaczyć przykłady.",
    },
    "status_draft": {
        "en": "Order so far:\n{summary}\nStill missing: {missing}.",
        "pl": "Zamówienie do tej pory:\n{summary}\nBrakuje jeszcze: {missing}.",
    },
    "status_problem": {
        "en": "Order so far:\n{summary}\nIt can't be generated yet: {error}",
        "pl": "Zamówienie do tej pory:\n{summary}\nNie da się go jeszcze wygenerować: {error}",
    },
    "status_ready": {
        "en": "Order ready:\n{summary}",
        "pl": "Zamówienie gotowe:\n{summary}",
    },
    "status_job": {
        "en": "Job #{job} ({kind}): {status}, {done}/{total} rows.",
        "pl": "Zadanie #{job} ({kind}): {status}, {done}/{total} wierszy.",
    },
    # --- job status and kind words ------------------------------------------------------
    "job_status_pending": {"en": "waiting", "pl": "oczekuje"},
    "job_status_running": {"en": "running", "pl": "w toku"},
    "job_status_done": {"en": "done", "pl": "gotowe"},
    "job_status_failed": {"en": "failed", "pl": "nieudane"},
    "job_status_cancelled": {"en": "cancelled", "pl": "przerwane"},
    "job_kind_preview": {"en": "preview", "pl": "podgląd"},
    "job_kind_dataset": {"en": "dataset", "pl": "zbiór"},
}
