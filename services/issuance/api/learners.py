"""Learners: their credentials, downloads as JSON or JWS, and share links they control."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from mimis_platform.api_errors import ERROR_RESPONSES, NotFound
from mimis_platform.auth import CurrentParty
from services.issuance.api.deps import Gone, IssuerDep, learner_of, own_credential
from services.issuance.api.models import CredentialPage, CredentialSummary, ShareCreate, SharePublic
from services.issuance.issuer import now_utc
from services.issuance.keystore import utc
from services.issuance.storage import CredentialStore

router = APIRouter(prefix="/v1", tags=["learners"], responses=ERROR_RESPONSES)


def _share(doc: dict[str, object], store: CredentialStore) -> SharePublic:
    return SharePublic(token=str(doc["_id"]), url=store.share_link(str(doc["_id"])),
                       credential_id=str(doc["credential_id"]), created_at=utc(doc["created_at"]),  # type: ignore[arg-type]
                       expires_at=utc(doc["expires_at"]), withdrawn_at=utc(doc.get("withdrawn_at")))  # type: ignore[arg-type]


@router.get("/me/credentials", response_model=CredentialPage)
async def my_credentials(principal: CurrentParty, issuer: IssuerDep,
                         cursor: Annotated[str | None, Query(max_length=200)] = None,
                         limit: Annotated[int, Query(ge=1, le=200)] = 50) -> CredentialPage:
    learner = await learner_of(principal, issuer)
    if learner is None:
        return CredentialPage(items=[], next_cursor=None)
    docs = await issuer.store.page({"learner_ref": learner["_id"]}, cursor, limit + 1)
    return CredentialPage(items=[CredentialSummary.of(d) for d in docs[:limit]],
                          next_cursor=docs[limit - 1]["sort_key"] if len(docs) > limit else None)


@router.get("/me/credentials/{credential_id}/download", responses={200: {"content": {
    "application/vc+ld+json": {}, "application/vc+jwt": {}}}})
async def download(credential_id: str, principal: CurrentParty, issuer: IssuerDep,
                   format: Literal["json", "jws"] = "json") -> Response:
    """The signed credential: ``json`` (with a Data Integrity proof) or ``jws`` (VC-JOSE)."""
    _, doc = await own_credential(principal, issuer, credential_id)
    name = credential_id.rsplit(":", 1)[-1]
    if format == "jws":
        return PlainTextResponse(doc["jws"], media_type="application/vc+jwt",
                                 headers={"content-disposition": f'attachment; filename="{name}.jwt"'})
    return JSONResponse(await issuer.with_proof(doc), media_type="application/vc+ld+json",
                        headers={"content-disposition": f'attachment; filename="{name}.json"'})


@router.post("/me/credentials/{credential_id}/shares", status_code=201, response_model=SharePublic)
async def create_share(credential_id: str, body: ShareCreate, principal: CurrentParty,
                       issuer: IssuerDep) -> SharePublic:
    """A link anyone holding it may open until it expires or is withdrawn."""
    learner, doc = await own_credential(principal, issuer, credential_id)
    now = now_utc()
    share = await issuer.store.create_share(doc["_id"], learner["_id"], now + timedelta(days=body.expires_in_days),
                                            now, "learner")
    return _share(share, issuer.store)


@router.get("/me/credentials/{credential_id}/shares", response_model=list[SharePublic])
async def list_shares(credential_id: str, principal: CurrentParty, issuer: IssuerDep) -> list[SharePublic]:
    _, doc = await own_credential(principal, issuer, credential_id)
    return [_share(s, issuer.store) for s in await issuer.store.shares_of(doc["_id"])]


@router.delete("/me/shares/{token}", status_code=204)
async def withdraw_share(token: str, principal: CurrentParty, issuer: IssuerDep) -> Response:
    learner = await learner_of(principal, issuer)
    share = await issuer.store.share(token)
    if learner is None or share is None or share["learner_ref"] != learner["_id"]:
        raise NotFound("no such share link of yours")
    if not await issuer.store.withdraw_share(token, now_utc()):
        raise Gone("this share link was already withdrawn")
    return Response(status_code=204)
