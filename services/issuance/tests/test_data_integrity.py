"""Data Integrity proofs: the W3C vc-di-eddsa test vectors byte for byte, and MIMIS credentials
that verify as issued and fail after any change."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from services.issuance.domain.data_integrity import (
    EDDSA_JCS_2022,
    ProofError,
    add_proof,
    create_proof,
    verify_proof,
    xsd_datetime,
)
from services.issuance.domain.keys import PublicKey, SigningKey
from services.issuance.domain.multibase import encode_base58btc
from services.issuance.domain.verification import CheckName
from services.issuance.tests.factories import (
    DID,
    ISSUED_AT,
    credential,
    signed_credential,
    signing_key,
    tampered,
    vector,
)

RDFC_VECTOR = "eddsa-rdfc-2022_signedDataInt.json"
JCS_VECTOR = "eddsa-jcs-2022_signedJCS.json"


def vector_key() -> SigningKey:
    return SigningKey.from_secret_multibase("vector", vector("keyPair.json")["privateKeyMultibase"])


def vector_keys(document: dict[str, Any]) -> dict[str, PublicKey]:
    # did:key carries its public key in the DID itself.
    vm = document["proof"]["verificationMethod"]
    return {vm: PublicKey.from_multikey("vector", vm.split("#")[1])}


# --- the W3C vectors ----------------------------------------------------------------------------


def test_vector_key_pair_round_trips() -> None:
    pair = vector("keyPair.json")
    key = vector_key()
    assert key.public.multikey == pair["publicKeyMultibase"]
    assert key.export_secret_multibase() == pair["privateKeyMultibase"]


@pytest.mark.parametrize("name", [RDFC_VECTOR, JCS_VECTOR])
def test_signer_reproduces_the_vector_proof_value_byte_for_byte(name: str) -> None:
    signed = vector(name)
    proof = signed.pop("proof")
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    assert create_proof(signed, vector_key(), options) == proof


@pytest.mark.parametrize("name", [RDFC_VECTOR, JCS_VECTOR])
def test_verifier_accepts_the_vector_as_it_is(name: str) -> None:
    signed = vector(name)
    result = verify_proof(signed, vector_keys(signed))
    assert result.verified, result.as_dict()
    assert result.check(CheckName.SIGNATURE) is not None


@pytest.mark.parametrize("name", [RDFC_VECTOR, JCS_VECTOR])
@pytest.mark.parametrize(("path", "value"), [
    (["name"], "Alumni Credential!"),
    (["description"], "A minimum viable example of an alumni credential."),
    (["validFrom"], "2023-01-01T00:00:01Z"),
    (["issuer"], "https://vc.example/issuers/5679"),
    (["credentialSubject", "id"], "did:example:abcdefgi"),
    (["credentialSubject", "alumniOf"], "The School of Example"),
    (["id"], "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc34"),
    (["proof", "created"], "2023-02-24T23:36:39Z"),
    (["type"], ["VerifiableCredential"]),
])
def test_verifier_rejects_the_vector_after_a_change(name: str, path: list[str], value: Any) -> None:
    signed = vector(name)
    result = verify_proof(tampered(signed, path, value), vector_keys(signed))
    assert not result.verified
    assert result.check(CheckName.SIGNATURE) == result.failures[0]


def test_rdfc_vector_with_an_added_undefined_property_fails_safe_mode() -> None:
    signed = vector(RDFC_VECTOR)
    signed["@context"] = signed["@context"][:1]  # without the examples context's @vocab
    result = verify_proof(signed, vector_keys(signed))
    safe_mode = result.check(CheckName.SAFE_MODE)
    assert safe_mode is not None and not safe_mode.ok
    assert "alumniOf" in safe_mode.reason and "AlumniCredential" in safe_mode.reason


def test_jcs_vector_rejects_a_document_whose_contexts_differ_from_the_proofs() -> None:
    signed = vector(JCS_VECTOR)
    signed["@context"] = list(reversed(signed["@context"]))
    result = verify_proof(signed, vector_keys(signed))
    assert not result.verified
    assert result.failures[0].name is CheckName.CONTEXTS


# --- MIMIS credentials --------------------------------------------------------------------------


def test_issued_credential_has_a_data_integrity_proof_as_the_spec_shapes_it() -> None:
    proof = signed_credential()["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"] == f"{DID}#key-2026-01"
    assert proof["created"] == "2026-03-02T09:30:00Z"
    assert proof["proofValue"].startswith("z") and "@context" not in proof


def test_issued_credential_verifies() -> None:
    key = signing_key()
    result = verify_proof(signed_credential(key), {f"{DID}#{key.kid}": key.public})
    assert result.verified, result.as_dict()
    assert [c.name for c in result.checks] == [
        CheckName.PROOF, CheckName.VERIFICATION_METHOD, CheckName.CONTEXTS, CheckName.SAFE_MODE, CheckName.SIGNATURE,
    ]


def test_signing_is_deterministic() -> None:
    assert signed_credential() == signed_credential()


def _leaf_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in _leaf_paths(value, (*path, key))]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in _leaf_paths(value, (*path, i))]
    return [path]


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    text = str(value)
    last = text[-1]
    return text[:-1] + ("0" if last != "0" else "1") if last.isalnum() else text + "x"


def test_changing_any_value_of_the_credential_fails_verification() -> None:
    key = signing_key()
    keys = {f"{DID}#{key.kid}": key.public}
    signed = signed_credential(key)
    paths = [p for p in _leaf_paths(signed) if p[0] != "proof" or p[1] in ("created", "verificationMethod")]
    assert len(paths) > 80
    for path in paths:
        result = verify_proof(tampered(signed, list(path), _changed(_get(signed, path))), keys)
        assert not result.verified, f"changing {'/'.join(map(str, path))} went unnoticed"


def test_removing_or_adding_a_member_fails_verification() -> None:
    key = signing_key()
    keys = {f"{DID}#{key.kid}": key.public}
    signed = signed_credential(key)
    for member in ("credentialStatus", "validFrom", "name"):
        shorter = copy.deepcopy(signed)
        del shorter[member]
        assert not verify_proof(shorter, keys).verified, member
    longer = copy.deepcopy(signed)
    longer["validUntil"] = "2027-01-01T00:00:00Z"
    assert verify_proof(longer, keys).check(CheckName.SIGNATURE).ok is False  # type: ignore[union-attr]
    outcome_dropped = copy.deepcopy(signed)
    outcome_dropped["credentialSubject"]["achievement"]["learningOutcome"].pop()
    assert not verify_proof(outcome_dropped, keys).verified


def test_skipping_the_term_check_signs_the_same_and_the_verifier_still_guards() -> None:
    key = signing_key()
    vm = f"{DID}#{key.kid}"
    fast = add_proof(credential(), key, vm, created=ISSUED_AT, check_terms=False)
    assert fast == signed_credential(key)
    # What the check is for: an undefined member would go unsigned; safe mode refuses it.
    sloppy = credential()
    sloppy["credentialSubject"]["achievement"]["secretNote"] = "not in any context"
    unsafe = add_proof(sloppy, key, vm, created=ISSUED_AT, check_terms=False)
    result = verify_proof(unsafe, {vm: key.public})
    assert result.failures[0].name is CheckName.SAFE_MODE and "secretNote" in result.failures[0].reason


def test_a_key_the_issuer_does_not_publish_is_refused() -> None:
    signed = signed_credential(signing_key())
    result = verify_proof(signed, {f"{DID}#other": signing_key("other", 2).public})
    assert result.failures[0].name is CheckName.VERIFICATION_METHOD


def test_a_signature_by_another_key_under_the_same_id_is_refused() -> None:
    signed = signed_credential(signing_key())
    result = verify_proof(signed, {f"{DID}#key-2026-01": signing_key(seed_byte=9).public})
    assert result.failures[0].name is CheckName.SIGNATURE
    assert "changed after signing, or signed with another key" in result.failures[0].reason


@pytest.mark.parametrize(("member", "value", "reason"), [
    ("type", "Ed25519Signature2020", "proof type"),
    ("cryptosuite", "ecdsa-rdfc-2019", "unsupported cryptosuite"),
    ("proofPurpose", "authentication", "proof purpose"),
    ("proofValue", "u" + "A" * 86, "base58btc"),
    ("proofValue", encode_base58btc(b"\x00" * 63), "64 bytes"),
    ("created", "yesterday", "dateTime"),
    ("expires", "2026-03-01T00:00:00Z", "expired"),
])
def test_malformed_proofs_are_refused_with_a_reason(member: str, value: str, reason: str) -> None:
    key = signing_key()
    signed = tampered(signed_credential(key), ["proof", member], value)
    result = verify_proof(signed, {f"{DID}#{key.kid}": key.public}, now=ISSUED_AT)
    assert not result.verified
    assert result.failures[0].name is CheckName.PROOF
    assert reason in result.failures[0].reason


def test_missing_or_several_proofs_are_refused() -> None:
    key = signing_key()
    keys = {f"{DID}#{key.kid}": key.public}
    signed = signed_credential(key)
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    assert verify_proof(unsigned, keys).failures[0].reason == "the document carries no proof object"
    doubled = {**signed, "proof": [signed["proof"], signed["proof"]]}
    assert "expected one proof" in verify_proof(doubled, keys).failures[0].reason
    assert verify_proof({**signed, "proof": [signed["proof"]]}, keys).verified
    assert verify_proof("not a document", keys).failures[0].name is CheckName.FORMAT


def test_an_unknown_context_fails_the_contexts_check_by_name() -> None:
    key = signing_key()
    signed = signed_credential(key)
    signed["@context"] = [*signed["@context"], "https://example.org/more-terms.jsonld"]
    result = verify_proof(signed, {f"{DID}#{key.kid}": key.public})
    assert result.failures[0].name is CheckName.CONTEXTS
    assert "https://example.org/more-terms.jsonld" in result.failures[0].reason


def test_jcs_proofs_for_mimis_credentials_sign_and_verify_too() -> None:
    key = signing_key()
    signed = add_proof(credential(), key, f"{DID}#{key.kid}", created=ISSUED_AT, cryptosuite=EDDSA_JCS_2022)
    assert signed["proof"]["@context"] == signed["@context"]
    keys = {f"{DID}#{key.kid}": key.public}
    assert verify_proof(signed, keys).verified
    # jcs signs the JSON itself: a change the RDF graph does not show still breaks it.
    changed = copy.deepcopy(signed)
    changed["credentialSubject"]["achievement"]["type"] = "Achievement"
    assert not verify_proof(changed, keys).verified
    rdfc_signed = signed_credential(key)
    rdfc_changed = tampered(rdfc_signed, ["credentialSubject", "achievement", "type"], "Achievement")
    assert verify_proof(rdfc_changed, keys).verified


def test_proof_options_are_checked_when_signing() -> None:
    key = signing_key()
    with pytest.raises(ProofError, match="proof type"):
        create_proof(credential(), key, {"type": "Ed25519Signature2020"})
    with pytest.raises(ProofError, match="cryptosuite"):
        create_proof(credential(), key, {"type": "DataIntegrityProof", "cryptosuite": "bbs-2023"})
    with pytest.raises(ProofError, match="already carries a proof"):
        add_proof(signed_credential(key), key, f"{DID}#{key.kid}", created=ISSUED_AT)
    with pytest.raises(ProofError, match="timezone"):
        xsd_datetime(ISSUED_AT.replace(tzinfo=None))


def _get(document: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        document = document[step]
    return document
