"""Verifying a credential as an employer would: proof or JWS, issuer, validity period, status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.issuance.domain.data_integrity import add_proof
from services.issuance.domain.keys import PublicKey, assertion_keys_from_did_document
from services.issuance.domain.status_list import StatusPurpose, status_entry
from services.issuance.domain.vc_jose import sign_jws
from services.issuance.domain.verification import CheckName
from services.issuance.domain.verifier import REVOKED, SUSPENDED, verify_credential
from services.issuance.tests.factories import (
    DID,
    INDEX,
    LIST_URL,
    SUSPENSION_LIST_URL,
    both_entries,
    credential,
    key_ring,
    signed_credential,
    signed_status_list,
    signing_key,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def published_keys() -> dict[str, PublicKey]:
    return dict(assertion_keys_from_did_document(key_ring(signing_key()).did_document()))


def lists(*revoked: int) -> dict[str, dict[str, Any]]:
    return {LIST_URL: signed_status_list(revoked=revoked)}


def test_an_issued_credential_verifies_with_every_check_named() -> None:
    result = verify_credential(signed_credential(), published_keys(), now=NOW, status_lists=lists())
    assert result.verified, result.as_dict()
    assert [c.name for c in result.verification.checks] == [
        CheckName.PROOF, CheckName.VERIFICATION_METHOD, CheckName.CONTEXTS, CheckName.SAFE_MODE, CheckName.SIGNATURE,
        CheckName.ISSUER, CheckName.VALIDITY_PERIOD, CheckName.STATUS_LIST, CheckName.STATUS,
    ]
    assert result.as_dict()["verified"] is True


def test_the_same_credential_as_a_jws_verifies_alike() -> None:
    key = signing_key()
    token = sign_jws(credential(), key, f"{DID}#{key.kid}")
    result = verify_credential(token, published_keys(), now=NOW, status_lists=lists())
    assert result.verified, result.as_dict()
    assert result.credential == credential()


def test_revocation_fails_verification_with_the_reason() -> None:
    for presented in (signed_credential(), sign_jws(credential(), signing_key(), f"{DID}#key-2026-01")):
        result = verify_credential(presented, published_keys(), now=NOW, status_lists=lists(INDEX))
        assert not result.verified
        status = result.verification.check(CheckName.STATUS)
        assert status is not None and status.reason == "the credential has been revoked"
        assert [c.name for c in result.verification.failures] == [CheckName.STATUS]


def test_suspension_fails_and_lifting_it_passes() -> None:
    presented = signed_credential(credential_status=status_entry(SUSPENSION_LIST_URL, 12, StatusPurpose.SUSPENSION))
    suspended = {SUSPENSION_LIST_URL: signed_status_list((12,), url=SUSPENSION_LIST_URL,
                                                         purpose=StatusPurpose.SUSPENSION)}
    lifted = {SUSPENSION_LIST_URL: signed_status_list((), url=SUSPENSION_LIST_URL, purpose=StatusPurpose.SUSPENSION)}
    failed = verify_credential(presented, published_keys(), now=NOW, status_lists=suspended)
    assert failed.verification.failures[0].reason == "the credential is suspended"
    assert verify_credential(presented, published_keys(), now=NOW, status_lists=lifted).verified


def test_with_both_entries_each_list_is_checked_and_each_status_reported() -> None:
    presented = signed_credential(credential_status=both_entries())

    def both(revoked: tuple[int, ...] = (), suspended: tuple[int, ...] = ()) -> dict[str, dict[str, Any]]:
        return {LIST_URL: signed_status_list(revoked),
                SUSPENSION_LIST_URL: signed_status_list(suspended, url=SUSPENSION_LIST_URL,
                                                        purpose=StatusPurpose.SUSPENSION)}

    clear = verify_credential(presented, published_keys(), now=NOW, status_lists=both())
    assert clear.verified, clear.as_dict()
    assert [c.name for c in clear.verification.checks][-4:] == [
        CheckName.STATUS_LIST, CheckName.STATUS, CheckName.STATUS_LIST, CheckName.STATUS]
    assert [c.reason for c in clear.verification.checks if c.name is CheckName.STATUS] == [
        "not revoked", "not suspended"]
    suspended = verify_credential(presented, published_keys(), now=NOW, status_lists=both(suspended=(INDEX,)))
    assert [c.reason for c in suspended.verification.failures] == [SUSPENDED]
    revoked = verify_credential(presented, published_keys(), now=NOW, status_lists=both(revoked=(INDEX,)))
    assert [c.reason for c in revoked.verification.failures] == [REVOKED]
    neighbours = verify_credential(presented, published_keys(), now=NOW,
                                   status_lists=both((INDEX + 1,), (INDEX - 1,)))
    assert neighbours.verified
    # Without its suspension list, suspension cannot be ruled out: not valid.
    half = verify_credential(presented, published_keys(), now=NOW, status_lists=lists())
    assert [c.reason for c in half.verification.failures] == [
        f"the status list {SUSPENSION_LIST_URL!r} could not be had, so suspension cannot be ruled out"]
    # A list swapped for the other purpose's is refused, not read.
    swapped = {LIST_URL: both()[LIST_URL], SUSPENSION_LIST_URL: signed_status_list(url=SUSPENSION_LIST_URL)}
    failure = verify_credential(presented, published_keys(), now=NOW, status_lists=swapped).verification.failures
    assert len(failure) == 1 and "the list's is 'revocation'" in failure[0].reason


def test_without_its_status_list_a_credential_is_not_declared_valid() -> None:
    result = verify_credential(signed_credential(), published_keys(), now=NOW, status_lists={})
    assert not result.verified
    assert "could not be had" in result.verification.failures[0].reason


def test_a_status_list_signed_by_someone_else_or_tampered_is_not_believed() -> None:
    forged = {LIST_URL: signed_status_list(key=signing_key("key-2026-01", 66))}
    result = verify_credential(signed_credential(), published_keys(), now=NOW, status_lists=forged)
    assert result.verification.failures[0].name is CheckName.STATUS_LIST
    tampered = lists()
    tampered[LIST_URL]["validFrom"] = "2026-03-01T00:00:00Z"
    result = verify_credential(signed_credential(), published_keys(), now=NOW, status_lists=tampered)
    assert result.verification.failures[0].name is CheckName.STATUS_LIST


def test_a_key_of_another_did_does_not_speak_for_the_issuer() -> None:
    stranger = signing_key("key-1", 42)
    vm = f"did:web:evil.example#{stranger.kid}"
    presented = add_proof(credential(), stranger, vm, created=NOW)
    keys = {**published_keys(), vm: stranger.public}
    result = verify_credential(presented, keys, now=NOW, status_lists=lists())
    issuer = result.verification.check(CheckName.ISSUER)
    assert issuer is not None and not issuer.ok and "did:web:evil.example" in issuer.reason


def test_validity_period() -> None:
    early = verify_credential(signed_credential(), published_keys(), now=datetime(2026, 3, 1, tzinfo=UTC),
                              status_lists=lists())
    assert early.verification.failures[0].reason == "not valid before 2026-03-02T09:30:00Z"
    expiring = signed_credential(valid_until=datetime(2026, 6, 1, tzinfo=UTC))
    late = verify_credential(expiring, published_keys(), now=NOW, status_lists=lists())
    assert late.verification.failures[0].reason == "expired at 2026-06-01T00:00:00Z"


def test_a_tampered_credential_stops_at_the_signature() -> None:
    presented = signed_credential()
    presented["credentialSubject"]["achievement"]["eqfLevel"] = "http://data.europa.eu/snb/eqf/6"
    result = verify_credential(presented, published_keys(), now=NOW, status_lists=lists())
    assert not result.verified
    assert result.verification.failures[0].name is CheckName.SIGNATURE
    assert result.verification.check(CheckName.STATUS) is None  # nothing after a failed signature is trusted


def test_neither_json_nor_jws_is_a_format_failure() -> None:
    result = verify_credential(42, published_keys(), now=NOW)  # type: ignore[arg-type]
    assert result.verification.failures[0].name is CheckName.FORMAT


def test_hostile_input_fails_checks_instead_of_crashing() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(5000):
        node["a"] = {}
        node = node["a"]
    wide = signed_credential()
    wide["credentialSubject"]["padding"] = ["x" * 1000] * 300
    malformed = [
        {**signed_credential(), "@context": 5},
        {**signed_credential(), "@context": None},
        {**signed_credential(), "type": 5},
        {**signed_credential(), "id": True},
        {**signed_credential(), "credentialSubject": deep},
        wide,
    ]
    for presented in malformed:
        result = verify_credential(presented, published_keys(), now=NOW, status_lists=lists())
        assert not result.verified
    assert "nested deeper" in verify_credential(
        {**signed_credential(), "credentialSubject": deep}, published_keys(), now=NOW).verification.failures[0].reason
    assert "larger than" in verify_credential(wide, published_keys(), now=NOW).verification.failures[0].reason
    key = signing_key()
    huge = sign_jws({**credential(), "padding": "x" * 600_000}, key, f"{DID}#{key.kid}")
    assert verify_credential(huge, published_keys(), now=NOW).verification.failures[0].name is CheckName.FORMAT
