"""The catalog's HTTP API (thin: validation by pydantic, work by the domain and the store)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from pydantic import BaseModel

from mimis_platform.api_errors import ERROR_RESPONSES, ErrorBody, NotFound
from services.catalog.domain import DraftMicroCredential, LanguageMap, MicroCredentialVersion, draft_micro_credential
from services.catalog.storage import CatalogStore

router = APIRouter(prefix="/micro-credentials", tags=["micro-credentials"])


def get_store(request: Request) -> CatalogStore:
    store: CatalogStore = request.app.state.catalog_store
    return store


StoreDep = Annotated[CatalogStore, Depends(get_store)]


class MicroCredentialPublic(BaseModel):
    id: str
    version: int
    provider_id: str
    title: LanguageMap
    status: str
    created_at: datetime

    @classmethod
    def of(cls, v: MicroCredentialVersion) -> MicroCredentialPublic:
        return cls(id=v.id, version=v.version, provider_id=v.provider_id, title=v.title, status=v.status,
                   created_at=v.created_at)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=MicroCredentialPublic,
             responses=ERROR_RESPONSES, summary="Start a new micro-credential draft")
async def create_draft(command: DraftMicroCredential, store: StoreDep) -> MicroCredentialPublic:
    draft, drafted = draft_micro_credential(command, new_id=f"mc-{uuid.uuid4().hex[:16]}", now=datetime.now(UTC))
    await store.add_draft(draft, drafted)
    return MicroCredentialPublic.of(draft)


@router.get("/{micro_credential_id}", response_model=MicroCredentialPublic,
            responses={404: {"model": ErrorBody}}, summary="The latest version of a micro-credential")
async def get_micro_credential(micro_credential_id: str, store: StoreDep) -> MicroCredentialPublic:
    found = await store.get_latest(micro_credential_id)
    if found is None:
        raise NotFound(f"no micro-credential with id {micro_credential_id!r}")
    return MicroCredentialPublic.of(found)
