"""Micro-credentials: search, versions, and the provider's lifecycle commands.

Visibility: everyone sees published versions (and the superseded or retired ones, because
issued credentials point at them); a provider's members also see its drafts and the review
comments. Review states move only on the quality service's events.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mimis_platform.api_errors import ERROR_RESPONSES, Conflict, FieldError, NotFound
from mimis_platform.auth import CurrentParty, OptionalParty
from services.catalog.api.deps import (
    StoreDep,
    UnprocessableContent,
    check_vocabulary,
    decode_cursor,
    encode_cursor,
    is_member,
    now,
    provider_or_404,
    require_member,
)
from services.catalog.domain import lifecycle as lc
from services.catalog.domain.elm import ElmExportError, to_elm
from services.catalog.domain.model import MicroCredentialContent
from services.catalog.domain.search import SearchPage, SearchQuery
from services.catalog.storage import Provider

router = APIRouter(prefix="/micro-credentials", tags=["micro-credentials"])

PUBLIC_STATUSES = frozenset({lc.Status.PUBLISHED, lc.Status.SUPERSEDED, lc.Status.RETIRED})


class MicroCredentialCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    content: MicroCredentialContent


class NewVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: MicroCredentialContent | None = Field(None, description="Omit to start from the latest version's content.")


class Retirement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] | None = None


class ReviewPublic(BaseModel):
    review_id: str
    decision: str | None
    comments: list[str]
    reason: str | None
    criteria_version: str | None
    decided_at: datetime | None


class StatusChangePublic(BaseModel):
    status: str
    at: datetime


class VersionPublic(BaseModel):
    micro_credential_id: str
    version: int
    provider_id: str
    status: str
    content: MicroCredentialContent
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    history: list[StatusChangePublic]
    review: ReviewPublic | None = Field(None, description="The latest review outcome; shown to the provider's members.")

    @classmethod
    def of(cls, v: lc.MicroCredentialVersion, member: bool) -> VersionPublic:
        review = None
        if member and v.review is not None:
            r = v.review
            review = ReviewPublic(
                review_id=r.review_id,
                decision=r.decision.value if r.decision else None,
                comments=list(r.comments),
                reason=r.reason,
                criteria_version=r.criteria_version,
                decided_at=r.decided_at,
            )
        return cls(
            micro_credential_id=v.micro_credential_id,
            version=v.version,
            provider_id=v.provider_id,
            status=v.status.value,
            content=v.content,
            created_at=v.created_at,
            updated_at=v.updated_at,
            published_at=v.published_at,
            review=review,
            history=[StatusChangePublic(status=h.status.value, at=h.at) for h in v.history],
        )


class VersionPage(BaseModel):
    items: list[VersionPublic]
    next_cursor: str | None


def _find(versions: list[lc.MicroCredentialVersion], number: int) -> lc.MicroCredentialVersion:
    for v in versions:
        if v.version == number:
            return v
    raise NotFound(f"no version {number} of this micro-credential")


def _visible(versions: list[lc.MicroCredentialVersion], member: bool) -> list[lc.MicroCredentialVersion]:
    return versions if member else [v for v in versions if v.status in PUBLIC_STATUSES]


async def _run(store: StoreDep, micro_credential_id: str, party: CurrentParty, step: Any) -> lc.MicroCredentialVersion:
    """Run one lifecycle command for a member of the owning provider; map its refusals."""

    def decide(versions: list[lc.MicroCredentialVersion], provider: Provider) -> lc.Outcome:
        if not versions:
            raise NotFound(f"no micro-credential with id {micro_credential_id!r}")
        require_member(party, provider)
        outcome: lc.Outcome = step(versions)
        return outcome

    try:
        outcome = await store.change(micro_credential_id, decide)
    except lc.LifecycleError as exc:
        raise Conflict(exc.message, [FieldError(field="status", message=exc.message, type=exc.code)]) from exc
    return outcome.changed[0]


@router.get(
    "",
    response_model=SearchPage,
    responses=ERROR_RESPONSES,
    summary="Search the published catalogue: free text, filters, facets, cursor pages",
)
async def search(query: Annotated[SearchQuery, Query()], store: StoreDep) -> SearchPage:
    try:
        return await store.index.search(query)
    except ValueError as exc:  # an invalid or foreign cursor
        raise UnprocessableContent(
            str(exc), [FieldError(field="cursor", message=str(exc), type="invalid_cursor")]
        ) from exc


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionPublic,
    responses=ERROR_RESPONSES,
    summary="Start a new micro-credential (version 1, a draft)",
)
async def create(body: MicroCredentialCreate, store: StoreDep, party: CurrentParty) -> VersionPublic:
    provider = await provider_or_404(store, body.provider_id)
    require_member(party, provider)
    await check_vocabulary(store, body.content)
    new_id = f"mc-{uuid.uuid4().hex[:16]}"
    outcome = await store.change(
        new_id,
        lambda _versions, _provider: lc.start(new_id, provider.id, body.content, now=now(), by=party.subject),
        provider_id=provider.id,
    )
    return VersionPublic.of(outcome.changed[0], member=True)


@router.get(
    "/{micro_credential_id}",
    response_model=VersionPublic,
    responses={404: {}},
    summary="The published version (members: the latest version, whatever its status)",
)
async def get_current(micro_credential_id: str, store: StoreDep, party: OptionalParty) -> VersionPublic:
    versions = await store.versions_of(micro_credential_id)
    if versions:
        member = is_member(party, await provider_or_404(store, versions[0].provider_id))
        if member:
            return VersionPublic.of(versions[-1], member=True)
        published = [v for v in versions if v.status is lc.Status.PUBLISHED]
        if published:
            return VersionPublic.of(published[-1], member=False)
    raise NotFound(f"no published micro-credential with id {micro_credential_id!r}")


@router.get(
    "/{micro_credential_id}/versions",
    response_model=list[VersionPublic],
    responses={404: {}},
    summary="Every version you may see, oldest first",
)
async def list_versions(micro_credential_id: str, store: StoreDep, party: OptionalParty) -> list[VersionPublic]:
    versions = await store.versions_of(micro_credential_id)
    member = bool(versions) and is_member(party, await provider_or_404(store, versions[0].provider_id))
    visible = _visible(versions, member)
    if not visible:
        raise NotFound(f"no micro-credential with id {micro_credential_id!r}")
    return [VersionPublic.of(v, member) for v in visible]


@router.get(
    "/{micro_credential_id}/versions/{version}",
    response_model=VersionPublic,
    responses={404: {}},
    summary="One exact version (what an issued credential points at)",
)
async def get_version(micro_credential_id: str, version: int, store: StoreDep, party: OptionalParty) -> VersionPublic:
    versions = await store.versions_of(micro_credential_id)
    member = bool(versions) and is_member(party, await provider_or_404(store, versions[0].provider_id))
    found = [v for v in _visible(versions, member) if v.version == version]
    if not found:
        raise NotFound(f"no version {version} of micro-credential {micro_credential_id!r}")
    return VersionPublic.of(found[0], member)


@router.get(
    "/{micro_credential_id}/versions/{version}/elm",
    responses={404: {}, **ERROR_RESPONSES},
    summary="The version as European Learning Model (ELM v3) JSON-LD, as Europass uses it",
)
async def export_elm(micro_credential_id: str, version: int, store: StoreDep) -> dict[str, Any]:
    versions = await store.versions_of(micro_credential_id)
    found = [v for v in versions if v.version == version and v.status in PUBLIC_STATUSES]
    if not found:
        raise NotFound(f"no published version {version} of micro-credential {micro_credential_id!r}")
    provider = await provider_or_404(store, found[0].provider_id)
    try:
        return to_elm(found[0], provider.details, provider.id)
    except ElmExportError as exc:  # e.g. a language the ELM language list lacks
        raise UnprocessableContent(
            str(exc), [FieldError(field="content", message=str(exc), type="not_exportable")]
        ) from exc


@router.put(
    "/{micro_credential_id}/versions/{version}",
    response_model=VersionPublic,
    responses=ERROR_RESPONSES,
    summary="Edit a draft (or a version the quality board sent back)",
)
async def edit(
    micro_credential_id: str, version: int, content: MicroCredentialContent, store: StoreDep, party: CurrentParty
) -> VersionPublic:
    await check_vocabulary(store, content, prefix="")
    changed = await _run(
        store, micro_credential_id, party, lambda vs: lc.edit(_find(vs, version), content, now=now(), by=party.subject)
    )
    return VersionPublic.of(changed, member=True)


@router.post(
    "/{micro_credential_id}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionPublic,
    responses=ERROR_RESPONSES,
    summary="Start a new version after a published (or closed) one",
)
async def new_version(
    micro_credential_id: str, body: NewVersion, store: StoreDep, party: CurrentParty
) -> VersionPublic:
    if body.content is not None:
        await check_vocabulary(store, body.content)
    changed = await _run(
        store, micro_credential_id, party, lambda vs: lc.new_version(vs[-1], body.content, now=now(), by=party.subject)
    )
    return VersionPublic.of(changed, member=True)


@router.post(
    "/{micro_credential_id}/versions/{version}/submit",
    response_model=VersionPublic,
    responses=ERROR_RESPONSES,
    summary="Submit a draft to the quality board",
)
async def submit(micro_credential_id: str, version: int, store: StoreDep, party: CurrentParty) -> VersionPublic:
    changed = await _run(
        store, micro_credential_id, party, lambda vs: lc.submit(_find(vs, version), now=now(), by=party.subject)
    )
    return VersionPublic.of(changed, member=True)


@router.post(
    "/{micro_credential_id}/versions/{version}/retire",
    response_model=VersionPublic,
    responses=ERROR_RESPONSES,
    summary="Retire the published version (no more credentials against it)",
)
async def retire(
    micro_credential_id: str, version: int, body: Retirement, store: StoreDep, party: CurrentParty
) -> VersionPublic:
    changed = await _run(
        store,
        micro_credential_id,
        party,
        lambda vs: lc.retire(_find(vs, version), now=now(), by=party.subject, reason=body.reason),
    )
    return VersionPublic.of(changed, member=True)


provider_router = APIRouter(prefix="/providers", tags=["micro-credentials"])


@provider_router.get(
    "/{provider_id}/micro-credentials",
    response_model=VersionPage,
    responses=ERROR_RESPONSES,
    summary="A provider's own versions, drafts included (members only), most recently changed first",
)
async def of_provider(
    provider_id: str,
    store: StoreDep,
    party: CurrentParty,
    status_in: Annotated[list[lc.Status] | None, Query(alias="status")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> VersionPage:
    require_member(party, await provider_or_404(store, provider_id))
    after = decode_cursor(cursor, "at", "id")
    position = (datetime.fromisoformat(after["at"]), after["id"]) if after else None
    found = await store.by_provider(provider_id, [s.value for s in status_in or []], position, limit + 1)
    page = found[:limit]
    next_cursor = None
    if len(found) > limit:
        last = page[-1]
        next_cursor = encode_cursor(
            {"at": last.updated_at.isoformat(), "id": f"{last.micro_credential_id}:{last.version}"}
        )
    return VersionPage(items=[VersionPublic.of(v, member=True) for v in page], next_cursor=next_cursor)
