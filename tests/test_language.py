"""Rows not written in the ordered language are rejected ("wrong language") and replaced:
core.language on its own, through core.quality.validate_row, and through the engine against the
fake OpenAI-compatible server answering a share of a Polish order in English."""

from __future__ import annotations

import itertools
import json
import random
import re
from collections import Counter
from typing import Any

from sqlmodel import Session, select

from core.language import is_checked, language_share, languages_of, wrong_language
from core.quality import validate_row
from core.settings import Settings
from core.spec import DatasetSpec, TaskType
from storage.models import Example
from storage.store import Store
from tests.engine_support import run_job
from tests.fakes.openai_server import FakeOpenAI

PL_SUBJECTS = ["Kurier", "Sprzedawca", "Obsługa klienta", "Mój sąsiad", "Ten sklep", "Nasza restauracja",
               "Hotel przy dworcu", "Aplikacja banku"]
PL_VERBS = ["naprawdę mnie zaskoczył", "znowu spóźnił się z dostawą", "odpowiedział bardzo szybko",
            "nie odebrał telefonu przez cały dzień", "przygotował wszystko starannie", "zgubił moją paczkę"]
PL_ENDINGS = ["w zeszły piątek.", "podczas świąt.", "mimo złej pogody.", "bez żadnego wyjaśnienia.",
              "i jestem z tego powodu zadowolona.", "więc napiszę skargę."]
EN_SUBJECTS = ["The courier", "The seller", "Customer support", "My neighbour", "This shop", "Our restaurant",
               "The hotel by the station", "The banking app"]
EN_VERBS = ["really surprised me", "was late with the delivery again", "answered very quickly",
            "did not pick up the phone all day", "prepared everything with care", "lost my parcel"]
EN_ENDINGS = ["last Friday.", "during the holidays.", "despite the bad weather.", "without any explanation.",
              "and I am happy about it.", "so I will write a complaint."]


def sentences(subjects: list[str], verbs: list[str], endings: list[str], seed: int) -> list[str]:
    combos = [" ".join(parts) for parts in itertools.product(subjects, verbs, endings)]
    random.Random(seed).shuffle(combos)
    return combos


POLISH = sentences(PL_SUBJECTS, PL_VERBS, PL_ENDINGS, 1)
ENGLISH = sentences(EN_SUBJECTS, EN_VERBS, EN_ENDINGS, 2)


# --- the detector and its rules -------------------------------------------------------------


def test_clear_english_in_a_polish_order_is_wrong_and_polish_is_right() -> None:
    assert all(wrong_language(text, "Polish") for text in ENGLISH[:40])
    assert not any(wrong_language(text, "Polish") for text in POLISH[:40])
    assert language_share(POLISH[:30] + ENGLISH[:10], "Polish") == 0.75


def test_short_rows_are_never_rejected() -> None:
    for text in ["OK", "Super!", "Thank you", "Great product", "iPhone 15 Pro"]:
        assert not wrong_language(text, "Polish"), text
    assert wrong_language("Thank you so much for everything", "Polish")  # three words and more: checked


def test_english_and_unknown_languages_are_not_checked() -> None:
    assert not is_checked("English") and not is_checked("Klingon") and not is_checked("")
    assert not wrong_language("Dziękuję bardzo za szybką dostawę paczki", "English")
    assert not wrong_language("The courier was late with the delivery again", "Klingon")
    assert language_share(["anything at all"], "English") is None


def test_language_names_map_to_the_detector() -> None:
    assert [lang.name for lang in languages_of("Polish")] == ["POLISH"]
    assert [lang.name for lang in languages_of("polish (formal)")] == ["POLISH"]
    assert {lang.name for lang in languages_of("Norwegian")} == {"BOKMAL", "NYNORSK"}
    assert wrong_language("The courier was late with the delivery again", "German")
    assert not wrong_language("Der Kurier war wieder zu spät mit der Lieferung", "German")


def test_validate_row_gives_the_reason() -> None:
    clean, reason = validate_row(TaskType.classification, {"text": ENGLISH[0], "label": "positive"},
                                 ["positive", "negative"], language="Polish")
    assert clean is None and reason == "wrong language"
    clean, reason = validate_row(TaskType.qa, {"question": "Where is my parcel right now?", "answer": "Tak"}, [],
                                 language="Polish")
    assert reason == "wrong language"
    clean, reason = validate_row(TaskType.classification, {"text": POLISH[0], "label": "positive"},
                                 ["positive", "negative"], language="Polish")
    assert reason is None and clean == {"text": POLISH[0], "label": "positive"}
    # Without a language nothing is checked (the old behaviour, and DATAGEN_LANGUAGE_CHECK=off).
    assert validate_row(TaskType.classification, {"text": ENGLISH[0], "label": "positive"},
                        ["positive", "negative"])[1] is None


# --- through the engine ------------------------------------------------------------------------


class EveryFourthInEnglish:
    """Answers generation requests with real Polish rows, every fourth one in English instead."""

    def __init__(self) -> None:
        self.polish, self.english = iter(POLISH), iter(ENGLISH)
        self.sent = 0
        self.english_sent: list[str] = []

    def __call__(self, body: dict[str, Any]) -> dict[str, Any] | None:
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        count = re.search(r"Produce exactly (\d+)", prompt)
        label = re.search(r'the label "([^"]*)"', prompt)
        if count is None or label is None:
            return None
        rows = []
        for _ in range(int(count.group(1))):
            self.sent += 1
            if self.sent % 4 == 0:
                text = next(self.english)
                self.english_sent.append(text)
            else:
                text = next(self.polish)
            rows.append({"text": text, "label": label.group(1)})
        return {"examples": rows}


ORDER = {"task": "classification", "topic": "customer reviews", "labels": ["positive", "negative"],
         "label_counts": {"positive": 12, "negative": 8}, "language": "Polish"}


async def run_order(settings: Settings) -> tuple[Store, int, dict[str, int]]:
    spec = DatasetSpec.from_data(ORDER)
    store = Store.from_url(settings.database_url)
    result = await run_job(settings, store, spec)
    assert result.status == "done", result.error
    return store, result.job_id, result.rejected


async def test_english_rows_of_a_polish_order_are_rejected_and_replaced(settings: Settings, fake_llm: FakeOpenAI) -> None:
    script = EveryFourthInEnglish()
    fake_llm.responders.append(script)
    store, job_id, rejected = await run_order(settings.model_copy(update={"language_check": True}))
    rows = store.accepted_rows(job_id)
    assert Counter(row.label for row in rows) == {"positive": 12, "negative": 8}
    assert not {row.fields["text"] for row in rows} & set(script.english_sent)
    assert all(row.fields["text"] in POLISH for row in rows)
    # Every English row the engine judged was rejected for its language, and nothing else was.
    # (Answers still in flight when the last quota fills are never judged: count stored rows.)
    with Session(store.engine) as session:
        judged = session.exec(select(Example).where(Example.job_id == job_id)).all()
    english = set(script.english_sent)
    english_judged = [e for e in judged if json.loads(e.fields_json).get("text") in english]
    assert len(english_judged) >= 5
    assert all(e.reason == "wrong language" for e in english_judged)
    assert rejected.get("wrong language") == len(english_judged)
    assert sum(1 for e in judged if e.reason == "wrong language") == len(english_judged)


async def test_with_the_check_off_the_english_rows_get_through(settings: Settings, fake_llm: FakeOpenAI) -> None:
    script = EveryFourthInEnglish()
    fake_llm.responders.append(script)
    store, job_id, rejected = await run_order(settings)  # the fixture turns the check off
    texts = {row.fields["text"] for row in store.accepted_rows(job_id)}
    assert len(texts & set(script.english_sent)) >= 4  # of the 20 rows, every 4th written was English
    assert "wrong language" not in rejected


def test_prepare_from_several_threads_keeps_one_detector_per_language() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from core import language

    from lingua import Language

    czech = (frozenset((*languages_of("Czech"), Language.ENGLISH)), True)  # the cache's key: the languages, preloaded
    language._detectors.pop(czech, None)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: language.prepare("Czech"), range(4)))
    detector = language._detectors[czech]
    language.prepare("Czech")
    assert language._detectors[czech] is detector
    assert len(language._detectors) <= language.MAX_DETECTORS
