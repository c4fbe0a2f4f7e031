"""The kinds of dataset (task types) and what the first three produce: a module of its own, importing
nothing of ours, so that the spec, the row-model presets and the validation can all use it without an
import cycle."""

from __future__ import annotations

from enum import Enum


class TaskType(str, Enum):
    classification = "classification"
    multiple_choice = "multiple_choice"
    qa = "qa"
    # Presets of the general row model (core.rows.presets), and any columns (`columns:`).
    entities = "entities"
    translation = "translation"
    red_team = "red_team"
    simulated_users = "simulated_users"
    custom = "custom"
    documents = "documents"  # questions from the user's documents (core.documents)


#: Red-team prompt categories when the order names none (the stratified `category` column).
RED_TEAM_CATEGORIES = ("jailbreak", "prompt injection", "data extraction", "harmful request", "off-topic", "benign")


# The columns each task produces (DESIGN.md's public contract).
COLUMNS: dict[TaskType, tuple[str, ...]] = {
    TaskType.classification: ("text", "label"),
    TaskType.multiple_choice: ("question", "option_a", "option_b", "option_c", "option_d", "answer"),
    TaskType.qa: ("question", "answer"),
}
