"""Why a job stopped: one kind per cause, stored in English with the job, said in the chat's language.

    raise JobFailed(stop("rows_unanswered", f"{n} rows got no usable answer; ...", rows=n))
    raise JobFailed(llm_stop(exc, requests=5))       # an LLMError: its kind (unreachable, 5xx ...)
    describe(job.error, "pl")   # "nie udało się połączyć z serwerem modelu ...; sprawdź OPENAI_BASE_URL"
    plain(job.error)             # the English text alone (the headless CLI, logs)

The stored error is the engine's English sentence followed by a tag naming the kind and the
values the user's message needs: `... [stop:llm_unreachable requests=5 url=http%3A%2F%2Fh%3A1%2Fv1]`.
A tag and not a column: a worker stores the error and another process (the chat following the
job) shows it, and the job table has no migrations. One mapping, kind -> message `stop_<kind>`
(core/messages_stops.py), at the point of display; the budget stop keeps its own wording
(core/budget.py); an error without a tag (an older version's, a crash) gets a generic sentence in
Polish and its own words in English.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, unquote

from core import budget
from core import messages as m

Translate = Callable[..., str]  # (key, **values) -> the text in the chat's language

# Kinds of an LLMError (core/llm.py); a stop from one is "llm_<kind>".
LLM_KINDS = ("unreachable", "timeout", "server_error", "rate_limited", "quota", "api_key", "permission",
             "not_found", "refused", "unreadable", "died", "failing",
             "model_file")  # the embedded model's file is missing or not a model (before any job)
KINDS = tuple(f"llm_{kind}" for kind in LLM_KINDS) + (
    "llm_silent",  # no answer at all for DATAGEN_NO_ANSWER_TIMEOUT seconds
    "unusable_rows",  # the model's rows keep failing the checks (garbage, wrong labels, repeats)
    "no_rows",  # a preview that got no row
    "no_labels",  # an annotation preview that got no usable label
    "rows_unanswered",  # "label my rows": rows left without a label after every pass
    "storage_failed",
    "internal",  # a bug of ours (the log has the traceback)
)
_TAG = re.compile(r"\s*\[stop:(?P<kind>[a-z_]+)(?P<values>(?: [a-z_]+=[^ \]]*)*)\]\s*$")


def stop(kind: str, english: str, **values: object) -> str:
    """The stored error: `english` (for the CLI and logs) tagged with `kind` and `values`."""
    assert kind in KINDS, kind
    pairs = "".join(f" {name}={quote(str(value), safe='')}" for name, value in values.items())
    return f"{english} [stop:{kind}{pairs}]"


def llm_stop(exc: BaseException, requests: int | None = None) -> str:
    """The stop for an LLMError (after `requests` failed in a row; None: one that retrying cannot help)."""
    kind = getattr(exc, "kind", "failing")
    kind = kind if kind in LLM_KINDS else "failing"
    values = dict(getattr(exc, "values", {}) or {})
    english = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if requests is not None:
        english = f"the LLM kept failing ({requests} requests in a row): {english}"
        values["requests"] = requests
    return stop(f"llm_{kind}", english, **values)


def internal(exc: BaseException) -> str:
    """The stop for a bug (an exception nobody expected)."""
    return stop("internal", f"internal error: {exc!r}")


def parse(error: str | None) -> tuple[str | None, dict[str, str]]:
    """(kind, values) of a stored error; (None, {}) when it carries no tag."""
    found = _TAG.search(error or "")
    if found is None or found["kind"] not in KINDS:
        return None, {}
    values = dict(pair.split("=", 1) for pair in found["values"].split())
    return found["kind"], {name: unquote(value) for name, value in values.items()}


def plain(error: str | None) -> str:
    """The English text without the tag."""
    return _TAG.sub("", error or "")


def describe(error: str | None, lang: str | None, t: Translate | None = None) -> str:
    """The stop in the user's language, with what they (or whoever runs the bot) can do about it.
    `t`: the channel's translator (it spells commands); by default core.messages.text in `lang`."""
    say: Translate = t or (lambda key, **values: m.text(lang, key, **values))
    spent = budget.describe(error, lang)
    if spent is not None:
        return spent
    kind, values = parse(error)
    if kind is None:
        return say("stop_unknown", detail=plain(error).strip() or "?")
    if kind == "unusable_rows":
        values = _unusable(values, say)
    values.setdefault("detail", plain(error).strip())  # for a message that keeps the engine's words (English only)
    try:
        return say(f"stop_{kind}", **values)
    except (KeyError, IndexError, ValueError):  # a tag without a value its message needs (an older writer)
        return say("stop_unknown", detail=plain(error).strip() or "?")


def _unusable(values: dict[str, str], say: Translate) -> dict[str, str]:
    """The two parts of an "unusable rows" stop: what happened, and the commonest rejection reason."""
    what = say("stop_what_fruitless", n=values["fruitless"]) if "fruitless" in values else \
        say("stop_what_share", accepted=values.get("accepted", "?"), seen=values.get("seen", "?"))
    top = values.get("top", "")
    why = say(f"reason_{top}") if top and f"reason_{top}" in m.TEXTS else say("stop_why_none")
    return {"what": what, "why": why}
