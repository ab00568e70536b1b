"""A review of one submitted micro-credential version, one round at a time: pure functions from
a review and a command to the next review, the events it raises and the audit entries it adds.

    (catalog: submitted) -> open -> assign reviewers -> checklists -> verdicts -> decided
                                                                             (approve | request-changes | reject)
    (catalog: resubmitted after request-changes) -> round n + 1, showing round n's comments

A decided review never changes again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from services.quality.domain.checklist import Checklist, ChecklistItem, checklist_problems, not_met, unmarked
from services.quality.domain.criteria import CriteriaSet
from services.quality.domain.decision import Decision, Verdict, decide, decision_reason, travelling_comments
from services.quality.domain.problems import InvalidInput, NotAllowed, Problem, ReviewRefused
from services.quality.domain.reviewers import Reviewer, refuse_conflict_of_interest

#: The audit trail's actor for what the service does on an event rather than a person's request.
SYSTEM_ACTOR = "quality"


class ReviewStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"


@dataclass(frozen=True)
class Submission:
    """What the catalog submitted (``catalog.credential.submitted.v1``): the content is the
    shared micro-credential contract, kept as received (the reviewers judge exactly this)."""

    micro_credential_id: str
    version: int
    provider_id: str
    provider_kind: str
    provider_name: str
    content: Mapping[str, Any]
    submitted_at: datetime

    @property
    def eqf(self) -> int:
        return int(self.content["level"]["eqf"])

    @property
    def branches(self) -> tuple[str, ...]:
        return tuple(self.content.get("branches") or ())

    @property
    def title(self) -> Mapping[str, str]:
        title: Mapping[str, str] = self.content["title"]
        return title


@dataclass(frozen=True)
class ApprovalRule:
    """How many approvals decide approve: more for higher levels, where more is at stake."""

    default: int = 1
    high_level: int = 2
    high_level_from_eqf: int = 5

    def required_for(self, eqf: int) -> int:
        return self.high_level if eqf >= self.high_level_from_eqf else self.default


@dataclass(frozen=True)
class ReviewPolicy:
    criteria_version: str
    approvals: ApprovalRule
    due_days: int
    reviewing_body: str


@dataclass(frozen=True)
class Assignment:
    reviewer: str
    display_name: str
    assigned_at: datetime
    assigned_by: str


@dataclass(frozen=True)
class PreviousRound:
    """What the board said last round, shown with the resubmission."""

    review_id: str
    round: int
    decision: Decision
    comments: tuple[str, ...]
    reason: str | None
    decided_at: datetime


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    comments: tuple[str, ...]
    reason: str | None
    decided_at: datetime
    reviewing_body: str


@dataclass(frozen=True)
class Review:
    id: str
    submission: Submission
    criteria_version: str
    required_approvals: int
    round: int
    status: ReviewStatus
    opened_at: datetime
    due_at: datetime
    assignments: tuple[Assignment, ...] = ()
    checklists: tuple[Checklist, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    outcome: Outcome | None = None
    previous_round: PreviousRound | None = None
    revision: int = 0  # bumped by every saved change; the store refuses a stale write

    def is_overdue(self, now: datetime) -> bool:
        return self.status is ReviewStatus.OPEN and self.due_at < now

    def assignment_of(self, subject: str) -> Assignment | None:
        return next((a for a in self.assignments if a.reviewer == subject), None)

    def checklist_of(self, subject: str) -> Checklist | None:
        return next((c for c in self.checklists if c.reviewer == subject), None)

    def verdict_of(self, subject: str) -> Verdict | None:
        return next((v for v in self.verdicts if v.reviewer == subject), None)

    @property
    def approvals(self) -> int:
        return sum(1 for v in self.verdicts if v.decision is Decision.APPROVE)


@dataclass(frozen=True)
class Actor:
    """Who acts, with every organisation they belong to (token ``org`` claim and registry)."""

    subject: str
    organisations: frozenset[str] = frozenset()


# --- what a command produces ------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewOpened:
    review: Review


@dataclass(frozen=True)
class ReviewDecided:
    review: Review


ReviewEvent = ReviewOpened | ReviewDecided


@dataclass(frozen=True)
class AuditEntry:
    action: str
    actor: str
    at: datetime
    review_id: str | None = None
    micro_credential_id: str | None = None
    version: int | None = None
    round: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """The review after a command (saved with its events and audit entries in one transaction)."""

    review: Review
    events: tuple[ReviewEvent, ...] = ()
    audit: tuple[AuditEntry, ...] = ()
    created: bool = False


def _entry(review: Review, action: str, actor: str, at: datetime, **details: Any) -> AuditEntry:
    s = review.submission
    return AuditEntry(action, actor, at, review.id, s.micro_credential_id, s.version, review.round, details)


# --- commands ---------------------------------------------------------------------------------


def open_review(submission: Submission, latest: Review | None, policy: ReviewPolicy, review_id: str, *,
                now: datetime, cause: str | None = None) -> Change | None:
    """Open the next round for a submitted version; None when its round is already open (the
    same submission reported twice). ``latest`` is the version's latest round, if any."""
    round_number, previous = 1, None
    if latest is not None:
        if latest.status is ReviewStatus.OPEN:
            return None
        assert latest.outcome is not None
        if latest.outcome.decision is not Decision.REQUEST_CHANGES:
            raise ReviewRefused(
                "already-decided",
                f"version {submission.version} of {submission.micro_credential_id} was decided "
                f"{latest.outcome.decision} in review {latest.id}; a decided version is not reviewed again",
            )
        round_number = latest.round + 1
        o = latest.outcome
        previous = PreviousRound(latest.id, latest.round, o.decision, o.comments, o.reason, o.decided_at)
    review = Review(
        id=review_id, submission=submission, criteria_version=policy.criteria_version,
        required_approvals=policy.approvals.required_for(submission.eqf), round=round_number,
        status=ReviewStatus.OPEN, opened_at=now, due_at=now + timedelta(days=policy.due_days),
        previous_round=previous,
    )
    entry = _entry(review, "review.opened", SYSTEM_ACTOR, now, criteria_version=review.criteria_version,
                   required_approvals=review.required_approvals, due_at=review.due_at.isoformat(),
                   previous_review_id=previous.review_id if previous else None, cause=cause)
    return Change(review, (ReviewOpened(review),), (entry,), created=True)


def _require_open(review: Review) -> None:
    if review.status is not ReviewStatus.OPEN:
        assert review.outcome is not None
        raise ReviewRefused("review-decided", f"review {review.id} was decided ({review.outcome.decision}) "
                                              f"on {review.outcome.decided_at:%Y-%m-%d}; a decided review is final")


def _require_reviewer(review: Review, actor: Actor) -> None:
    if review.assignment_of(actor.subject) is None:
        raise NotAllowed("not-assigned", f"{actor.subject} is not assigned to review {review.id}")
    refuse_conflict_of_interest(actor.subject, actor.organisations, review.submission.provider_id)
    if review.verdict_of(actor.subject) is not None:
        raise ReviewRefused("verdict-given", f"{actor.subject} has already given a verdict in review {review.id}; "
                                             "a verdict is final")


def assign(review: Review, reviewer: Reviewer, *, by: str, now: datetime) -> Change:
    _require_open(review)
    if not reviewer.active:
        raise InvalidInput("reviewer-inactive", f"reviewer {reviewer.subject} is not active",
                           [Problem("reviewer", "inactive", f"reviewer {reviewer.subject} is not active")])
    refuse_conflict_of_interest(f"reviewer {reviewer.subject}", reviewer.organisations, review.submission.provider_id)
    if review.assignment_of(reviewer.subject) is not None:
        raise ReviewRefused("already-assigned", f"{reviewer.subject} is already assigned to review {review.id}")
    assigned = replace(review, assignments=(
        *review.assignments, Assignment(reviewer.subject, reviewer.display_name, now, by)))
    return Change(assigned, audit=(_entry(assigned, "reviewer.assigned", by, now, reviewer=reviewer.subject),))


def unassign(review: Review, subject: str, *, by: str, now: datetime) -> Change:
    _require_open(review)
    if review.assignment_of(subject) is None:
        raise ReviewRefused("not-assigned", f"{subject} is not assigned to review {review.id}")
    if review.verdict_of(subject) is not None:
        raise ReviewRefused("verdict-given", f"{subject} has given a verdict in review {review.id}; it stays")
    changed = replace(review, assignments=tuple(a for a in review.assignments if a.reviewer != subject),
                      checklists=tuple(c for c in review.checklists if c.reviewer != subject))
    return Change(changed, audit=(_entry(changed, "reviewer.unassigned", by, now, reviewer=subject),))


def record_checklist(review: Review, criteria: CriteriaSet, actor: Actor, items: Sequence[ChecklistItem], *,
                     now: datetime) -> Change:
    """Replace the actor's checklist with these marks (it may be incomplete: work in progress)."""
    _require_open(review)
    _require_reviewer(review, actor)
    problems = checklist_problems(criteria, items)
    if problems:
        raise InvalidInput("invalid-checklist", "; ".join(f"{p.field}: {p.message}" for p in problems), problems)
    order = {code: i for i, code in enumerate(criteria.codes)}
    marks = tuple(sorted((replace(i, comment=(i.comment or "").strip() or None) for i in items),
                         key=lambda i: order[i.criterion]))
    checklist = Checklist(actor.subject, marks, now)
    changed = replace(review, checklists=(*(c for c in review.checklists if c.reviewer != actor.subject), checklist))
    entry = _entry(changed, "checklist.recorded", actor.subject, now,
                   items=[{"criterion": i.criterion, "mark": i.mark.value, "comment": i.comment} for i in marks])
    return Change(changed, audit=(entry,))


def verdict_problems(review: Review, criteria: CriteriaSet, actor: Actor, decision: Decision,
                     comments: Sequence[str], reason: str | None) -> list[Problem]:
    problems: list[Problem] = []
    if decision is Decision.REQUEST_CHANGES and not any(c.strip() for c in comments):
        problems.append(Problem("comments", "comments_required",
                                "a request for changes needs at least one comment saying what to change"))
    if decision is Decision.REJECT and not (reason or "").strip():
        problems.append(Problem("reason", "reason_required", "a rejection needs a reason"))
    checklist = review.checklist_of(actor.subject)
    for code in unmarked(criteria, checklist):
        problems.append(Problem(f"checklist.{code}", "unmarked",
                                f"criterion {code!r} has no mark yet: a verdict needs a complete checklist "
                                f"(PUT /reviews/{review.id}/checklist)"))
    if decision is Decision.APPROVE and checklist is not None:
        for item in not_met(checklist):
            problems.append(Problem(f"checklist.{item.criterion}", "not_met",
                                    f"criterion {item.criterion!r} is marked not-met; an approval needs every "
                                    "criterion met or not applicable"))
    return problems


def give_verdict(review: Review, criteria: CriteriaSet, actor: Actor, decision: Decision, comments: Sequence[str],
                 reason: str | None, *, reviewing_body: str, now: datetime) -> Change:
    _require_open(review)
    _require_reviewer(review, actor)
    problems = verdict_problems(review, criteria, actor, decision, comments, reason)
    if problems:
        raise InvalidInput("invalid-verdict", "; ".join(f"{p.field}: {p.message}" for p in problems), problems)
    verdict = Verdict(actor.subject, decision, tuple(c.strip() for c in comments if c.strip()),
                      (reason or "").strip() or None, now)
    changed = replace(review, verdicts=(*review.verdicts, verdict))
    audit = [_entry(changed, "verdict.given", actor.subject, now, decision=decision.value,
                    comments=list(verdict.comments), reason=verdict.reason)]
    decided = decide(changed.verdicts, changed.required_approvals)
    if decided is None:
        return Change(changed, audit=tuple(audit))
    outcome = Outcome(
        decision=decided,
        comments=tuple(travelling_comments(changed.verdicts, changed.checklists, criteria)),
        reason=decision_reason(changed.verdicts),
        decided_at=now,
        reviewing_body=reviewing_body,
    )
    final = replace(changed, status=ReviewStatus.DECIDED, outcome=outcome)
    audit.append(_entry(final, "review.decided", SYSTEM_ACTOR, now, decision=decided.value,
                        comments=list(outcome.comments), reason=outcome.reason, approvals=final.approvals,
                        required_approvals=final.required_approvals, reviewing_body=reviewing_body))
    return Change(final, (ReviewDecided(final),), tuple(audit))
