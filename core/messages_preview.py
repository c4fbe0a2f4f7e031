"""The preview and the feedback on it (ratings, comments).

English and Polish; merged into core.messages.TEXTS (apart only to keep each file readable).
"""

from __future__ import annotations

PREVIEW_TEXTS: dict[str, dict[str, str]] = {
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
}
