"""A reviewer's checklist: one mark per criterion of the review's criteria version.

A "not met" without a comment is refused: the provider could not act on it, and the comment is
what travels back to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.quality.domain.criteria import CriteriaSet
from services.quality.domain.problems import Problem


class Mark(StrEnum):
    MET = "met"
    NOT_MET = "not-met"
    NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True)
class ChecklistItem:
    criterion: str
    mark: Mark
    comment: str | None = None


@dataclass(frozen=True)
class Checklist:
    reviewer: str
    items: tuple[ChecklistItem, ...]
    updated_at: datetime

    def mark_of(self, code: str) -> ChecklistItem | None:
        return next((i for i in self.items if i.criterion == code), None)


def checklist_problems(criteria: CriteriaSet, items: Sequence[ChecklistItem]) -> list[Problem]:
    """What is wrong with these marks, each problem naming the item and the criterion."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        criterion = criteria.get(item.criterion)
        if criterion is None:
            problems.append(Problem(
                f"items.{i}.criterion", "unknown_criterion",
                f"{item.criterion!r} is not a criterion of criteria version {criteria.version} "
                f"(they are: {', '.join(criteria.codes)})",
            ))
            continue
        if item.criterion in seen:
            problems.append(Problem(f"items.{i}.criterion", "duplicate_criterion",
                                    f"criterion {item.criterion!r} is marked more than once"))
        seen.add(item.criterion)
        if item.mark is Mark.NOT_MET and not (item.comment or "").strip():
            problems.append(Problem(
                f"items.{i}.comment", "comment_required",
                f"criterion {item.criterion!r} ({criterion.title.en}) is marked not-met: "
                "say what is missing in a comment, it is what the provider will act on",
            ))
    return problems


def unmarked(criteria: CriteriaSet, checklist: Checklist | None) -> list[str]:
    """The criteria codes this checklist has no mark for yet, in the criteria's order."""
    marked = {i.criterion for i in checklist.items} if checklist else set()
    return [code for code in criteria.codes if code not in marked]


def not_met(checklist: Checklist) -> list[ChecklistItem]:
    return [i for i in checklist.items if i.mark is Mark.NOT_MET]
