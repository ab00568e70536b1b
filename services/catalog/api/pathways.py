"""Pathways: stackable sets of micro-credentials toward a role or a larger qualification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mimis_platform.api_errors import ERROR_RESPONSES, Conflict, FieldError, NotFound
from mimis_platform.auth import CurrentParty, Role
from services.catalog.api.deps import (
    StoreDep,
    UnprocessableContent,
    decode_cursor,
    encode_cursor,
    now,
    provider_or_404,
    require_member,
    require_role,
)
from services.catalog.domain.pathways import PathwayContent, progress
from services.catalog.storage import AlreadyExists, Pathway

router = APIRouter(prefix="/pathways", tags=["pathways"])


class PathwayCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
    owner_provider_id: str | None = Field(
        None, description="A provider that owns the pathway; none for the region's own."
    )
    content: PathwayContent


class PathwayPublic(BaseModel):
    id: str
    owner_provider_id: str | None
    content: PathwayContent
    created_at: datetime

    @classmethod
    def of(cls, p: Pathway) -> PathwayPublic:
        return cls(id=p.id, owner_provider_id=p.owner_provider_id, content=p.content, created_at=p.created_at)


class PathwayPage(BaseModel):
    items: list[PathwayPublic]
    next_cursor: str | None


class Holdings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    micro_credential_ids: list[str] = Field(max_length=500, description="Micro-credentials the learner holds.")


class ProgressPublic(BaseModel):
    earned: list[str]
    missing_required: list[str]
    still_needed: int
    complete: bool


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PathwayPublic,
    responses=ERROR_RESPONSES,
    summary="Describe a pathway of published micro-credentials (region administrators or the owner's members)",
)
async def create(body: PathwayCreate, store: StoreDep, party: CurrentParty) -> PathwayPublic:
    if body.owner_provider_id is None:
        require_role(party, Role.REGION_ADMIN)
    else:
        require_member(party, await provider_or_404(store, body.owner_provider_id))
    ids = body.content.micro_credential_ids
    published = await store.published_ids(ids)
    missing = [(i, m) for i, m in enumerate(ids) if m not in published]
    if missing:
        errors = [
            FieldError(
                field=f"content.micro_credential_ids.{i}",
                type="not_published",
                message=f"{m!r} is not a published micro-credential",
            )
            for i, m in missing
        ]
        raise UnprocessableContent("; ".join(e.message for e in errors), errors)
    pathway = Pathway(body.id, body.content, body.owner_provider_id, party.subject, now())
    try:
        await store.add_pathway(pathway)
    except AlreadyExists as exc:
        raise Conflict(str(exc)) from exc
    return PathwayPublic.of(pathway)


@router.get("", response_model=PathwayPage, summary="All pathways")
async def list_pathways(
    store: StoreDep, cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> PathwayPage:
    after = decode_cursor(cursor, "id")
    found = await store.list_pathways(after["id"] if after else None, limit + 1)
    page = found[:limit]
    return PathwayPage(
        items=[PathwayPublic.of(p) for p in page],
        next_cursor=encode_cursor({"id": page[-1].id}) if len(found) > limit else None,
    )


@router.get("/{pathway_id}", response_model=PathwayPublic, responses={404: {}}, summary="One pathway")
async def get_pathway(pathway_id: str, store: StoreDep) -> PathwayPublic:
    pathway = await store.pathway(pathway_id)
    if pathway is None:
        raise NotFound(f"no pathway with id {pathway_id!r}")
    return PathwayPublic.of(pathway)


@router.post(
    "/{pathway_id}/progress",
    response_model=ProgressPublic,
    responses=ERROR_RESPONSES,
    summary="Progress toward the pathway from the micro-credentials someone holds",
)
async def pathway_progress(pathway_id: str, body: Holdings, store: StoreDep) -> ProgressPublic:
    pathway = await store.pathway(pathway_id)
    if pathway is None:
        raise NotFound(f"no pathway with id {pathway_id!r}")
    result = progress(pathway.content, body.micro_credential_ids)
    return ProgressPublic(
        earned=result.earned,
        missing_required=result.missing_required,
        still_needed=result.still_needed,
        complete=result.complete,
    )
