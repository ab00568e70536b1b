"""The decision rule: how the reviewers' verdicts become the board's decision.

* any reject decides reject (a reviewer who finds the entry unfit stops it);
* otherwise any request for changes decides request-changes, and the comments of every verdict
  so far travel back with it (the provider fixes everything in one round, not one reviewer at a
  time);
* otherwise enough approvals (the review's ``required_approvals``) decide approve;
* otherwise the review stays open.

A decided review is final; a resubmission is a new round.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.quality.domain.checklist import Checklist, not_met
from services.quality.domain.criteria import CriteriaSet

#: The decided event carries at most this many comments (its contract's limit).
MAX_COMMENTS = 100


class Decision(StrEnum):
    APPROVE = "approve"
    REQUEST_CHANGES = "request-changes"
    REJECT = "reject"


@dataclass(frozen=True)
class Verdict:
    """One reviewer's judgement of one round."""

    reviewer: str
    decision: Decision
    comments: tuple[str, ...]
    reason: str | None
    at: datetime


def decide(verdicts: Sequence[Verdict], required_approvals: int) -> Decision | None:
    """The board's decision once these verdicts are in, or None while it is still open."""
    given = {v.decision for v in verdicts}
    if Decision.REJECT in given:
        return Decision.REJECT
    if Decision.REQUEST_CHANGES in given:
        return Decision.REQUEST_CHANGES
    if sum(1 for v in verdicts if v.decision is Decision.APPROVE) >= required_approvals:
        return Decision.APPROVE
    return None


def travelling_comments(verdicts: Sequence[Verdict], checklists: Iterable[Checklist],
                        criteria: CriteriaSet) -> list[str]:
    """What the provider reads: every verdict's comments, then each not-met criterion's comment
    labelled with the criterion. No reviewer's name: the board speaks, not the person."""
    comments = [c for v in verdicts for c in v.comments]
    for checklist in checklists:
        for item in not_met(checklist):
            criterion = criteria.get(item.criterion)
            label = criterion.title.sv if criterion else item.criterion
            comments.append(f"{label} ({item.criterion}): {item.comment}")
    unique = list(dict.fromkeys(c for c in comments if c.strip()))
    return unique[:MAX_COMMENTS]


def decision_reason(verdicts: Sequence[Verdict]) -> str | None:
    """The reasons of the rejecting verdicts (a rejection always says why)."""
    reasons = [v.reason for v in verdicts if v.decision is Decision.REJECT and v.reason]
    return "\n\n".join(reasons) or None
