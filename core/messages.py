"""Every text the bot says to a user, in English and Polish.

`text(lang, key, **values)` picks the user's language (falling back to English) and fills
the placeholders; commands are written `{cmd_new}`, `{cmd_status}`, ... and spelled with the
channel's `command_prefix` ("/" by default). Keeping all wording here lets a translator work
without reading the state machine, and lets tests check that a Polish user never gets an
English sentence.
"""

from __future__ import annotations

from core.messages_card import CARD_TEXTS
from core.messages_documents import DOCUMENT_TEXTS
from core.messages_errors import ERROR_TEXTS
from core.messages_jobs import JOB_TEXTS
from core.messages_order import ORDER_TEXTS
from core.messages_preview import PREVIEW_TEXTS
from core.messages_stops import STOP_TEXTS
from core.messages_uploads import UPLOAD_TEXTS
from core.messages_trust import TRUST_TEXTS

SUPPORTED_LANGUAGES = ("en", "pl")
# Commands the texts name as {cmd_new} etc.; the channel decides how they are typed (Slack keeps
# "/..." for its own slash commands, so there the bare word is the command).
COMMANDS = ("new", "status", "cancel", "help")
DEFAULT_COMMAND_PREFIX = "/"

# The wording is kept by area, one module each (core/messages_<area>.py), merged here; a key lives in
# exactly one of them (tests/test_messages_areas.py fails otherwise, since a merge would silently keep one).
AREA_MODULES = (
    "core.messages",
    "core.messages_order",
    "core.messages_preview",
    "core.messages_jobs",
    "core.messages_uploads",
    "core.messages_errors",
    "core.messages_card",
    "core.messages_trust",
    "core.messages_documents",
    "core.messages_stops",
)

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
}
for _area in (ORDER_TEXTS, PREVIEW_TEXTS, JOB_TEXTS, UPLOAD_TEXTS, ERROR_TEXTS, CARD_TEXTS, TRUST_TEXTS, DOCUMENT_TEXTS,
              STOP_TEXTS):
    TEXTS.update(_area)


def normalise_language(lang: str | None) -> str:
    return lang if lang in SUPPORTED_LANGUAGES else "en"


def command(name: str, command_prefix: str = DEFAULT_COMMAND_PREFIX) -> str:
    """How a user types the command `name` in their channel ("/new"; "new" in Slack)."""
    return f"{command_prefix}{name}"


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
