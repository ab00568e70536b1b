"""Signing keys, the did:web DID document and the JWKS, through rotation and revocation."""

from __future__ import annotations

import base64
import copy
import logging
import pickle
from datetime import UTC, datetime

import pytest

from services.issuance.domain.data_integrity import verify_proof
from services.issuance.domain.keys import (
    InvalidKey,
    KeyState,
    PublicKey,
    SigningKey,
    assertion_keys_from_did_document,
    did_web,
    did_web_document_url,
)
from services.issuance.domain.vc_jose import sign_jws, verify_jws
from services.issuance.tests.factories import DID, credential, key_ring, signed_credential, signing_key

ROTATED_AT = datetime(2026, 6, 1, tzinfo=UTC)


def test_did_web_and_where_its_document_is_served() -> None:
    assert did_web("mimis.skane.se") == "did:web:mimis.skane.se"
    assert did_web("localhost:8103", "issuers", "hkr") == "did:web:localhost%3A8103:issuers:hkr"
    assert did_web_document_url("did:web:mimis.skane.se") == "https://mimis.skane.se/.well-known/did.json"
    assert did_web_document_url("did:web:localhost%3A8103:issuers:hkr") == "https://localhost:8103/issuers/hkr/did.json"
    with pytest.raises(InvalidKey):
        did_web_document_url("did:key:z6Mk")


def test_public_key_is_a_multikey_and_a_jwk() -> None:
    key = signing_key()
    assert key.public.multikey.startswith("z6Mk")
    assert PublicKey.from_multikey("k", key.public.multikey).raw == key.public.raw
    jwk = key.public.jwk(f"{DID}#{key.kid}")
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["kid"] == f"{DID}#key-2026-01"
    assert "d" not in jwk and "alg" not in jwk
    assert PublicKey.from_jwk(jwk).raw == key.public.raw
    assert PublicKey.from_jwk(jwk).kid == "key-2026-01"


def test_private_key_never_shows_in_repr_str_logs_or_pickles(caplog: pytest.LogCaptureFixture) -> None:
    key = SigningKey.generate("key-1")
    secret = key.export_secret_multibase()
    seed = key.cryptography_key().private_bytes_raw()
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("signing with %s / %r / %s", key, key, [key])
    for shown in (repr(key), str(key), caplog.text, f"{key}", repr({"key": key})):
        assert secret not in shown and secret[1:] not in shown
        assert seed.hex() not in shown and base64.urlsafe_b64encode(seed).decode().rstrip("=") not in shown
        assert "<redacted>" in shown
    with pytest.raises(TypeError, match="not serialisable"):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.deepcopy(key)


def test_secret_round_trips_for_the_key_store() -> None:
    key = SigningKey.generate("key-1")
    again = SigningKey.from_secret_multibase("key-1", key.export_secret_multibase())
    assert again.public == key.public
    assert again.sign(b"x") == key.sign(b"x")


@pytest.mark.parametrize("kid", ["", "key 1", "key#1", "ключ", "k" * 65])
def test_key_ids_fit_in_a_did_url_fragment(kid: str) -> None:
    with pytest.raises(InvalidKey):
        SigningKey.generate(kid)


def test_did_document_lists_every_published_key_as_a_multikey_assertion_method() -> None:
    old, new = signing_key("key-2026-01", 1), signing_key("key-2026-06", 2)
    ring = key_ring(old).rotate(new.public, ROTATED_AT)
    document = ring.did_document()
    assert document["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    assert document["id"] == DID
    assert document["verificationMethod"] == [
        {"id": f"{DID}#key-2026-01", "type": "Multikey", "controller": DID, "publicKeyMultibase": old.public.multikey},
        {"id": f"{DID}#key-2026-06", "type": "Multikey", "controller": DID, "publicKeyMultibase": new.public.multikey},
    ]
    assert document["assertionMethod"] == [f"{DID}#key-2026-01", f"{DID}#key-2026-06"]
    assert [k["kid"] for k in ring.jwks()["keys"]] == [f"{DID}#key-2026-01", f"{DID}#key-2026-06"]
    assert [k.state for k in ring.keys] == [KeyState.RETIRED, KeyState.ACTIVE]
    assert ring.active is not None and ring.active.kid == "key-2026-06"
    assert ring.keys[0].retired_at == ROTATED_AT


def test_rotation_keeps_every_earlier_credential_verifiable() -> None:
    old, new = signing_key("key-2026-01", 1), signing_key("key-2026-06", 2)
    before = signed_credential(old)
    token_before = sign_jws(credential(), old, f"{DID}#{old.kid}")
    ring = key_ring(old).rotate(new.public, ROTATED_AT)
    after = signed_credential(new)
    published = assertion_keys_from_did_document(ring.did_document())
    for document in (before, after):
        assert verify_proof(document, published).verified
    assert verify_jws(token_before, ring.assertion_keys()).verification.verified


def test_a_revoked_key_is_withdrawn_and_its_credentials_stop_verifying() -> None:
    old, new = signing_key("key-2026-01", 1), signing_key("key-2026-06", 2)
    ring = key_ring(old).rotate(new.public, ROTATED_AT).revoke("key-2026-01", ROTATED_AT)
    assert [m["id"] for m in ring.did_document()["verificationMethod"]] == [f"{DID}#key-2026-06"]
    assert [k["kid"] for k in ring.jwks()["keys"]] == [f"{DID}#key-2026-06"]
    result = verify_proof(signed_credential(old), assertion_keys_from_did_document(ring.did_document()))
    assert not result.verified and "not a key the issuer publishes" in result.failures[0].reason


def test_a_key_id_is_never_reused_and_one_key_is_active() -> None:
    ring = key_ring(signing_key())
    with pytest.raises(InvalidKey, match="used before"):
        ring.rotate(signing_key("key-2026-01", 5).public, ROTATED_AT)
    with pytest.raises(InvalidKey):
        ring.revoke("no-such-key", ROTATED_AT)


def test_keys_read_from_a_did_document_are_only_its_own_assertion_methods() -> None:
    key, stranger = signing_key(), signing_key("k2", 3)
    document = key_ring(key).did_document()
    document["verificationMethod"].append(
        {"id": f"{DID}#k2", "type": "Multikey", "controller": "did:web:elsewhere.example",
         "publicKeyMultibase": stranger.public.multikey})
    document["verificationMethod"].append(
        {"id": "#k3", "type": "Multikey", "controller": DID, "publicKeyMultibase": stranger.public.multikey})
    document["assertionMethod"] += [f"{DID}#k2"]  # k3 is listed but not for assertions
    assert set(assertion_keys_from_did_document(document)) == {f"{DID}#key-2026-01"}
    document["assertionMethod"].append("#k3")
    assert set(assertion_keys_from_did_document(document)) == {f"{DID}#key-2026-01", f"{DID}#k3"}
