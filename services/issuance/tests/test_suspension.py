"""Suspension and reinstatement on the real stack: the suspension status list (signed, served,
cached until the next change), verification before, during and after a suspension, the events
(once each, on the broker), every refusal, an independent verifier reading both status lists,
and credentials issued before suspension existed, which keep their single revocation entry."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from openbadgeslib.ob3.credential import OpenBadgeCredential
from openbadgeslib.ob3.ldp import verify_data_integrity_proof
from openbadgeslib.ob3.status import check_credential_status
from openbadgeslib.ob3.verifier import OB3VerificationError
from pymongo.asynchronous.client_session import AsyncClientSession

from mimis_platform.outbox import in_transaction
from services.issuance.domain.assessment import IssueCommand, LearnerData
from services.issuance.domain.credential import new_credential_id
from services.issuance.domain.issuing import issue
from services.issuance.domain.keys import PublicKey
from services.issuance.domain.status_list import Bitstring
from services.issuance.issuer import now_utc
from services.issuance.tests.conftest import IssuanceUnderTest, header, read_topic, running_issuance

PUBLIC = "https://issuance.test"
TOPIC = "issuance.credentials"


def status_checks(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in result["checks"] if c["check"] == "status"]


async def served(issuance: IssuanceUnderTest, url: str) -> dict[str, Any]:
    answer = await issuance.http.get(url.removeprefix(PUBLIC))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/vc+ld+json"
    return dict(answer.json())


def bit(status_list: dict[str, Any], index: int) -> bool:
    return Bitstring.decode(status_list["credentialSubject"]["encodedList"]).get(index)


async def suspend(issuance: IssuanceUnderTest, cid: str, reason: str = "Under utredning av provtillfället",
                  staff: dict[str, str] | None = None) -> Any:
    return await issuance.http.post(f"/v1/credentials/{cid}/suspension", json={"reason": reason},
                                    headers=staff or issuance.staff())


async def reinstate(issuance: IssuanceUnderTest, cid: str, reason: str | None = None,
                    staff: dict[str, str] | None = None) -> Any:
    return await issuance.http.delete(f"/v1/credentials/{cid}/suspension", headers=staff or issuance.staff(),
                                      params={"reason": reason} if reason else None)


async def events_of(issuance: IssuanceUnderTest, cid: str) -> list[tuple[str, dict[str, Any]]]:
    """Every event about the credential on the broker, in order: (type, data)."""
    await issuance.relay_drained()
    found = []
    for record in await read_topic(issuance.stack.kafka_bootstrap_servers, TOPIC):
        if header(record, "ce_subject") != f"credentials/{cid}":
            continue  # other tests' records share the session's broker (some deliberately malformed)
        data = json.loads(record.value)
        if data.get("credential_id") == cid:
            found.append((str(header(record, "ce_type")), data))
    return found


async def old_shape_credential(issuance: IssuanceUnderTest) -> str:
    """A credential as issuance stored it before suspension existed: one revocation entry (an
    object, not an array) and no suspension fields on its document or its list's document."""
    store = issuance.service.store
    command = IssueCommand(provider_id=issuance.provider_id, micro_credential_id=issuance.micro_credential_id,
                           version=1, learner=LearnerData(name="Olle Äldre", email="olle.aldre@example.se"))
    version = await issuance.service.catalogue.issuable(command.provider_id, command.micro_credential_id, 1)
    await store._allocator_ready()
    number, index = store.status.take()
    key, method = await store.keys.signing_key()
    now = now_utc()
    issued = issue(command, version, issuer=store.issuer, key=key, verification_method=method,
                   status_list_url=store.status_list_url(number), status_index=index, credential_id=new_credential_id(),
                   now=now, catalogue_base_url=store.catalogue_base_url)
    assert issued.credential["credentialStatus"] == {
        "id": f"{PUBLIC}/v1/status-lists/{number}#{index}", "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation", "statusListIndex": str(index),
        "statusListCredential": f"{PUBLIC}/v1/status-lists/{number}"}

    async def work(session: AsyncClientSession) -> None:
        await store.save(command, version, issued, now, session)

    await in_transaction(store.client, work)
    await store.credentials.update_one({"_id": issued.credential_id}, {"$unset": {"suspendable": "", "suspended": ""}})
    await store.lists.update_one({"_id": str(number)}, {"$unset": {"suspension_revision": ""}})
    return issued.credential_id


async def test_suspend_verify_reinstate_verify_with_the_lists_and_events(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    cid = (await issuance.issue())["credential_id"]
    other = (await issuance.issue("granne@example.se"))["credential_id"]
    full = await issuance.full(cid)
    revocation_entry, suspension_entry = full["credential"]["credentialStatus"]
    index = int(suspension_entry["statusListIndex"])
    empty = await served(issuance, suspension_entry["statusListCredential"])
    assert empty["credentialSubject"]["statusPurpose"] == "suspension" and not bit(empty, index)
    assert empty["id"] == suspension_entry["statusListCredential"]
    # Cached until the next change: the same signed document while nothing changes.
    assert await served(issuance, suspension_entry["statusListCredential"]) == empty

    answer = await suspend(issuance, cid)
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert (summary["status"], summary["suspension_reason"]) == ("suspended", "Under utredning av provtillfället")
    assert summary["suspended_at"] is not None and summary["revoked_at"] is None
    listed = (await issuance.http.get(f"/v1/providers/{issuance.provider_id}/credentials",
                                      headers=issuance.staff())).json()["items"]
    assert {c["credential_id"]: c["status"] for c in listed} == {cid: "suspended", other: "active"}

    suspended_list = await served(issuance, suspension_entry["statusListCredential"])
    assert bit(suspended_list, index) and suspended_list["proof"] != empty["proof"]
    assert not bit(await served(issuance, revocation_entry["statusListCredential"]), index)
    for presented in (full["jws"], full["credential"]):
        result = await issuance.verify(presented)
        assert not result["verified"] and result["verdict"] == "invalid"
        revocation_check, suspension_check = status_checks(result)
        assert revocation_check == {"check": "status", "ok": True, "reason": "not revoked"}
        assert suspension_check == {"check": "status", "ok": False, "reason": "the credential is suspended: "
                                                                               "Under utredning av provtillfället"}
        assert result["reasons"] == ["status: the credential is suspended: Under utredning av provtillfället"]
    neighbour = await issuance.full(other)  # the same lists, another index: untouched
    assert (await issuance.verify(neighbour["jws"]))["verified"]

    answer = await reinstate(issuance, cid, reason="Utredningen klar, inget fel")
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert (summary["status"], summary["suspended_at"], summary["suspension_reason"]) == ("active", None, None)
    assert summary["reinstated_at"] is not None and summary["reinstatement_reason"] == "Utredningen klar, inget fel"
    assert not bit(await served(issuance, suspension_entry["statusListCredential"]), index)
    for presented in (full["jws"], full["credential"]):
        result = await issuance.verify(presented)
        assert result["verified"], result
        assert [c["reason"] for c in status_checks(result)] == ["not revoked", "not suspended"]

    # Suspended again, then reinstated without a reason: each change is one event.
    assert (await suspend(issuance, cid, "Andra gången")).status_code == 200
    assert (await reinstate(issuance, cid)).status_code == 200
    events = await events_of(issuance, cid)
    assert [t for t, _ in events] == [
        "issuance.credential.issued.v1", "issuance.credential.suspended.v1", "issuance.credential.reinstated.v1",
        "issuance.credential.suspended.v1", "issuance.credential.reinstated.v1"]
    _, first_suspension = events[1]
    _, first_reinstatement = events[2]
    learner_ref = full["learner_ref"]
    assert first_suspension == {
        "credential_id": cid, "learner_ref": learner_ref, "micro_credential_id": issuance.micro_credential_id,
        "version": 1, "provider_id": issuance.provider_id, "branches": ["vard-och-omsorg"],
        "reason": "Under utredning av provtillfället", "suspended_at": first_suspension["suspended_at"]}
    assert first_reinstatement["reason"] == "Utredningen klar, inget fel"
    assert first_reinstatement["suspended_at"] == first_suspension["suspended_at"]
    assert events[4][1]["reason"] is None
    assert "Lena" not in json.dumps(events) and "lena" not in json.dumps(events)  # a learner_ref, no personal data


async def test_every_refusal_is_precise(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    cid = (await issuance.issue())["credential_id"]
    stranger = issuance.staff("prov-someone-else")
    for refused in (await suspend(issuance, cid, staff=stranger), await reinstate(issuance, cid, staff=stranger),
                    await suspend(issuance, "urn:uuid:00000000-0000-4000-8000-000000000000")):
        assert refused.status_code == 404 and refused.json()["error"] == "not_found", refused.text
    learner = issuance.learner("lena.larsson@example.se")
    assert (await suspend(issuance, cid, staff=learner)).status_code == 403
    assert (await issuance.http.post(f"/v1/credentials/{cid}/suspension", json={"reason": "x"})).status_code == 401
    too_short = await issuance.http.post(f"/v1/credentials/{cid}/suspension", json={"reason": "x"},
                                         headers=issuance.staff())
    assert too_short.status_code == 422 and too_short.json()["error"] == "validation_failed"
    assert (await reinstate(issuance, cid, reason="x")).status_code == 422

    not_suspended = await reinstate(issuance, cid)
    assert not_suspended.status_code == 409 and not_suspended.json()["error"] == "not_suspended"
    assert (await suspend(issuance, cid)).status_code == 200
    twice = await suspend(issuance, cid, "igen")
    assert twice.status_code == 409 and twice.json()["error"] == "already_suspended"
    assert "already suspended" in twice.json()["message"]

    # A suspended credential can still be revoked; a revoked one is neither suspended nor reinstated.
    revoked = await issuance.http.post(f"/v1/credentials/{cid}/revocation", json={"reason": "Fusk bekräftat"},
                                       headers=issuance.staff())
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    for refused in (await suspend(issuance, cid), await reinstate(issuance, cid)):
        assert refused.status_code == 409 and refused.json()["error"] == "revoked", refused.text
        assert "revoked, for good" in refused.json()["message"]
    result = await issuance.verify((await issuance.full(cid))["jws"])
    assert [c["reason"] for c in status_checks(result)] == [
        "the credential has been revoked: Fusk bekräftat", "the credential is suspended: Under utredning av "
                                                           "provtillfället"]
    events = [t for t, _ in await events_of(issuance, cid)]
    assert events == ["issuance.credential.issued.v1", "issuance.credential.suspended.v1",
                      "issuance.credential.revoked.v1"]  # nothing for the refusals


async def test_a_credential_issued_before_suspension_keeps_verifying_and_cannot_be_suspended(
        issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    cid = await old_shape_credential(issuance)
    full = await issuance.full(cid)
    assert isinstance(full["credential"]["credentialStatus"], dict)
    assert (full["status"], full["suspendable"]) == ("active", False)
    for presented in (full["jws"], full["credential"]):
        result = await issuance.verify(presented)
        assert result["verified"], result
        assert [c["reason"] for c in status_checks(result)] == ["not revoked"]
        assert [c["check"] for c in result["checks"]].count("status-list") == 1

    refused = await suspend(issuance, cid)
    assert refused.status_code == 422 and refused.json()["error"] == "not_suspendable"
    assert "issued before suspension existed" in refused.json()["message"]
    assert (await reinstate(issuance, cid)).json()["error"] == "not_suspendable"
    # Its list's suspension twin is served all the same (new credentials share the list number).
    url = full["credential"]["credentialStatus"]["statusListCredential"]
    assert not Bitstring.decode((await served(issuance, url + "/suspension"))["credentialSubject"]
                                ["encodedList"]).set_indexes()

    # A new credential in the same list suspends; the old one's verification is unchanged by it.
    newer = await issuance.issue("ny@example.se")
    assert newer["suspendable"]
    assert (await suspend(issuance, newer["credential_id"])).status_code == 200
    assert (await issuance.verify(full["jws"]))["verified"]

    revoked = await issuance.http.post(f"/v1/credentials/{cid}/revocation", json={"reason": "Fel kurs"},
                                       headers=issuance.staff())
    assert revoked.status_code == 200
    result = await issuance.verify(full["credential"])
    assert [c["reason"] for c in status_checks(result)] == ["the credential has been revoked: Fel kurs"]


async def test_an_independent_verifier_reads_both_served_lists(issuance: IssuanceUnderTest) -> None:
    """openbadgeslib (its own Data Integrity code and its own Bitstring Status List reader) checks
    the served suspension list's proof like the revocation list's, and the credential's status."""
    await issuance.publish()
    full = await issuance.full((await issuance.issue())["credential_id"])
    cid = full["credential_id"]
    did = (await issuance.http.get("/.well-known/did.json")).json()

    async def lists_now() -> dict[str, bytes]:
        urls = [e["statusListCredential"] for e in full["credential"]["credentialStatus"]]
        return {url: (await issuance.http.get(url.removeprefix(PUBLIC))).content for url in urls}

    def check(lists: dict[str, bytes]) -> None:
        credential = OpenBadgeCredential.from_vc_document(full["credential"])
        assert len(credential.credential_status) == 2
        check_credential_status(credential, download=lists.__getitem__)

    lists = await lists_now()
    for raw in lists.values():
        document = json.loads(raw)
        method = next(m for m in did["verificationMethod"] if m["id"] == document["proof"]["verificationMethod"])
        pem = PublicKey.from_multikey("k", method["publicKeyMultibase"]).cryptography_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        verify_data_integrity_proof(document, pem)
        changed = json.loads(raw)
        changed["credentialSubject"]["statusPurpose"] = "revocation" if "suspension" in changed["id"] else "suspension"
        with pytest.raises(OB3VerificationError):
            verify_data_integrity_proof(changed, pem)
    check(lists)

    assert (await suspend(issuance, cid)).status_code == 200
    with pytest.raises(OB3VerificationError, match="suspension"):
        check(await lists_now())
    assert (await reinstate(issuance, cid)).status_code == 200
    check(await lists_now())


async def test_open_badges_single_entry_form_when_suspension_entries_are_off(
        stack: Any, mongo_client: Any, unique_name: str, dev_issuer: Any) -> None:
    """``ISSUANCE_SUSPENSION_ENTRY=false``: new credentials carry one revocation entry as a single
    object (Open Badges 3.0's ``credentialStatus`` 0..1), verify, revoke, and refuse suspension."""
    async with running_issuance(stack, mongo_client, unique_name, dev_issuer, suspension_entry=False) as issuance:
        await issuance.publish()
        issued = await issuance.issue("ettan@example.se")
        assert issued["suspendable"] is False
        full = await issuance.full(issued["credential_id"])
        status = full["credential"]["credentialStatus"]
        assert isinstance(status, dict) and status["statusPurpose"] == "revocation"
        assert (await issuance.verify(full["jws"]))["verified"]
        refused = await suspend(issuance, issued["credential_id"])
        assert refused.status_code == 422 and refused.json()["error"] == "not_suspendable"
        revoked = await issuance.http.post(f"/v1/credentials/{issued['credential_id']}/revocation",
                                           json={"reason": "Fel kurs"}, headers=issuance.staff())
        assert revoked.status_code == 200
        result = await issuance.verify(full["credential"])
        assert [c["reason"] for c in status_checks(result)] == ["the credential has been revoked: Fel kurs"]
