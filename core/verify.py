"""Label verification: a second look at generated rows, without their intended labels.

The engine calls `Verifier.screen(spec, raws)` on each answer's rows before it judges them
(quota, duplicates) and stores them as accepted. The rows go to a judge (core.classify: several
per request, shuffled, by id) that sees only the text (classification) or the question and its
options (multiple choice: the judge answers the quiz). A row whose verified label differs from
the intended one is rejected with reason "label disagreement" and the engine replaces it, so the
ordered counts still hold. A row the judge could not answer at all is rejected "not verified":
an unverified row is never delivered while verification is on.

`DATAGEN_VERIFY=on|off|auto` (auto, the default: on for server models, off for the embedded one,
which is too small to judge: see docs/engine.md), `DATAGEN_JUDGE_MODEL` (default: the generating
model, on the same server).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from collections.abc import Callable, Sequence
from typing import Any

from core.classify import Classifier, ClassifyTask, Item, one_line
from core.documents import grounding
from core.llm import LLMBackend, LLMError, Usage
from core.quality import validate_row
from core.rows.columns import Column, ColumnType
from core.rows.presets import RED_TEAM_MEANING, in_wrong_language, preset, row_model, validate
from core.settings import Settings
from core.spec import DatasetSpec, TaskType
from core.store_port import JobStore, NewRow

log = logging.getLogger(__name__)

DISAGREEMENT = "label disagreement"
NOT_VERIFIED = "not verified"
LETTERS = ("a", "b", "c", "d")
Checked = tuple[Any, "str | None"]  # a row's validation: (clean row, None) or (None, reason)
#: Rows per judge request. Its answer is one short label per row, so a big request costs the model
#: little more than a small one; the engine groups several answers' rows (core/verify_queue.py).
JUDGE_BATCH = 40


@dataclass
class Screened:
    kept: list[Any]  # the rows to judge as usual, in their order (invalid rows too: the engine rejects them)
    rejected: list[NewRow]  # disagreements and unverifiable rows, to store as rejected
    usage: Usage = field(default_factory=Usage)
    requests: int = 0


@dataclass
class Question:
    """One answer's rows put to the judge: its items (ids unique within the answer) and how the
    verdicts (label per id; none for an id the judge did not answer) sort the answer's rows."""

    judge: Classifier
    task: ClassifyTask
    what: str  # "verification", "grounding check": for the log
    items: list[Item]
    decide: Callable[[dict[str, str]], Screened]


def verification_enabled(settings: Settings, llm: LLMBackend) -> bool:
    mode = settings.verify
    return mode == "on" or (mode == "auto" and not llm.is_local)


def verifiable(spec: DatasetSpec) -> bool:
    """Tasks with a categorical column to check: classification labels, quiz answers, and the
    stratified column of the row model's tasks (red-team category, simulated users' intent, a
    custom stratified column)."""
    return spec.task in (TaskType.classification, TaskType.multiple_choice) or stratified_of(spec) is not None


def row_text_for_judge(model: Any, column: Column, clean: dict[str, Any]) -> str:
    """The row's text columns but the judged one ("message: ... | persona: ..."); category columns
    stay out: one derived from the judged value (a red-team prompt's expected behaviour) would give it away."""
    texts = [(other.name, clean.get(other.name)) for other in model.columns
             if other.type == ColumnType.text and other.name != column.name and clean.get(other.name)]
    if len(texts) == 1:
        return str(texts[0][1])
    return " | ".join(f"{name}: {value}" for name, value in texts) or model.text_of(clean)


def stratified_of(spec: DatasetSpec) -> Column | None:
    """The row model's stratified category column with at least two values (None for the first
    three tasks, documents, and orders without one)."""
    if spec.task in (TaskType.classification, TaskType.multiple_choice, TaskType.qa, TaskType.documents):
        return None
    column = row_model(spec).stratified
    return column if column is not None and len(column.values) > 1 else None


class Verifier:
    def __init__(self, judge: LLMBackend, *, concurrency: int, batch_size: int = JUDGE_BATCH, owns_judge: bool = False,
                 language_check: bool = False) -> None:
        self.judge = judge
        self.language_check = language_check  # rows the engine will reject as "wrong language" cost no judge request
        self.owns_judge = owns_judge  # a separate DATAGEN_JUDGE_MODEL backend, closed with the verifier
        # Temperature 0 and one sample: the question is "which label", not how sure.
        self.classifier = Classifier(judge, batch_size=batch_size, concurrency=concurrency, samples=1)
        # Document questions: fewer rows per request (each carries its passages).
        self.grounder = Classifier(judge, batch_size=grounding.BATCH_SIZE, concurrency=concurrency, samples=1)

    @classmethod
    def for_engine(cls, llm: LLMBackend, settings: Settings, concurrency: int) -> "Verifier | None":
        if not verification_enabled(settings, llm):
            return None
        judge, owns = llm, False
        if settings.judge_model and not llm.is_local and settings.judge_model != settings.model:
            from core.llm_openai import OpenAIBackend

            judge = OpenAIBackend.from_settings(settings.model_copy(update={"model": settings.judge_model}))
            owns = True
        return cls(judge, concurrency=concurrency, owns_judge=owns, language_check=settings.language_check)

    async def aclose(self) -> None:
        if self.owns_judge:
            await self.judge.aclose()

    async def screen(self, spec: DatasetSpec, raws: list[Any]) -> Screened:
        """Ask the judge about every valid row of one answer; keep those it labels as intended.
        (The engine puts the rows of several answers in one request: core/verify_queue.py.)"""
        question = self.question(spec, raws)
        if question is None:
            return Screened(list(raws), [])
        verdicts, usage, requests = await ask_judge(question.judge, question.items, question.task, question.what)
        screened = question.decide(verdicts)
        screened.usage, screened.requests = usage, requests
        return screened

    def question(self, spec: DatasetSpec, raws: list[Any], checked: Sequence[Checked] | None = None
                 ) -> "Question | None":
        """What to ask the judge about one answer's rows, and how its verdicts sort them; None
        when there is nothing to ask (no valid row, or a task without a label to check).
        `checked`: the engine's validation of each row (`validate_answer`), when it has it."""
        if spec.task == TaskType.documents:
            return self._ground(spec, raws, checked)
        if not verifiable(spec):
            return None
        if stratified_of(spec) is not None:
            return self._screen_rows(spec, raws, checked)
        labels = list(spec.labels)
        items: list[Item] = []
        intended: dict[str, tuple[str, dict[str, str]]] = {}
        for index, raw in enumerate(raws):
            clean = checked[index][0] if checked is not None else validate_row(spec.task, raw, labels)[0]
            if clean is None:
                continue  # the engine rejects it with its own reason
            if spec.task == TaskType.classification:
                text, label = clean["text"], clean["label"]
            else:
                options = " ".join(f"{letter}) {one_line(clean[f'option_{letter}'], 300)}" for letter in LETTERS)
                text, label = f"{one_line(clean['question'], 600)} {options}", clean["answer"]
            items.append(Item(str(index), text))
            intended[str(index)] = (label, clean)
        if not items:
            return None

        def decide(verdicts: dict[str, str]) -> Screened:
            screened = Screened([], [])
            for index, raw in enumerate(raws):
                key = str(index)
                if key not in intended:
                    screened.kept.append(raw)
                    continue
                label, clean = intended[key]
                verified = verdicts.get(key)
                if verified == label:
                    screened.kept.append(raw)
                    continue
                reason = NOT_VERIFIED if verified is None else DISAGREEMENT
                fields = {**clean, "verified_label": verified or ""}
                row_label = label if spec.task == TaskType.classification else ""
                screened.rejected.append(NewRow(fields, label=row_label, accepted=False, reason=reason))
            return screened

        return Question(self.classifier, self.task(spec), "verification", items, decide)

    def _screen_rows(self, spec: DatasetSpec, raws: list[Any], checked: Sequence[Checked] | None
                     ) -> "Question | None":
        """The row model: the judge sees the row's main text (its key columns) and names the
        stratified column's value; a row it places elsewhere is rejected like a label disagreement."""
        column = stratified_of(spec)
        assert column is not None
        model = row_model(spec)
        items, intended = [], {}
        for index, raw in enumerate(raws):
            clean = checked[index][0] if checked is not None else validate(spec, raw)[0]
            if clean is None or clean.get(column.name) not in column.values:
                continue  # the engine rejects it with its own reason
            items.append(Item(str(index), row_text_for_judge(model, column, clean)))
            intended[str(index)] = (str(clean[column.name]), clean)
        if not items:
            return None

        def decide(verdicts: dict[str, str]) -> Screened:
            screened = Screened([], [])
            for index, raw in enumerate(raws):
                key = str(index)
                if key not in intended or verdicts.get(key) == intended[key][0]:
                    screened.kept.append(raw)
                    continue
                value, clean = intended[key]
                verified = verdicts.get(key)
                screened.rejected.append(NewRow({**clean, "verified_label": verified or ""}, label=value,
                                                accepted=False,
                                                reason=NOT_VERIFIED if verified is None else DISAGREEMENT))
            return screened

        return Question(self.classifier, self.task(spec), "verification", items, decide)

    def _ground(self, spec: DatasetSpec, raws: list[Any], checked: Sequence[Checked] | None
                ) -> "Question | None":
        """Document questions: the answer must be supported by its passages; an unanswerable
        question must not be answerable from them (core/documents/grounding.py)."""
        items, clean_rows = [], {}
        for index, raw in enumerate(raws):
            if checked is not None:
                clean = checked[index][0]  # the engine's language check already applied
            else:
                clean, _ = validate(spec, raw)
                if clean is not None and in_wrong_language(spec, clean, spec.language if self.language_check else None):
                    clean = None  # the engine rejects it for its language (its own reason), judged or not
            if clean is not None:
                items.append(Item(str(index), grounding.item_text(clean)))
                clean_rows[str(index)] = clean
        if not items:
            return None

        def decide(verdicts: dict[str, str]) -> Screened:
            screened = Screened([], [])
            for index, raw in enumerate(raws):
                key = str(index)
                clean = clean_rows.get(key)
                if clean is None or verdicts.get(key) == grounding.expected(clean):
                    screened.kept.append(raw)
                    continue
                verdict = verdicts.get(key)
                reason = NOT_VERIFIED if verdict is None else grounding.rejection(clean)
                screened.rejected.append(NewRow({**clean, "verdict": verdict or ""}, label=clean["question_type"],
                                                accepted=False, reason=reason))
            return screened

        return Question(self.grounder, grounding.TASK, "grounding check", items, decide)

    @staticmethod
    def task(spec: DatasetSpec) -> ClassifyTask:
        about = "; ".join(part for part in (spec.topic, spec.instructions) if part)
        if spec.task == TaskType.multiple_choice:
            return ClassifyTask(labels=LETTERS, noun="multiple-choice question",
                                instructions="Answer each question: its label is the letter of the correct option."
                                + (f" Topic: {about}" if about else ""))
        column = stratified_of(spec)
        if column is not None:
            chosen = preset(spec)
            meanings = {value: RED_TEAM_MEANING[value] for value in column.values
                        if spec.task == TaskType.red_team and value in RED_TEAM_MEANING}
            what = f"{chosen.noun.rstrip('s')}" if chosen.noun else "row"
            return ClassifyTask(labels=tuple(column.values), noun=what, descriptions=meanings,
                                instructions=f"Label each {what} with its {column.name}"
                                + (f" ({column.description})" if column.description else "") + "."
                                + (f" Topic: {about}" if about else ""))
        return ClassifyTask(labels=tuple(spec.labels), instructions=about)


async def ask_judge(judge: Classifier, items: list[Item], task: ClassifyTask, what: str
                    ) -> tuple[dict[str, str], Usage, int]:
    """The judge's label per item id, the requests' usage and their number. No verdicts when
    the judge is down after its retries: those rows stay unverified (rejected, never delivered)."""
    try:
        result = await judge.classify(items, task)
    except LLMError as exc:
        log.warning("%s failed: %s", what, exc)
        return {}, Usage(), 0
    return {item_id: verdict.label for item_id, verdict in result.verdicts.items()}, result.usage, result.requests


def agreement_per_label(accepted: dict[str, int], disagreements: dict[str, int]) -> dict[str, float]:
    """Share of checked rows the judge labeled as intended, per label (labels with checked rows)."""
    shares = {}
    for label in sorted(set(accepted) | set(disagreements)):
        checked = accepted.get(label, 0) + disagreements.get(label, 0)
        if checked:
            shares[label] = accepted.get(label, 0) / checked
    return shares


#: Appended to a job's model description when its rows were verified (the card reads it back).
VERIFIED_BY = "; labels verified by "


def judge_description(verifier: "Verifier | None") -> str:
    return f"{VERIFIED_BY}{verifier.judge.description}" if verifier is not None else ""


def agreement(store: JobStore, job_id: int) -> dict[str, float]:
    """Per label, the share of checked rows whose verified label matched (accepted rows were all
    checked; rows rejected for disagreement were the others). The number the chat can show."""
    return agreement_per_label(store.accepted_counts(job_id), store.rejected_per_label(job_id, DISAGREEMENT))


def verification_lines(store: JobStore, job_id: int, model: str, spec: DatasetSpec, lang: str | None = "en") -> list[str]:
    """The card's "Label verification" lines, in the card's language ([] when the job's rows were not verified)."""
    if VERIFIED_BY not in model or not verifiable(spec):
        return []
    from core import messages

    def t(key: str, **values: object) -> str:
        return messages.text(lang, key, **values)

    shares = agreement(store, job_id)
    judge = model.split(VERIFIED_BY, 1)[1]
    quiz = spec.task == TaskType.multiple_choice
    column = stratified_of(spec)
    said = (t("card_verification_column", judge=judge, column=column.name) if column is not None
            else t("card_verification_answer" if quiz else "card_verification_label", judge=judge))
    lines = ["", f"## {t('card_verification')}", "", said, "",
             t("card_agreement_questions_header" if quiz else "card_agreement_label_header"), "|---|---:|"]
    lines += [f"| {label or t('card_all')} | {share:.0%} |" for label, share in shares.items()]
    return lines
