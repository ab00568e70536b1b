"""The region's lists: branches of industry, target groups, pilots (extendable by the region)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, StringConstraints

from mimis_platform.api_errors import ERROR_RESPONSES, Conflict
from mimis_platform.auth import CurrentParty, Role
from services.catalog.api.deps import StoreDep, require_role
from services.catalog.domain.model import Code
from services.catalog.domain.vocabulary import Term, VocabularyKind
from services.catalog.storage import AlreadyExists

router = APIRouter(prefix="/vocabularies", tags=["vocabularies"])
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class TermPublic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code
    sv: Label
    en: Label


@router.get(
    "/{kind}", response_model=list[TermPublic], summary="The codes of one list, with Swedish and English labels"
)
async def terms(kind: VocabularyKind, store: StoreDep) -> list[TermPublic]:
    return [TermPublic(code=t.code, sv=t.sv, en=t.en) for t in await store.terms(kind)]


@router.post(
    "/{kind}",
    status_code=status.HTTP_201_CREATED,
    response_model=TermPublic,
    responses=ERROR_RESPONSES,
    summary="Add a code to a list (region administrators)",
)
async def add_term(kind: VocabularyKind, body: TermPublic, store: StoreDep, party: CurrentParty) -> TermPublic:
    require_role(party, Role.REGION_ADMIN)
    try:
        await store.add_term(Term(kind, body.code, body.sv, body.en))
    except AlreadyExists as exc:
        raise Conflict(str(exc)) from exc
    return body
