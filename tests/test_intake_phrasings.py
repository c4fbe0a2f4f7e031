"""How a busy product manager actually types an order (issue 15), English and Polish: each row is
a draft to start from, the messages typed one by one, and the order (and remarks) they must give.

Add every phrasing you meet in a real conversation here, with the order it must produce.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from core.intake import INTENT_LABELS, AfterPreview, Intent, SpecDraft, apply, classify_after_preview, interpret
from core.spec import OutputFormat, SpecError, TaskType

CLS = TaskType.classification


def _ready(**fields: Any) -> SpecDraft:
    base: dict[str, Any] = {"language": "English", "topic": "", "format": OutputFormat.csv}
    return SpecDraft(**{**base, **fields})


SENTIMENT_10 = _ready(task=CLS, labels=["positive", "negative"], count=10)
INTENTS_20 = _ready(task=CLS, labels=list(INTENT_LABELS), count=20)
INTENTS_PL = _ready(task=CLS, labels=["powitanie", "reklamacja", "pożegnanie"], count=30, language="Polish")
SIXTY = [f"topic_{i:02d}" for i in range(60)]


@dataclass
class Case:
    messages: tuple[str, ...]
    order: dict[str, Any] = field(default_factory=dict)  # fields of the resulting draft
    start: SpecDraft | None = None
    remarks: tuple[str, ...] = ()  # message keys the last message's interpretation must carry
    intent: Intent = Intent.order
    favoured: str | None = None
    spec_error: str | None = None  # a fragment of to_spec()'s one-line error, when the order is not valid yet
    asks: str | None = None  # what draft.missing() asks first, when the order is not valid yet
    understood: bool = True  # False: nothing to act on, the dialog says it did not understand


CASES: dict[str, Case] = {
    # --- issue 15, item 7: ordinary phrasing -------------------------------------------------
    "10 of them": Case(("10 of them",), {"count": 10}, start=SENTIMENT_10.model_copy(update={"count": None})),
    "tagged by intent": Case(
        ("50 chatbot messages tagged by intent: greeting, order_status, cancel_order, complaint, goodbye",),
        {"task": CLS, "labels": list(INTENT_LABELS), "count": 50},
    ),
    "tagged by intent, then language and format": Case(
        ("300 support tickets tagged by intent: greeting, order_status, cancel_order, complaint, goodbye, English, CSV",),
        {"task": CLS, "labels": list(INTENT_LABELS), "count": 300, "language": "English", "format": OutputFormat.csv},
    ),
    "label list closed by 'in Polish, as JSON'": Case(
        ("40 reviews, labels: spam, ham, in Polish, as JSON",),
        {"labels": ["spam", "ham"], "count": 40, "language": "Polish", "format": OutputFormat.json},
    ),
    "etykiety zakończone językiem i formatem": Case(
        ("200 wiadomości oznaczone jako powitanie, reklamacja, pożegnanie, po polsku, CSV",),
        {"labels": ["powitanie", "reklamacja", "pożegnanie"], "count": 200, "language": "Polish",
         "format": OutputFormat.csv},
    ),
    "language after a spaced dash": Case(
        ("100 reviews: positive, negative, neutral — French, CSV",),
        {"labels": ["positive", "negative", "neutral"], "count": 100, "language": "French", "format": OutputFormat.csv},
    ),
    "a list of languages stays labels": Case(
        ("60 sentences, labels: english, polish, french, JSON",),
        {"labels": ["english", "polish", "french"], "count": 60, "format": OutputFormat.json},
    ),
    "more complaints than anything else": Case(
        ("more complaints than anything else",), {"label_counts": None, "count": 20}, start=INTENTS_20,
        remarks=("intake_ask_balance",), favoured="complaint",
    ),
    "mostly complaints": Case(("mostly complaints",), {"count": 20}, start=INTENTS_20, remarks=("intake_ask_balance",), favoured="complaint"),
    "gaming community tone": Case(("gaming community tone",), {"tone": "gaming community"}, start=SENTIMENT_10),
    "in a gaming community tone": Case(("in a gaming community tone",), {"tone": "gaming community"}, start=SENTIMENT_10),
    "as JSON instead of CSV": Case(("as JSON instead of CSV",), {"format": OutputFormat.json, "instructions": None}, start=SENTIMENT_10),
    "JSON, not CSV": Case(("JSON, not CSV",), {"format": OutputFormat.json}, start=SENTIMENT_10),
    "counts without colons": Case(
        ("complaint 4, greeting 2, order_status 2, cancel_order 1, goodbye 1",),
        {"labels": ["complaint", "greeting", "order_status", "cancel_order", "goodbye"],
         "label_counts": {"complaint": 4, "greeting": 2, "order_status": 2, "cancel_order": 1, "goodbye": 1}, "count": 10},
    ),
    "counts without colons, labels known": Case(
        ("complaint 8, greeting 3",), {"label_counts": {"greeting": 3, "order_status": 3, "cancel_order": 3, "complaint": 8, "goodbye": 3}},
        start=INTENTS_20,
    ),
    "I need -10": Case(("I need -10 examples",), {"count": None}, remarks=("intake_count_negative",)),
    "negative labels are labels": Case(("100 examples, labels: -1, 0, 1",), {"labels": ["-1", "0", "1"], "count": 100}),
    "-10 as a correction": Case(("make it -10",), {"count": 10}, start=SENTIMENT_10, remarks=("intake_count_negative",)),
    # --- issue 15, item 6: the whole label list ---------------------------------------------
    "60 labels": Case((f"600 examples, labels: {', '.join(SIXTY)}",), {"labels": SIXTY, "count": 600}),
    "60 labels, one per line": Case(("labels:\n" + "\n".join(SIXTY), "120"), {"labels": SIXTY, "count": 120}),
    "fewer rows than labels": Case(
        (f"10 examples, labels: {', '.join(SIXTY)}",), {"labels": SIXTY, "count": 10},
        spec_error="10 examples cannot cover 60 labels", asks="count",
    ),
    # --- issue 15, item 5: corrections and impossible orders ---------------------------------
    "3 classes, 15 rows": Case(
        ("actually make it 3 classes: positive, negative, neutral, 15 rows",),
        {"labels": ["positive", "negative", "neutral"], "count": 15}, start=SENTIMENT_10,
    ),
    "counts above the total": Case(
        ("4 examples: complaint 4, greeting 6",), {"count": 4}, spec_error="add up to 10, but the total is 4",
    ),
    "10 million refused": Case(("make it 10,000,000",), {"count": 10}, start=SENTIMENT_10, remarks=("intake_count_too_large",)),
    "10 million in a new order": Case(("10,000,000 reviews, positive or negative",), {"count": None}, remarks=("intake_count_too_large",)),
    "a 5,000-digit number": Case(("9" * 5000 + " examples",), {"count": 10}, start=SENTIMENT_10, remarks=("intake_count_too_large",)),
    # --- issue 15, item 8: questions and kinds it cannot make yet --------------------------
    "what can you do": Case(("what can you do?",), {"task": None}, intent=Intent.ask_capabilities),
    "how long": Case(("how long will this take?",), {"count": 10}, start=SENTIMENT_10, intent=Intent.ask_duration),
    # NER and translation pairs are row-model presets (issue 11): other kinds are still refused.
    "can you do POS tagging": Case(("can you do part-of-speech tagging?",), {"task": None, "labels": None},
                                   intent=Intent.unsupported, remarks=("intake_unsupported",)),
    "summaries order": Case(
        ("200 summaries of news articles, labels: short, long",),
        {"task": None, "labels": None}, intent=Intent.unsupported, remarks=("intake_unsupported",),
    ),
    "NER order": Case(
        ("200 sentences for named entity recognition, types PERSON, ORG and LOC",),
        {"task": TaskType.entities, "labels": None, "entity_types": ["PERSON", "ORG", "LOC"]},
    ),
    # --- odd input (issue 9, item 6) ----------------------------------------------------------
    "superscript two": Case(("²",), {"count": 10}, start=SENTIMENT_10, understood=False),  # not a number
    "circled one": Case(("① examples",), {"count": 10}, start=SENTIMENT_10, understood=False),
    "lone surrogate": Case(("200 examples \ud83d",), {"count": 200}, start=SENTIMENT_10),
    "arabic-indic digits": Case(("٣٠ examples",), {"count": 30}, start=SENTIMENT_10),
    # --- the README's and the seed's orders -------------------------------------------------
    "README order": Case(
        ("200 customer reviews of a restaurant, positive or negative, 70% positive, CSV",),
        {"label_counts": {"positive": 140, "negative": 60}, "format": OutputFormat.csv},
    ),
    "make it 500": Case(("make it 500",), {"count": 500, "label_counts": None}, start=SENTIMENT_10),
    "make it 500 keeps the balance": Case(
        ("make it 500",), {"label_counts": {"positive": 400, "negative": 100}},
        start=SENTIMENT_10.model_copy(update={"label_counts": {"positive": 8, "negative": 2}}),
    ),
    "add a neutral label": Case(("add a neutral label",), {"labels": ["positive", "negative", "neutral"]}, start=SENTIMENT_10),
    "in German": Case(("in German",), {"language": "German"}, start=SENTIMENT_10),
    "twice as many positive": Case(
        ("300 reviews, twice as many positive as negative",), {"label_counts": {"positive": 200, "negative": 100}},
    ),
    "50 per label": Case(("50 per label",), {"label_counts": {"positive": 50, "negative": 50}, "count": 100}, start=SENTIMENT_10),
    # --- more phrasings met while testing -----------------------------------------------------
    ", or other": Case(
        ("100 support tickets, categorized as billing, shipping, returns, or other",),
        {"labels": ["billing", "shipping", "returns", "other"], "count": 100},
    ),
    "split 60/40": Case(
        ("300 tweets about our new phone, split 60/40 positive/negative",), {"label_counts": {"positive": 180, "negative": 120}},
    ),
    "spam/ham 70/30": Case(("100 messages, spam/ham 70/30",), {"label_counts": {"spam": 70, "ham": 30}}),
    "pos/neg/neutral": Case(
        ("need like 2k reviews - hotel - pos/neg/neutral - equal split",), {"labels": ["positive", "negative", "neutral"], "count": 2000},
    ),
    "use casual tone": Case(("sentiment, 1000 movie reviews, use casual tone, export to json",), {"tone": "casual", "format": OutputFormat.json}),
    "no neutral": Case(("no neutral",), {"labels": ["positive", "negative"]}, start=SENTIMENT_10.model_copy(update={"labels": ["positive", "negative", "neutral"]})),
    "rename a label": Case(
        ("rename neutral to mixed",), {"labels": ["positive", "negative", "mixed"]},
        start=SENTIMENT_10.model_copy(update={"labels": ["positive", "negative", "neutral"]}),
    ),
    "double it": Case(("double it",), {"count": 20}, start=SENTIMENT_10),
    "half as many": Case(("half as many",), {"count": 5}, start=SENTIMENT_10),
    "English please": Case(("English please, and format csv",), {"language": "English", "format": OutputFormat.csv}),
    "in British English": Case(("in British English",), {"language": "English"}),
    "more X than Y": Case(("more negative than positive",), {"count": 10}, start=SENTIMENT_10, remarks=("intake_ask_balance",), favoured="negative"),
    "five hundred": Case(
        ("please create five hundred rows of customer feedback, positive/negative",), {"count": 500, "labels": ["positive", "negative"]},
    ),
    "labels without a colon": Case(("150 examples — labels a, b, c — 50 each",), {"labels": ["a", "b", "c"], "count": 150}),
    "sentiment, 3 classes": Case(("sentiment, 3 classes, 90 rows",), {"labels": ["positive", "negative", "neutral"], "count": 90}),
    "sentiment with neutral too": Case(
        ("250 short product reviews for headphones; sentiment with neutral too",), {"labels": ["positive", "negative", "neutral"]},
    ),
    "four options": Case(
        ("Generate 30 trivia questions about space with four options each",),
        {"task": TaskType.multiple_choice, "count": 30, "topic": "space"},
    ),
    "12 Q&A": Case(("12 Q&A about our return policy",), {"task": TaskType.qa, "count": 12, "topic": "our return policy"}),
    "3x bigger": Case(("make the dataset 3x bigger",), {"count": 30}, start=SENTIMENT_10),
    "what formats": Case(("what formats do you support?",), {"format": None}, intent=Intent.ask_capabilities),
    "a number alone between commas": Case(
        ("Reviews for a Polish restaurant, 100, positive/negative",), {"count": 100, "labels": ["positive", "negative"], "language": "English"},
    ),
    "200, half spam": Case(("200, half spam",), {"count": 200, "label_counts": {"spam": 100, "ham": 100}},
                           start=SpecDraft(task=CLS, labels=["spam", "ham"])),
    "label N as a, b, or c": Case(
        ("label 200 tweets as happy, sad, angry, or neutral",), {"labels": ["happy", "sad", "angry", "neutral"], "count": 200, "tone": None},
    ),
    "6 in English": Case(("6 in English",), {"count": 6, "language": "English"},
                         start=SENTIMENT_10.model_copy(update={"count": None, "language": None})),
    "6 in English, a documents order": Case(
        ("6 in English",), {"count": 6, "language": "English"},
        start=SpecDraft(task=TaskType.documents, labels=["factual", "reasoning", "unanswerable"])),
    "ok, 6 in English": Case(("ok, 6 in English",), {"count": 6, "language": "English"},
                             start=SENTIMENT_10.model_copy(update={"count": None, "language": None})),
    "labels with what they mean": Case(
        ("200 support tickets, labels: refund - wants money back, bug - something broken, other, in Polish, CSV",),
        {"labels": ["refund", "bug", "other"], "instructions": "refund: wants money back; bug: something broken",
         "count": 200, "language": "Polish", "format": OutputFormat.csv},
    ),
    "labels with what they mean in brackets": Case(
        ("100 tickets, labels: refund (wants money back), bug (something broken), other",),
        {"labels": ["refund", "bug", "other"], "instructions": "refund: wants money back; bug: something broken",
         "count": 100},
    ),
    "1 in 3 negative": Case(("300 reviews, 1 in 3 negative",),
                            {"count": 300, "label_counts": {"positive": 200, "negative": 100}}),
    "1 in 3 reviews negative, then the count": Case(
        ("1 in 3 reviews negative, 300 reviews",), {"count": 300, "label_counts": {"positive": 200, "negative": 100}},
    ),
    "300 as JSON": Case(("300 as JSON",), {"count": 300, "format": OutputFormat.json}, start=SENTIMENT_10),
    "2 in 10 is not a count": Case(("2 in 10",), {"count": 10}, start=SENTIMENT_10, understood=False),
    # --- read wrong before (the closing note of round 3) -------------------------------------
    "spam or ham as a list item": Case(("100 messages, spam or ham",),
                                       {"labels": ["spam", "ham"], "count": 100, "task": CLS}),
    "spam/ham first, count after": Case(("spam/ham, 100 messages",), {"labels": ["spam", "ham"], "count": 100}),
    "spam or not": Case(("50 emails, spam or not",), {"labels": ["spam", "not spam"], "count": 50}),
    "English or Polish is no label pair": Case(("100 reviews, English or Polish",), {"labels": None, "count": 100}),
    "short or long is no label pair": Case(("100 reviews, short or long",), {"labels": None, "count": 100}),
    "a bare label between described ones": Case(
        ("labels: refund - wants money back, bug, other - anything else",),
        {"labels": ["refund", "bug", "other"], "instructions": "refund: wants money back; other: anything else"},
    ),
    "two bare labels between described ones": Case(
        ("80 tickets, labels: refund - wants money back, bug, feature, other - anything else",),
        {"labels": ["refund", "bug", "feature", "other"], "count": 80},
    ),
    "a described list of words stays one description": Case(
        ("labels: spam - ads, scams, ham - normal mail",),
        {"labels": ["spam", "ham"], "instructions": "spam: ads, scams; ham: normal mail"},
    ),
    "3 in 10 examples is a share of no label yet": Case(
        ("3 in 10 examples",), {"count": 10, "label_counts": None}, start=SENTIMENT_10, remarks=("intake_ratio_which_label",),
    ),
    "3 in 10 examples in a new order": Case(
        ("100 emails, spam or ham, 3 in 10 examples",), {"count": 100, "labels": ["spam", "ham"], "label_counts": None},
        remarks=("intake_ratio_which_label",),
    ),
    "label, then 3 in 10 examples": Case(
        ("100 spam vs ham emails, spam 3 in 10 examples",), {"count": 100, "label_counts": {"spam": 30, "ham": 70}},
    ),
    "label in 3 of every 10": Case(
        ("100 emails, spam or ham, spam in 3 of every 10 examples",), {"label_counts": {"spam": 30, "ham": 70}},
    ),
    "a repeated label word starts the share": Case(
        ("50 reviews, positive or negative, negative in 3 in 10 examples",),
        {"labels": ["positive", "negative"], "label_counts": {"positive": 35, "negative": 15}},
    ),
    "two languages: the first part, and a remark": Case(
        ("50 in English and 50 in Polish",), {"count": 50, "language": "English"}, start=SENTIMENT_10,
        remarks=("intake_one_language",),
    ),
    "two languages as adjectives": Case(
        ("sentiment, 5 English and 5 Polish examples",),
        {"count": 5, "language": "English", "labels": ["positive", "negative"]}, remarks=("intake_one_language",),
    ),
    "one language twice is no split": Case(("5 in English, 5 in English",), {"count": 5, "language": "English"}),
    "pl: 5 po angielsku i 5 po polsku": Case(
        ("5 po angielsku i 5 po polsku",), {"count": 5, "language": "English"},
        start=SENTIMENT_10.model_copy(update={"count": None, "language": None}), remarks=("intake_one_language",),
    ),
    # --- more phrasings tried this round (support tickets, reviews, quizzes, NER, translation) -----------
    "labeled by urgency (low, medium, high)": Case(
        ("Can you make me a dataset of 500 customer complaints labeled by urgency (low, medium, high)?",),
        {"task": CLS, "labels": ["low", "medium", "high"], "count": 500},
    ),
    "sorted by priority: a, b, c, in German": Case(
        ("300 tickets sorted by priority: low, medium, high, in German",),
        {"labels": ["low", "medium", "high"], "count": 300, "language": "German"},
    ),
    "labeled greeting or complaint": Case(
        ("150 messy chat messages, half with typos and slang, labeled greeting or complaint",),
        {"labels": ["greeting", "complaint"], "count": 150},
    ),
    "1-5 stars": Case(("300 product reviews, 1-5 stars",), {"labels": ["1", "2", "3", "4", "5"], "count": 300}),
    "questions on a topic": Case(
        ("give me 20 multiple choice questions on Python basics",),
        {"task": TaskType.multiple_choice, "count": 20, "topic": "Python basics"},
    ),
    "entities listed in lower case": Case(
        ("I want 200 sentences with entities: product, price, date",),
        {"task": TaskType.entities, "entity_types": ["product", "price", "date"], "count": 200},
    ),
    "English-Polish translation pairs": Case(
        ("200 English-Polish translation pairs about travel",),
        {"task": TaskType.translation, "language": "English", "target_language": "Polish", "topic": "travel"},
    ),
    "their German translation": Case(
        ("50 pairs of sentences, English and their German translation",),
        {"task": TaskType.translation, "target_language": "German", "count": 50},
    ),
    "pl: etykiety, potem myślnik i po N na każdą": Case(
        ("potrzebuję danych do klasyfikacji intencji: powitanie, status zamówienia, anulowanie, reklamacja, pożegnanie"
         " — 40 na każdą",),
        {"labels": ["powitanie", "status zamówienia", "anulowanie", "reklamacja", "pożegnanie"], "count": 200,
         "instructions": None},
    ),
    "pl: etykieta z 'o' nie jest tematem": Case(
        ("zrób 100 zgłoszeń do supportu oznaczonych intencją: reklamacja, zwrot, pytanie o dostawę",),
        {"labels": ["reklamacja", "zwrot", "pytanie o dostawę"], "topic": ""},
    ),
    "pl: oznaczone według pilności": Case(
        ("200 zgłoszeń oznaczonych według pilności (niska, średnia, wysoka)",),
        {"labels": ["niska", "średnia", "wysoka"], "count": 200},
    ),
    "pl: pytania quizowe z historii": Case(
        ("pytania quizowe z historii Polski, 20 sztuk, 4 odpowiedzi",),
        {"task": TaskType.multiple_choice, "topic": "historii Polski", "count": 20},
    ),
    "pl: NER z typami małymi literami": Case(
        ("zdania do NER po polsku: osoby, miejsca, organizacje, 100 sztuk",),
        {"task": TaskType.entities, "entity_types": ["osoby", "miejsca", "organizacje"], "count": 100, "language": "Polish"},
    ),
    "pl: pary tłumaczeń angielski-polski": Case(
        ("pary tłumaczeń angielski-polski, 100 par, tematyka medyczna",),
        {"task": TaskType.translation, "language": "English", "target_language": "Polish", "count": 100, "topic": "medyczna"},
    ),
    "pl: ocena 1-5 gwiazdek": Case(("100 opinii, ocena 1-5 gwiazdek",), {"labels": ["1", "2", "3", "4", "5"], "count": 100}),
    "pl: hejt czy nie hejt": Case(("1000 tweetów, hejt czy nie hejt",), {"labels": ["hejt", "nie hejt"], "count": 1000}),
    "entity types split by slashes": Case(
        ("make me some NER data: 50 sentences, PERSON/ORG/LOC",),
        {"task": TaskType.entities, "entity_types": ["PERSON", "ORG", "LOC"], "count": 50},
    ),
    "the source named by its sentences": Case(
        ("Translate-style pairs: 100 Polish sentences with English translations",),
        {"task": TaskType.translation, "language": "Polish", "target_language": "English", "count": 100},
    ),
    "pl: prompty wyciągające hasło": Case(
        ("100 promptów, które próbują wyciągnąć hasło z bota, po polsku",),
        {"task": TaskType.red_team, "count": 100, "language": "Polish"},
    ),
    "pl: pytania wielokrotnego wyboru o temacie": Case(
        ("quiz: 10 pytań wielokrotnego wyboru o układzie słonecznym",),
        {"task": TaskType.multiple_choice, "count": 10, "topic": "układzie słonecznym"},
    ),
    "a label list closed by 'any topic'": Case(
        ("20 support messages, intents: greeting, complaint, goodbye, English, CSV, any topic",),
        {"labels": ["greeting", "complaint", "goodbye"], "topic": "", "language": "English"},
    ),
    "pl: lista etykiet zamknięta 'dowolny temat'": Case(
        ("30 wiadomości, etykiety: powitanie, reklamacja, pożegnanie, po polsku, dowolny temat",),
        {"labels": ["powitanie", "reklamacja", "pożegnanie"], "topic": ""},
    ),
    "mostly negative names the sentiment pair": Case(
        ("Hi! I'd like 250 product reviews for headphones, mostly negative, in Spanish",),
        {"task": CLS, "labels": ["positive", "negative"], "count": 250, "language": "Spanish"},
        remarks=("intake_ask_balance",), favoured="negative",
    ),
    "categories in brackets": Case(
        ("Need a dataset: customer emails, 4 categories (billing, technical, sales, other), 400 total, JSON",),
        {"labels": ["billing", "technical", "sales", "other"], "count": 400, "format": OutputFormat.json},
    ),
    "a tone word or not is a label pair": Case(
        ("200 tweets, 3 in 10 should be sarcastic, sarcastic or not",),
        {"labels": ["sarcastic", "not sarcastic"], "label_counts": {"sarcastic": 60, "not sarcastic": 140}, "tone": None},
    ),
    "pl: spam lub nie spam": Case(("100 wiadomości, spam lub nie spam",), {"labels": ["spam", "nie spam"], "count": 100}),
    "pl: etykieta bez opisu w środku": Case(
        ("etykiety: zwrot - chce pieniądze z powrotem, błąd, inne - cokolwiek innego",),
        {"labels": ["zwrot", "błąd", "inne"]},
    ),
    "pl: negatywne 3 na 10 przykładów": Case(
        ("100 recenzji, negatywne 3 na 10 przykładów",), {"label_counts": {"positive": 70, "negative": 30}},
    ),
    "pl: 3 na 10 przykładów bez etykiety": Case(
        ("100 recenzji, 3 na 10 przykładów",), {"count": 100, "label_counts": None}, remarks=("intake_ratio_which_label",),
    ),
    # --- Polish ------------------------------------------------------------------------------
    "pl: etykiety z opisem, ostatnia bez": Case(
        ("etykiety: zwrot - klient chce oddać towar, błąd - coś nie działa, inne",),
        {"labels": ["zwrot", "błąd", "inne"], "instructions": "zwrot: klient chce oddać towar; błąd: coś nie działa"},
    ),
    "pl: 1 na 3 negatywne": Case(("300 recenzji, 1 na 3 negatywne",),
                                 {"count": 300, "label_counts": {"positive": 200, "negative": 100}}),
    "pl: 6 po polsku": Case(("6 po polsku",), {"count": 6, "language": "Polish"},
                            start=SENTIMENT_10.model_copy(update={"count": None, "language": None})),
    "pl: 40 w języku niemieckim": Case(("40 w języku niemieckim",), {"count": 40, "language": "German"}, start=SENTIMENT_10),
    "pl: pytania z odpowiedziami": Case(("zrób 40 pytań z odpowiedziami o RODO",), {"task": TaskType.qa, "count": 40, "topic": "RODO"}),
    "pl: pięćset": Case(("wygeneruj pięćset przykładów sentymentu",), {"count": 500, "labels": ["positive", "negative"]}),
    "pl: głównie": Case(
        ("500 wiadomości, głównie reklamacje",), {"count": 500}, start=INTENTS_PL, remarks=("intake_ask_balance",), favoured="reklamacja",
    ),
    "pl: dwa razy więcej": Case(("dwa razy więcej pozytywnych niż negatywnych",), {"label_counts": {"positive": 60, "negative": 30}},
                                start=SENTIMENT_10.model_copy(update={"count": 90})),
    "pl: -5": Case(("zrób -5 przykładów",), {"count": None}, remarks=("intake_count_negative",)),
    "pl: milion": Case(("daj mi 1000000 zdań",), {"count": None}, remarks=("intake_count_too_large",)),
    "pl: na każdą etykietę": Case(
        ("10 przykładów na każdą etykietę",), {"label_counts": {"positive": 10, "negative": 10}, "count": 20}, start=SENTIMENT_10,
    ),
    "pl: więcej X niż Y": Case(
        ("więcej negatywnych niż pozytywnych",), {"count": 10}, start=SENTIMENT_10, remarks=("intake_ask_balance",), favoured="negative",
    ),
    "pl: dodaj etykietę": Case(("dodaj etykietę neutralną",), {"labels": ["positive", "negative", "neutral"]}, start=SENTIMENT_10),
    "pl: po niemiecku, JSON": Case(("po niemiecku, w formacie JSON",), {"language": "German", "format": OutputFormat.json}, start=SENTIMENT_10),
    "pl: 10 z nich": Case(("10 z nich",), {"count": 10}, start=SENTIMENT_10.model_copy(update={"count": None})),
    "pl: oznaczone intencją": Case(
        ("50 wiadomości oznaczonych intencją: powitanie, reklamacja, pożegnanie",),
        {"labels": ["powitanie", "reklamacja", "pożegnanie"], "count": 50},
    ),
    "pl: więcej reklamacji": Case(
        ("więcej reklamacji niż czegokolwiek innego",), {"count": 30}, start=INTENTS_PL,
        remarks=("intake_ask_balance",), favoured="reklamacja",
    ),
    "pl: ton": Case(("w tonie społeczności graczy",), {"tone": "społeczności graczy"}, start=SENTIMENT_10),
    "pl: JSON zamiast CSV": Case(("jako JSON zamiast CSV",), {"format": OutputFormat.json}, start=SENTIMENT_10),
    "pl: bez dwukropków": Case(
        ("reklamacja 4, powitanie 2, pożegnanie 4",), {"label_counts": {"reklamacja": 4, "powitanie": 2, "pożegnanie": 4}, "count": 10},
    ),
    "pl: -10": Case(("potrzebuję -10 przykładów",), {"count": None}, remarks=("intake_count_negative",)),
    "pl: 3 klasy, 15 wierszy": Case(
        ("właściwie zrób 3 klasy: pozytywna, negatywna, neutralna, 15 wierszy",),
        {"labels": ["positive", "negative", "neutral"], "count": 15}, start=SENTIMENT_10,
    ),
    "pl: 10 milionów": Case(("zrób 10 000 000",), {"count": 10}, start=SENTIMENT_10, remarks=("intake_count_too_large",)),
    "pl: co potrafisz": Case(("co potrafisz?",), {"task": None}, intent=Intent.ask_capabilities),
    "pl: ile to potrwa": Case(("ile to potrwa?",), {"count": 10}, start=SENTIMENT_10, intent=Intent.ask_duration),
    "pl: części mowy": Case(("czy umiesz oznaczać części mowy?",), {"task": None}, intent=Intent.unsupported,
                            remarks=("intake_unsupported",)),
    "pl: NER": Case(("czy umiesz zrobić NER?",), {"task": TaskType.entities}),
    "pl: cała lista": Case((f"etykiety: {', '.join(SIXTY)}", "600"), {"labels": SIXTY, "count": 600}),
    "pl: po polsku, 40/10": Case(
        ("wygeneruj 50 przykładów, 40 pozytywnych i 10 negatywnych, po polsku",),
        {"label_counts": {"positive": 40, "negative": 10}, "language": "Polish"},
    ),
}


@pytest.mark.parametrize(("text", "counts"), [
    ("40%", {"greeting": 3, "order_status": 3, "cancel_order": 3, "complaint": 8, "goodbye": 3}),
    ("2 in 5 examples", {"greeting": 3, "order_status": 3, "cancel_order": 3, "complaint": 8, "goodbye": 3}),
    ("8", {"greeting": 3, "order_status": 3, "cancel_order": 3, "complaint": 8, "goodbye": 3}),
])
def test_a_bare_number_answers_how_many_of_the_favoured_label(text: str, counts: dict[str, int]) -> None:
    """After "mostly complaints" the bot asks how many complaints: "8", "40%" or "2 in 5 examples" is
    said of complaints (before, "8" became the total and "2 in 5 examples" asked which label)."""
    interp = interpret(text, INTENTS_20, asking="favoured:complaint", max_count=10_000)
    assert apply(INTENTS_20, interp).label_counts == counts
    assert interpret("in German", INTENTS_20, asking="favoured:complaint").changes == {"language": "German"}


@pytest.mark.parametrize("name", list(CASES))
def test_phrasing(name: str) -> None:
    case = CASES[name]
    draft = (case.start or SpecDraft()).model_copy(deep=True)
    interp = None
    for message in case.messages:
        interp = interpret(message, draft, max_count=10_000)
        draft = apply(draft, interp)
    assert interp is not None
    for key, value in case.order.items():
        assert getattr(draft, key) == value, f"{key}: {getattr(draft, key)!r} (draft {draft!r})"
    assert [remark.key for remark in interp.remarks] == list(case.remarks)
    assert interp.intent == case.intent
    assert interp.favoured_label == case.favoured
    assert interp.is_empty() is not case.understood
    for remark in interp.remarks:  # every remark can be said in both languages
        assert remark.text("en") and remark.text("pl") and remark.text("en") != remark.text("pl")
    if case.spec_error:
        with pytest.raises(SpecError, match=case.spec_error):
            draft.to_spec(10_000)
    if case.asks:
        assert draft.missing()[:1] == [case.asks]  # the dialog asks the one question that fixes it


# --- after a preview: feedback, an order change, or ask (issue 15, item 4) -----------------------

AFTER_PREVIEW: list[tuple[str, AfterPreview]] = [
    ("complaints should sound angry about a late or broken order", AfterPreview.feedback),
    ("the positive ones are too similar", AfterPreview.feedback),
    ("make them shorter", AfterPreview.feedback),
    ("more realistic please, real customers don't write like that", AfterPreview.feedback),
    ("greetings should be casual, like texting a friend", AfterPreview.feedback),
    ("mention the delivery date in order_status messages", AfterPreview.feedback),
    ("avoid emojis", AfterPreview.feedback),
    ("make it 500", AfterPreview.order_change),
    ("add a neutral label", AfterPreview.order_change),
    ("remove goodbye", AfterPreview.order_change),
    ("in German", AfterPreview.order_change),
    ("as JSON", AfterPreview.order_change),
    ("as JSON instead of CSV", AfterPreview.order_change),
    ("tone: formal", AfterPreview.order_change),
    ("more formal", AfterPreview.order_change),
    ("change the topic to hotel bookings", AfterPreview.order_change),
    ("complaint 40, greeting 10", AfterPreview.order_change),
    ("make it 10,000,000", AfterPreview.order_change),  # refused, but meant as a change
    ("make it 500 and the complaints should sound angrier, like a real customer", AfterPreview.unsure),
    ("more complaints than anything else", AfterPreview.unsure),  # the dialog asks how many
    ("hmm", AfterPreview.unsure),
    # Polish
    ("reklamacje powinny brzmieć na wściekłe", AfterPreview.feedback),
    ("za długie zdania", AfterPreview.feedback),
    ("powitania są zbyt podobne do siebie", AfterPreview.feedback),
    ("zrób 500", AfterPreview.order_change),
    ("dodaj etykietę neutralną", AfterPreview.order_change),
    ("po niemiecku", AfterPreview.order_change),
    ("jako JSON", AfterPreview.order_change),
    ("bardziej formalnie", AfterPreview.order_change),
    ("zrób 500, a reklamacje niech brzmią bardziej realistycznie jak od prawdziwych klientów", AfterPreview.unsure),
]


@pytest.mark.parametrize(("text", "kind"), AFTER_PREVIEW, ids=[t for t, _ in AFTER_PREVIEW])
def test_after_preview(text: str, kind: AfterPreview) -> None:
    draft = INTENTS_20.model_copy(update={"labels": [*INTENT_LABELS]})
    if text.startswith(("reklamacje", "powitania", "zrób 500, a")):
        draft = INTENTS_PL
    assert classify_after_preview(text, draft, interpret(text, draft, max_count=10_000)) == kind
