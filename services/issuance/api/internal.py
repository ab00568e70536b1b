"""Service-to-service and ops: the recipient look-up for notifications, signing-key rotation."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from mimis_platform.api_errors import ERROR_RESPONSES, NotFound
from mimis_platform.auth import CurrentParty, Role
from services.issuance.api.deps import IssuerDep, SettingsDep, require_role
from services.issuance.api.models import KeyPublic, Recipient

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)


@router.get("/internal/credentials/{credential_id}/recipient", response_model=Recipient, tags=["internal"],
            responses={410: {"description": "The learner's personal data was erased (`error`: `erased`)."}})
async def recipient(credential_id: str, principal: CurrentParty, issuer: IssuerDep,
                    settings: SettingsDep) -> Recipient | JSONResponse:
    """How to reach the learner of a credential right now (notifications asks at send time, so
    erased data is never used). Only for services (role ``service``)."""
    require_role(principal, Role.SERVICE)
    doc = await issuer.store.get(credential_id)
    if doc is None:
        raise NotFound(f"no credential {credential_id}")
    learner = await issuer.store.learner(doc["learner_ref"])
    if learner is None or learner.get("erased_at") is not None:
        return JSONResponse(status_code=410, content={
            "error": "erased", "message": "the learner's personal data was erased on request", "errors": []})
    return Recipient(learner_ref=learner["_id"], email=learner["email"], name=learner["name"],
                     language=learner.get("language", "sv"),
                     share_url=await issuer.share_url(doc, settings.share_link_days))


@router.get("/keys", response_model=list[KeyPublic], tags=["ops"])
async def keys(principal: CurrentParty, issuer: IssuerDep) -> list[KeyPublic]:
    require_role(principal, Role.OPS)
    return [KeyPublic(**vars(k)) for k in issuer.keys.describe(await issuer.keys.ring())]


@router.post("/keys/rotation", response_model=KeyPublic, status_code=201, tags=["ops"])
async def rotate(principal: CurrentParty, issuer: IssuerDep) -> KeyPublic:
    """A new active signing key; the previous one is retired but stays published, so everything
    it signed keeps verifying."""
    require_role(principal, Role.OPS)
    return KeyPublic(**vars(await issuer.keys.rotate()))
