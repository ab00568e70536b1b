"""Issuing through the API, verification, revocation, key rotation, tampering and what never
leaves the service (private keys), on the real stack; independent verifiers check what it serves."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from openbadgeslib.ob3.ldp import verify_data_integrity_proof

from services.issuance.domain import jsonld
from services.issuance.domain.keys import PublicKey
from services.issuance.domain.multibase import decode_multikey
from services.issuance.domain.sealing import Sealed
from services.issuance.tests.conftest import IssuanceUnderTest

MIMIS_ONLY = {jsonld.MIMIS_V1: jsonld.context_document(jsonld.MIMIS_V1)}


def checks(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The checks by name; of several with one name (a status check per status entry), a failed one."""
    found: dict[str, dict[str, Any]] = {}
    for c in result["checks"]:
        if c["check"] not in found or not c["ok"]:
            found[c["check"]] = c
    return found


def revocation_list(full: dict[str, Any]) -> int:
    return int(full["credential"]["credentialStatus"][0]["statusListCredential"].rsplit("/", 1)[1])


async def test_an_issued_credential_verifies_as_jws_and_as_json(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    summary = await issuance.issue()
    assert (summary["status"], summary["suspendable"], summary["suspended_at"]) == ("active", True, None)
    full = await issuance.full(summary["credential_id"])
    for presented in (full["jws"], full["credential"]):
        result = await issuance.verify(presented)
        assert result["verified"] and result["verdict"] == "valid", result
        found = checks(result)
        for name in ("signature", "issuer", "issuer-trusted", "validity-period", "status", "status-list",
                     "catalogue-version"):
            assert found[name]["ok"], (name, result)
    achievement = full["credential"]["credentialSubject"]["achievement"]
    assert achievement["id"].endswith(f"/catalog/micro-credentials/{issuance.micro_credential_id}/versions/1")
    revocation, suspension = full["credential"]["credentialStatus"]  # one entry per purpose, the same index
    assert revocation["statusListCredential"] == f"https://issuance.test/v1/status-lists/{revocation_list(full)}"
    assert suspension["statusListCredential"] == revocation["statusListCredential"] + "/suspension"
    assert (revocation["statusPurpose"], suspension["statusPurpose"]) == ("revocation", "suspension")
    assert revocation["statusListIndex"] == suspension["statusListIndex"]
    assert [c["check"] for c in result["checks"]].count("status") == 2


async def test_independent_libraries_verify_what_the_service_serves(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    full = await issuance.full((await issuance.issue())["credential_id"])
    # JWS: jwcrypto with the JWKS the service publishes.
    jwks = (await issuance.http.get("/.well-known/jwks.json")).text
    outside = jwcrypto_jws.JWS()
    outside.deserialize(full["jws"])
    kid = outside.jose_header["kid"]
    outside.verify(jwcrypto_jwk.JWKSet.from_json(jwks).get_key(kid), alg="Ed25519")
    assert json.loads(outside.payload)["jti"] == full["credential_id"]
    # Data Integrity: openbadgeslib's eddsa-rdfc-2022 with the key from the served DID document.
    did = (await issuance.http.get("/.well-known/did.json")).json()
    vm = full["credential"]["proof"]["verificationMethod"]
    method = next(m for m in did["verificationMethod"] if m["id"] == vm)
    pem = PublicKey.from_multikey("k", method["publicKeyMultibase"]).cryptography_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    verify_data_integrity_proof(full["credential"], pem, extra_contexts=MIMIS_ONLY)
    changed = json.loads(json.dumps(full["credential"]))
    changed["credentialSubject"]["achievement"]["name"] = "Something else"
    with pytest.raises(Exception):  # noqa: B017 - the library raises its own error types
        verify_data_integrity_proof(changed, pem, extra_contexts=MIMIS_ONLY)


async def test_revocation_fails_verification_with_the_reason_and_publishes_an_event(
        issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    summary = await issuance.issue()
    cid = summary["credential_id"]
    full = await issuance.full(cid)
    url = full["credential"]["credentialStatus"][0]["statusListCredential"]
    index = int(full["credential"]["credentialStatus"][0]["statusListIndex"])
    answer = await issuance.http.post(f"/v1/credentials/{cid}/revocation", headers=issuance.staff(),
                                      json={"reason": "Fel deltagare registrerad"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "revoked"
    again = await issuance.http.post(f"/v1/credentials/{cid}/revocation", headers=issuance.staff(),
                                     json={"reason": "igen"})
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    for presented in (full["jws"], full["credential"]):
        result = await issuance.verify(presented)
        assert not result["verified"] and result["verdict"] == "invalid"
        status = checks(result)["status"]
        assert not status["ok"] and "revoked" in status["reason"] and "Fel deltagare registrerad" in status["reason"]
    served = (await issuance.http.get(url.removeprefix("https://issuance.test"))).json()
    from services.issuance.domain.status_list import Bitstring

    assert Bitstring.decode(served["credentialSubject"]["encodedList"]).get(index)
    outbox = issuance.app.state.runtime.db["outbox"]
    revoked = await outbox.find_one({"type": "issuance.credential.revoked.v1", "data.credential_id": cid})
    assert revoked is not None and revoked["data"]["reason"] == "Fel deltagare registrerad"
    assert revoked["data"]["branches"] == ["vard-och-omsorg"]


async def test_rotation_keeps_earlier_credentials_verifiable(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    before = await issuance.full((await issuance.issue("a@example.se"))["credential_id"])
    assert (await issuance.http.post("/v1/keys/rotation", headers=issuance.staff())).status_code == 403
    rotated = await issuance.http.post("/v1/keys/rotation", headers=issuance.ops)
    assert rotated.status_code == 201, rotated.text
    after = await issuance.full((await issuance.issue("b@example.se"))["credential_id"])
    old_kid = json.loads(base64.urlsafe_b64decode(before["jws"].split(".")[0] + "==="))["kid"]
    new_kid = json.loads(base64.urlsafe_b64decode(after["jws"].split(".")[0] + "==="))["kid"]
    assert old_kid != new_kid and new_kid == rotated.json()["verification_method"]
    keys = (await issuance.http.get("/v1/keys", headers=issuance.ops)).json()
    assert [k["state"] for k in keys] == ["retired", "active"]
    did = (await issuance.http.get("/.well-known/did.json")).json()
    assert {old_kid, new_kid} <= set(did["assertionMethod"])
    for full in (before, after):
        for presented in (full["jws"], full["credential"]):
            result = await issuance.verify(presented)
            assert result["verified"], result


@pytest.mark.parametrize("part", [0, 1, 2])
async def test_a_changed_byte_in_any_part_of_a_jws_fails(issuance: IssuanceUnderTest, part: int) -> None:
    await issuance.publish()
    token = (await issuance.full((await issuance.issue())["credential_id"]))["jws"]
    segments = token.split(".")
    middle = len(segments[part]) // 2
    flipped = "B" if segments[part][middle] != "B" else "C"
    segments[part] = segments[part][:middle] + flipped + segments[part][middle + 1:]
    result = await issuance.verify(".".join(segments))
    assert not result["verified"] and result["reasons"], result


async def test_a_changed_json_credential_fails(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    document = (await issuance.full((await issuance.issue())["credential_id"]))["credential"]
    changed = json.loads(json.dumps(document))
    changed["credentialSubject"]["identifier"][1]["identityHash"] = "Someone Else"
    result = await issuance.verify(changed)
    assert not result["verified"] and not checks(result)["signature"]["ok"], result


async def test_a_credential_of_another_issuer_is_not_trusted(issuance: IssuanceUnderTest) -> None:
    from services.issuance.tests.factories import signed_credential

    result = await issuance.verify(signed_credential())  # signed by the domain tests' did:web:mimis.skane.se key
    assert not result["verified"]


async def test_private_keys_never_appear_in_answers_events_or_logs(
        issuance: IssuanceUnderTest, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await issuance.publish()
    answers: list[str] = []
    cid = (await issuance.issue())["credential_id"]
    answers.append((await issuance.http.post("/v1/keys/rotation", headers=issuance.ops)).text)
    cid2 = (await issuance.issue("b@example.se"))["credential_id"]
    for path in ("/.well-known/did.json", "/.well-known/jwks.json", "/v1/status-lists/1", "/openapi.json"):
        answers.append((await issuance.http.get(path)).text)
    answers.append((await issuance.http.get("/v1/keys", headers=issuance.ops)).text)
    for credential_id in (cid, cid2):
        answers.append((await issuance.http.get(f"/v1/credentials/{credential_id}", headers=issuance.staff())).text)
    db = issuance.app.state.runtime.db
    events = json.dumps([d async for d in db["outbox"].find({}, {"_id": 0})], default=str)
    stored = [d async for d in db["signing_keys"].find({})]
    assert len(stored) == 2
    sealer = issuance.app.state.issuer.keys.sealer
    forms: list[str] = []
    for doc in stored:
        secret = sealer.open(Sealed.from_document(doc["sealed"]), f"signing-key:{doc['_id']}").decode()
        seed = decode_multikey(secret, bytes([0x80, 0x26]))
        forms += [secret, seed.hex(), base64.b64encode(seed).decode(), base64.urlsafe_b64encode(seed).decode()[:40]]
        assert seed not in doc["sealed"]["ciphertext"] and secret.encode() not in json.dumps(doc, default=str).encode()
    text = "\n".join(answers) + events + caplog.text
    assert answers and caplog.text
    for form in forms:
        assert form not in text


async def test_only_staff_of_the_provider_issue_and_see_its_credentials(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    cid = (await issuance.issue())["credential_id"]
    other = issuance.staff("prov-someone-else")
    payload = {"micro_credential_id": issuance.micro_credential_id, "version": 1,
               "learner": {"name": "X Y", "email": "x@example.se"}}
    denied = await issuance.http.post(f"/v1/providers/{issuance.provider_id}/credentials", json=payload, headers=other)
    assert denied.status_code == 403 and denied.json()["error"] == "forbidden"
    assert (await issuance.http.get(f"/v1/credentials/{cid}", headers=other)).status_code == 404
    assert (await issuance.http.post(f"/v1/credentials/{cid}/revocation", headers=other,
                                     json={"reason": "nope"})).status_code == 404
    assert (await issuance.http.post(f"/v1/providers/{issuance.provider_id}/credentials",
                                     json=payload)).status_code == 401
    listed = await issuance.http.get(f"/v1/providers/{issuance.provider_id}/credentials", headers=issuance.staff())
    assert [c["credential_id"] for c in listed.json()["items"]] == [cid]


async def test_the_api_refuses_what_it_cannot_issue_in_the_error_shape(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    url = f"/v1/providers/{issuance.provider_id}/credentials"
    learner = {"name": "Lena", "email": "lena@example.se"}
    unknown = await issuance.http.post(url, headers=issuance.staff(), json={
        "micro_credential_id": issuance.micro_credential_id, "version": 9, "learner": learner})
    assert unknown.status_code == 422 and unknown.json()["error"] == "not_issuable"
    assert "not published" in unknown.json()["message"]
    bad = await issuance.http.post(url, headers=issuance.staff(), json={
        "micro_credential_id": issuance.micro_credential_id, "version": 1,
        "learner": {"name": "Lena", "email": "not-an-address"}, "colour": "blue"})
    assert bad.status_code == 422 and bad.json()["error"] == "validation_failed"
    assert {e["field"] for e in bad.json()["errors"]} == {"learner.email", "colour"}
    assert await issuance.service.store.credentials.count_documents({}) == 0


async def test_pagination_of_an_organisations_credentials(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    issued = {(await issuance.issue(f"p{i}@example.se"))["credential_id"] for i in range(5)}
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await issuance.http.get(f"/v1/providers/{issuance.provider_id}/credentials", params=params,
                                        headers=issuance.staff())).json()
        seen += [c["credential_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(issued) and len(seen) == 5


deep: Any = []
for _ in range(300):
    deep = [deep]
MALFORMED: list[Any] = [
    "not a credential", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", {}, {"proof": 1},
    {"@context": ["https://evil.example/ctx"], "proof": {"type": "DataIntegrityProof"}},
    {"x": deep},
]


async def test_verification_answers_every_malformed_input_with_reasons(issuance: IssuanceUnderTest) -> None:
    for presented in MALFORMED:
        answer = await issuance.http.post("/v1/verify", json={"credential": presented})
        assert answer.status_code == 200, answer.text
        assert answer.json()["verdict"] == "invalid" and answer.json()["reasons"], presented
