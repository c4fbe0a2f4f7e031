"""Texts about spending limits (core/budget.py), in English and Polish (merged into core.messages.TEXTS)."""

from __future__ import annotations

TRUST_TEXTS: dict[str, dict[str, str]] = {
    "budget_stopped": {
        "en": "stopped at the cost limit: {spent} spent of {limit} per order. The rows made so far are kept; "
        "ask whoever runs the bot to raise DATAGEN_MAX_COST_USD, then press Generate all to continue",
        "pl": "zatrzymane na limicie kosztów: wydano {spent} z {limit} na zamówienie. Dotychczasowe wiersze "
        "zostają; poproś osobę, która prowadzi bota, o podniesienie DATAGEN_MAX_COST_USD i naciśnij Generuj "
        "całość, by dokończyć",
    },
    "daily_budget_stopped": {
        "en": "stopped at your daily budget: this order spent {spent}, and {left} of your daily budget of {daily} "
        "is left. The rows made so far are kept; press Generate all later, when your spending of the last 24 "
        "hours leaves room, to continue (or ask whoever runs the bot to raise DATAGEN_USER_DAILY_BUDGET_USD)",
        "pl": "zatrzymane na Twoim dziennym budżecie: to zamówienie kosztowało {spent}, a z Twojego dziennego "
        "budżetu {daily} zostało {left}. Dotychczasowe wiersze zostają; naciśnij Generuj całość później, gdy "
        "wydatki z ostatnich 24 godzin zostawią miejsce, by dokończyć (albo poproś osobę, która prowadzi bota, "
        "o podniesienie DATAGEN_USER_DAILY_BUDGET_USD)",
    },
    "daily_budget_used": {
        "en": "Your daily budget of {limit} is used up (spent {spent} in the last 24 hours). Try again later, "
        "or ask whoever runs the bot to raise DATAGEN_USER_DAILY_BUDGET_USD.",
        "pl": "Twój dzienny budżet {limit} jest wykorzystany (wydano {spent} w ciągu ostatnich 24 godzin). "
        "Spróbuj później albo poproś osobę, która prowadzi bota, o podniesienie DATAGEN_USER_DAILY_BUDGET_USD.",
    },
    "daily_budget_over": {
        "en": "This order would cost about {cost}, but only {left} of your daily budget of {limit} is left. "
        "Order fewer rows, or try again later.",
        "pl": "To zamówienie kosztowałoby około {cost}, a z Twojego dziennego budżetu {limit} zostało tylko "
        "{left}. Zamów mniej wierszy albo spróbuj później.",
    },
    "attributes_sample": {
        "en": "What will vary between requests, from your topic: e.g. {example} ({counts}).",
        "pl": "Co będzie się zmieniać między zapytaniami, według Twojego tematu: np. {example} ({counts}).",
    },
    "attributes_subtopics": {"en": "{n} sub-topics", "pl": "podtematy: {n}"},
    "attributes_situations": {"en": "{n} situations", "pl": "sytuacje: {n}"},
    "attributes_personas": {"en": "{n} personas", "pl": "osoby: {n}"},
    "attributes_styles": {"en": "{n} styles", "pl": "style: {n}"},
}
