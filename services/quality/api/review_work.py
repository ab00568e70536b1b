"""The board's work on a review: assigning reviewers (quality-admin), and each assigned
reviewer's checklist and verdict. Every command writes its audit entry in its own transaction;
a verdict that decides the review also writes the decision event there."""

from __future__ import annotations

from fastapi import APIRouter

from mimis_platform.api_errors import ERROR_RESPONSES, FieldError
from mimis_platform.auth import CurrentParty, Principal, Role
from services.quality.api.deps import (
    SettingsDep,
    StoreDep,
    Unprocessable,
    View,
    now,
    require_role,
    run_change,
)
from services.quality.api.models import AssignmentCreate, ChecklistPut, ReviewDetail, VerdictCreate
from services.quality.domain import review as rv
from services.quality.domain.checklist import ChecklistItem
from services.quality.domain.criteria import CriteriaSet, criteria_set
from services.quality.storage import QualityStore

router = APIRouter(prefix="/reviews/{review_id}", tags=["review work"])

CONFLICT_RESPONSES = {**ERROR_RESPONSES, 403: {}, 404: {}, 409: {}}


async def _actor(store: QualityStore, party: Principal) -> rv.Actor:
    """The acting reviewer with every organisation they belong to: the token's ``org`` claim and
    the registry's entry (either alone would let a conflict of interest slip through)."""
    registered = await store.reviewer(party.subject)
    organisations = set(party.organisations) | set(registered.organisations if registered else ())
    return rv.Actor(party.subject, frozenset(organisations))


def _criteria(review: rv.Review) -> CriteriaSet:
    found = criteria_set(review.criteria_version)
    if found is None:  # only if a published version were ever removed from the code
        raise RuntimeError(f"review {review.id} uses criteria version {review.criteria_version}, which is unknown")
    return found


@router.post("/assignments", response_model=ReviewDetail, responses=CONFLICT_RESPONSES,
             summary="Assign a registered reviewer (quality-admin); never one from the provider's organisation")
async def assign(review_id: str, body: AssignmentCreate, store: StoreDep, party: CurrentParty) -> ReviewDetail:
    require_role(party, Role.QUALITY_ADMIN)
    reviewer = await store.reviewer(body.reviewer)
    if reviewer is None:
        raise Unprocessable(f"{body.reviewer!r} is not a registered reviewer", [FieldError(
            field="reviewer", message="not in the reviewer registry (POST /reviewers)", type="unknown_reviewer")])
    at = now()
    change = await run_change(store, review_id, lambda r: rv.assign(r, reviewer, by=party.subject, now=at))
    return ReviewDetail.of_view(change.review, View.STAFF, at)


@router.delete("/assignments/{subject}", response_model=ReviewDetail, responses=CONFLICT_RESPONSES,
               summary="Withdraw a reviewer who has not given a verdict yet (quality-admin)")
async def unassign(review_id: str, subject: str, store: StoreDep, party: CurrentParty) -> ReviewDetail:
    require_role(party, Role.QUALITY_ADMIN)
    at = now()
    change = await run_change(store, review_id, lambda r: rv.unassign(r, subject, by=party.subject, now=at))
    return ReviewDetail.of_view(change.review, View.STAFF, at)


@router.put("/checklist", response_model=ReviewDetail, responses=CONFLICT_RESPONSES,
            summary="Record your checklist (assigned reviewers): one mark per criterion, a comment for not-met; "
                    "it may be incomplete until you give your verdict")
async def record_checklist(review_id: str, body: ChecklistPut, store: StoreDep, party: CurrentParty) -> ReviewDetail:
    require_role(party, Role.REVIEWER)
    actor, at = await _actor(store, party), now()
    items = [ChecklistItem(i.criterion, i.mark, i.comment) for i in body.items]
    change = await run_change(
        store, review_id, lambda r: rv.record_checklist(r, _criteria(r), actor, items, now=at))
    return ReviewDetail.of_view(change.review, View.STAFF, at)


@router.post("/verdicts", response_model=ReviewDetail, responses=CONFLICT_RESPONSES,
             summary="Give your verdict (assigned reviewers, complete checklist): approve, request-changes with "
                     "comments, or reject with a reason; the decision rule may decide the review")
async def give_verdict(review_id: str, body: VerdictCreate, store: StoreDep, settings: SettingsDep,
                       party: CurrentParty) -> ReviewDetail:
    require_role(party, Role.REVIEWER)
    actor, at = await _actor(store, party), now()
    change = await run_change(store, review_id, lambda r: rv.give_verdict(
        r, _criteria(r), actor, body.decision, body.comments, body.reason,
        reviewing_body=settings.reviewing_body, now=at))
    return ReviewDetail.of_view(change.review, View.STAFF, at)

