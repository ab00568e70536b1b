"""Reading reviews: the queue, one review, and its audit trail (which no route can change)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query

from mimis_platform.api_errors import ERROR_RESPONSES, Forbidden
from mimis_platform.auth import CurrentParty, Role
from services.quality.api.deps import (
    StoreDep,
    View,
    decode_cursor,
    encode_cursor,
    now,
    require_role,
    require_view,
    review_or_404,
)
from services.quality.api.models import AuditEntryPublic, AuditPage, ReviewDetail, ReviewPage, ReviewSummary
from services.quality.documents import queue_key
from services.quality.domain.review import ReviewStatus
from services.quality.storage import QueueFilter

router = APIRouter(prefix="/reviews", tags=["reviews"])


@router.get(
    "", response_model=ReviewPage, responses=ERROR_RESPONSES,
    summary="The review queue, most urgent first: a reviewer's own assignments, all reviews for the board, "
            "a provider's own reviews for its members",
)
async def queue(
    store: StoreDep,
    party: CurrentParty,
    status: ReviewStatus | None = None,
    overdue: Annotated[bool, Query(description="Only open reviews past their due date.")] = False,
    assigned_to_me: Annotated[bool, Query(description="Only reviews assigned to you (reviewers).")] = False,
    micro_credential_id: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ReviewPage:
    at = now()
    which = QueueFilter(status=status, overdue_at=at if overdue else None, micro_credential_id=micro_credential_id)
    if assigned_to_me:
        require_role(party, Role.REVIEWER)
        which = replace(which, assigned_to=party.subject)
    elif party.has_role(Role.QUALITY_ADMIN):
        pass
    elif party.has_role(Role.REVIEWER):
        which = replace(which, assigned_to=party.subject)
    elif party.has_role(Role.PROVIDER_MEMBER):
        which = replace(which, provider_ids=party.organisations)
    else:
        raise Forbidden("reviews are for the quality board, its reviewers and the reviewed providers' members")
    found = await store.queue(which, decode_cursor(cursor), limit + 1)
    page = found[:limit]
    return ReviewPage(items=[ReviewSummary.of(r, at) for r in page],
                      next_cursor=encode_cursor(queue_key(page[-1])) if len(found) > limit else None)


@router.get("/{review_id}", response_model=ReviewDetail, responses={404: {}, 403: {}},
            summary="One review; its members see the outcome and comments, the board and reviewers everything")
async def get_review(review_id: str, store: StoreDep, party: CurrentParty) -> ReviewDetail:
    review = await review_or_404(store, review_id)
    return ReviewDetail.of_view(review, require_view(review, party), now())


@router.get("/{review_id}/audit", response_model=AuditPage, responses={404: {}, 403: {}},
            summary="Every action on the review, oldest first (the board and the assigned reviewers); "
                    "append-only: nothing here can be changed or deleted")
async def audit(review_id: str, store: StoreDep, party: CurrentParty, cursor: str | None = None,
                limit: Annotated[int, Query(ge=1, le=200)] = 100) -> AuditPage:
    review = await review_or_404(store, review_id)
    if require_view(review, party) is not View.STAFF:
        raise Forbidden("the audit trail is for the quality board and the assigned reviewers")
    found = await store.audit.for_review(review_id, decode_cursor(cursor), limit + 1)
    page = found[:limit]
    return AuditPage(items=[AuditEntryPublic.of(e) for _, e in page],
                     next_cursor=encode_cursor(page[-1][0]) if len(found) > limit else None)
