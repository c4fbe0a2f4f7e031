"""The dataset card's wording, in English and Polish (merged into core.messages.TEXTS; apart only
to keep messages.py readable). Written for the person who ordered the data: no internal words."""

from __future__ import annotations

CARD_TEXTS: dict[str, dict[str, str]] = {
    "card_title": {"en": "Dataset card: {title}", "pl": "Karta zbioru danych: {title}"},
    "card_file": {"en": "File: `{name}`", "pl": "Plik: `{name}`"},
    "card_task": {"en": "Task", "pl": "Zadanie"},
    "card_task_classification": {"en": "sorting texts into labels", "pl": "przypisywanie tekstom etykiet"},
    "card_task_multiple_choice": {"en": "multiple-choice quiz questions", "pl": "pytania testowe z 4 odpowiedziami"},
    "card_task_qa": {"en": "questions with answers", "pl": "pytania z odpowiedziami"},
    "card_task_documents": {"en": "questions from your documents", "pl": "pytania z Twoich dokumentów"},
    "card_language": {"en": "Language", "pl": "Język"},
    "card_model": {"en": "Model", "pl": "Model"},
    "card_status": {"en": "Status", "pl": "Stan"},
    "card_status_done": {"en": "done", "pl": "gotowe"},
    "card_status_failed": {"en": "failed", "pl": "nieudane"},
    "card_status_cancelled": {"en": "cancelled", "pl": "przerwane"},
    "card_generated": {"en": "Generated", "pl": "Wygenerowano"},
    "card_exported": {"en": "Exported", "pl": "Wyeksportowano"},
    "card_rows": {"en": "Rows", "pl": "Wiersze"},
    "card_rows_split": {"en": "{synthetic} synthetic, {uploaded} uploaded", "pl": "{synthetic} syntetycznych, {uploaded} Twoich"},
    "card_per_label": {"en": "Rows per label", "pl": "Wiersze na etykietę"},
    "card_label_header": {"en": "| Label | Ordered | Synthetic rows |", "pl": "| Etykieta | Zamówiono | Wiersze syntetyczne |"},
    "card_uploaded_header": {"en": " Uploaded rows |", "pl": " Twoje wiersze |"},
    "card_answers": {"en": "Correct answers per letter", "pl": "Poprawne odpowiedzi według litery"},
    "card_answers_header": {"en": "| Answer | Rows |", "pl": "| Odpowiedź | Wiersze |"},
    "card_quality": {"en": "Quality", "pl": "Jakość"},
    "card_duplicates": {"en": "Duplicates removed: {n}", "pl": "Usunięte duplikaty: {n}"},
    "card_rejected": {"en": "Rows rejected, by reason:", "pl": "Odrzucone wiersze, według powodu:"},
    "card_reason_header": {"en": "| Reason | Rows |", "pl": "| Powód | Wiersze |"},
    "card_rejected_none": {"en": "Rows rejected: none", "pl": "Odrzucone wiersze: brak"},
    "card_cost": {"en": "Cost", "pl": "Koszt"},
    "card_requests": {"en": "Requests: {n}", "pl": "Zapytania do modelu: {n}"},
    "card_tokens": {"en": "Tokens: {total} (prompt {prompt}, completion {completion})",
                    "pl": "Tokeny: {total} (polecenia {prompt}, odpowiedzi {completion})"},
    "card_time": {"en": "Generation time: {time}", "pl": "Czas generowania: {time}"},
    "card_spec": {"en": "Spec", "pl": "Specyfikacja"},
    "card_spec_hint": {
        "en": "Save this as a `.yaml` file to order the same dataset again: `datagen generate spec.yaml -o {output}`.",
        "pl": "Zapisz to jako plik `.yaml`, by zamówić ten sam zbiór ponownie: `datagen generate spec.yaml -o {output}` "
        "(nazwy pól i wartości zostają po angielsku, bo czyta je program; komentarze # mówią, co znaczą).",
    },
    # Comment lines above the spec file's keys (core/card_spec.py): the keys stay English, the command reads them.
    "spec_key_task": {"en": "task", "pl": "rodzaj zadania"},
    "spec_key_topic": {"en": "topic", "pl": "temat"},
    "spec_key_labels": {"en": "labels", "pl": "etykiety"},
    "spec_key_label_counts": {"en": "rows per label", "pl": "liczba wierszy na etykietę"},
    "spec_key_count": {"en": "number of rows", "pl": "liczba wierszy"},
    "spec_key_language": {"en": "language of the data: {language}", "pl": "język danych: {language}"},
    "spec_key_tone": {"en": "tone", "pl": "ton"},
    "spec_key_format": {"en": "file format", "pl": "format pliku"},
    "spec_key_instructions": {"en": "extra instructions", "pl": "dodatkowe wskazówki"},
    "spec_key_columns": {"en": "the dataset's columns", "pl": "kolumny zbioru"},
    "spec_key_entity_types": {"en": "entity types", "pl": "typy encji"},
    "spec_key_empty_share": {"en": "largest share of rows without entities",
                             "pl": "największy udział wierszy bez encji"},
    "spec_key_target_language": {"en": "language of the translations", "pl": "język tłumaczeń"},
    "spec_key_noise_share": {"en": "share of messy rows", "pl": "udział wierszy z błędami"},
    "card_spec_hint_documents": {
        "en": "Save this as a `.yaml` file to order the same questions again from the same documents: "
        "`datagen generate spec.yaml --documents FOLDER -o {output}`.",
        "pl": "Zapisz to jako plik `.yaml`, by zamówić te same pytania ponownie z tych samych dokumentów: "
        "`datagen generate spec.yaml --documents FOLDER -o {output}` (nazwy pól i wartości zostają po angielsku, bo "
        "czyta je program; komentarze # mówią, co znaczą).",
    },
    "card_uploaded_note": {
        "en": "Rows marked `source: uploaded` came from the user's file; the others were written by the model.",
        "pl": "Wiersze oznaczone `source: uploaded` pochodzą z Twojego pliku; pozostałe napisał model.",
    },
    "card_embedded_warning": {
        "en": "**Warning: made with the small embedded model.** Its rows are often unusable: in the wrong "
        "language, repeated, garbled or wrongly labeled. Check them before use. For usable data, set "
        "OPENAI_API_KEY (and OPENAI_BASE_URL for any OpenAI-compatible server) and order again.",
        "pl": "**Uwaga: zrobione małym wbudowanym modelem.** Jego wiersze często się nie nadają: są w złym "
        "języku, powtarzają się, są zniekształcone albo źle oznaczone. Sprawdź je przed użyciem. Dla "
        "użytecznych danych ustaw OPENAI_API_KEY (oraz OPENAI_BASE_URL dla dowolnego serwera zgodnego z OpenAI) "
        "i zamów ponownie.",
    },
    "card_cost_usd": {"en": "Cost: {cost} at list prices", "pl": "Koszt: {cost} według cennika"},
    "card_cost_unknown": {"en": "Cost: unknown (no price for {model}; DATAGEN_PRICES can add one)",
                          "pl": "Koszt: nieznany (brak ceny dla {model}; można ją dodać w DATAGEN_PRICES)"},
    "card_model_verified": {"en": "labels verified by {judge}", "pl": "etykiety sprawdził {judge}"},
    "card_this_model": {"en": "this model", "pl": "tego modelu"},
    "card_language_unchecked": {
        "en": "Language check: not done for {language} orders (English, or a language the detector does not know).",
        "pl": "Sprawdzanie języka: niewykonane, bo język zamówienia ({language}) to angielski albo język, którego "
        "detektor nie zna.",
    },
    # Label verification (core/verify.py)
    "card_verification": {"en": "Label verification", "pl": "Sprawdzenie etykiet"},
    "card_verification_label": {
        "en": "Every row was shown to {judge} without its label; rows it labeled differently were rejected and replaced.",
        "pl": "Każdy wiersz pokazano modelowi {judge} bez jego etykiety; wiersze, którym nadał inną etykietę, "
        "odrzucono i zastąpiono nowymi.",
    },
    "card_verification_answer": {
        "en": "Every row was shown to {judge} without its answer; rows it answered differently were rejected and replaced.",
        "pl": "Każde pytanie pokazano modelowi {judge} bez poprawnej odpowiedzi; pytania, na które odpowiedział "
        "inaczej, odrzucono i zastąpiono nowymi.",
    },
    "card_verification_column": {
        "en": "Every row was shown to {judge} without its {column}; rows it classified differently were rejected "
        "and replaced.",
        "pl": "Każdy wiersz pokazano modelowi {judge} bez wartości kolumny {column}; wiersze, którym przypisał inną, "
        "odrzucono i zastąpiono nowymi.",
    },
    "card_agreement_label_header": {"en": "| Label | Agreement |", "pl": "| Etykieta | Zgodność |"},
    "card_agreement_questions_header": {"en": "| Questions | Agreement |", "pl": "| Pytania | Zgodność |"},
    "card_all": {"en": "all", "pl": "wszystkie"},
    # Variety (core/variety.py)
    "card_variety": {"en": "Variety", "pl": "Różnorodność"},
    "card_distinct": {"en": "Distinct n-grams: {shares}", "pl": "Niepowtarzalne n-gramy: {shares}"},
    "card_distinct_n": {"en": "{n}-word {share}", "pl": "{n}-wyrazowe {share}"},
    "card_variety_duplicates": {"en": "Removed as duplicates: {exact} exact, {near} near",
                                "pl": "Usunięte jako duplikaty: {exact} dokładnych, {near} prawie takich samych"},
    "card_similarity": {
        "en": "Similarity to the closest other row (0 = nothing shared, 1 = same): median {median}, "
        "90th percentile {p90}",
        "pl": "Podobieństwo do najbliższego innego wiersza (0 = nic wspólnego, 1 = to samo): mediana {median}, "
        "90. percentyl {p90}",
    },
    "card_language_share": {"en": "Written in the ordered language: {share} of the rows checked",
                            "pl": "Napisane w zamówionym języku: {share} sprawdzonych wierszy"},
    "card_lengths_header": {"en": "| Label | Rows | Shortest | Median | 90th pct | Longest |",
                            "pl": "| Etykieta | Wiersze | Najkrótszy | Mediana | 90. percentyl | Najdłuższy |"},
    "card_lengths_note": {"en": "Lengths are in characters.", "pl": "Długości w znakach."},
    # The row model's per-column figures (core/rows/card.py)
    "card_rows_per_column": {"en": "Rows per {column}", "pl": "Wiersze według kolumny {column}"},
    "card_column_ordered_header": {"en": "| {column} | Ordered | Rows |", "pl": "| {column} | Zamówiono | Wiersze |"},
    "card_column_rows_header": {"en": "| {column} | Rows |", "pl": "| {column} | Wiersze |"},
    "card_spans_per_type": {"en": "{column} per type", "pl": "{column} według typu"},
    "card_spans_header": {"en": "| Type | Spans | Rows with it |", "pl": "| Typ | Fragmenty | Wiersze z nim |"},
    "card_spans_none": {"en": "Rows without any {column}: {empty} of {total}",
                        "pl": "Wiersze bez żadnego {column}: {empty} z {total}"},
    "card_columns": {"en": "Columns", "pl": "Kolumny"},
    "card_columns_header": {"en": "| Column | Type | Figures |", "pl": "| Kolumna | Typ | Liczby |"},
    "card_numbers": {"en": "min {low}, mean {mean}, max {high}", "pl": "min {low}, średnia {mean}, maks {high}"},
    "card_booleans": {"en": "true {yes}, false {no}", "pl": "prawda {yes}, fałsz {no}"},
    "card_text_lengths": {"en": "{low}-{high} characters, mean {mean}", "pl": "{low}-{high} znaków, średnio {mean}"},
    # Questions from documents (core/documents/card.py)
    "card_documents": {"en": "Questions per document", "pl": "Pytania według dokumentu"},
    "card_documents_header": {"en": "| Document | Share of the text | Passages | Questions |",
                              "pl": "| Dokument | Udział w tekście | Fragmenty | Pytania |"},
    "card_documents_note": {"en": "Passages are chosen across all the text in proportion to its length; a reasoning "
                                  "question over two documents counts for both.",
                            "pl": "Fragmenty są wybierane z całego tekstu proporcjonalnie do jego długości; pytanie "
                                  "wymagające wnioskowania z dwóch dokumentów liczy się dla obu."},
    "card_grounding": {"en": "Grounding check", "pl": "Sprawdzenie zgodności z dokumentami"},
    "card_grounding_on": {"en": "Every row was shown to a judge with its passages: factual and reasoning answers had "
                                "to be supported by them, unanswerable questions had to be unanswerable from them. "
                                "Rows that failed were rejected and replaced.",
                          "pl": "Każdy wiersz oceniał drugi model razem z jego fragmentami: odpowiedzi faktograficzne "
                                "i wymagające wnioskowania musiały z nich wynikać, a na pytania bez odpowiedzi nie "
                                "mogło się dać z nich odpowiedzieć. Wiersze, które nie przeszły, odrzucono i "
                                "zastąpiono nowymi."},
    "card_grounding_unsupported": {"en": "Unsupported answers rejected: {n}",
                                   "pl": "Odrzucone odpowiedzi bez oparcia w tekście: {n}"},
    "card_grounding_answerable": {"en": "'Unanswerable' questions the passages answer, rejected: {n}",
                                  "pl": "Odrzucone pytania „bez odpowiedzi”, na które fragmenty odpowiadają: {n}"},
    "card_grounding_off": {"en": "Off for this job (DATAGEN_VERIFY, or the embedded model): answers were not checked "
                                 "against their passages.",
                           "pl": "Wyłączone dla tego zadania (DATAGEN_VERIFY albo wbudowany model): odpowiedzi nie "
                                 "były sprawdzane z fragmentami."},
    # Why rows were thrown away (the engine's reason codes), in words a product manager understands.
    "reason_duplicate": {"en": "duplicate (an exact copy of another row)", "pl": "duplikat (dokładna kopia innego wiersza)"},
    "reason_near-duplicate": {"en": "near-duplicate (almost the same as another row)",
                              "pl": "prawie duplikat (niemal taki sam jak inny wiersz)"},
    "reason_bad label": {"en": "bad label (a label that is not in the order)", "pl": "etykieta spoza zamówienia"},
    "reason_over quota": {"en": "not needed (a good row that came after its label already had enough)",
                          "pl": "niepotrzebny (dobry wiersz, który przyszedł, gdy etykieta miała już dość)"},
    "reason_over quota (no entities)": {"en": "not needed (a good row without entities, after their share was full)",
                                        "pl": "niepotrzebny (dobry wiersz bez encji, gdy ich udział był już pełny)"},
    "reason_label as text": {"en": "the text was only the label's name", "pl": "tekst był tylko nazwą etykiety"},
    "reason_not text": {"en": "not a sentence (only numbers or symbols)", "pl": "nie zdanie (same liczby lub znaki)"},
    "reason_malformed output": {"en": "the model's answer could not be read", "pl": "nie dało się odczytać odpowiedzi modelu"},
    "reason_too short": {"en": "too short", "pl": "za krótki"},
    "reason_too long": {"en": "too long", "pl": "za długi"},
    "reason_missing field": {"en": "a part of the row was missing", "pl": "brakowało części wiersza"},
    "reason_empty": {"en": "empty", "pl": "pusty"},
    "reason_options not distinct": {"en": "two answer options were the same", "pl": "dwie odpowiedzi były takie same"},
    "reason_bad answer": {"en": "the correct answer was not a, b, c or d", "pl": "poprawna odpowiedź nie była a, b, c ani d"},
    "reason_label disagreement": {"en": "label disagreement (a second look without the label gave another one)",
                                  "pl": "niezgodna etykieta (druga ocena bez etykiety dała inną)"},
    "reason_not verified": {"en": "could not be checked (the checking model gave no usable answer)",
                            "pl": "nie dało się sprawdzić (model sprawdzający nie odpowiedział sensownie)"},
}
