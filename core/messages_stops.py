"""Why a job stopped (core/stop_reasons.py: one key `stop_<kind>` per kind), each with what the user,
or whoever runs the bot, can do about it. They fill the {error} of job_failed, progress_failed,
preview_failed and the card's status line, so they start in lower case and end without a full stop.

English and Polish; merged into core.messages.TEXTS (apart only to keep each file readable).
"""

from __future__ import annotations

STOP_TEXTS: dict[str, dict[str, str]] = {
    "stop_llm_unreachable": {
        "en": "the model server at {url} could not be reached ({requests} requests in a row); check that it is "
        "running and that OPENAI_BASE_URL points at it",
        "pl": "nie udało się połączyć z serwerem modelu pod adresem {url} ({requests} zapytań z rzędu); sprawdź, "
        "czy działa i czy OPENAI_BASE_URL na niego wskazuje",
    },
    "stop_llm_timeout": {
        "en": "the model server at {url} did not answer in time ({requests} requests in a row); it may be "
        "overloaded: try again later, or raise DATAGEN_REQUEST_TIMEOUT",
        "pl": "serwer modelu pod adresem {url} nie odpowiedział na czas ({requests} zapytań z rzędu); może być "
        "przeciążony: spróbuj później albo zwiększ DATAGEN_REQUEST_TIMEOUT",
    },
    "stop_llm_server_error": {
        "en": "the model server at {url} kept answering with an error ({status}, {requests} requests in a row); "
        "it may be overloaded or down: try again later",
        "pl": "serwer modelu pod adresem {url} wciąż odpowiadał błędem ({status}, {requests} zapytań z rzędu); "
        "może być przeciążony lub wyłączony: spróbuj później",
    },
    "stop_llm_rate_limited": {
        "en": "the model server at {url} kept saying it is busy (429, {requests} requests in a row); try again later",
        "pl": "serwer modelu pod adresem {url} wciąż odpowiadał, że jest zajęty (429, {requests} zapytań z rzędu); "
        "spróbuj później",
    },
    "stop_llm_quota": {
        "en": "the API key's quota at {url} is used up; whoever runs the bot needs to top it up or change "
        "OPENAI_API_KEY",
        "pl": "limit klucza API w {url} został wyczerpany; osoba, która prowadzi bota, musi go doładować lub "
        "zmienić OPENAI_API_KEY",
    },
    "stop_llm_api_key": {
        "en": "the model server at {url} rejected the API key; whoever runs the bot should check OPENAI_API_KEY",
        "pl": "serwer modelu pod adresem {url} odrzucił klucz API; osoba, która prowadzi bota, powinna sprawdzić "
        "OPENAI_API_KEY",
    },
    "stop_llm_permission": {
        "en": "the API key may not use the model {model} at {url}; check DATAGEN_MODEL and OPENAI_API_KEY",
        "pl": "klucz API nie ma dostępu do modelu {model} w {url}; sprawdź DATAGEN_MODEL i OPENAI_API_KEY",
    },
    "stop_llm_not_found": {
        "en": "the model {model} was not found at {url}; check DATAGEN_MODEL and OPENAI_BASE_URL",
        "pl": "nie znaleziono modelu {model} w {url}; sprawdź DATAGEN_MODEL i OPENAI_BASE_URL",
    },
    "stop_llm_refused": {
        "en": "the model server at {url} refused the requests as invalid ({status}); another model "
        "(DATAGEN_MODEL) may be needed",
        "pl": "serwer modelu pod adresem {url} odrzucił zapytania jako nieprawidłowe ({status}); może być "
        "potrzebny inny model (DATAGEN_MODEL)",
    },
    "stop_llm_unreadable": {
        "en": "the model server at {url} kept sending answers that could not be read ({requests} requests in a "
        "row); check that OPENAI_BASE_URL points at an OpenAI-compatible server",
        "pl": "serwer modelu pod adresem {url} wciąż przysyłał nieczytelne odpowiedzi ({requests} zapytań z "
        "rzędu); sprawdź, czy OPENAI_BASE_URL wskazuje serwer zgodny z OpenAI",
    },
    # English: the engine's own words (why the process died, and the hint about OPENAI_API_KEY).
    "stop_llm_died": {
        "en": "{detail}",
        "pl": "wbudowany model przestał działać (szczegóły są w dzienniku bota); spróbuj ponownie (uruchomi się "
        "od nowa) albo niech bot korzysta z serwera modelu (OPENAI_API_KEY)",
    },
    "stop_llm_model_file": {
        "en": "{detail}",
        "pl": "plik modelu {path} nie istnieje albo nie jest modelem GGUF; osoba, która prowadzi bota, powinna "
        "poprawić DATAGEN_LOCAL_MODEL (albo go usunąć, by użyć wbudowanego modelu) lub ustawić OPENAI_API_KEY",
    },
    "stop_llm_failing": {
        "en": "the model kept failing ({requests} requests in a row); try again later",
        "pl": "model wciąż zawodził ({requests} zapytań z rzędu); spróbuj później",
    },
    "stop_llm_silent": {
        "en": "the model has not answered for {seconds} s; check that its server is running and reachable "
        "(OPENAI_BASE_URL); the limit is DATAGEN_NO_ANSWER_TIMEOUT",
        "pl": "model nie odpowiada od {seconds} s; sprawdź, czy jego serwer działa i jest osiągalny "
        "(OPENAI_BASE_URL); limit ustawia DATAGEN_NO_ANSWER_TIMEOUT",
    },
    "stop_unusable_rows": {
        "en": "too many invalid answers from the model: {what}; most often: {why}. Try other labels, simpler "
        "instructions or a stronger model",
        "pl": "zbyt wiele błędnych odpowiedzi modelu: {what}; najczęściej: {why}. Spróbuj innych etykiet, "
        "prostszych instrukcji lub mocniejszego modelu",
    },
    "stop_what_fruitless": {
        "en": "the last {n} requests gave no usable row",
        "pl": "ostatnie {n} zapytań nie dało żadnego użytecznego wiersza",
    },
    "stop_what_share": {
        "en": "only {accepted} of {seen} rows were usable",
        "pl": "tylko {accepted} z {seen} wierszy nadawało się do użycia",
    },
    "stop_why_none": {"en": "no rows at all", "pl": "brak jakichkolwiek wierszy"},
    "stop_no_rows": {
        "en": "the model gave no usable row",
        "pl": "model nie dał żadnego użytecznego wiersza",
    },
    "stop_no_labels": {
        "en": "the model gave no usable label",
        "pl": "model nie dał żadnej użytecznej etykiety",
    },
    "stop_rows_unanswered": {
        "en": "{rows} rows got no usable answer from the model; run it again to retry them (the labels made so "
        "far are kept)",
        "pl": "część wierszy ({rows}) nie dostała od modelu użytecznej odpowiedzi; uruchom ponownie, by spróbować "
        "jeszcze raz (dotychczasowe etykiety zostają)",
    },
    "stop_storage_failed": {
        "en": "the results could not be saved (a database problem); what was saved is kept, try again",
        "pl": "nie udało się zapisać wyników (problem z bazą danych); to, co zapisano, zostaje, spróbuj ponownie",
    },
    "stop_internal": {
        "en": "an unexpected error on my side (the details are in the bot's log); try again",
        "pl": "nieoczekiwany błąd po mojej stronie (szczegóły są w dzienniku bota); spróbuj ponownie",
    },
    "annotate_failed": {
        "en": "Labeling failed: {error}. Your rows are saved; press {button} to continue (the labels made so far "
        "are kept).",
        "pl": "Oznaczanie nie powiodło się: {error}. Wiersze są zapisane; naciśnij {button}, by kontynuować "
        "(dotychczasowe etykiety zostają).",
    },
    # An error without a kind (an older version's, a crash): its own words where they are English.
    "stop_unknown": {
        "en": "{detail}",
        "pl": "nieoczekiwany błąd (szczegóły są w dzienniku bota)",
    },
}
