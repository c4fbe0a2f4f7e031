"""What the bot asks and says while the order is being collected: the questions, the order's summary,
what is wrong with an order, the cost estimate, and the labels of the order's buttons.

English and Polish; merged into core.messages.TEXTS (apart only to keep each file readable).
"""

from __future__ import annotations

ORDER_TEXTS: dict[str, dict[str, str]] = {
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
    # --- trust: variety, cost estimate ----------------------------------------------------
    "variety_line": {
        "en": "{level} variety: {percent}% of 2-word phrases unique",
        "pl": "{level} różnorodność: {percent}% dwuwyrazowych fraz się nie powtarza",
    },
    "variety_high": {"en": "high", "pl": "wysoka"},
    "variety_medium": {"en": "medium", "pl": "średnia"},
    "variety_low": {"en": "low", "pl": "niska"},
    "estimate_order": {
        "en": "The whole order ({rows} rows): {estimate}.",
        "pl": "Całe zamówienie ({rows} wierszy): {estimate}.",
    },
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
    # --- intake (core/intake): the order's summary, what is wrong with an order, what a message asks -------
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
    "intake_one_language": {
        "en": "One dataset is in one language, so I can't mix languages in one file. I took the first part, "
        "“{first}”. When its file is delivered, write “{next}” and I'll make the next part with the same settings.",
        "pl": "Jeden zbiór jest w jednym języku, więc nie wymieszam języków w jednym pliku. Biorę pierwszą część: "
        "„{first}”. Gdy dostaniesz jej plik, napisz „{next}”, a zrobię następną część z tymi samymi ustawieniami.",
    },
    "intake_ratio_which_label": {
        "en": "“{part} in {whole}” of which label? Say it with the label, for example “spam {part} in {whole}” "
        "(the other labels share the rest equally).",
        "pl": "„{part} na {whole}” której etykiety? Napisz to razem z etykietą, na przykład „spam {part} na {whole}” "
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
}
