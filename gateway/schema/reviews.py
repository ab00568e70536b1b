"""The quality board's work: the review queue, one review, and the decision commands.

Who sees what follows the quality service: the board (``quality-admin``) sees every review, a
reviewer their assignments, a provider's members their own reviews (outcome and comments only).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.schema.catalogue import Provider, ProviderKind
from gateway.schema.common import JSON, LocalizedText, PageInfo, ctx, page_size, parse_time
from gateway.services import seg
from mimis_platform.auth import Role

QUEUE_ROLES = (Role.QUALITY_ADMIN, Role.REVIEWER, Role.PROVIDER_MEMBER)


@strawberry.enum
class ReviewStatus(Enum):
    OPEN = "open"
    DECIDED = "decided"


@strawberry.enum(description="A reviewer's verdict, and the board's decision.")
class ReviewDecision(Enum):
    APPROVE = "approve"
    REQUEST_CHANGES = "request-changes"
    REJECT = "reject"


@strawberry.enum(description="A reviewer's mark for one criterion.")
class CriterionMark(Enum):
    MET = "met"
    NOT_MET = "not-met"
    NOT_APPLICABLE = "not-applicable"


@strawberry.type
class Assignment:
    reviewer: str
    display_name: str
    assigned_at: datetime


@strawberry.type
class ChecklistItem:
    criterion: str
    mark: CriterionMark
    comment: str | None


@strawberry.type
class Checklist:
    reviewer: str
    complete: bool
    unmarked: list[str]
    items: list[ChecklistItem]


@strawberry.type
class Verdict:
    reviewer: str
    decision: ReviewDecision
    comments: list[str]
    reason: str | None
    at: datetime


@strawberry.type(description="One review round of one submitted version.")
class Review:
    id: strawberry.ID
    micro_credential_id: strawberry.ID
    version: int
    round: int
    title: LocalizedText
    eqf_level: int
    branches: list[str]
    criteria_version: str
    status: str
    overdue: bool
    opened_at: datetime
    due_at: datetime
    required_approvals: int
    approvals: int
    decision: ReviewDecision | None
    decided_at: datetime | None
    comments: list[str] = strawberry.field(description="The decision's comments (they travel back to the provider).")
    reason: str | None
    reviewing_body: str | None
    content: JSON | None = strawberry.field(description="The submitted content; the board and assigned reviewers.")
    assignments: list[Assignment] | None = strawberry.field(description="The board and assigned reviewers.")
    checklists: list[Checklist] | None = strawberry.field(description="The board and assigned reviewers.")
    verdicts: list[Verdict] | None = strawberry.field(description="The board and assigned reviewers.")
    provider_id: strawberry.Private[str]
    provider_name: strawberry.Private[str]
    provider_kind: strawberry.Private[str]

    @classmethod
    def of(cls, b: dict[str, Any]) -> Review:
        def _list(name: str, make: Any) -> list[Any] | None:
            return [make(x) for x in b[name]] if b.get(name) is not None else None

        return cls(
            id=strawberry.ID(b["id"]), micro_credential_id=strawberry.ID(b["micro_credential_id"]),
            version=b["version"], round=b["round"],
            title=LocalizedText(sv=b["title"].get("sv", ""), en=b["title"].get("en")),
            eqf_level=b["eqf"], branches=b["branches"], criteria_version=b["criteria_version"], status=b["status"],
            overdue=b["overdue"], opened_at=parse_time(b["opened_at"]) or datetime.min,
            due_at=parse_time(b["due_at"]) or datetime.min, required_approvals=b["required_approvals"],
            approvals=b["approvals"], decision=ReviewDecision(b["decision"]) if b.get("decision") else None,
            decided_at=parse_time(b.get("decided_at")), comments=b.get("comments") or [], reason=b.get("reason"),
            reviewing_body=b.get("reviewing_body"), content=b.get("content"),
            assignments=_list("assignments", lambda a: Assignment(
                reviewer=a["reviewer"], display_name=a["display_name"],
                assigned_at=parse_time(a["assigned_at"]) or datetime.min)),
            checklists=_list("checklists", lambda c: Checklist(
                reviewer=c["reviewer"], complete=c["complete"], unmarked=c["unmarked"],
                items=[ChecklistItem(criterion=i["criterion"], mark=CriterionMark(i["mark"]), comment=i.get("comment"))
                       for i in c["items"]])),
            verdicts=_list("verdicts", lambda v: Verdict(
                reviewer=v["reviewer"], decision=ReviewDecision(v["decision"]), comments=v["comments"],
                reason=v.get("reason"), at=parse_time(v["at"]) or datetime.min)),
            provider_id=b["provider_id"], provider_name=b["provider_name"], provider_kind=b["provider_kind"],
        )

    @strawberry.field(description="The provider whose micro-credential is reviewed.")
    def provider(self) -> Provider:  # the review names it; more of it loads only when asked
        return Provider(id=strawberry.ID(self.provider_id), name=self.provider_name,
                        kind=ProviderKind(self.provider_kind))


@strawberry.type
class ReviewConnection:
    nodes: list[Review]
    page_info: PageInfo


@strawberry.input
class ChecklistMarkInput:
    criterion: str = strawberry.field(description="A criterion code of the review's criteria version.")
    mark: CriterionMark
    comment: str | None = strawberry.field(default=None, description="Required for NOT_MET.")


@strawberry.type(description="One criterion of the published review criteria.")
class Criterion:
    code: str
    principle: str
    title: LocalizedText
    guidance: LocalizedText


@strawberry.type(description="A published version of the review criteria (public).")
class CriteriaSet:
    version: str
    current: bool
    source: str
    criteria: list[Criterion]


@strawberry.type
class ReviewQuery:
    @strawberry.field(description="The review queue, most urgent first: all reviews for the board, a reviewer's "
                                  "assignments, a provider's own reviews for its members.")
    async def review_queue(self, info: Info, status: ReviewStatus | None = None, overdue: bool = False,
                           assigned_to_me: bool = False, micro_credential_id: strawberry.ID | None = None,
                           first: int | None = 20, after: str | None = None) -> ReviewConnection | None:
        c = ctx(info)
        c.identity.require(*QUEUE_ROLES)
        params: dict[str, Any] = {"limit": page_size(info, first), "overdue": overdue, "assigned_to_me": assigned_to_me}
        if status is not None:
            params["status"] = status.value
        if micro_credential_id is not None:
            params["micro_credential_id"] = str(micro_credential_id)
        if after:
            params["cursor"] = after
        page = await c.services.get("quality", "/reviews", token=c.token, params=params)
        end = page.get("next_cursor")
        return ReviewConnection(nodes=[Review.of(r) for r in page["items"]],
                                page_info=PageInfo(has_next_page=end is not None, end_cursor=end))

    @strawberry.field(description="One review.")
    async def review(self, info: Info, id: strawberry.ID) -> Review | None:
        c = ctx(info)
        c.identity.require(*QUEUE_ROLES)
        body = await c.services.get("quality", f"/reviews/{seg(id)}", token=c.token, missing_is_none=True)
        return Review.of(body) if body else None

    @strawberry.field(description="The published review criteria (the current version unless one is named).")
    async def review_criteria(self, info: Info, version: str | None = None) -> CriteriaSet | None:
        c = ctx(info)
        path = "/criteria" if version is None else f"/criteria/{seg(version)}"
        chosen = await c.services.get("quality", path, missing_is_none=True)
        if chosen is None:
            return None
        return CriteriaSet(version=chosen["version"], current=chosen["current"], source=chosen["source"],
                           criteria=[Criterion(code=k["code"], principle=k["principle"],
                                               title=LocalizedText(sv=k["title"]["sv"], en=k["title"]["en"]),
                                               guidance=LocalizedText(sv=k["guidance"]["sv"], en=k["guidance"]["en"]))
                                     for k in chosen["criteria"]])


@strawberry.type
class ReviewMutation:
    @strawberry.mutation(description="Assign a registered reviewer (the board); never one from the provider's "
                                     "own organisation.")
    async def assign_reviewer(self, info: Info, review_id: strawberry.ID, reviewer: str) -> Review | None:
        c = ctx(info)
        c.identity.require(Role.QUALITY_ADMIN)
        body = await c.services.call("quality", "POST", f"/reviews/{seg(review_id)}/assignments", token=c.token,
                                     json={"reviewer": reviewer})
        return Review.of(body)

    @strawberry.mutation(description="Record your checklist (assigned reviewers): one mark per criterion.")
    async def record_checklist(self, info: Info, review_id: strawberry.ID, marks: list[ChecklistMarkInput]
                               ) -> Review | None:
        c = ctx(info)
        c.identity.require(Role.REVIEWER)
        items = [{"criterion": m.criterion, "mark": m.mark.value, "comment": m.comment} for m in marks]
        body = await c.services.call("quality", "PUT", f"/reviews/{seg(review_id)}/checklist", token=c.token,
                                     json={"items": items})
        return Review.of(body)

    @strawberry.mutation(description="Give your verdict (assigned reviewers, complete checklist); the decision rule "
                                     "may decide the review.")
    async def give_verdict(self, info: Info, review_id: strawberry.ID, decision: ReviewDecision,
                           comments: list[str] | None = None, reason: str | None = None) -> Review | None:
        c = ctx(info)
        c.identity.require(Role.REVIEWER)
        body = await c.services.call("quality", "POST", f"/reviews/{seg(review_id)}/verdicts", token=c.token,
                                     json={"decision": decision.value, "comments": comments or [], "reason": reason})
        return Review.of(body)
