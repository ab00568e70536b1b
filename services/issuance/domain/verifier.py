"""Verification of a credential as an employer receives it: a JSON document with a Data
Integrity proof, or a compact JWS. Pure: the caller hands in what it fetched (the issuer's
published keys, the status list credentials); the answer is one check per question asked.

The service around this adds the checks that need its data (issuer known and trusted,
catalogue version exists) with the same :class:`Check` shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.issuance.domain.data_integrity import verify_proof
from services.issuance.domain.keys import PublicKey
from services.issuance.domain.status_list import StatusListError, read_status, status_entries
from services.issuance.domain.vc_jose import issuer_id, verify_jws
from services.issuance.domain.verification import Check, CheckName, Verification, failed, passed

JsonObject = dict[str, Any]

_CLEAR = {"revocation": "not revoked", "suspension": "not suspended"}
REVOKED = "the credential has been revoked"
SUSPENDED = "the credential is suspended"


@dataclass(frozen=True)
class CredentialVerification:
    verification: Verification
    credential: JsonObject | None  # the credential read from the input (JWS payload or the JSON)

    @property
    def verified(self) -> bool:
        return self.verification.verified

    def as_dict(self) -> dict[str, Any]:
        return self.verification.as_dict()


def verify_credential(
    presented: str | JsonObject,
    keys: Mapping[str, PublicKey],
    *,
    now: datetime,
    status_lists: Mapping[str, JsonObject] | None = None,
) -> CredentialVerification:
    """Verify a credential: its proof or JWS signature with ``keys`` (verification method id ->
    key, as the issuer publishes them), that the key is the issuer's, its validity period at
    ``now``, and its status in the list credential found under its ``statusListCredential`` URL
    in ``status_lists`` (that list's own proof is verified with the same keys)."""
    if isinstance(presented, str):
        result = verify_jws(presented, keys)
        checks = list(result.verification.checks)
        credential = result.credential
        signer = result.header.get("kid") if result.header else None
    elif isinstance(presented, dict):
        checks = list(verify_proof(presented, keys, now=now).checks)
        credential = presented
        proof = presented.get("proof")
        signer = proof.get("verificationMethod") if isinstance(proof, dict) else None
    else:
        return CredentialVerification(
            Verification((failed(CheckName.FORMAT, "a credential is a JSON object or a compact JWS"),)), None
        )
    if credential is None or not all(c.ok for c in checks):
        return CredentialVerification(Verification(tuple(checks)), credential)

    checks.append(_issuer_check(credential, signer))
    checks.append(_validity_check(credential, now))
    checks.extend(_status_checks(credential, keys, now, status_lists or {}))
    return CredentialVerification(Verification(tuple(checks)), credential)


def _issuer_check(credential: JsonObject, signer: Any) -> Check:
    issuer = issuer_id(credential)
    if issuer is None:
        return failed(CheckName.ISSUER, "the credential names no issuer")
    controller = signer.split("#", 1)[0] if isinstance(signer, str) else None
    if controller != issuer:
        # A key of another DID proves nothing about this issuer, however valid the signature.
        return failed(CheckName.ISSUER, f"signed with a key of {controller!r}, but the issuer is {issuer!r}")
    return passed(CheckName.ISSUER, f"signed with a key of the issuer {issuer}")


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _validity_check(credential: JsonObject, now: datetime) -> Check:
    valid_from = _moment(credential.get("validFrom"))
    if "validFrom" in credential and valid_from is None:
        return failed(CheckName.VALIDITY_PERIOD, "validFrom is not a date-time with a time zone")
    if valid_from is not None and now < valid_from:
        return failed(CheckName.VALIDITY_PERIOD, f"not valid before {credential['validFrom']}")
    if "validUntil" in credential:
        valid_until = _moment(credential["validUntil"])
        if valid_until is None:
            return failed(CheckName.VALIDITY_PERIOD, "validUntil is not a date-time with a time zone")
        if now >= valid_until:
            return failed(CheckName.VALIDITY_PERIOD, f"expired at {credential['validUntil']}")
    return passed(CheckName.VALIDITY_PERIOD, "within its validity period")


def _status_checks(
    credential: JsonObject, keys: Mapping[str, PublicKey], now: datetime, lists: Mapping[str, JsonObject]
) -> list[Check]:
    """One status-list and one status check per ``credentialStatus`` entry (MIMIS's credentials
    have a revocation entry, and since suspension exists a suspension entry too)."""
    entries = status_entries(credential)
    if not entries:
        return [passed(CheckName.STATUS, "the credential has no status entry (it cannot be revoked)")]
    checks: list[Check] = []
    for entry in entries:
        if not isinstance(entry, dict):
            checks.append(failed(CheckName.STATUS, "credentialStatus is not an object"))
            continue
        url = entry.get("statusListCredential")
        status_list = lists.get(url) if isinstance(url, str) else None
        if status_list is None:
            purpose = entry.get("statusPurpose")
            what = purpose if purpose in ("revocation", "suspension") else "a status"
            checks.append(failed(CheckName.STATUS, f"the status list {url!r} could not be had, so {what} "
                                                   f"cannot be ruled out"))
            continue
        list_result = verify_proof(status_list, keys, now=now)
        if not list_result.verified:
            reasons = "; ".join(c.reason for c in list_result.failures)
            checks.append(failed(CheckName.STATUS_LIST, f"the status list {url} does not verify: {reasons}"))
            continue
        if issuer_id(status_list) != issuer_id(credential):
            checks.append(failed(CheckName.STATUS_LIST, f"the status list {url} is not the credential issuer's"))
            continue
        list_validity = _validity_check(status_list, now)
        if not list_validity.ok:
            checks.append(failed(CheckName.STATUS_LIST, f"the status list {url}: {list_validity.reason}"))
            continue
        checks.append(passed(CheckName.STATUS_LIST, f"the status list {url} verifies"))
        try:
            status = read_status(entry, status_list)
        except StatusListError as exc:
            checks.append(failed(CheckName.STATUS, str(exc)))
            continue
        if status.is_set and status.purpose == "revocation":
            checks.append(failed(CheckName.STATUS, REVOKED))
        elif status.is_set and status.purpose == "suspension":
            checks.append(failed(CheckName.STATUS, SUSPENDED))
        elif status.is_set:
            checks.append(passed(CheckName.STATUS, f"{status.purpose} status is {status.value}"))
        else:
            checks.append(passed(CheckName.STATUS, _CLEAR.get(status.purpose, f"no {status.purpose} status set")))
    return checks
