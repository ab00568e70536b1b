"""Providers: registration, details and members."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from mimis_platform.api_errors import ERROR_RESPONSES, Conflict, Forbidden, NotFound
from mimis_platform.auth import CurrentParty, OptionalParty, Role
from services.catalog.api.deps import (
    StoreDep,
    decode_cursor,
    encode_cursor,
    is_member,
    now,
    provider_or_404,
    require_member,
    require_role,
)
from services.catalog.domain.model import ProviderDetails
from services.catalog.storage import AlreadyExists, Provider

router = APIRouter(prefix="/providers", tags=["providers"])
ProviderId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]


class ProviderCreate(ProviderDetails):
    id: ProviderId = Field(description="A short, stable, readable id (lower-case letters, digits, '-').")


class ProviderPublic(BaseModel):
    id: str
    details: ProviderDetails
    members: list[str] | None = Field(None, description="Shown to the provider's own members only.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, p: Provider, show_members: bool) -> ProviderPublic:
        return cls(id=p.id, details=p.details, members=list(p.members) if show_members else None,
                   created_at=p.created_at, updated_at=p.updated_at)


class ProviderPage(BaseModel):
    items: list[ProviderPublic]
    next_cursor: str | None


class MemberChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subject: Annotated[str, StringConstraints(min_length=1, max_length=200)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProviderPublic, responses=ERROR_RESPONSES,
             summary="Register a provider (you become its first member)")
async def register(body: ProviderCreate, store: StoreDep, party: CurrentParty) -> ProviderPublic:
    require_role(party, Role.PROVIDER_MEMBER, Role.REGION_ADMIN)
    details = ProviderDetails.model_validate(body.model_dump(exclude={"id"}))
    try:
        provider = await store.register_provider(body.id, details, party.subject, now())
    except AlreadyExists as exc:
        raise Conflict(str(exc)) from exc
    return ProviderPublic.of(provider, show_members=True)


@router.get("", response_model=ProviderPage, summary="All providers, by id (or only those named by `id`)")
async def list_providers(store: StoreDep, party: OptionalParty, cursor: str | None = None,
                         limit: Annotated[int, Query(ge=1, le=100)] = 50,
                         ids: Annotated[list[str] | None, Query(alias="id", max_length=100, description=(
                             "Only these providers (repeat the parameter); lets a client fetch a page's "
                             "providers in one call."))] = None) -> ProviderPage:
    after = decode_cursor(cursor, "id")
    found = await store.list_providers(after["id"] if after else None, limit + 1, only=ids)
    page = found[:limit]
    return ProviderPage(items=[ProviderPublic.of(p, is_member(party, p)) for p in page],
                        next_cursor=encode_cursor({"id": page[-1].id}) if len(found) > limit else None)


@router.get("/{provider_id}", response_model=ProviderPublic, responses={404: {}}, summary="One provider")
async def get_provider(provider_id: str, store: StoreDep, party: OptionalParty) -> ProviderPublic:
    provider = await provider_or_404(store, provider_id)
    return ProviderPublic.of(provider, is_member(party, provider))


@router.put("/{provider_id}", response_model=ProviderPublic, responses=ERROR_RESPONSES,
            summary="Change a provider's details (members only)")
async def update(provider_id: str, details: ProviderDetails, store: StoreDep, party: CurrentParty) -> ProviderPublic:
    require_member(party, await provider_or_404(store, provider_id))
    return ProviderPublic.of(await store.update_provider(provider_id, details, now()), show_members=True)


@router.post("/{provider_id}/members", response_model=ProviderPublic, responses=ERROR_RESPONSES,
             summary="Let another person act for the provider (members only)")
async def add_member(provider_id: str, body: MemberChange, store: StoreDep, party: CurrentParty) -> ProviderPublic:
    require_member(party, await provider_or_404(store, provider_id))
    return ProviderPublic.of(await store.set_members(provider_id, add=body.subject), show_members=True)


@router.delete("/{provider_id}/members/{subject}", response_model=ProviderPublic, responses=ERROR_RESPONSES,
               summary="Stop a person acting for the provider (members only; not the last one)")
async def remove_member(provider_id: str, subject: str, store: StoreDep, party: CurrentParty) -> ProviderPublic:
    provider = await provider_or_404(store, provider_id)
    require_member(party, provider)
    if subject not in provider.members:
        raise NotFound(f"{subject!r} is not a member of {provider_id!r}")
    if len(provider.members) == 1:
        raise Forbidden("a provider keeps at least one member")
    return ProviderPublic.of(await store.set_members(provider_id, remove=subject), show_members=True)
