"""Languages: the data language a message names, and the language the user writes in (en / pl)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.intake.text import MAX_RULES_CHARS, fold


@dataclass(frozen=True)
class _Language:
    name: str  # stored in the spec (English name)
    en: tuple[str, ...]  # English names, lower case
    pl_adverb: str  # "po polsku"
    pl_stem: str  # polski / polskim / polskie
    pl_name: str  # shown in Polish summaries


_LANGUAGES = [
    _Language("English", ("english",), "angielsku", "angielsk", "angielski"),
    _Language("Polish", ("polish",), "polsku", "polsk", "polski"),
    _Language("German", ("german",), "niemiecku", "niemieck", "niemiecki"),
    _Language("French", ("french",), "francusku", "francusk", "francuski"),
    _Language("Spanish", ("spanish",), "hiszpansku", "hiszpansk", "hiszpański"),
    _Language("Italian", ("italian",), "wlosku", "wlosk", "włoski"),
    _Language("Portuguese", ("portuguese",), "portugalsku", "portugalsk", "portugalski"),
    _Language("Dutch", ("dutch",), "niderlandzku", "niderlandzk", "niderlandzki"),
    _Language("Ukrainian", ("ukrainian",), "ukrainsku", "ukrainsk", "ukraiński"),
    _Language("Russian", ("russian",), "rosyjsku", "rosyjsk", "rosyjski"),
    _Language("Czech", ("czech",), "czesku", "czesk", "czeski"),
    _Language("Slovak", ("slovak",), "slowacku", "slowack", "słowacki"),
    _Language("Swedish", ("swedish",), "szwedzku", "szwedzk", "szwedzki"),
    _Language("Norwegian", ("norwegian",), "norwesku", "norwesk", "norweski"),
    _Language("Danish", ("danish",), "dunsku", "dunsk", "duński"),
    _Language("Finnish", ("finnish",), "finsku", "finsk", "fiński"),
    _Language("Japanese", ("japanese",), "japonsku", "japonsk", "japoński"),
    _Language("Chinese", ("chinese", "mandarin"), "chinsku", "chinsk", "chiński"),
    _Language("Korean", ("korean",), "koreansku", "koreansk", "koreański"),
    _Language("Turkish", ("turkish",), "turecku", "tureck", "turecki"),
    _Language("Greek", ("greek",), "grecku", "greck", "grecki"),
    _Language("Hungarian", ("hungarian",), "wegiersku", "wegiersk", "węgierski"),
    _Language("Romanian", ("romanian",), "rumunsku", "rumunsk", "rumuński"),
    _Language("Arabic", ("arabic",), "arabsku", "arabsk", "arabski"),
    _Language("Hebrew", ("hebrew",), "hebrajsku", "hebrajsk", "hebrajski"),
    _Language("Lithuanian", ("lithuanian",), "litewsku", "litewsk", "litewski"),
    _Language("Vietnamese", ("vietnamese",), "wietnamsku", "wietnamsk", "wietnamski"),
    _Language("Hindi", ("hindi",), "hindi", "hindi", "hindi"),
]
LANGUAGE_BY_NAME = {lang.name: lang for lang in _LANGUAGES}
_LANG_BY_WORD: dict[str, _Language] = {}
for _lang in _LANGUAGES:
    for _word in _lang.en:
        _LANG_BY_WORD[_word] = _lang
    _LANG_BY_WORD[_lang.pl_adverb] = _lang
    _LANG_BY_WORD[_lang.pl_stem] = _lang
    _LANG_BY_WORD[_lang.name.lower()] = _lang
EN_LANGUAGE_RE = "|".join(sorted(_LANG_BY_WORD.keys() - {lang.pl_adverb for lang in _LANGUAGES}
                              - {lang.pl_stem for lang in _LANGUAGES}, key=len, reverse=True))
PL_ADVERB_RE = "|".join(sorted({lang.pl_adverb for lang in _LANGUAGES}, key=len, reverse=True))
PL_STEM_RE = "|".join(sorted({lang.pl_stem for lang in _LANGUAGES}, key=len, reverse=True))


def language_name(word: str) -> str | None:
    """'german' / 'niemiecki' / 'po niemiecku' / 'Deutsch'-less: the English name, or None."""
    w = fold(word).strip().removeprefix("po ").strip()
    if w in _LANG_BY_WORD:
        return _LANG_BY_WORD[w].name
    for lang in _LANGUAGES:
        if w.startswith(lang.pl_stem) and len(w) <= len(lang.pl_stem) + 3:
            return lang.name
    return None


def language_in(name: str, lang: str) -> str:
    """An order's language (its English name, as the spec stores it) named in the conversation's
    language: ("Polish", "pl") -> "polski"; a language outside the bot's list stays as written."""
    known = LANGUAGE_BY_NAME.get(name)
    return known.pl_name if known is not None and lang == "pl" else name


# --- detect the user's language ---------------------------------------------------------------

_PL_CHARS = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
_PL_WORDS = {
    "sie", "ze", "jest", "nie", "tak", "czy", "dla", "jak", "albo", "lub", "oraz", "wygeneruj", "zrob", "prosze",
    "chce", "potrzebuje", "polsku", "angielsku", "niemiecku", "etykiety", "etykieta", "ile", "tylko", "bardziej",
    "mniej", "niech", "bedzie", "dodaj", "usun", "zmien", "jeszcze", "moze", "tez", "juz", "bez", "temat",
    "dziekuje", "dzieki", "czesc", "witam", "dzien", "dobry", "pytania", "odpowiedzi", "jezyk", "jezyku",
    "zrobmy", "daj", "anuluj", "dalej", "gotowe", "jasne", "zgoda", "pomin", "dowolny", "dowolna", "formalnie",
    "sto", "tysiac", "przyklady", "przykladow", "zdan", "pytan", "recenzji", "opinii", "wiadomosci", "tekstow",
    "pozytywnych", "negatywnych", "pozytywne", "negatywne", "neutralne", "okej", "dobrze", "pewnie", "na", "temat",
    "formalny", "formalne", "swobodny", "swobodnie", "luzny", "luzno", "sarkastyczny", "przyjazny", "polski",
    "angielski", "niemiecki", "hiszpanski", "francuski", "pomin", "wlasne", "wlasny", "quizowe", "pytanie",
    "wiecej", "krotsze", "dluzsze", "niz", "ktore", "ktory", "jako", "wszystkie", "kazdy", "kazdej",
}
# Bounded repeats: unbounded nested ones go quadratic on one 20,000-letter "word".
_PL_WORD_SHAPE = re.compile(
    r"\b[a-z]{2,20}(?:rz|sz|cz|dz)[a-z]{0,12}(?:y|ych|ie|ego|ej|emu)\b|\b[a-z]{3,20}(?:ych|ami|owie|acja|acji|osci|nego|nej|owy|owa|owe)\b"
)
_EN_AMBIGUOUS = {"ok", "okay", "csv", "json", "jsonl", "k", "go", "hi", "yes", "no", "qa"}


def detect_language(text: str) -> str:
    """'pl' if the text looks Polish (diacritics or common Polish words), else 'en'."""
    return "pl" if looks_polish(text) else "en"


def looks_polish(text: str) -> bool:
    sample = text[:MAX_RULES_CHARS]
    if any(ch in _PL_CHARS for ch in sample):
        return True
    folded = fold(sample)
    words = re.findall(r"[a-z]+", folded)
    if any(word in _PL_WORDS for word in words):
        return True
    return bool(_PL_WORD_SHAPE.search(folded))


def language_signal(text: str) -> bool:
    """Whether the text says anything about its language (an emoji, '200' or 'ok' do not)."""
    if looks_polish(text):
        return True
    words = re.findall(r"[a-z]{3,}", text[:MAX_RULES_CHARS].lower())
    return any(word not in _EN_AMBIGUOUS for word in words)


