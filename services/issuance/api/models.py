"""The issuance API's request and answer models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from mimis_platform.mongo import Document
from services.issuance.keystore import utc


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LearnerIn(Strict):
    name: str = Field(min_length=1, max_length=300)
    email: EmailStr
    date_of_birth: date | None = None
    personal_identity_number: str | None = Field(
        None, pattern=r"^([0-9]{2})?[0-9]{6}[-+]?[0-9]{4}$",
        description="Optional; used only for a keyed look-up value, never stored or shown.")
    language: Literal["sv", "en"] = "sv"


class CredentialCreate(Strict):
    micro_credential_id: str = Field(min_length=1, max_length=64)
    version: int = Field(ge=1)
    learner: LearnerIn
    grade: str | None = Field(None, min_length=1, max_length=20)
    assessed_on: date | None = None
    evidence_url: str | None = Field(None, pattern=r"^https://\S+$", max_length=2000)


class CredentialSummary(BaseModel):
    credential_id: str
    provider_id: str
    micro_credential_id: str
    version: int
    learner_ref: str
    issued_at: datetime
    status: Literal["active", "suspended", "revoked"] = Field(
        description="revoked (for good) comes before suspended (until reinstated); active otherwise")
    revoked_at: datetime | None = None
    revocation_reason: str | None = None
    suspendable: bool = Field(
        False, description="The credential carries a suspension status entry (false for credentials issued "
                           "before suspension existed: they can be revoked, not suspended).")
    suspended_at: datetime | None = None
    suspension_reason: str | None = None
    reinstated_at: datetime | None = Field(None, description="When its latest suspension was lifted.")
    reinstatement_reason: str | None = None
    source_event_id: str | None = None
    erased: bool = False

    @classmethod
    def of(cls, doc: Document) -> CredentialSummary:
        return cls(credential_id=doc["_id"], provider_id=doc["provider_id"],
                   micro_credential_id=doc["micro_credential_id"], version=doc["version"],
                   learner_ref=doc["learner_ref"], issued_at=utc(doc["issued_at"]) or doc["issued_at"],
                   status=status_of(doc), revoked_at=utc(doc.get("revoked_at")),
                   revocation_reason=doc.get("revocation_reason"), suspendable=bool(doc.get("suspendable")),
                   suspended_at=utc(doc.get("suspended_at")), suspension_reason=doc.get("suspension_reason"),
                   reinstated_at=utc(doc.get("reinstated_at")), reinstatement_reason=doc.get("reinstatement_reason"),
                   source_event_id=doc.get("source_event_id"), erased=bool(doc.get("erased")))


def status_of(doc: Document) -> Literal["active", "suspended", "revoked"]:
    """A credential's status as people read it: revocation is final, so it comes first."""
    if doc["status"] == "revoked":
        return "revoked"
    return "suspended" if doc.get("suspended") else "active"


class CredentialPage(BaseModel):
    items: list[CredentialSummary]
    next_cursor: str | None


class CredentialFull(CredentialSummary):
    jws: str | None = Field(None, description="The credential as a VC-JOSE compact JWS (Ed25519).")
    credential: dict[str, Any] | None = Field(
        None, description="The credential as JSON with a Data Integrity proof (eddsa-rdfc-2022).")


class Revocation(Strict):
    reason: str = Field(min_length=3, max_length=2000)


class Suspension(Strict):
    reason: str = Field(min_length=3, max_length=2000,
                        description="Why, shown to verifiers in MIMIS's own verification answer.")


class RowResult(BaseModel):
    row: int
    ok: bool
    errors: list[str]
    credential_id: str | None


class BulkResult(BaseModel):
    issued: int
    failed: int
    dry_run: bool
    rows: list[RowResult]


class ShareCreate(Strict):
    expires_in_days: int = Field(30, ge=1, le=365)


class SharePublic(BaseModel):
    token: str
    url: str
    credential_id: str
    created_at: datetime
    expires_at: datetime
    withdrawn_at: datetime | None


class SecretIssued(BaseModel):
    secret_id: str
    secret: str = Field(description="Shown once: store it in the provider system's secret store.")
    created_at: datetime
    previous_valid_until: datetime | None


class VerifyRequest(Strict):
    credential: str | dict[str, Any] = Field(
        description="A credential as a compact JWS (string) or as JSON with a Data Integrity proof.")


class CheckOut(BaseModel):
    check: str
    ok: bool
    reason: str


class VerifyResult(BaseModel):
    verified: bool
    verdict: Literal["valid", "invalid"]
    credential_id: str | None
    checks: list[CheckOut]
    reasons: list[str] = Field(description="Why not, one line per failed check (empty when valid).")


class Recipient(BaseModel):
    learner_ref: str
    email: str
    name: str
    language: Literal["sv", "en"]
    share_url: str


class KeyPublic(BaseModel):
    kid: str
    verification_method: str
    state: str
    public_key_multibase: str
    created_at: datetime
    retired_at: datetime | None


class Count(BaseModel):
    key: str
    count: int


class IssuedStatisticsOut(BaseModel):
    """Issued credentials in the region: aggregate counts only, nothing about any learner."""

    generated_at: datetime
    issued: int = Field(description="Every credential issued (revoked ones included).")
    revoked: int
    by_branch: list[Count] = Field(description="A credential counts in each branch of its catalogue version.")
    by_provider_kind: list[Count]
    by_level: list[Count] = Field(description="By EQF level of the exact catalogue version.")
    by_month: list[Count] = Field(description="By issue month (YYYY-MM, UTC), oldest first.")


class LearnerRegistration(Strict):
    learners: list[LearnerIn] = Field(min_length=1, max_length=1000,
                                      description="1 to 1,000 learners; all are registered or none.")


class RegisteredLearner(BaseModel):
    row: int = Field(description="0-based position in the request's list.")
    learner_ref: str | None = None
    errors: list[str] = Field(default_factory=list)


class RegistrationResult(BaseModel):
    registered: int
    failed: int
    learners: list[RegisteredLearner]


class LearnerLookup(Strict):
    """An operator acting on a learner's written request finds the learner by one identifier."""

    email: EmailStr | None = None
    personal_identity_number: str | None = Field(None, pattern=r"^([0-9]{2})?[0-9]{6}[-+]?[0-9]{4}$")


class LearnerFound(BaseModel):
    learner_ref: str
    erased: bool


class ErasureConfirmation(BaseModel):
    service: str
    confirmed_at: datetime
    records_erased: int


class ErasurePublic(BaseModel):
    erasure_id: str
    learner_ref: str
    requested_at: datetime
    requested_by: Literal["learner", "operator"]
    status: Literal["in_progress", "complete"]
    completed_at: datetime | None
    confirmed: list[ErasureConfirmation]
    waiting_for: list[str] = Field(description="Services that have not confirmed yet.")

    @classmethod
    def of(cls, doc: Document) -> ErasurePublic:
        confirmations = doc.get("confirmations") or {}
        return cls(
            erasure_id=doc["_id"], learner_ref=doc["learner_ref"], requested_at=utc(doc["requested_at"]),
            requested_by=doc["requested_by"], status="complete" if doc.get("completed_at") else "in_progress",
            completed_at=utc(doc.get("completed_at")),
            confirmed=[ErasureConfirmation(service=s, confirmed_at=utc(c["confirmed_at"]),
                                           records_erased=c["records_erased"])
                       for s, c in sorted(confirmations.items())],
            waiting_for=[s for s in doc["expected"] if s not in confirmations])
