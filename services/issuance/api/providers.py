"""Provider staff: issue one credential or a CSV file of them, list and read their
organisation's credentials, revoke, suspend and reinstate, and manage the secret their systems
sign events with."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import JSONResponse

from mimis_platform.api_errors import ERROR_RESPONSES, ApiError, Conflict, ErrorBody, FieldError, NotFound
from mimis_platform.auth import CurrentParty, Role
from mimis_platform.mongo import Document
from services.issuance.api.deps import (
    IssuerDep,
    SecretsDep,
    Unprocessable,
    learner_of,
    require_provider_member,
    require_role,
)
from services.issuance.api.models import (
    BulkResult,
    CredentialCreate,
    CredentialFull,
    CredentialPage,
    CredentialSummary,
    LearnerIn,
    LearnerRegistration,
    RegisteredLearner,
    RegistrationResult,
    Revocation,
    RowResult,
    SecretIssued,
    Suspension,
)
from services.issuance.catalogue import NotIssuable
from services.issuance.domain.assessment import AssessmentRefused, IssueCommand, LearnerData, learner_of_request
from services.issuance.issuer import FileRefused, now_utc
from services.issuance.storage import (
    AlreadyRevoked,
    AlreadySuspended,
    CredentialRevoked,
    NotSuspendable,
    NotSuspended,
    UnknownCredential,
)

router = APIRouter(prefix="/v1", tags=["provider staff"], responses=ERROR_RESPONSES)
MAX_FILE_BYTES = 5 * 1024 * 1024


class NotIssuableError(ApiError):
    status, code = 422, "not_issuable"


class NotSuspendableError(ApiError):
    status, code = 422, "not_suspendable"


class AlreadySuspendedError(Conflict):
    code = "already_suspended"


class NotSuspendedError(Conflict):
    code = "not_suspended"


class RevokedError(Conflict):
    code = "revoked"


@router.post("/providers/{provider_id}/credentials", status_code=201, response_model=CredentialSummary)
async def issue_one(provider_id: str, body: CredentialCreate, principal: CurrentParty,
                    issuer: IssuerDep) -> CredentialSummary:
    """Issue one credential to one learner for a published version of one of the provider's
    micro-credentials. The learner gets it signed (JWS now, Data Integrity proof on first download)."""
    require_provider_member(principal, provider_id)
    try:
        command = IssueCommand(
            provider_id=provider_id, micro_credential_id=body.micro_credential_id, version=body.version,
            learner=_learner(body.learner, issuer.lookup_key),
            assessed_on=body.assessed_on, grade=body.grade, evidence_url=body.evidence_url)
        issued = await issuer.issue_one(command)
    except (AssessmentRefused, NotIssuable) as exc:
        raise NotIssuableError(str(exc)) from None
    doc = await issuer.store.get(issued.credential_id)
    assert doc is not None
    return CredentialSummary.of(doc)


def _learner(body: LearnerIn, lookup_key: bytes) -> LearnerData:
    return learner_of_request(body.name, str(body.email), body.language, body.date_of_birth,
                              body.personal_identity_number, lookup_key=lookup_key)


@router.post("/providers/{provider_id}/learners", response_model=RegistrationResult,
             responses={422: {"model": RegistrationResult}})
async def register_learners(provider_id: str, body: LearnerRegistration, principal: CurrentParty,
                            issuer: IssuerDep) -> JSONResponse:
    """Register the learners your system will name in its assessment events, and get each one's
    ``learner_ref``, the pseudonym that ``provider.assessment.recorded.v2`` carries instead of any
    personal data. The same e-mail address always gives the same learner_ref (the name, language,
    date of birth and personal identity number look-up value are brought up to date), so calling
    again is safe. All are registered or, if any row fails, none (422 says why per row)."""
    require_provider_member(principal, provider_id)
    people: list[LearnerData] = []
    rows: list[RegisteredLearner] = []
    for row, learner in enumerate(body.learners):
        try:
            people.append(_learner(learner, issuer.lookup_key))
            rows.append(RegisteredLearner(row=row))
        except AssessmentRefused as exc:
            rows.append(RegisteredLearner(row=row, errors=[str(exc)]))
    failed = sum(1 for r in rows if r.errors)
    if failed:
        return JSONResponse(status_code=422, content=RegistrationResult(
            registered=0, failed=failed, learners=rows).model_dump(mode="json"))
    refs = await issuer.store.register_learners(people, now_utc())
    for result, ref in zip(rows, refs, strict=True):
        result.learner_ref = ref
    return JSONResponse(RegistrationResult(registered=len(refs), failed=0, learners=rows).model_dump(mode="json"))


@router.post("/providers/{provider_id}/credentials/bulk", response_model=BulkResult,
             responses={201: {"model": BulkResult}, 422: {"model": BulkResult}})
async def issue_file(provider_id: str, principal: CurrentParty, issuer: IssuerDep,
                     file: Annotated[UploadFile, File(description="CSV, UTF-8, ',' or ';' separated")],
                     dry_run: bool = False) -> JSONResponse:
    """Issue a credential per row of a CSV file (columns: micro_credential_id, version, learner_name,
    learner_email, and optionally date_of_birth, personal_identity_number, language, grade,
    assessed_on, evidence_url). All rows are checked first: if any fails, nothing is issued and
    the answer (422) says for each row what failed and why; otherwise all are issued at once (201)."""
    require_provider_member(principal, provider_id)
    raw = await file.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise Unprocessable(f"the file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        report = await issuer.issue_file(provider_id, raw, dry_run=dry_run)
    except FileRefused as exc:
        raise Unprocessable(str(exc), [FieldError(field="file", message=str(exc), type="file")]) from None
    body = BulkResult(issued=report.issued, failed=report.failed, dry_run=dry_run,
                      rows=[RowResult(row=r.row, ok=r.ok, errors=r.errors, credential_id=r.credential_id)
                            for r in report.rows])
    status = 422 if report.failed else (200 if dry_run else 201)
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"))


@router.get("/providers/{provider_id}/credentials", response_model=CredentialPage)
async def list_credentials(provider_id: str, principal: CurrentParty, issuer: IssuerDep,
                           micro_credential_id: str | None = None,
                           cursor: Annotated[str | None, Query(max_length=200)] = None,
                           limit: Annotated[int, Query(ge=1, le=200)] = 50) -> CredentialPage:
    require_provider_member(principal, provider_id)
    query: dict[str, object] = {"provider_id": provider_id}
    if micro_credential_id:
        query["micro_credential_id"] = micro_credential_id
    docs = await issuer.store.page(query, cursor, limit + 1)
    items = [CredentialSummary.of(d) for d in docs[:limit]]
    return CredentialPage(items=items, next_cursor=docs[limit - 1]["sort_key"] if len(docs) > limit else None)


@router.get("/credentials/{credential_id}", response_model=CredentialFull)
async def get_credential(credential_id: str, principal: CurrentParty, issuer: IssuerDep) -> CredentialFull:
    """The credential, for the provider staff who issued it or the learner it was issued to."""
    doc = await issuer.store.get(credential_id)
    allowed = doc is not None and (
        (principal.has_role(Role.PROVIDER_MEMBER) and doc["provider_id"] in principal.organisations)
        or (principal.has_role(Role.LEARNER) and (learner := await learner_of(principal, issuer)) is not None
            and learner["_id"] == doc["learner_ref"]))
    if doc is None or not allowed:
        raise NotFound(f"no credential {credential_id} you may see")
    summary = CredentialSummary.of(doc)
    if doc.get("erased"):
        return CredentialFull(**summary.model_dump())
    return CredentialFull(**summary.model_dump(), jws=doc["jws"], credential=await issuer.with_proof(doc))


@router.post("/credentials/{credential_id}/revocation", response_model=CredentialSummary)
async def revoke(credential_id: str, body: Revocation, principal: CurrentParty, issuer: IssuerDep) -> CredentialSummary:
    """Revoke for good: the status list shows it to every verifier from now on, with this reason
    in MIMIS's own verification answer, and ``issuance.credential.revoked.v1`` is published."""
    require_role(principal, Role.PROVIDER_MEMBER)
    doc = await issuer.store.get(credential_id)
    if doc is None or doc["provider_id"] not in principal.organisations:
        raise NotFound(f"no credential {credential_id} of your organisation")
    try:
        revoked = await issuer.store.revoke(credential_id, body.reason, now_utc())
    except UnknownCredential:
        raise NotFound(f"no credential {credential_id}") from None
    except AlreadyRevoked:
        raise Conflict(f"credential {credential_id} is already revoked") from None
    return CredentialSummary.of(revoked)


async def _own_credential(credential_id: str, principal: CurrentParty, issuer: IssuerDep) -> None:
    require_role(principal, Role.PROVIDER_MEMBER)
    doc = await issuer.store.get(credential_id)
    if doc is None or doc["provider_id"] not in principal.organisations:
        raise NotFound(f"no credential {credential_id} of your organisation")


async def _changing_suspension(credential_id: str, change: Awaitable[Document]) -> CredentialSummary:
    """The store's answer, or the precise refusal: 404, 409 (revoked, already / not suspended), 422."""
    try:
        return CredentialSummary.of(await change)
    except UnknownCredential:
        raise NotFound(f"no credential {credential_id}") from None
    except CredentialRevoked:
        raise RevokedError(f"credential {credential_id} is revoked, for good: it cannot be suspended or "
                           f"reinstated") from None
    except AlreadySuspended:
        raise AlreadySuspendedError(f"credential {credential_id} is already suspended") from None
    except NotSuspended:
        raise NotSuspendedError(f"credential {credential_id} is not suspended") from None
    except NotSuspendable:
        raise NotSuspendableError(
            f"credential {credential_id} carries only a revocation status entry (it was issued before suspension "
            f"existed, or in Open Badges 3.0's single-entry form), so no verifier could see a suspension. Revoke "
            f"it instead") from None


@router.post("/credentials/{credential_id}/suspension", response_model=CredentialSummary,
             responses={409: {"model": ErrorBody}, 422: {"model": ErrorBody}})
async def suspend(credential_id: str, body: Suspension, principal: CurrentParty,
                  issuer: IssuerDep) -> CredentialSummary:
    """Suspend until reinstated: the credential's suspension status list shows it to every verifier,
    with this reason in MIMIS's own verification answer, and ``issuance.credential.suspended.v1``
    is published. 409 ``revoked`` / ``already_suspended``; 422 ``not_suspendable`` for a credential
    issued before suspension existed."""
    await _own_credential(credential_id, principal, issuer)
    coroutine = issuer.store.suspend(credential_id, body.reason, now_utc())
    return await _changing_suspension(credential_id, coroutine)


@router.delete("/credentials/{credential_id}/suspension", response_model=CredentialSummary,
               responses={409: {"model": ErrorBody}, 422: {"model": ErrorBody}})
async def reinstate(credential_id: str, principal: CurrentParty, issuer: IssuerDep,
                    reason: Annotated[str | None, Query(min_length=3, max_length=2000,
                                                        description="Optional: why it is lifted.")] = None
                    ) -> CredentialSummary:
    """Lift a suspension: the bit is cleared, every verifier sees the credential valid again, and
    ``issuance.credential.reinstated.v1`` is published. 409 ``not_suspended`` / ``revoked``; 422
    ``not_suspendable``."""
    await _own_credential(credential_id, principal, issuer)
    coroutine = issuer.store.reinstate(credential_id, reason, now_utc())
    return await _changing_suspension(credential_id, coroutine)


@router.post("/providers/{provider_id}/event-secrets", status_code=201, response_model=SecretIssued)
async def new_event_secret(provider_id: str, principal: CurrentParty, secrets: SecretsDep) -> SecretIssued:
    """A new secret for signing the provider's assessment events (Standard Webhooks), shown once.
    The previous one keeps working for ISSUANCE_PROVIDER_SECRET_OVERLAP_HOURS so the provider's
    system can switch without losing events."""
    require_provider_member(principal, provider_id)
    issued = await secrets.rotate(provider_id)
    return SecretIssued(secret_id=issued.secret_id, secret=issued.secret, created_at=issued.created_at,
                        previous_valid_until=issued.previous_valid_until)
