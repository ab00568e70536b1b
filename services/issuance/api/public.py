"""Anyone: the issuer's DID document and JWKS, status lists, shared credentials, verification."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from mimis_platform.api_errors import ERROR_RESPONSES, NotFound
from services.issuance.api.deps import Gone, IssuerDep
from services.issuance.api.models import (
    CheckOut,
    Count,
    IssuedStatisticsOut,
    VerifyRequest,
    VerifyResult,
    status_of,
)
from services.issuance.domain.statistics import issued_statistics
from services.issuance.domain.status_list import StatusPurpose
from services.issuance.issuer import Issuer, now_utc
from services.issuance.keystore import utc

router = APIRouter(tags=["public"], responses=ERROR_RESPONSES)


@router.get("/.well-known/did.json", response_class=JSONResponse)
async def did_document(issuer: IssuerDep) -> JSONResponse:
    """The ``did:web`` DID document: every published key (active and retired) as a Multikey."""
    ring = await issuer.keys.ring()
    return JSONResponse(ring.did_document(), media_type="application/did+json",
                        headers={"cache-control": "public, max-age=300"})


@router.get("/.well-known/jwks.json", response_class=JSONResponse)
async def jwks(issuer: IssuerDep) -> JSONResponse:
    """The same keys as a JWK Set; each ``kid`` is the verification method a JWS header names."""
    ring = await issuer.keys.ring()
    return JSONResponse(ring.jwks(), media_type="application/jwk-set+json",
                        headers={"cache-control": "public, max-age=300"})


@router.get("/v1/status-lists/{number}", response_class=JSONResponse)
async def status_list(number: int, issuer: IssuerDep) -> JSONResponse:
    """The signed BitstringStatusListCredential (revocation) with this number."""
    return await _signed_list(issuer, number, StatusPurpose.REVOCATION)


@router.get("/v1/status-lists/{number}/suspension", response_class=JSONResponse)
async def suspension_list(number: int, issuer: IssuerDep) -> JSONResponse:
    """The signed BitstringStatusListCredential (suspension) with this number: the same indexes as
    revocation list *number*, a set bit meaning suspended now (cleared again on reinstatement)."""
    return await _signed_list(issuer, number, StatusPurpose.SUSPENSION)


async def _signed_list(issuer: Issuer, number: int, purpose: StatusPurpose) -> JSONResponse:
    signed = await issuer.status_list(number, purpose)
    if signed is None:
        raise NotFound(f"no {purpose.value} status list {number}")
    return JSONResponse(signed, media_type="application/vc+ld+json", headers={"cache-control": "public, max-age=60"})


@router.get("/v1/shared/{token}")
async def shared(token: str, issuer: IssuerDep) -> dict[str, Any]:
    """A credential its learner shared: the JSON (with Data Integrity proof), the JWS and its status."""
    share = await issuer.store.share(token)
    if share is None:
        raise NotFound("no such share link")
    if share.get("withdrawn_at") is not None:
        raise Gone("the learner withdrew this share link")
    expires = utc(share["expires_at"])
    if expires is not None and expires <= now_utc():
        raise Gone("this share link has expired")
    doc = await issuer.store.get(share["credential_id"])
    if doc is None or doc.get("erased"):
        raise Gone("this credential is no longer shared")
    return {"credential_id": doc["_id"], "status": status_of(doc), "expires_at": expires,
            "credential": await issuer.with_proof(doc), "jws": doc["jws"]}


@router.get("/v1/statistics", response_model=IssuedStatisticsOut)
async def statistics(issuer: IssuerDep, response: Response) -> IssuedStatisticsOut:
    """Issued credentials by branch, provider kind, EQF level and issue month, with the total and how
    many are revoked (regional statistics; aggregate counts only, never anything about a learner)."""
    groups = await issuer.store.issued_groups()
    facts = await issuer.catalogue.facts((g.micro_credential_id, g.version) for g in groups)
    s = issued_statistics(groups, facts)
    response.headers["cache-control"] = "public, max-age=60"

    def counts(values: list[tuple[str, int]]) -> list[Count]:
        return [Count(key=k, count=n) for k, n in values]

    return IssuedStatisticsOut(generated_at=now_utc(), issued=s.issued, revoked=s.revoked,
                               by_branch=counts(s.by_branch), by_provider_kind=counts(s.by_provider_kind),
                               by_level=counts(s.by_level), by_month=counts(s.by_month))


@router.post("/v1/verify", response_model=VerifyResult)
async def verify(body: VerifyRequest, issuer: IssuerDep) -> VerifyResult:
    """Check a credential as presented (a compact JWS, or JSON with a Data Integrity proof): the
    signature, that the key is the issuer's and the issuer one MIMIS trusts, the validity period,
    its status in each of its status lists (revoked or suspended, with the provider's reason), and
    that its catalogue version exists."""
    result, _ = await issuer.verify(body.credential)
    checks = [CheckOut(**c.as_dict()) for c in result.verification.checks]
    credential = result.credential
    return VerifyResult(
        verified=result.verified, verdict="valid" if result.verified else "invalid",
        credential_id=credential.get("id") if isinstance(credential, dict) and isinstance(credential.get("id"), str)
        else None,
        checks=checks, reasons=[f"{c.check}: {c.reason}" for c in checks if not c.ok])
