"""Every text the bot says to a user, in English and Polish.

`text(lang, key, **values)` picks the user's language (falling back to English) and fills
the placeholders; commands are written `{cmd_new}`, `{cmd_status}`, ... and spelled with the
channel's `command_prefix` ("/" by default). Keeping all wording here lets a translator work
without reading the state machine, and lets tests check that a Polish user never gets an
English sentence.
"""

from __future__ import annotations

from core.messages_card import CARD_TEXTS

SUPPORTED_LANGUAGES = ("en", "pl")
# Commands the texts name as {cmd_new} etc.; the channel decides how they are typed (Slack keeps
# "/..." for its own slash commands, so there the bare word is the command).
COMMANDS = ("new", "status", "cancel", "help")
DEFAULT_COMMAND_PREFIX = "/"

TEXTS: dict[str, dict[str, str]] = {
    # --- greeting, help, model -------------------------------------------------------------
    "welcome": {
        "en": "Hi! I make labeled datasets for training and testing models. Tell me what you need, "
        "in one sentence or step by step, or upload a CSV/JSON of your own examples to balance.",
        "pl": "Cześć! Tworzę oznaczone zbiory danych do trenowania i testowania modeli. Napisz, czego "
        "potrzebujesz, jednym zdaniem albo krok po kroku, albo wyślij własny plik CSV/JSON z przykładami "
        "do zbalansowania.",
    },
    "help": {
        "en": "I generate synthetic, labeled datasets with an LLM and send you the file (CSV, JSON or JSONL).\n"
        "I ask for what is missing (task, labels, class balance, count, language, tone, format), show a few "
        "preview examples you can rate with 👍/👎 or comment on, then generate everything.\n\n"
        "Example orders:\n"
        "• 200 customer reviews of a restaurant, positive or negative, 70% positive, CSV\n"
        "• 50 chatbot messages, labels: greeting, order_status, cancel_order, complaint, goodbye, in German\n"
        "• 50 rows with columns product_name, complaint, urgency (low/medium/high), 20 high\n"
        "• 40 test prompts that try to make our banking chatbot leak customer data\n"
        "• entity extraction, types PERSON, ORG and DATE · translation pairs from English into Polish · "
        "simulated user messages · add “make 20% of the rows messy” to any order\n\n"
        "You can also upload a CSV/JSON with columns text,label and I will top up the rare labels.\n"
        "Commands: {cmd_new} – start over · {cmd_status} – where are we · {cmd_cancel} – stop · {cmd_help} – this text",
        "pl": "Generuję syntetyczne, oznaczone zbiory danych za pomocą LLM i wysyłam plik (CSV, JSON lub JSONL).\n"
        "Dopytuję o brakujące rzeczy (zadanie, etykiety, proporcje klas, liczba, język, ton, format), pokazuję "
        "kilka przykładów do oceny 👍/👎 lub komentarza, a potem generuję całość.\n\n"
        "Przykładowe zamówienia:\n"
        "• wygeneruj 50 przykładów, 40 pozytywnych i 10 negatywnych, po polsku\n"
        "• 100 wiadomości do chatbota, etykiety: powitanie, status_zamówienia, reklamacja, pożegnanie, format JSON\n"
        "• 30 wierszy z kolumnami produkt, opis, pilność (niska/średnia/wysoka), 10 wysoka\n"
        "• 40 promptów red-team dla czatbota banku\n"
        "• 50 zdań z encjami: PERSON, ORG, LOC · 100 par tłumaczeń z angielskiego na niemiecki · "
        "symulowani użytkownicy aplikacji · dopisz „20% z błędami” do dowolnego zamówienia\n\n"
        "Możesz też wysłać plik CSV/JSON z kolumnami text,label, a uzupełnię rzadkie etykiety.\n"
        "Komendy: {cmd_new} – od nowa · {cmd_status} – gdzie jesteśmy · {cmd_cancel} – przerwij · {cmd_help} – ta pomoc",
    },
    "model_info": {
        "en": "Answers come from {model}.",
        "pl": "Odpowiada model {model}.",
    },
    "local_warning": {
        "en": "Warning: this is a small model running on this computer. Its rows are often unusable (wrong "
        "language, repeated, garbled or wrongly labeled); fine for a try, not for training data. For usable data, "
        "set OPENAI_API_KEY (and OPENAI_BASE_URL for any OpenAI-compatible server) and restart.",
        "pl": "Uwaga: to mały model działający na tym komputerze. Jego wiersze często się nie nadają (zły język, "
        "powtórzenia, zniekształcenia, złe etykiety); dobry na próbę, nie do danych treningowych. Dla użytecznych "
        "danych ustaw OPENAI_API_KEY (oraz OPENAI_BASE_URL dla dowolnego serwera zgodnego z OpenAI) i uruchom "
        "ponownie.",
    },
    # --- questions, one missing thing at a time ---------------------------------------------
    "ask_task": {
        "en": "What kind of dataset do you need?",
        "pl": "Jakiego rodzaju zbioru danych potrzebujesz?",
    },
    "ask_topic": {
        "en": "What is the topic or domain? (e.g. “restaurant reviews”, “support tickets of an online shop”, or “any”)",
        "pl": "Jaki jest temat lub dziedzina? (np. „recenzje restauracji”, „zgłoszenia do sklepu internetowego” albo „dowolny”)",
    },
    "ask_labels": {
        "en": "Which labels? Write them separated by commas (e.g. “positive, negative, neutral”).",
        "pl": "Jakie etykiety? Wypisz je po przecinku (np. „pozytywny, negatywny, neutralny”).",
    },
    "ask_count": {
        "en": "How many examples? (you can also give the balance, e.g. “2 negative and 8 positive” or “70% positive”)",
        "pl": "Ile przykładów? (możesz też podać proporcje, np. „2 negatywne i 8 pozytywnych” albo „70% pozytywnych”)",
    },
    "ask_language": {
        "en": "In which language should the examples be?",
        "pl": "W jakim języku mają być przykłady?",
    },
    "ask_language_other": {
        "en": "Type the language (e.g. “French”).",
        "pl": "Wpisz język (np. „francuski”).",
    },
    "ask_tone": {
        "en": "Which tone or style?",
        "pl": "Jaki ton lub styl?",
    },
    "ask_format": {
        "en": "Which file format?",
        "pl": "Jaki format pliku?",
    },
    "ask_generic": {
        "en": "Please tell me the {field}.",
        "pl": "Podaj proszę: {field}.",
    },
    "default_hint": {
        "en": "(default: {value})",
        "pl": "(domyślnie: {value})",
    },
    "ask_entity_types": {
        "en": "Which entity types should be marked? (e.g. “PERSON, ORG, DATE, PRODUCT” or slot names like “order_id, city”)",
        "pl": "Jakie typy encji oznaczać? (np. „PERSON, ORG, DATE, PRODUCT” albo nazwy slotów, np. „order_id, miasto”)",
    },
    "ask_target_language": {
        "en": "Into which language? (or “same” for paraphrases in the same language)",
        "pl": "Na jaki język? (albo „ten sam” dla parafraz w tym samym języku)",
    },
    "ask_columns": {
        "en": "Which columns? e.g. “product_name, complaint, urgency (low/medium/high), refund (yes/no), stars (number)”; "
        "add “20 high” for exact counts of a value.",
        "pl": "Jakie kolumny? np. „produkt, skarga, pilność (niska/średnia/wysoka), zwrot (tak/nie), ocena (liczba)”; "
        "dopisz „20 wysoka”, aby podać dokładną liczbę wartości.",
    },
    "ask_balance": {
        "en": "Several columns have fixed values. Which one should have exact, balanced counts?",
        "pl": "Kilka kolumn ma stałe wartości. Która ma mieć dokładne, zbalansowane liczności?",
    },
    "custom_labels_prompt": {
        "en": "Describe the task and its labels, e.g. “support tickets, labels: billing, bug, feature_request”.",
        "pl": "Opisz zadanie i etykiety, np. „zgłoszenia, etykiety: płatności, błąd, nowa_funkcja”.",
    },
    "other_language_prompt": {
        "en": "Type the language of the examples.",
        "pl": "Wpisz język przykładów.",
    },
    # --- summary --------------------------------------------------------------------------
    "summary_intro": {
        "en": "Here is your order:",
        "pl": "Oto Twoje zamówienie:",
    },
    "summary_upload": {
        "en": "Plus your {rows} uploaded rows ({uploaded}); the file will have {totals}. New rows are checked against yours.",
        "pl": "Do tego Twoje {rows} wgrane wiersze ({uploaded}); plik będzie miał {totals}. Nowe wiersze są porównywane z Twoimi.",
    },
    "duration_unknown": {
        "en": "It depends on the model: a served model makes hundreds of rows a minute, the embedded one a few "
        "dozen. The preview shows its speed, and a running job shows its progress ({cmd_status}).",
        "pl": "To zależy od modelu: model na serwerze robi setki wierszy na minutę, wbudowany kilkadziesiąt. "
        "Podgląd pokaże jego tempo, a trwające zadanie pokazuje postęp ({cmd_status}).",
    },
    "summary_read_as_change": {
        "en": "I read “{text}” as a change to the order (above). If it was feedback on how the examples should "
        "read, press {button}.",
        "pl": "Odczytałem „{text}” jako zmianę zamówienia (powyżej). Jeśli to była uwaga o tym, jak mają brzmieć "
        "przykłady, naciśnij {button}.",
    },
    "summary_feedback": {
        "en": "Your feedback so far: {items}",
        "pl": "Twoje dotychczasowe uwagi: {items}",
    },
    "summary_kept": {
        "en": "👍 examples kept: {n}",
        "pl": "Zachowane przykłady 👍: {n}",
    },
    "change_prompt": {
        "en": "Tell me what to change, e.g. “make it 500”, “add a neutral label”, “in German”, “more formal”, “as JSON”.",
        "pl": "Napisz, co zmienić, np. „zrób 500”, „dodaj etykietę neutralny”, „po niemiecku”, „bardziej formalnie”, „jako JSON”.",
    },
    "spec_problem": {
        "en": "That order can't be generated yet: {error}",
        "pl": "Tego zamówienia nie da się jeszcze wygenerować: {error}",
    },
    "yes_without_order": {
        "en": "Happy to! First tell me what dataset you need.",
        "pl": "Chętnie! Najpierw napisz, jakiego zbioru danych potrzebujesz.",
    },
    # --- preview --------------------------------------------------------------------------
    "preview_working": {
        "en": "Making {n} preview examples…",
        "pl": "Przygotowuję {n} przykładów do podglądu…",
    },
    "preview_intro": {
        "en": "Preview ({n} examples). Rate them with 👍/👎 (👍 rows stay in the dataset), or write what to improve "
        "(e.g. “shorter”, “the negatives are too mild”). Then Generate all, or ask for a New preview.",
        "pl": "Podgląd ({n} przykładów). Oceń je 👍/👎 (przykłady 👍 zostaną w zbiorze) albo napisz, co poprawić "
        "(np. „krótsze”, „negatywne są zbyt łagodne”). Potem Generuj całość albo Nowy podgląd.",
    },
    "preview_failed": {
        "en": "I couldn't make the preview: {error}. Your order is saved; press {button} to try again.",
        "pl": "Nie udało się przygotować podglądu: {error}. Zamówienie jest zapisane; naciśnij {button}, by spróbować ponownie.",
    },
    "preview_progress": {
        "en": "Still making the preview: {done}/{total} examples after {elapsed} s{eta}. The model is slow; "
        "you can wait, or type {cmd_cancel}.",
        "pl": "Wciąż przygotowuję podgląd: {done}/{total} przykładów po {elapsed} s{eta}. Model jest wolny; "
        "możesz poczekać albo wpisać {cmd_cancel}.",
    },
    "preview_eta": {"en": ", about {seconds} s to go", "pl": ", zostało około {seconds} s"},
    "preview_progress_end": {
        "en": "Preview: {done}/{total} examples after {elapsed} s.",
        "pl": "Podgląd: {done}/{total} przykładów po {elapsed} s.",
    },
    "preview_busy": {
        "en": "The preview is still being made, one moment…",
        "pl": "Podgląd jeszcze się tworzy, chwileczkę…",
    },
    "rated_up": {
        "en": "👍 #{number} noted: it stays in the dataset and guides the next examples.",
        "pl": "👍 #{number} zapisane: zostaje w zbiorze i będzie wzorem dla kolejnych przykładów.",
    },
    "rated_down": {
        "en": "👎 #{number} noted: it won't be in the dataset and the model will avoid similar ones.",
        "pl": "👎 #{number} zapisane: nie trafi do zbioru, a model będzie unikał podobnych.",
    },
    "rating_unknown": {
        "en": "There is no example #{number} in the current preview.",
        "pl": "W bieżącym podglądzie nie ma przykładu #{number}.",
    },
    "no_preview": {
        "en": "There is no preview to rate yet.",
        "pl": "Nie ma jeszcze podglądu do oceny.",
    },
    "feedback_noted": {
        "en": "Noted: “{feedback}”. It goes into the next preview and the full dataset. Generate all, or see a New preview?",
        "pl": "Zapisane: „{feedback}”. Uwzględnię to w nowym podglądzie i w całym zbiorze. Generować całość czy pokazać Nowy podgląd?",
    },
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
    # --- trust: variety, cost estimate ----------------------------------------------------
    "variety_line": {
        "en": "{level} variety: {percent}% of 2-word phrases unique",
        "pl": "{level} różnorodność: {percent}% dwuwyrazowych fraz się nie powtarza",
    },
    "variety_high": {"en": "high", "pl": "wysoka"},
    "variety_medium": {"en": "medium", "pl": "średnia"},
    "variety_low": {"en": "low", "pl": "niska"},
    "estimate_tokens": {"en": "about {tokens} tokens", "pl": "około {tokens} tokenów"},
    "estimate_cost": {"en": "about {cost}", "pl": "około {cost}"},
    "estimate_under_minute": {"en": "under a minute", "pl": "poniżej minuty"},
    "estimate_one_minute": {"en": "about a minute", "pl": "około minuty"},
    "estimate_minutes": {"en": "about {n} minutes", "pl": "około {n} min"},
    "estimate_hours": {"en": "about {n} hours", "pl": "około {n} godz."},
    "estimate_over_budget": {
        "en": "This order would cost about {cost}, more than the limit of {limit} per order. Order fewer rows, "
        "or ask whoever runs the bot to raise DATAGEN_MAX_COST_USD.",
        "pl": "To zamówienie kosztowałoby około {cost}, więcej niż limit {limit} na zamówienie. Zamów mniej "
        "wierszy albo poproś osobę, która prowadzi bota, o podniesienie DATAGEN_MAX_COST_USD.",
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
        "en": "Which labels should I use? Name them separated by commas (e.g. “complaint, order_status, greeting”) "
        "or pick a preset: sentiment, intent, toxicity.",
        "pl": "Jakich etykiet mam użyć? Wypisz je po przecinku (np. „skarga, status_zamówienia, powitanie”) albo "
        "wybierz gotowy zestaw: sentyment, intencja, toksyczność.",
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
    # --- button labels --------------------------------------------------------------------
    "btn_preview": {"en": "Generate preview", "pl": "Generuj podgląd"},
    "btn_change": {"en": "Change something", "pl": "Zmień coś"},
    "btn_cancel": {"en": "Cancel", "pl": "Anuluj"},
    "btn_was_feedback": {"en": "It was feedback", "pl": "To była uwaga"},
    "btn_generate_all": {"en": "Generate all", "pl": "Generuj całość"},
    "btn_new_preview": {"en": "New preview", "pl": "Nowy podgląd"},
    "btn_balance": {"en": "Generate {total} to balance", "pl": "Wygeneruj {total} do zbalansowania"},
    "btn_default": {"en": "Use default: {value}", "pl": "Domyślnie: {value}"},
    "btn_other": {"en": "Other…", "pl": "Inny…"},
    "btn_any_topic": {"en": "Any topic", "pl": "Dowolny temat"},
    "task_sentiment": {"en": "Sentiment (positive/negative)", "pl": "Sentyment (pozytywny/negatywny)"},
    "task_intent": {"en": "Chatbot intents", "pl": "Intencje chatbota"},
    "task_toxicity": {"en": "Toxic / non-toxic", "pl": "Toksyczne / nietoksyczne"},
    "task_quiz": {"en": "Quiz questions (4 options)", "pl": "Pytania quizowe (4 odpowiedzi)"},
    "task_qa": {"en": "Questions & answers", "pl": "Pytania i odpowiedzi"},
    "task_custom": {"en": "Custom labels", "pl": "Własne etykiety"},
    "task_entities": {"en": "Entities in texts (NER)", "pl": "Encje w tekstach (NER)"},
    "task_translation": {"en": "Translation / paraphrase pairs", "pl": "Pary tłumaczeń / parafraz"},
    "task_red_team": {"en": "Red-team prompts", "pl": "Prompty red-team"},
    "task_users": {"en": "Simulated users", "pl": "Symulowani użytkownicy"},
    "task_columns": {"en": "Your own columns", "pl": "Własne kolumny"},
    "btn_same_language": {"en": "Same language (paraphrases)", "pl": "Ten sam język (parafrazy)"},
    "btn_no_balance": {"en": "None", "pl": "Żadna"},
    "lang_English": {"en": "English", "pl": "angielski"},
    "lang_Polish": {"en": "Polish", "pl": "polski"},
    "lang_German": {"en": "German", "pl": "niemiecki"},
    "lang_Spanish": {"en": "Spanish", "pl": "hiszpański"},
    "tone_neutral": {"en": "neutral", "pl": "neutralny"},
    "tone_casual": {"en": "casual", "pl": "swobodny"},
    "tone_formal": {"en": "formal", "pl": "formalny"},
    "tone_enthusiastic": {"en": "enthusiastic", "pl": "entuzjastyczny"},
    "field_task": {"en": "task", "pl": "zadanie"},
    "field_topic": {"en": "topic", "pl": "temat"},
    "field_labels": {"en": "labels", "pl": "etykiety"},
    "field_count": {"en": "number of examples", "pl": "liczba przykładów"},
    "field_label_counts": {"en": "class balance", "pl": "proporcje klas"},
    "field_language": {"en": "language", "pl": "język"},
    "field_tone": {"en": "tone", "pl": "ton"},
    "field_format": {"en": "format", "pl": "format"},
    "job_status_pending": {"en": "waiting", "pl": "oczekuje"},
    "job_status_running": {"en": "running", "pl": "w toku"},
    "job_status_done": {"en": "done", "pl": "gotowe"},
    "job_status_failed": {"en": "failed", "pl": "nieudane"},
    "job_status_cancelled": {"en": "cancelled", "pl": "przerwane"},
    "job_kind_preview": {"en": "preview", "pl": "podgląd"},
    "job_kind_dataset": {"en": "dataset", "pl": "zbiór"},
}


def normalise_language(lang: str | None) -> str:
    return lang if lang in SUPPORTED_LANGUAGES else "en"


def command(name: str, command_prefix: str = DEFAULT_COMMAND_PREFIX) -> str:
    """How a user types the command `name` in their channel ("/new"; "new" in Slack)."""
    return f"{command_prefix}{name}"


TEXTS.update(CARD_TEXTS)


def text(lang: str | None, key: str, *, command_prefix: str = DEFAULT_COMMAND_PREFIX, **values: object) -> str:
    """The message `key` in `lang` (English when missing), placeholders filled from `values`;
    `{cmd_new}` and the other command names are spelled with `command_prefix`."""
    variants = TEXTS.get(key)
    if variants is None:
        # A missing key is our bug; show the key rather than crash the conversation.
        return key
    template = variants.get(normalise_language(lang)) or variants["en"]
    commands = {f"cmd_{name}": command(name, command_prefix) for name in COMMANDS}
    return template.format(**commands, **values)


def human_size(size: int) -> str:
    units = ["B", "KB", "MB", "GB"]
    value = float(size)
    for unit in units:
        if value < 1024 or unit == units[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


# --- intake (core/intake): the order's summary, what is wrong with an order, what a message asks -------
TEXTS.update({
    "summary_task": {"en": "Task", "pl": "Zadanie"},
    "summary_labels": {"en": "Labels", "pl": "Etykiety"},
    "summary_count": {"en": "Examples", "pl": "Liczba przykładów"},
    "summary_language": {"en": "Language", "pl": "Język"},
    "summary_topic": {"en": "Topic", "pl": "Temat"},
    "summary_tone": {"en": "Tone", "pl": "Ton"},
    "summary_format": {"en": "Format", "pl": "Format"},
    "summary_instructions": {"en": "Instructions", "pl": "Instrukcje"},
    "summary_any": {"en": "any", "pl": "dowolny"},
    "summary_equal": {"en": "equal split", "pl": "po równo"},
    "summary_task_classification": {"en": "classification", "pl": "klasyfikacja"},
    "summary_task_multiple_choice": {"en": "multiple-choice quiz (4 options)", "pl": "quiz wielokrotnego wyboru (4 odpowiedzi)"},
    "summary_task_qa": {"en": "questions and answers", "pl": "pytania i odpowiedzi"},
    "summary_columns": {"en": "Columns (⚖ balanced)", "pl": "Kolumny (⚖ zbalansowana)"},
    "summary_entity_types": {"en": "Entity types", "pl": "Typy encji"},
    "summary_target_language": {"en": "Target language", "pl": "Język docelowy"},
    "summary_same_language": {"en": "the same (paraphrases)", "pl": "ten sam (parafrazy)"},
    "summary_noise": {"en": "Messy rows", "pl": "Wiersze z błędami"},
    "summary_task_entities": {"en": "entity extraction", "pl": "wyszukiwanie encji (NER)"},
    "summary_task_translation": {"en": "translation pairs", "pl": "pary tłumaczeń"},
    "summary_task_red_team": {"en": "red-team prompts", "pl": "prompty red-team"},
    "summary_task_simulated_users": {"en": "simulated user messages", "pl": "symulowane wiadomości użytkowników"},
    "summary_task_custom": {"en": "your own columns", "pl": "własne kolumny"},
    "summary_format_openai_jsonl": {"en": "JSONL (OpenAI fine-tuning)", "pl": "JSONL (OpenAI fine-tuning)"},
    "tone_very": {"en": "very {tone}", "pl": "bardzo {tone}"},
    "tone_sarcastic": {"en": "sarcastic", "pl": "sarkastyczny"},
    "tone_friendly": {"en": "friendly", "pl": "przyjazny"},
    "tone_professional": {"en": "professional", "pl": "profesjonalny"},
    "tone_humorous": {"en": "humorous", "pl": "humorystyczny"},
    "tone_angry": {"en": "angry", "pl": "gniewny"},
    "tone_polite": {"en": "polite", "pl": "uprzejmy"},
    "tone_rude": {"en": "rude", "pl": "niegrzeczny"},
    "tone_academic": {"en": "academic", "pl": "akademicki"},
    "tone_serious": {"en": "serious", "pl": "poważny"},
    "order_needs_task": {
        "en": "Which kind of dataset: classification, multiple-choice quiz or questions and answers?",
        "pl": "Jaki zbiór: klasyfikacja, quiz wielokrotnego wyboru czy pytania i odpowiedzi?",
    },
    "order_needs_labels": {
        "en": "A classification dataset needs at least two labels, e.g. positive, negative.",
        "pl": "Klasyfikacja potrzebuje co najmniej dwóch etykiet, np. pozytywna, negatywna.",
    },
    "order_label_lacking": {"en": "How many examples of {labels}?", "pl": "Ile przykładów dla: {labels}?"},
    "order_counts_exceed": {
        "en": "The label counts add up to {total}, more than the total of {count}.",
        "pl": "Liczby dla etykiet sumują się do {total}, więcej niż łącznie {count}.",
    },
    "order_counts_mismatch": {
        "en": "The label counts add up to {total}, but the total is {count}. Which one is right?",
        "pl": "Liczby dla etykiet sumują się do {total}, a łącznie ma być {count}. Które jest dobre?",
    },
    "order_needs_count": {"en": "How many examples in total?", "pl": "Ile przykładów łącznie?"},
    "order_shares": {
        "en": "The percentages add up to {percent}%, not 100%.",
        "pl": "Procenty sumują się do {percent}%, a nie do 100%.",
    },
    "order_count_small": {
        "en": "The number of examples must be at least 1.",
        "pl": "Liczba przykładów musi wynosić co najmniej 1.",
    },
    "order_count_big": {
        "en": "{count} examples is more than I can make at once (at most {max}). Please ask for fewer.",
        "pl": "{count} przykładów to więcej, niż mogę zrobić naraz (najwyżej {max}). Poproś o mniej.",
    },
    "order_count_enormous": {"en": "That many", "pl": "Tak wiele"},
})
TEXTS.update({
    "order_fewer_rows_than_labels": {
        "en": "{count} examples cannot cover {labels} labels: every label needs at least one. "
        "How many examples in total (at least {labels})?",
        "pl": "{count} przykładów nie wystarczy na {labels} etykiet: każda potrzebuje co najmniej jednego. "
        "Ile przykładów łącznie (co najmniej {labels})?",
    },
    "intake_count_negative": {
        "en": "The number of examples can't be negative ({number}), so I did not take it. How many do you need?",
        "pl": "Liczba przykładów nie może być ujemna ({number}), więc jej nie zapisuję. Ile potrzebujesz?",
    },
    "intake_count_too_large": {
        "en": "{count} examples is more than I can make at once (at most {max}), so I did not take that number. "
        "How many do you need?",
        "pl": "{count} przykładów to więcej, niż mogę zrobić naraz (najwyżej {max}), więc tej liczby nie zapisuję. "
        "Ile potrzebujesz?",
    },
    "intake_ask_balance": {
        "en": "How many “{label}” examples should there be? For example “{label} 50%” or “{label} 40” "
        "(the other labels share the rest equally).",
        "pl": "Ile ma być przykładów „{label}”? Na przykład „{label} 50%” albo „{label} 40” "
        "(pozostałe etykiety dzielą resztę po równo).",
    },
    "intake_unsupported": {
        "en": "I can't make {kind} datasets yet. I make text classification (texts with labels), "
        "multiple-choice quizzes, question–answer pairs, texts with marked entities (NER), translation or "
        "paraphrase pairs, red-team test prompts, simulated user messages and rows with your own columns.",
        "pl": "Nie umiem jeszcze robić zbiorów typu {kind}. Robię klasyfikację tekstów (teksty z etykietami), "
        "quizy wielokrotnego wyboru, pary pytanie–odpowiedź, teksty z oznaczonymi encjami (NER), pary tłumaczeń "
        "lub parafraz, prompty red-team, symulowane wiadomości użytkowników i wiersze z własnymi kolumnami.",
    },
    "kind_ner": {"en": "named entity recognition (NER)", "pl": "rozpoznawanie nazw własnych (NER)"},
    "kind_pos": {"en": "part-of-speech tagging", "pl": "oznaczanie części mowy"},
    "kind_translation": {"en": "translation pairs", "pl": "pary tłumaczeń"},
    "kind_summaries": {"en": "summarisation", "pl": "streszczenia"},
    "kind_images": {"en": "image or audio", "pl": "obrazy lub dźwięk"},
})
