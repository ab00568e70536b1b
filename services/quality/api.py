"""The quality service's HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from mimis_platform.api_errors import ErrorBody, NotFound
from services.quality.storage import QualityStore

router = APIRouter(prefix="/catalog-entries", tags=["catalog entries"])


def get_store(request: Request) -> QualityStore:
    store: QualityStore = request.app.state.quality_store
    return store


StoreDep = Annotated[QualityStore, Depends(get_store)]


class KnownVersionPublic(BaseModel):
    micro_credential_id: str
    version: int
    provider_id: str
    title_sv: str
    title_en: str | None
    drafted_at: datetime


@router.get("/{micro_credential_id}", response_model=list[KnownVersionPublic],
            responses={404: {"model": ErrorBody}},
            summary="The versions of a micro-credential the quality service has received from the catalog")
async def known_versions(micro_credential_id: str, store: StoreDep) -> list[KnownVersionPublic]:
    versions = await store.versions_of(micro_credential_id)
    if not versions:
        raise NotFound(f"the quality service has no record of micro-credential {micro_credential_id!r}")
    return [KnownVersionPublic(**v.__dict__) for v in versions]
