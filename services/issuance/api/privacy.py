"""Learners' rights (GDPR Art. 15, 17 and 20): export everything MIMIS holds about a learner,
and erase it across every service, by the learner or by an operator on the learner's behalf.

Erasure: issuance erases its own part and publishes ``privacy.learner.erasure-requested.v1`` in
one transaction; every other service holding learner data confirms on
``privacy.erasure-confirmations``; ``GET /v1/erasures/{id}`` reports who has confirmed. The fact
of issuance and each credential's status list entry remain, so a copy shown later still
verifies (or shows its revocation) honestly.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mimis_platform.api_errors import ERROR_RESPONSES, ApiError, FieldError, NotFound
from mimis_platform.auth import CurrentParty, Principal, Role
from mimis_platform.contracts import CONTRACTS
from mimis_platform.mongo import Document
from services.issuance.api.deps import IssuerDep, Unprocessable, learner_of, require_role
from services.issuance.api.models import ErasurePublic, LearnerFound, LearnerLookup
from services.issuance.domain.assessment import AssessmentRefused, pin_lookup
from services.issuance.domain.learner import normalise_email
from services.issuance.issuer import Issuer, now_utc
from services.issuance.personal_data import PartUnavailable, ServicePart, export

router = APIRouter(prefix="/v1", tags=["learners' rights"], responses=ERROR_RESPONSES)
LEARNER_REF = r"^lr-[0-9a-f]{32}$"
ERASURE_TOPIC = "privacy.erasures"


class ExportUnavailable(ApiError):
    status, code = 503, "export_incomplete"


def get_parts(request: Request) -> list[ServicePart]:
    parts: list[ServicePart] = request.app.state.export_parts
    return parts


PartsDep = Annotated[list[ServicePart], Depends(get_parts)]


def _requester(principal: Principal, issuer: Issuer) -> str:
    """Who asked, without keeping a learner's login identifier in clear (a keyed hash of it)."""
    digest = hmac.new(issuer.lookup_key, principal.subject.strip().encode(), hashlib.sha256).hexdigest()
    return f"subject:{digest}"


async def _erase(learner_ref: str, requested_by: str, requester: str, issuer: Issuer) -> JSONResponse:
    services = [s for s in CONTRACTS.topics.get(ERASURE_TOPIC).consumers if s != "issuance"]
    doc, _ = await issuer.store.request_erasure(learner_ref, requested_by, requester, services, now_utc())
    return JSONResponse(status_code=202, content=ErasurePublic.of(doc).model_dump(mode="json"),
                        headers={"location": f"/v1/erasures/{doc['_id']}"})


async def _own_learner(principal: Principal, issuer: Issuer) -> Document:
    learner = await learner_of(principal, issuer)
    if learner is None or learner.get("erased_at") is not None:
        raise NotFound("MIMIS holds no learner record for you (none was made, or it was erased)")
    return learner


@router.post("/me/erasure", status_code=202, response_model=ErasurePublic)
async def erase_me(principal: CurrentParty, issuer: IssuerDep) -> JSONResponse:
    """Erase your personal data in every MIMIS service. Your credentials stop being downloadable
    and your share links stop working; copies you gave away still verify honestly (the fact of
    issuance and the revocation status remain, without your name). Follow ``Location`` to see
    when every service has confirmed."""
    learner = await _own_learner(principal, issuer)
    return await _erase(str(learner["_id"]), "learner", _requester(principal, issuer), issuer)


@router.post("/learners/{learner_ref}/erasure", status_code=202, response_model=ErasurePublic)
async def erase_learner(learner_ref: str, principal: CurrentParty, issuer: IssuerDep) -> JSONResponse:
    """An operator erases a learner on the learner's (written) request. Role ``ops``. Asking again
    for an erased learner answers the earlier request."""
    require_role(principal, Role.OPS)
    _check_ref(learner_ref)
    if await issuer.store.learner(learner_ref) is None:
        raise NotFound(f"no learner {learner_ref}")
    return await _erase(learner_ref, "operator", f"operator:{principal.subject}", issuer)


@router.get("/erasures/{erasure_id}", response_model=ErasurePublic)
async def erasure(erasure_id: str, principal: CurrentParty, issuer: IssuerDep) -> ErasurePublic:
    """Which services have confirmed an erasure (``in_progress`` until every one has). For ops,
    and for the learner who asked."""
    doc = await issuer.store.erasure(erasure_id)
    allowed = doc is not None and (principal.has_role(Role.OPS) or (
        principal.has_role(Role.LEARNER) and hmac.compare_digest(str(doc.get("requester")),
                                                                 _requester(principal, issuer))))
    if doc is None or not allowed:
        raise NotFound(f"no erasure request {erasure_id} you may see")
    return ErasurePublic.of(doc)


@router.post("/learners/lookup", response_model=LearnerFound)
async def lookup(body: LearnerLookup, principal: CurrentParty, issuer: IssuerDep) -> LearnerFound:
    """An operator finds a learner's learner_ref by e-mail address or personal identity number
    (given by the learner in a request). Role ``ops``."""
    require_role(principal, Role.OPS)
    if (body.email is None) == (body.personal_identity_number is None):
        raise Unprocessable("give exactly one of email and personal_identity_number", [
            FieldError(field="email", message="give exactly one of email and personal_identity_number",
                       type="value_error")])
    if body.email is not None:
        doc = await issuer.store.learner_for_login(email=normalise_email(str(body.email)))
    else:
        try:
            value = pin_lookup(str(body.personal_identity_number), issuer.lookup_key)
        except AssessmentRefused as exc:
            raise Unprocessable(str(exc), [FieldError(field="personal_identity_number", message=str(exc),
                                                      type="value_error")]) from None
        doc = await issuer.store.learner_for_login(pin_lookup=value)
    if doc is None:
        raise NotFound("no learner with that identifier (never registered, or erased)")
    return LearnerFound(learner_ref=str(doc["_id"]), erased=doc.get("erased_at") is not None)


async def _export(learner_ref: str, issuer: Issuer, parts: list[ServicePart]) -> dict[str, Any]:
    try:
        return await export(learner_ref, issuer.store, parts, now_utc())
    except PartUnavailable as exc:
        raise ExportUnavailable(f"the export is not complete, so none is given: {exc}; try again shortly") from None


@router.get("/me/personal-data")
async def my_data(principal: CurrentParty, issuer: IssuerDep, parts: PartsDep) -> JSONResponse:
    """Everything MIMIS holds about you, from every service, as one JSON document (a download)."""
    learner = await _own_learner(principal, issuer)
    body = await _export(str(learner["_id"]), issuer, parts)
    return JSONResponse(body, headers={"content-disposition": 'attachment; filename="mimis-personal-data.json"'})


@router.get("/learners/{learner_ref}/personal-data")
async def learner_data(learner_ref: str, principal: CurrentParty, issuer: IssuerDep, parts: PartsDep) -> JSONResponse:
    """An operator's export for a learner who asked in writing. Role ``ops``."""
    require_role(principal, Role.OPS)
    _check_ref(learner_ref)
    if await issuer.store.learner(learner_ref) is None:
        raise NotFound(f"no learner {learner_ref}")
    return JSONResponse(await _export(learner_ref, issuer, parts))


def _check_ref(learner_ref: str) -> None:
    if not re.match(LEARNER_REF, learner_ref):
        raise Unprocessable("learner_ref is lr- followed by 32 hexadecimal digits", [
            FieldError(field="learner_ref", message="lr- followed by 32 hexadecimal digits", type="pattern")])
