"""Finders for the other fields: total count, task, data language, format, tone, topic, instructions."""

from __future__ import annotations

import re

from core.intake.labels import COUNT_NOUNS, KNOWN_LABEL_RE, SENTIMENT_LABELS, TOXICITY_LABELS
from core.intake.languages import EN_LANGUAGE_RE, PL_ADVERB_RE, PL_STEM_RE, language_name
from core.intake.numbers import NUM, parse_number
from core.intake.text import fold, mask
from core.spec import OutputFormat, TaskType

# --- task hints ------------------------------------------------------------------------------

_MULTIPLE_CHOICE_RE = re.compile(
    r"multiple[- ]?choice|\bquiz\w*|\bmcq|\babcd\b|wielokrotnego wyboru|jednokrotnego wyboru|"
    r"pytani\w* (?:testow\w*|quizow\w*|zamkniet\w*)|testow\w* pytan\w*|\b(?:4|four|cztery) (?:options|answer options|choices|odpowiedzi|warianty)"
)
_QA_RE = re.compile(
    r"\bq ?& ?a\b|\bq/a\b|question[- ]answer\w*|questions? (?:and|&) answers?|\bqa\b|\bfaq\b|"
    r"pytan\w* (?:i|z) odpowiedz\w*|pytanie[- ]odpowiedz\w*|par\w* pytan\w*"
)
_SENTIMENT_RE = re.compile(r"sentiment|sentyment")
_TOXIC_RE = re.compile(r"(?<![\w-])toxic|toksyczn|cyberbullying|cyberprzemoc|\bbullying|hate speech|\bhejt|mowa nienawisci")
_CLASSIFICATION_RE = re.compile(
    r"classif|klasyfik|\blabels?\b|\betykiet|categori[sz]|\bcategor|kategori|\bintent|intencj|\bspam\b"
)

# --- formats -------------------------------------------------------------------------------

_OPENAI_FORMAT_RE = re.compile(
    r"openai[_ -]?jsonl|openai (?:fine[- ]?tun\w*|chat) (?:format|jsonl)|openai format|fine[- ]?tun\w* (?:format|jsonl)|"
    r"\bjsonl\b[^\n.]{0,30}fine[- ]?tun|fine[- ]?tun\w*[^\n.]{0,30}\bjsonl\b|chat (?:messages )?format"
)
_FORMAT_PATTERNS: list[tuple[re.Pattern[str], OutputFormat]] = [
    (re.compile(r"\bjsonl\b|json ?lines|jsonlines|ndjson"), OutputFormat.jsonl),
    (re.compile(r"\bjson\b(?!\s*lines)"), OutputFormat.json),
    (re.compile(r"\bcsv\b|\bexcel\b|spreadsheet|arkusz\w*"), OutputFormat.csv),  # a chat's CSV has a BOM: Excel reads it
    (re.compile(r"\bxlsx\b"), OutputFormat.xlsx),
]

# --- tones ---------------------------------------------------------------------------------

_TONES: list[tuple[str, str]] = [
    (r"informal\w*|nieformaln\w*|casual\w*|luzn\w*|swobodn\w*|potoczn\w*|colloquial", "casual"),
    (r"formal\w*|formaln\w*|oficjaln\w*", "formal"),
    (r"sarcas\w*|sarkasty\w*|ironic\w*|ironiczn\w*", "sarcastic"),
    (r"friendly|przyjazn\w*|zyczliw\w*", "friendly"),
    (r"professional\w*|profesjonaln\w*", "professional"),
    (r"humou?rous|funny|zabawn\w*|humorystyczn\w*|smieszn\w*|witty|dowcipn\w*", "humorous"),
    (r"angry|zdenerwowan\w*|wsciekl\w*|gniewn\w*", "angry"),
    (r"polite|uprzejm\w*|grzeczn\w*", "polite"),
    (r"\brude\b|niegrzeczn\w*|chamsk\w*", "rude"),
    (r"enthusiastic|entuzjastyczn\w*|excited", "enthusiastic"),
    (r"academic|akademick\w*|naukow\w*|scientific", "academic"),
    (r"serious|powazn\w*", "serious"),
]
_OPPOSITE_TONE = {"formal": "casual", "casual": "formal"}
_TONE_WORD_RE = "(?:" + "|".join(p for p, _ in _TONES) + ")"


def canonical_tone(word: str) -> str | None:
    folded = fold(word.strip())
    for pattern, tone in _TONES:
        if re.fullmatch(pattern, folded):
            return tone
    if re.fullmatch(r"neutral\w*", folded):
        return "neutral"
    return None



_COUNT_VERBS = (
    r"(?:make it|make that|make them|change (?:it|that|the count|the number)? ?to|count\s*[:=]|count to|total(?: of)?\s*:?|"
    r"in total|n\s*=|number\s*[:=]|generate|produce|create|write|give me|i need|i want|need|want|let's do|lets do|"
    r"ilosc\s*:?|liczba(?: przykladow)?\s*:?|zrob|zrobmy|niech bedzie|ma byc|wygeneruj|wygenerujmy|stworz|napisz|"
    r"daj|potrzebuje|chce|razem|lacznie|w sumie|lacznie|poprosze|zmien na|zamiast tego)"
)


def find_multiplied(folded: str, current: int | None) -> tuple[int | None, str]:
    """"double it" / "twice as many" / "half as many" / "podwój": the draft's count times a factor."""
    if current is None:
        return None, folded
    m = re.search(r"\b(?:double (?:it|that|them|the (?:count|number|size|order))|twice as many(?: (?:rows|examples))?|podwoj\w*)\b"
                  r"|\b(half as many|halve (?:it|that|the (?:count|number))|o polowe mniej|polowe tego)\b"
                  r"|\b(\d{1,2})\s*(?:x|times|razy)\s+(?:bigger|larger|as (?:big|many)|wiecej|wiekszy)\b", folded)
    if not m:
        return None, folded
    value = max(1, current // 2) if m.group(1) else current * int(m.group(2)) if m.group(2) else current * 2
    return value, mask(folded, m.start(), m.end())


def find_more(folded: str) -> tuple[int | None, str]:
    """'100 more' / 'another 100' / 'jeszcze 100' / '100 więcej': added to the draft's count."""
    m = re.search(
        r"\b(?:another|jeszcze|kolejne|dodatkowe)\s+(" + NUM + r")(?!\s*%)|(" + NUM + r")\s+(?:more|extra|additional|wiecej)\b"
        r"(?!\s+(?:" + KNOWN_LABEL_RE + r"))",
        folded,
    )
    if not m:
        return None, folded
    value = parse_number(m.group(1) or m.group(2))
    return value, mask(folded, m.start(), m.end()) if value is not None else folded


# "-10" as a count: before a count noun ("-10 examples"), after a count verb ("make it -10"), or alone;
# never "5-10", "non-toxic" or a label list ("labels: -1, 0, 1").
_MINUS = r"[-\u2212\u2013](" + NUM + r")(?![\d%]|[.,]\d)"
_NEGATIVE = re.compile(
    r"(?:^|(?<=[\s(:=]))" + _MINUS + r"(?=\s+(?:[\w-]+\s+){0,3}?" + COUNT_NOUNS + r"(?![\w]))"
    r"|\b" + _COUNT_VERBS + r"\s+(?:about\s+|around\s+)?" + _MINUS.replace("(" + NUM, "(?:" + NUM, 1)
    + r"|^\s*" + _MINUS.replace("(" + NUM, "(?:" + NUM, 1) + r"\s*$"
)


def find_negative(folded: str) -> tuple[str | None, str]:
    """"I need -10 examples": the number as written, blanked so that no finder reads it as 10."""
    m = _NEGATIVE.search(folded)
    if not m:
        return None, folded
    number = re.search(r"[-\u2212\u2013]\s*(\S+)", m.group(0))
    return "-" + (number.group(1) if number else ""), mask(folded, m.start(), m.end())


# "5 po angielsku", "50 in English", "5 Polish examples", "20 w języku niemieckim": a count in one language.
_LANGUAGE_PART = re.compile(
    r"(" + NUM + r")\s+(?:(?:[\w-]+\s+){0,2}?" + COUNT_NOUNS + r"\s+)?(?:in\s+(?:the\s+)?(" + EN_LANGUAGE_RE + r")\b"
    r"|po\s+(" + PL_ADVERB_RE + r")\b|w\s+jezyku\s+(" + PL_STEM_RE + r")\w*|na\s+(" + PL_STEM_RE + r")i\b"
    r"|(" + EN_LANGUAGE_RE + "|" + PL_STEM_RE + r")\w{0,3}(?=\s+" + COUNT_NOUNS + r"\b|\s*(?:[,;.]|\band\b|\bi\b|\boraz\b|$)))"
)


def find_language_parts(folded: str) -> tuple[list[tuple[int, str, int, int]], str]:
    """"5 po angielsku i 5 po polsku", "50 in English and 50 in Polish": counts in two or more
    languages ([(count, language, start, end)], folded text with them blanked); ([], folded) otherwise.
    An order has one language: the dialog takes the first part and says how to order the next."""
    parts: list[tuple[int, str, int, int]] = []
    for m in _LANGUAGE_PART.finditer(folded):
        count = parse_number(m.group(1))
        name = language_name(next(group for group in m.groups()[1:] if group))
        if count is not None and name is not None:
            parts.append((count, name, m.start(), m.end()))
    if len({name for _, name, _, _ in parts}) < 2:
        return [], folded
    for _, _, start, end in parts:
        folded = mask(folded, start, end)
    return parts, folded


_FORMAT_WORDS = r"(?:csv|jsonl?|json lines|excel|xlsx)"
_LEADING_COUNT = re.compile(
    r"(?:^|[,;])\s*(?:about |around |okolo )?(" + NUM + r")\s+(?="
    r"in\s+(?:the\s+)?(?:" + EN_LANGUAGE_RE + "|" + _FORMAT_WORDS + r")\b"
    r"|(?:as|jako)\s+(?:an?\s+)?" + _FORMAT_WORDS + r"\b"
    r"|po\s+(?:" + PL_ADVERB_RE + r")\b|w\s+(?:jezyku|formacie)\b|na\s+(?:" + PL_STEM_RE + r")i\b)"
)


def find_count(folded: str, bare: str, asking: str | None) -> tuple[int | None, str]:
    # "10 of them" / "10 z nich": the total, when no label follows (that would be a per-label count).
    of_them = re.search(r"(" + NUM + r")\s+(?:of them|z nich)(?![\w])", folded)
    if of_them:
        value = parse_number(of_them.group(1))
        if value is not None:
            return value, mask(folded, of_them.start(), of_them.end())
    # "200 examples", "1,000 reviews", "5 multiple-choice questions", "50 przykładów".
    noun = re.search(
        r"(" + NUM + r")\s+(?:[\w&/-]+\s+){0,3}?" + COUNT_NOUNS + r"(?![\w])",
        folded,
    )
    if noun:
        value = parse_number(noun.group(1))
        if value is not None:
            return value, mask(folded, noun.start(), noun.end())
    verb = re.search(r"\b" + _COUNT_VERBS + r"\s+(?:about\s+|around\s+|okolo\s+)?(" + NUM + r")(?!\s*%)(?![\w]|[.,]\d)", folded)
    if verb:
        value = parse_number(verb.group(1))
        if value is not None:
            return value, mask(folded, verb.start(), verb.end())
    trailing = re.search(r"(" + NUM + r")\s+(?:in total|total|altogether|razem|lacznie|w sumie)\b", folded)
    if trailing:
        value = parse_number(trailing.group(1))
        if value is not None:
            return value, mask(folded, trailing.start(), trailing.end())
    # "6 in English", "ok, 200 po polsku", "50 as JSON": a number that opens the message (or a comma
    # part) and is followed by what the language or format finders read (only the number is masked:
    # they still read the rest).
    lead = _LEADING_COUNT.search(folded)
    if lead:
        value = parse_number(lead.group(1))
        if value is not None:
            return value, mask(folded, lead.start(1), lead.end(1))
    # A number alone between commas ("Reviews for a restaurant, 100, positive/negative", "200, half spam").
    alone = re.findall(r"(?:^|[,;])\s*(" + NUM + r")\s*(?=[,;]|$)", folded)
    if len(alone) == 1:
        value = parse_number(alone[0])
        if value is not None:
            m = re.search(r"(?:^|[,;])\s*(" + NUM + r")\s*(?=[,;]|$)", folded)
            return value, mask(folded, m.start(1), m.end(1)) if m else folded
    # A bare number ("500", "500 please", "1k") answers "how many?".
    whole = re.fullmatch(r"(?:about |around |okolo )?(" + NUM + r")(?: please| prosze| pls)?", bare)
    if whole and asking in (None, "count", "label_counts"):
        value = parse_number(whole.group(1))
        if value is not None:
            return value, " " * len(folded)
    return None, folded


def find_task(folded: str) -> tuple[TaskType | None, list[str]]:
    if _MULTIPLE_CHOICE_RE.search(folded):
        return TaskType.multiple_choice, []
    if _QA_RE.search(folded):
        return TaskType.qa, []
    if _SENTIMENT_RE.search(folded):
        return TaskType.classification, list(SENTIMENT_LABELS)
    if _TOXIC_RE.search(folded):
        return TaskType.classification, list(TOXICITY_LABELS)
    if _CLASSIFICATION_RE.search(folded):
        return TaskType.classification, []
    return None, []


# "questions about the French Revolution", "reviews of Chinese restaurants": nationality, not language.
_NOT_LANGUAGE_NOUNS = (
    r"(?:revolution|restaurants?|food|cuisine|history|culture|literature|politics|cars?|wines?|art|music|football|"
    r"movies?|films?|cities|city|people|kings?|empire|army|economy|law|market|companies|company|style|dishes)\b"
)


def find_language(folded: str, bare: str, asking: str | None) -> str | None:
    patterns = [
        r"\bin\s+(?:the\s+)?(?:(?:british|american|australian|simple|plain|standard|brazilian|european|latin american|"
        r"mexican|canadian|swiss|austrian|formal|informal)\s+)?(" + EN_LANGUAGE_RE + r")\b(?!\s+" + _NOT_LANGUAGE_NOUNS + r")",
        r"^\s*(" + EN_LANGUAGE_RE + r")(?=\s*(?:please|pls|only|,|;|\.|!|$))",
        r"(?:[,;]|\s[\u2014\u2013-])\s*(" + EN_LANGUAGE_RE + r")\s*(?=[,;.!]|$)",  # an item: "..., goodbye, English, CSV"
        r"\b(" + EN_LANGUAGE_RE + r")[- ]language\b",
        r"\blanguage\s*(?:[:=]|is|should be|to)?\s*(" + EN_LANGUAGE_RE + r")\b",
        r"\b(?:translate|switch|change)\w*\s+(?:it\s+|them\s+|the language\s+)?(?:to|into)\s+(" + EN_LANGUAGE_RE + r")\b",
        r"\b(" + EN_LANGUAGE_RE + r")\s+(?:[\w-]+\s+)?" + COUNT_NOUNS + r"(?![\w])",
        r"\bpo\s+(" + PL_ADVERB_RE + r")\b",
        r"\bw\s+jezyku\s+(" + PL_STEM_RE + r")\w*",
        r"\bjezyk\w*\s*[:=]?\s*(" + PL_STEM_RE + r")\w*",
        r"\bna\s+(?:jezyk\s+)?(" + PL_STEM_RE + r")i\b",
        r"\b(" + PL_STEM_RE + r")\w{0,3}\s+(?:[\w-]+\s+)?" + COUNT_NOUNS + r"(?![\w])",
    ]
    for pattern in patterns:
        m = re.search(pattern, folded)
        if m:
            name = language_name(m.group(1))
            if name:
                return name
    stripped = re.sub(r"\b(?:please|prosze|language|jezyk|only|tylko)\b", "", bare).strip(" ,.")
    if stripped and len(stripped) <= 20:
        name = language_name(stripped)
        if name:
            return name
    return None


# "as JSON instead of CSV" / "JSON, not CSV" / "zamiast CSV": the format named after these is the one NOT wanted.
_NOT_FORMAT = re.compile(
    r"\b(?:instead of|rather than|not|no|no more|zamiast|nie|bez)\s+(?:an?\s+|the\s+|w\s+)?(?:csv|jsonl?|excel|json lines)\b"
    r"(?:\s+(?:file|format|pliku|formatu))?"
)


def find_format(folded: str) -> OutputFormat | None:
    folded = _NOT_FORMAT.sub(lambda m: " " * len(m.group(0)), folded)
    if _OPENAI_FORMAT_RE.search(folded):
        return OutputFormat.openai_jsonl
    found = {fmt for pattern, fmt in _FORMAT_PATTERNS if pattern.search(folded)}
    return found.pop() if len(found) == 1 else None


#: A phrase starting with these before "tone" is not a tone ("the same tone", "any tone").
_NOT_TONE_WORDS = {"the", "a", "an", "same", "any", "this", "that", "your", "my", "its", "their", "no", "ten", "taki", "tym", "dowolnym"}


def find_tone(original: str, folded: str, current: str | None) -> str | None:
    # "more formal" / "bardziej formalnie" / "less formal".
    m = re.search(r"\b(more|less|bardziej|mniej|very|bardzo)\s+(" + _TONE_WORD_RE + r")", folded)
    if m:
        tone = canonical_tone(m.group(2))
        if tone:
            if m.group(1) in ("less", "mniej"):
                return _OPPOSITE_TONE.get(tone)
            if m.group(1) in ("very", "bardzo") or current == tone:
                return f"very {tone}" if tone in _OPPOSITE_TONE else tone
            return tone
    m = re.search(r"\b(?:tone|ton|style|styl)\s*(?:[:=]|is|should be|-)\s*([^\n.,;!?]{1,40})", folded)
    if m:
        raw = m.group(1).strip()
        return canonical_tone(raw) or (raw if len(raw.split()) <= 4 else None)
    free_patterns = [
        r"\b(?:in an?|with an?|w)\s+((?:[\w-]+\s+){0,2}[\w-]+)\s+(?:tone|style|tonie|stylu)\b",
        r"\b(?:w tonie|w stylu|tonem)\s+((?:[\w-]+\s+){0,2}[\w-]+)",
        # [ \t]* not \s*: after every newline of a long blank text, \s* would rescan the rest (quadratic).
        r"(?:^|[,;.\n]|\band\b|\bwith\b|\bi\b)[ \t]*(?:an?[ \t]+)?((?:[\w-]+[ \t]+){0,2}[\w-]+)[ \t]+(?:tone|ton)\b",
        r"\bton\s+([\w-]+)",  # known tones only: "a ton of examples" names none
    ]
    for index, pattern in enumerate(free_patterns):
        m = re.search(pattern, folded)
        if not m:
            continue
        raw = m.group(1).strip()
        words = raw.split()
        tone = canonical_tone(raw) or (canonical_tone(words[-1]) if words else None)  # "use casual tone"
        if tone:
            return tone
        if index < 3 and words and words[0] not in _NOT_TONE_WORDS and not any(word.isdigit() for word in words):
            return original[m.start(1):m.end(1)].strip()  # "gaming community", "społeczności graczy"
    found = []
    for pattern, tone in _TONES:
        if re.search(r"(?<![\w-])(?:" + pattern + r")(?![\w-])", folded) and tone not in found:
            found.append(tone)
    if "casual" in found and "formal" in found and not re.search(r"(?<![\w-])(?:formal|formaln\w*|oficjaln\w*)", folded):
        found.remove("formal")
    return ", ".join(found) if found else None


_TOPIC_STOP = re.compile(
    r"[.;:!?\n(]|,|\s(?:in|po|w)\s+(?:the\s+)?(?:" + EN_LANGUAGE_RE + "|" + PL_ADVERB_RE + r"|jezyku)\b|"
    r"\s(?:labell?ed|with labels|categori[sz]ed|classified|as (?:csv|json)|in (?:csv|json)|formatted|format|"
    r"in an?\s+[\w-]+\s+tone|with an?\s+[\w-]+\s+tone|w tonie|tone|jako|oznaczon\w*|etykiet\w*|z etykiet\w*|"
    r"(?:and|i)\s+\d|\d|each|for fine|do fine|which|that|who|ktore|ktory|ktora|where|gdzie|"
    r"with (?:one|two|three|four|five|\d+) (?:options|answers|choices))\b"
)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)


def find_topic(original: str, folded: str) -> str | None:
    if re.search(r"\b(?:any|no particular|no specific|whatever)\s+(?:topic|domain|subject)\b|\bdowoln\w+\s+(?:temat\w*|dziedzin\w*)|\bbez\s+(?:konkretnego\s+)?tematu\b", folded):
        return ""
    patterns = [
        r"\b(?:topic|domain|subject|theme|temat|tematyka|dziedzina|domena)\s*(?:[:=]|is|should be|-)\s*",
        r"\bon the (?:topic|subject) of\s+",
        r"\b(?:change|switch|set)\s+(?:the\s+)?(?:topic|domain|subject)\s+to\s+|\bzmien\s+(?:temat|dziedzine)\s+na\s+",
        r"\bin the (?:domain|field|area|context) of\s+",
        r"(?<!how )(?<!what )\b(?:about|regarding|concerning|related to|on the topic)\s+(?!\d|it\b|this\b|that\b|them\b|how\b|what\b|which\b|me\b|us\b|you\b)",
        r"\bna temat\s+",
        r"\b(?:dotycz\w+|odnosz\w+ sie do)\s+",
        r"\bz (?:dziedziny|zakresu|obszaru|branzy|tematu|tematyki)\s+",
        r"\b(?:" + COUNT_NOUNS + r"|odpowiedz\w*|quiz\w*)\s+o\s+(?!\d)",
        r"\b(?:pytan\w*|pytani\w*|quiz\w*)\s+(?:[^\W\d][\w-]*\s+){1,3}?o\s+(?!\d)",  # "pytań wielokrotnego wyboru o ..."
        # "20 multiple choice questions on Python basics", "pytania quizowe z historii Polski", "tematyka medyczna"
        r"\b(?:questions?|quiz(?:zes)?|trivia|tests?)\s+on\s+(?!\d|it\b|this\b|that\b|them\b|the (?:topic|subject)\b)",
        r"\b(?:pytani\w*|quiz\w*|test\w*)\s+(?:[\w-]+\s+)?z\s+(?!\d|odpowiedz\w*|opcj\w*|wybor\w*|[\w-]+ (?:odpowiedz|opcj)\w*)",
        r"\b(?:tematyka|branza)\s+(?=[^\W\d])",
    ]
    for pattern in patterns:
        m = re.search(pattern, folded)
        if not m:
            continue
        start = m.end()
        stop = _TOPIC_STOP.search(folded, start)
        end = stop.start() if stop else len(folded)
        topic = _ARTICLE.sub("", original[start:end].strip()).strip(" \"'-–")
        topic = re.sub(r"\s+(?:and|or|i|lub|oraz)$", "", topic)
        if 2 <= len(topic) <= 100 and not re.fullmatch(r"[\W\d_]+", topic):
            return topic
    return None


def find_instructions(original: str, folded: str) -> str | None:
    m = re.search(r"^[ \t]*(?:instructions?|instrukcje|instrukcja|notes?|uwagi|wskazowki)[ \t]*:[ \t]*([^\n]{2,1000})", folded, re.M)
    if not m:
        return None
    return original[m.start(1):m.end(1)].strip()


