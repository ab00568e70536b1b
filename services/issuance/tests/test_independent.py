"""Issued credentials verified by libraries this project did not write, given only what MIMIS
publishes (the JWKS, the DID document's public keys, the MIMIS JSON-LD context).

- JWS: jwcrypto (Latchset; knows RFC 9864's "Ed25519" natively) and PyJWT (with cryptography;
  it knows only "EdDSA", so the RFC 9864 name is registered to PyJWT's own OKP algorithm), and
  the other way round: a token PyJWT signs as "EdDSA" verifies here.
- Open Badges 3.0 JWT-VC: openbadgeslib's OB3Verifier (its §8.2 and credential-shape checks).
- Data Integrity eddsa-rdfc-2022: openbadgeslib's ``verify_data_integrity_proof``, its own
  implementation of the cryptosuite over pyld, with *its own* copies of the VC 2.0 and OB 3.0.3
  contexts (captured from the publishers' servers) and only MIMIS's context added.
- Bitstring Status List: openbadgeslib's own list reader (``check_credential_status``) over a
  credential's two entries (revocation and suspension) and the signed lists.
No other Python eddsa-rdfc-2022 implementation was found usable: didkit 0.3.3 and
openedx-didkit 0.3.5 (Rust ssi) know only the pre-standard "eddsa-2022" name; openvc-core is by
openbadgeslib's author and shares its approach. openbadgeslib canonicalizes with pyld, as MIMIS
does; ``test_js_crosscheck.py`` (opt-in) adds Digital Bazaar's JavaScript verifier, whose
canonicalizer (rdf-canonize) shares no code with pyld.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from openbadgeslib.ob3 import OB3Verifier
from openbadgeslib.ob3.credential import OpenBadgeCredential
from openbadgeslib.ob3.ldp import verify_data_integrity_proof
from openbadgeslib.ob3.status import check_credential_status
from openbadgeslib.ob3.verifier import OB3VerificationError

from services.issuance.domain import jsonld
from services.issuance.domain.keys import KeyRing, PublicKey
from services.issuance.domain.status_list import StatusPurpose
from services.issuance.domain.vc_jose import sign_jws, verify_jws
from services.issuance.tests.factories import (
    DID,
    INDEX,
    LEARNER_ID,
    LIST_URL,
    SUSPENSION_LIST_URL,
    both_entries,
    credential,
    key_ring,
    signed_credential,
    signed_status_list,
    signing_key,
    tampered,
    vector,
)

ROTATED = datetime(2026, 6, 1, tzinfo=UTC)
MIMIS_ONLY = {jsonld.MIMIS_V1: jsonld.context_document(jsonld.MIMIS_V1)}


def published() -> tuple[KeyRing, str]:
    """What an outsider gets: the issuer's JWKS and DID document, as JSON text."""
    ring = key_ring(signing_key())
    return ring, json.dumps(ring.jwks())


def pem_from_did_document(ring: KeyRing, vm: str) -> bytes:
    method = next(m for m in ring.did_document()["verificationMethod"] if m["id"] == vm)
    key = PublicKey.from_multikey("k", method["publicKeyMultibase"]).cryptography_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


# --- JWS -----------------------------------------------------------------------------------------


def test_jwcrypto_verifies_an_issued_jws_with_the_published_jwks() -> None:
    _, jwks_json = published()
    token = sign_jws(credential(), signing_key(), f"{DID}#key-2026-01")
    key_set = jwcrypto_jwk.JWKSet.from_json(jwks_json)
    outside = jwcrypto_jws.JWS()
    outside.deserialize(token)
    kid = outside.jose_header["kid"]
    outside.verify(key_set.get_key(kid), alg="Ed25519")
    payload = json.loads(outside.payload)
    assert payload["iss"] == DID and payload["jti"] == credential()["id"] and payload["sub"] == LEARNER_ID
    changed = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
    refused = jwcrypto_jws.JWS()
    with pytest.raises((jwcrypto_jws.InvalidJWSSignature, jwcrypto_jws.InvalidJWSObject)):
        refused.deserialize(changed)
        refused.verify(key_set.get_key(kid), alg="Ed25519")


def test_pyjwt_verifies_an_issued_jws_and_its_claims_with_the_published_jwks() -> None:
    _, jwks_json = published()
    token = sign_jws(credential(), signing_key(), f"{DID}#key-2026-01")
    decoder = jwt.PyJWT()
    # PyJWT 2.15 predates RFC 9864; the same Ed25519 verification under the new name.
    decoder._jws.register_algorithm("Ed25519", jwt.algorithms.OKPAlgorithm())
    key = jwt.PyJWKSet.from_json(jwks_json)[jwt.get_unverified_header(token)["kid"]]
    claims = decoder.decode(token, key=key.key, algorithms=["Ed25519"], issuer=DID,
                            options={"require": ["iss", "jti", "nbf"]})
    assert claims["sub"] == LEARNER_ID
    assert claims["nbf"] == int(datetime(2026, 3, 2, 9, 30, tzinfo=UTC).timestamp())
    assert claims["credentialSubject"]["achievement"]["creditsAvailable"] == 1.5
    with pytest.raises(jwt.InvalidSignatureError):
        decoder.decode(token[:-2] + ("AA" if token[-2:] != "AA" else "BA"), key=key.key, algorithms=["Ed25519"])


def test_pyjwt_verifies_the_eddsa_spelling_and_its_tokens_verify_here() -> None:
    ring, jwks_json = published()
    key = jwt.PyJWKSet.from_json(jwks_json)[f"{DID}#key-2026-01"]
    ours = sign_jws(credential(), signing_key(), f"{DID}#key-2026-01", algorithm="EdDSA")
    assert jwt.decode(ours, key=key.key, algorithms=["EdDSA"], issuer=DID)["jti"] == credential()["id"]
    # A token PyJWT signs (its own JWS code, our key material) verifies with our verifier.
    unsecured = credential()
    theirs = jwt.encode(
        {**unsecured, "iss": DID, "jti": unsecured["id"], "sub": LEARNER_ID,
         "nbf": int(datetime(2026, 3, 2, 9, 30, tzinfo=UTC).timestamp())},
        signing_key().cryptography_key(), algorithm="EdDSA", headers={"kid": f"{DID}#key-2026-01"},
    )
    result = verify_jws(theirs, ring.assertion_keys())
    assert result.verification.verified, result.verification.as_dict()
    assert result.credential == unsecured


def test_openbadgeslib_accepts_an_issued_jwt_vc_as_an_open_badges_3_credential() -> None:
    ring, _ = published()
    pem = pem_from_did_document(ring, f"{DID}#key-2026-01")
    # openbadgeslib pins algorithms by key type and knows Ed25519 keys as "EdDSA".
    token = sign_jws(credential(), signing_key(), f"{DID}#key-2026-01", algorithm="EdDSA")
    badge = OB3Verifier(pem).verify(token)
    assert badge.issuer.id == DID
    with pytest.raises(OB3VerificationError):
        OB3Verifier(pem).verify(token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBA"))


# --- Data Integrity eddsa-rdfc-2022 -----------------------------------------------------------


def test_openbadgeslib_reproduces_the_w3c_rdfc_vector_too() -> None:
    """The independent verifier itself checked against the W3C vector first."""
    signed = vector("eddsa-rdfc-2022_signedDataInt.json")
    vm = signed["proof"]["verificationMethod"]
    key = PublicKey.from_multikey("v", vm.split("#")[1]).cryptography_key()
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    examples = {jsonld.EXAMPLES_V2: jsonld.context_document(jsonld.EXAMPLES_V2)}
    verify_data_integrity_proof(signed, pem, extra_contexts=examples)


def test_openbadgeslib_verifies_an_issued_credential_with_its_own_contexts() -> None:
    ring, _ = published()
    pem = pem_from_did_document(ring, f"{DID}#key-2026-01")
    signed = signed_credential()
    verify_data_integrity_proof(signed, pem, extra_contexts=MIMIS_ONLY)


@pytest.mark.parametrize(("path", "value"), [
    (["credentialSubject", "achievement", "workloadHours"], 41),
    (["credentialSubject", "achievement", "eqfLevel"], "http://data.europa.eu/snb/eqf/5"),
    (["credentialSubject", "achievement", "qualityAssurance", 1],
     "https://mimis.skane.se/vocabulary/quality-assurance/accredited"),
    (["credentialSubject", "achievement", "alignment", 0, "targetUrl"],
     "http://data.europa.eu/esco/skill/00000000-0000-0000-0000-000000000000"),
    (["credentialSubject", "result", 0, "value"], "G"),
    (["credentialStatus", "statusListIndex"], "1"),
    (["validFrom"], "2025-03-02T09:30:00Z"),
])
def test_openbadgeslib_rejects_an_issued_credential_after_a_change(path: list[Any], value: Any) -> None:
    ring, _ = published()
    pem = pem_from_did_document(ring, f"{DID}#key-2026-01")
    with pytest.raises(OB3VerificationError):
        verify_data_integrity_proof(tampered(signed_credential(), path, value), pem, extra_contexts=MIMIS_ONLY)


def test_openbadgeslib_verifies_the_signed_status_list_and_a_credential_signed_before_rotation() -> None:
    old, new = signing_key("key-2026-01", 1), signing_key("key-2026-06", 2)
    ring = key_ring(old).rotate(new.public, ROTATED)
    verify_data_integrity_proof(signed_status_list(revoked=(3,), key=new),
                                pem_from_did_document(ring, f"{DID}#key-2026-06"))
    verify_data_integrity_proof(signed_credential(old), pem_from_did_document(ring, f"{DID}#key-2026-01"),
                                extra_contexts=MIMIS_ONLY)


# --- two status entries (revocation and suspension) -----------------------------------------------


def test_openbadgeslib_accepts_a_credential_with_both_status_entries_and_reads_each_list() -> None:
    ring, _ = published()
    pem = pem_from_did_document(ring, f"{DID}#key-2026-01")
    signed = signed_credential(credential_status=both_entries())
    verify_data_integrity_proof(signed, pem, extra_contexts=MIMIS_ONLY)
    token = sign_jws(credential(credential_status=both_entries()), signing_key(), f"{DID}#key-2026-01",
                     algorithm="EdDSA")
    badge = OB3Verifier(pem).verify(token)
    assert [e["statusPurpose"] for e in badge.credential_status] == ["revocation", "suspension"]

    def lists(revoked: tuple[int, ...] = (), suspended: tuple[int, ...] = ()) -> dict[str, bytes]:
        served = {LIST_URL: signed_status_list(revoked),
                  SUSPENSION_LIST_URL: signed_status_list(suspended, url=SUSPENSION_LIST_URL,
                                                          purpose=StatusPurpose.SUSPENSION)}
        for document in served.values():
            verify_data_integrity_proof(document, pem)  # each list's own proof, the suspension one too
        return {url: json.dumps(document).encode() for url, document in served.items()}

    presented = OpenBadgeCredential.from_vc_document(signed)
    check_credential_status(presented, download=lists().__getitem__)
    check_credential_status(presented, download=lists((INDEX + 1,), (INDEX - 1,)).__getitem__)
    with pytest.raises(OB3VerificationError, match="'suspension' is set"):
        check_credential_status(presented, download=lists(suspended=(INDEX,)).__getitem__)
    with pytest.raises(OB3VerificationError, match="'revocation' is set"):
        check_credential_status(presented, download=lists(revoked=(INDEX,)).__getitem__)


def test_openbadgeslib_still_reads_the_single_entry_of_a_credential_issued_before_suspension() -> None:
    ring, _ = published()
    signed = signed_credential()  # one revocation entry, an object: the shape issued before suspension existed
    assert isinstance(signed["credentialStatus"], dict)
    verify_data_integrity_proof(signed, pem_from_did_document(ring, f"{DID}#key-2026-01"), extra_contexts=MIMIS_ONLY)
    presented = OpenBadgeCredential.from_vc_document(signed)
    check_credential_status(presented, download={LIST_URL: json.dumps(signed_status_list()).encode()}.__getitem__)
    with pytest.raises(OB3VerificationError, match="'revocation' is set"):
        check_credential_status(presented,
                                download={LIST_URL: json.dumps(signed_status_list((INDEX,))).encode()}.__getitem__)
