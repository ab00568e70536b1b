"""The public review summary of a micro-credential: which body reviewed each approved version,
when, against which criteria, with what outcome. Never who: reviewers' names and subjects stay
inside the board (and its audit trail)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.quality.domain.checklist import Mark
from services.quality.domain.criteria import criteria_set
from services.quality.domain.decision import Decision
from services.quality.domain.review import Review, ReviewStatus


@dataclass(frozen=True)
class CriterionTally:
    code: str
    met: int
    not_applicable: int


@dataclass(frozen=True)
class PublishedReview:
    micro_credential_id: str
    version: int
    outcome: Decision
    reviewing_body: str
    decided_at: datetime
    criteria_version: str
    rounds: int
    approvals: int
    criteria: tuple[CriterionTally, ...]


def summary_of(review: Review) -> PublishedReview | None:
    """The published facts of an approved review (None for any other)."""
    if review.status is not ReviewStatus.DECIDED or review.outcome is None:
        return None
    if review.outcome.decision is not Decision.APPROVE:
        return None
    approving = {v.reviewer for v in review.verdicts if v.decision is Decision.APPROVE}
    checklists = [c for c in review.checklists if c.reviewer in approving]
    criteria = criteria_set(review.criteria_version)
    codes = criteria.codes if criteria else tuple(dict.fromkeys(i.criterion for c in checklists for i in c.items))
    tallies = tuple(
        CriterionTally(
            code,
            met=sum(1 for c in checklists if (m := c.mark_of(code)) is not None and m.mark is Mark.MET),
            not_applicable=sum(1 for c in checklists if (m := c.mark_of(code)) is not None
                               and m.mark is Mark.NOT_APPLICABLE),
        )
        for code in codes
    )
    s = review.submission
    return PublishedReview(s.micro_credential_id, s.version, review.outcome.decision, review.outcome.reviewing_body,
                           review.outcome.decided_at, review.criteria_version, review.round, review.approvals, tallies)


def published_reviews(reviews: Iterable[Review]) -> list[PublishedReview]:
    found = [p for p in (summary_of(r) for r in reviews) if p is not None]
    return sorted(found, key=lambda p: p.version)
