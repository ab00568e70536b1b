"""Credentials as compact JWS (VC-JOSE, Open Badges 3.0 VC-JWT)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import OctKey, OKPKey

from services.catalog.tests.factories import content
from services.issuance.domain.vc_jose import JwsError, registered_claims, sign_jws, verify_jws
from services.issuance.domain.verification import CheckName
from services.issuance.tests.factories import DID, LEARNER_ID, catalogue, credential, signed_credential, signing_key

VM = f"{DID}#key-2026-01"


def keys() -> dict[str, Any]:
    return {VM: signing_key().public}


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload)


def test_header_names_the_algorithm_and_the_key() -> None:
    header, _ = _segments(sign_jws(credential(), signing_key(), VM))
    assert header == {"alg": "Ed25519", "kid": VM, "typ": "JWT"}


def test_payload_is_the_credential_plus_the_open_badges_claims() -> None:
    unsecured = credential(valid_until=datetime(2031, 3, 2, 9, 30, tzinfo=UTC))
    _, payload = _segments(sign_jws(unsecured, signing_key(), VM))
    claims = {name: payload.pop(name) for name in ("iss", "jti", "nbf", "sub", "exp")}
    assert payload == unsecured
    assert claims == {
        "iss": DID,
        "jti": unsecured["id"],
        "nbf": int(datetime(2026, 3, 2, 9, 30, tzinfo=UTC).timestamp()),
        "sub": LEARNER_ID,
        "exp": int(datetime(2031, 3, 2, 9, 30, tzinfo=UTC).timestamp()),
    }


def test_claims_leave_out_what_the_credential_does_not_have() -> None:
    unsecured = credential()
    del unsecured["credentialSubject"]["id"]
    assert set(registered_claims(unsecured)) == {"iss", "jti", "nbf"}


def test_signed_token_verifies_and_gives_back_the_credential() -> None:
    unsecured = credential()
    result = verify_jws(sign_jws(unsecured, signing_key(), VM), keys())
    assert result.verification.verified, result.verification.as_dict()
    assert result.credential == unsecured
    assert [c.name for c in result.verification.checks] == [
        CheckName.FORMAT, CheckName.PROOF, CheckName.VERIFICATION_METHOD, CheckName.SIGNATURE, CheckName.CLAIMS,
    ]


def test_changing_any_character_of_the_token_fails() -> None:
    # Every position of a whole token (a shorter credential keeps the sweep quick).
    short = credential(catalogue=catalogue(content=content()), grade=None, evidence_url=None)
    token = sign_jws(short, signing_key(), VM)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i, char in enumerate(token):
        if char == ".":
            continue
        replacement = alphabet[(alphabet.index(char) + 1) % len(alphabet)]
        changed = token[:i] + replacement + token[i + 1:]
        assert not verify_jws(changed, keys()).verification.verified, f"a change at {i} of {len(token)} passed"


def test_a_token_whose_last_character_only_differs_in_unused_bits_is_refused() -> None:
    # 64 signature bytes use 4 of the 6 bits of the last base64url character; a lenient decoder
    # reads "...A" and "...B" alike. The verifier accepts the canonical spelling only.
    token = sign_jws(credential(), signing_key(), VM)
    head, payload, signature = token.split(".")
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(signature[-1])
    twin = signature[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last ^ 1]
    assert base64.urlsafe_b64decode(twin + "==") == base64.urlsafe_b64decode(signature + "==")
    result = verify_jws(f"{head}.{payload}.{twin}", keys())
    assert result.verification.failures[0].name is CheckName.FORMAT


def test_the_older_algorithm_name_is_accepted() -> None:
    token = sign_jws(credential(), signing_key(), VM, algorithm="EdDSA")
    assert _segments(token)[0]["alg"] == "EdDSA"
    assert verify_jws(token, keys()).verification.verified


@pytest.mark.parametrize(("header", "reason"), [
    ({"alg": "HS256", "kid": VM}, "alg 'HS256'"),
    ({"alg": "none", "kid": VM}, "alg 'none'"),
    ({"alg": "Ed25519"}, "names no key"),
    ({"alg": "Ed25519", "kid": VM, "typ": "dpop+jwt"}, "typ"),
    ({"alg": "Ed25519", "kid": VM, "crit": ["b64"], "b64": True}, "critical"),
])
def test_headers_other_than_an_ed25519_signature_by_a_named_key_are_refused(header: dict[str, Any],
                                                                           reason: str) -> None:
    payload = json.dumps(credential()).encode()
    if header["alg"] == "HS256":
        token = jws.serialize_compact(header, payload, OctKey.generate_key(256), algorithms=["HS256"])
    elif header["alg"] == "none":
        token = _unsigned(header, payload)
    else:
        key = OKPKey.import_key(signing_key().cryptography_key())
        token = jws.serialize_compact(header, payload, key, algorithms=["Ed25519"])
    result = verify_jws(token, keys())
    assert not result.verification.verified
    assert reason in result.verification.failures[0].reason


def test_an_unknown_key_id_is_refused() -> None:
    token = sign_jws(credential(), signing_key("key-other", 7), f"{DID}#key-other")
    result = verify_jws(token, keys())
    assert result.verification.failures[0].name is CheckName.VERIFICATION_METHOD


def test_a_claim_that_disagrees_with_the_credential_fails_even_when_signed() -> None:
    unsecured = credential()
    payload = {**unsecured, **registered_claims(unsecured), "iss": "did:web:other.example"}
    token = jws.serialize_compact({"alg": "Ed25519", "kid": VM}, json.dumps(payload).encode(),
                                  OKPKey.import_key(signing_key().cryptography_key()), algorithms=["Ed25519"])
    result = verify_jws(token, keys())
    claims = result.verification.check(CheckName.CLAIMS)
    assert claims is not None and not claims.ok and "iss is 'did:web:other.example'" in claims.reason


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d", "e30.e30.", "!!!.e30.e30", "e30=.e30.e30"])
def test_garbage_is_a_format_failure(token: str) -> None:
    result = verify_jws(token, keys())
    assert result.verification.failures[0].name is CheckName.FORMAT


def test_signing_refuses_what_would_make_a_wrong_token() -> None:
    with pytest.raises(JwsError, match="no embedded proof"):
        sign_jws(signed_credential(), signing_key(), VM)
    no_issuer = credential()
    del no_issuer["issuer"]
    with pytest.raises(JwsError, match="'iss'"):
        sign_jws(no_issuer, signing_key(), VM)
    with pytest.raises(JwsError, match="like JWT claims"):
        sign_jws({**credential(), "iss": "x"}, signing_key(), VM)
    with pytest.raises(JwsError, match="not 'ES256'"):
        sign_jws(credential(), signing_key(), VM, algorithm="ES256")


def _unsigned(header: dict[str, Any], payload: bytes) -> str:
    encode = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    return f"{encode(json.dumps(header).encode())}.{encode(payload)}."
