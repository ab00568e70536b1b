"""One issuance, pure: the credential for a command, its compact JWS and its issued event's
data. The storage layer supplies the catalogue version, the key, the status index and the ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.issuance.domain.assessment import AssessmentRefused, IssueCommand
from services.issuance.domain.credential import (
    CatalogueVersion,
    CredentialBuildError,
    IssuerProfile,
    build_credential,
)
from services.issuance.domain.keys import SigningKey
from services.issuance.domain.learner import Learner, LearnerIdentityError
from services.issuance.domain.status_list import StatusPurpose, status_entry
from services.issuance.domain.vc_jose import sign_jws

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class IssuedCredential:
    credential_id: str
    credential: JsonObject  # unsigned; the JWS secures it, a Data Integrity proof may be added later
    jws: str
    kid: str


def issue(
    command: IssueCommand,
    catalogue: CatalogueVersion,
    *,
    issuer: IssuerProfile,
    key: SigningKey,
    verification_method: str,
    status_list_url: str,
    status_index: int,
    credential_id: str,
    now: datetime,
    catalogue_base_url: str,
    suspension_list_url: str | None = None,
) -> IssuedCredential:
    """The signed credential. Its revocation entry is at ``status_index`` of ``status_list_url``;
    with ``suspension_list_url`` it carries a suspension entry at the same index of that list too."""
    if catalogue.provider_id != command.provider_id:
        raise AssessmentRefused(f"provider {command.provider_id} does not own micro-credential "
                                f"{catalogue.micro_credential_id}")
    revocation = status_entry(status_list_url, status_index)
    status: JsonObject | list[JsonObject] = revocation if suspension_list_url is None else [
        revocation, status_entry(suspension_list_url, status_index, StatusPurpose.SUSPENSION)]
    try:
        credential = build_credential(
            issuer=issuer, catalogue=catalogue,
            learner=Learner(email=command.learner.normalised_email, name=command.learner.name.strip()),
            credential_status=status, valid_from=now,
            credential_id=credential_id, grade=command.grade, assessed_on=command.assessed_on,
            evidence_url=command.evidence_url, language=command.learner.language, base_url=catalogue_base_url,
        )
    except (CredentialBuildError, LearnerIdentityError) as exc:
        raise AssessmentRefused(str(exc)) from None
    return IssuedCredential(credential_id, credential, sign_jws(credential, key, verification_method), key.kid)


def issued_event_data(issued: IssuedCredential, catalogue: CatalogueVersion, learner_ref: str,
                      source_event_id: str | None, issued_at: str) -> JsonObject:
    title: JsonObject = {"sv": catalogue.content.title.sv}
    if catalogue.content.title.en:
        title["en"] = catalogue.content.title.en
    return {
        "credential_id": issued.credential_id, "learner_ref": learner_ref,
        "micro_credential_id": catalogue.micro_credential_id, "version": catalogue.version,
        "provider_id": catalogue.provider_id, "title": title, "branches": list(catalogue.content.branches),
        "source_event_id": source_event_id, "issued_at": issued_at, "valid_until": None,
    }
