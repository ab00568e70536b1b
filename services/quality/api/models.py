"""The quality API's request and response models (one family per resource)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.quality.api.deps import View
from services.quality.domain import review as rv
from services.quality.domain.checklist import Mark, unmarked
from services.quality.domain.criteria import CriteriaSet, Criterion, criteria_set
from services.quality.domain.decision import Decision
from services.quality.domain.reviewers import Reviewer

Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
OrganisationId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- criteria ---------------------------------------------------------------------------------


class TextPublic(BaseModel):
    sv: str
    en: str


class CriterionPublic(BaseModel):
    code: str
    principle: str = Field(description="The principle of Annex II of the Council Recommendation 2022/C 243/02.")
    title: TextPublic
    guidance: TextPublic

    @classmethod
    def of(cls, c: Criterion) -> CriterionPublic:
        return cls(code=c.code, principle=c.principle, title=TextPublic(sv=c.title.sv, en=c.title.en),
                   guidance=TextPublic(sv=c.guidance.sv, en=c.guidance.en))


class CriteriaSetPublic(BaseModel):
    version: str
    published_on: date
    source: str
    current: bool = Field(description="Whether new reviews use this version.")
    criteria: list[CriterionPublic]

    @classmethod
    def of(cls, s: CriteriaSet, current: bool) -> CriteriaSetPublic:
        return cls(version=s.version, published_on=s.published_on, source=s.source, current=current,
                   criteria=[CriterionPublic.of(c) for c in s.criteria])


# --- reviewers --------------------------------------------------------------------------------


class ReviewerUpdate(Strict):
    display_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    organisations: list[OrganisationId] = Field(
        default_factory=list, max_length=20,
        description="Organisation ids (as the catalog names providers) the person works for or represents; "
                    "they are never assigned those organisations' reviews.")
    active: bool = True


class ReviewerCreate(ReviewerUpdate):
    subject: Subject = Field(description="The person's subject in the identity provider's tokens.")


class ReviewerPublic(BaseModel):
    subject: str
    display_name: str
    organisations: list[str]
    active: bool
    registered_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, r: Reviewer) -> ReviewerPublic:
        return cls(subject=r.subject, display_name=r.display_name, organisations=list(r.organisations),
                   active=r.active, registered_at=r.registered_at, updated_at=r.updated_at)


class ReviewerPage(BaseModel):
    items: list[ReviewerPublic]
    next_cursor: str | None


# --- review work ------------------------------------------------------------------------------


class AssignmentCreate(Strict):
    reviewer: Subject = Field(description="The subject of a registered reviewer.")


class ChecklistItemIn(Strict):
    criterion: str = Field(description="A criterion code of the review's criteria version.")
    mark: Mark
    comment: Annotated[str, StringConstraints(max_length=5000)] | None = Field(
        None, description="Required when the mark is not-met: what is missing, for the provider to act on.")


class ChecklistPut(Strict):
    items: list[ChecklistItemIn] = Field(max_length=100)


class VerdictCreate(Strict):
    decision: Decision
    comments: list[Comment] = Field(default_factory=list, max_length=20,
                                    description="Required for request-changes; they travel back to the provider.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] | None = Field(
        None, description="Required for reject.")


# --- reviews ----------------------------------------------------------------------------------


class PreviousRoundPublic(BaseModel):
    review_id: str
    round: int
    decision: str
    comments: list[str]
    reason: str | None
    decided_at: datetime


class AssignmentPublic(BaseModel):
    reviewer: str
    display_name: str
    assigned_at: datetime


class ChecklistItemPublic(BaseModel):
    criterion: str
    mark: Mark
    comment: str | None


class ChecklistPublic(BaseModel):
    reviewer: str
    updated_at: datetime
    complete: bool
    unmarked: list[str]
    items: list[ChecklistItemPublic]


class VerdictPublic(BaseModel):
    reviewer: str
    decision: str
    comments: list[str]
    reason: str | None
    at: datetime


class ReviewSummary(BaseModel):
    """What every reader of a review may see, the provider's members included."""

    id: str
    micro_credential_id: str
    version: int
    round: int
    provider_id: str
    provider_name: str
    provider_kind: str
    title: dict[str, str]
    eqf: int
    branches: list[str]
    criteria_version: str
    status: str
    overdue: bool
    opened_at: datetime
    due_at: datetime
    required_approvals: int
    approvals: int
    decision: str | None
    decided_at: datetime | None
    comments: list[str] = Field(description="The decision's comments (they travel back to the provider).")
    reason: str | None
    reviewing_body: str | None

    @classmethod
    def fields_of(cls, r: rv.Review, at: datetime) -> dict[str, Any]:
        s, o = r.submission, r.outcome
        return dict(
            id=r.id, micro_credential_id=s.micro_credential_id, version=s.version, round=r.round,
            provider_id=s.provider_id, provider_name=s.provider_name, provider_kind=s.provider_kind,
            title=dict(s.title), eqf=s.eqf, branches=list(s.branches), criteria_version=r.criteria_version,
            status=r.status.value, overdue=r.is_overdue(at), opened_at=r.opened_at, due_at=r.due_at,
            required_approvals=r.required_approvals, approvals=r.approvals,
            decision=o.decision.value if o else None, decided_at=o.decided_at if o else None,
            comments=list(o.comments) if o else [], reason=o.reason if o else None,
            reviewing_body=o.reviewing_body if o else None,
        )

    @classmethod
    def of(cls, r: rv.Review, at: datetime) -> ReviewSummary:
        return cls(**cls.fields_of(r, at))


class ReviewDetail(ReviewSummary):
    previous_round: PreviousRoundPublic | None = Field(
        None, description="The previous round's decision and comments, when this round reviews a resubmission.")
    content: dict[str, Any] | None = Field(None, description="The submitted content (board and reviewers only).")
    assignments: list[AssignmentPublic] | None = Field(None, description="Board and reviewers only.")
    checklists: list[ChecklistPublic] | None = Field(None, description="Board and reviewers only.")
    verdicts: list[VerdictPublic] | None = Field(None, description="Board and reviewers only.")

    @classmethod
    def of_view(cls, r: rv.Review, view: View, at: datetime) -> ReviewDetail:
        fields = cls.fields_of(r, at)
        p = r.previous_round
        if p is not None:
            fields["previous_round"] = PreviousRoundPublic(
                review_id=p.review_id, round=p.round, decision=p.decision.value, comments=list(p.comments),
                reason=p.reason, decided_at=p.decided_at)
        if view is View.STAFF:
            criteria = criteria_set(r.criteria_version)
            fields.update(
                content=dict(r.submission.content),
                assignments=[AssignmentPublic(reviewer=a.reviewer, display_name=a.display_name,
                                              assigned_at=a.assigned_at) for a in r.assignments],
                checklists=[
                    ChecklistPublic(
                        reviewer=c.reviewer, updated_at=c.updated_at,
                        unmarked=(missing := unmarked(criteria, c) if criteria else []), complete=not missing,
                        items=[ChecklistItemPublic(criterion=i.criterion, mark=i.mark, comment=i.comment)
                               for i in c.items])
                    for c in r.checklists],
                verdicts=[VerdictPublic(reviewer=v.reviewer, decision=v.decision.value, comments=list(v.comments),
                                        reason=v.reason, at=v.at) for v in r.verdicts],
            )
        return cls(**fields)


class ReviewPage(BaseModel):
    items: list[ReviewSummary]
    next_cursor: str | None


class AuditEntryPublic(BaseModel):
    action: str
    actor: str = Field(description="A person's subject, or 'quality' for what the service did on an event.")
    at: datetime
    review_id: str | None
    micro_credential_id: str | None
    version: int | None
    round: int | None
    details: dict[str, Any]

    @classmethod
    def of(cls, e: rv.AuditEntry) -> AuditEntryPublic:
        return cls(action=e.action, actor=e.actor, at=e.at, review_id=e.review_id,
                   micro_credential_id=e.micro_credential_id, version=e.version, round=e.round,
                   details=dict(e.details))


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    next_cursor: str | None
