"""The reviewer registry, kept by the quality board's administrators. A registry entry is never
deleted (the audit trail names its subjects); a reviewer who leaves is made inactive."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from mimis_platform.api_errors import ERROR_RESPONSES, Conflict, NotFound
from mimis_platform.auth import CurrentParty, Role
from services.quality.api.deps import StoreDep, decode_cursor, encode_cursor, now, require_role
from services.quality.api.models import ReviewerCreate, ReviewerPage, ReviewerPublic, ReviewerUpdate
from services.quality.domain.reviewers import Reviewer
from services.quality.storage import AlreadyExists, UnknownReviewer

router = APIRouter(prefix="/reviewers", tags=["reviewers"])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ReviewerPublic, responses=ERROR_RESPONSES,
             summary="Register a reviewer (quality-admin)")
async def register(body: ReviewerCreate, store: StoreDep, party: CurrentParty) -> ReviewerPublic:
    require_role(party, Role.QUALITY_ADMIN)
    at = now()
    reviewer = Reviewer(body.subject, body.display_name, tuple(dict.fromkeys(body.organisations)), body.active, at, at)
    try:
        return ReviewerPublic.of(await store.register_reviewer(reviewer, by=party.subject))
    except AlreadyExists as exc:
        raise Conflict(str(exc)) from exc


@router.get("", response_model=ReviewerPage, responses=ERROR_RESPONSES, summary="The registry, by subject")
async def list_reviewers(store: StoreDep, party: CurrentParty, cursor: str | None = None,
                         limit: Annotated[int, Query(ge=1, le=100)] = 50) -> ReviewerPage:
    require_role(party, Role.QUALITY_ADMIN)
    found = await store.list_reviewers(decode_cursor(cursor), limit + 1)
    page = found[:limit]
    return ReviewerPage(items=[ReviewerPublic.of(r) for r in page],
                        next_cursor=encode_cursor(page[-1].subject) if len(found) > limit else None)


@router.get("/{subject}", response_model=ReviewerPublic, responses={404: {}},
            summary="One reviewer (quality-admin, or the reviewer themself)")
async def get_reviewer(subject: str, store: StoreDep, party: CurrentParty) -> ReviewerPublic:
    if party.subject != subject:
        require_role(party, Role.QUALITY_ADMIN)
    reviewer = await store.reviewer(subject)
    if reviewer is None:
        raise NotFound(f"no registered reviewer {subject!r}")
    return ReviewerPublic.of(reviewer)


@router.put("/{subject}", response_model=ReviewerPublic, responses=ERROR_RESPONSES,
            summary="Change a reviewer's name, organisations or activity (quality-admin)")
async def update(subject: str, body: ReviewerUpdate, store: StoreDep, party: CurrentParty) -> ReviewerPublic:
    require_role(party, Role.QUALITY_ADMIN)
    try:
        reviewer = await store.update_reviewer(subject, body.display_name, tuple(dict.fromkeys(body.organisations)),
                                               body.active, by=party.subject, now=now())
    except UnknownReviewer as exc:
        raise NotFound(f"no registered reviewer {subject!r}") from exc
    return ReviewerPublic.of(reviewer)
