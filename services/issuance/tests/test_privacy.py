"""Learners' rights in issuance, on the real broker and database: registration for a
learner_ref, erasure with its event and other services' confirmations, and the export's refusal
to answer incompletely."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.envelope import Event, to_kafka
from mimis_platform.localstack import LocalStack, free_port
from services.issuance.tests.conftest import (
    IssuanceUnderTest,
    eventually,
    header,
    read_topic,
    running_issuance,
    send_records,
)
from services.issuance.tests.service_factories import person


async def test_registration_gives_one_learner_ref_per_address_and_refuses_a_bad_row_without_writing(
        issuance: IssuanceUnderTest) -> None:
    sara = person(personal_identity_number="19900517-1237")
    [ref] = await issuance.register(sara)
    # Again, with the address in other case and a changed name: the same learner, brought up to date.
    [again] = await issuance.register({**sara, "email": sara["email"].upper(), "name": "Sara Nilsson Ek"})
    assert again == ref
    record = await issuance.service.store.learner(ref)
    assert record is not None and record["name"] == "Sara Nilsson Ek"
    assert record["pin_lookup"].startswith("hmac-sha256$") and "9005171237" not in str(record)
    # The same personal identity number (written another way) with a new address: still the same learner.
    moved = {**sara, "email": f"sara.ny.{uuid.uuid4().hex[:6]}@example.se", "personal_identity_number": "900517-1237"}
    assert await issuance.register(moved) == [ref]
    record = await issuance.service.store.learner(ref)
    assert record is not None and record["email"] == moved["email"]
    assert await issuance.service.store.learners.count_documents({"pin_lookup": record["pin_lookup"]}) == 1

    before = await issuance.service.store.learners.count_documents({})
    newcomer = person()
    answer = await issuance.http.post(f"/v1/providers/{issuance.provider_id}/learners", headers=issuance.staff(),
                                      json={"learners": [newcomer, person(personal_identity_number="19900517-1230"),
                                                         person(name="Sara 19900517-1237")]})
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["registered"] == 0 and body["failed"] == 2
    assert [bool(row["errors"]) for row in body["learners"]] == [False, True, True]
    assert "personal identity number is not valid" in body["learners"][1]["errors"][0]
    assert "1230" not in answer.text  # the refused number is not repeated back
    assert await issuance.service.store.learners.count_documents({}) == before  # nothing half-written

    other = await issuance.http.post(f"/v1/providers/{issuance.provider_id}-other/learners",
                                     headers=issuance.staff(), json={"learners": [newcomer]})
    assert other.status_code == 403
    empty = await issuance.http.post(f"/v1/providers/{issuance.provider_id}/learners", headers=issuance.staff(),
                                     json={"learners": []})
    assert empty.status_code == 422 and "learners" in empty.text


async def test_erasure_erases_here_publishes_once_and_completes_when_every_service_confirmed(
        issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    lena = f"lena.{uuid.uuid4().hex[:8]}@example.se"
    credential = await issuance.issue(email=lena)
    learner = issuance.learner(lena)
    asked = await issuance.http.post("/v1/me/erasure", headers=learner)
    assert asked.status_code == 202, asked.text
    erasure = asked.json()
    assert erasure["status"] == "in_progress" and erasure["waiting_for"] == ["notifications"]
    assert [c["service"] for c in erasure["confirmed"]] == ["issuance"]
    ref = erasure["learner_ref"]
    assert ref == credential["learner_ref"]

    record = await issuance.service.store.learner(ref)
    assert record is not None and set(record) == {"_id", "erased_at"}
    stored = await issuance.service.store.get(credential["credential_id"])
    assert stored is not None and stored["erased"] and "document" not in stored and "jws" not in stored
    assert isinstance(stored["status_index"], int) and stored["status"] == "active"  # the status entry remains

    # Asking again answers the same request; nothing new is published.
    again = await issuance.http.post("/v1/me/erasure", headers=learner)
    assert again.status_code == 404  # no learner record for her any more
    by_ops = await issuance.http.post(f"/v1/learners/{ref}/erasure", headers=issuance.ops)
    assert by_ops.status_code == 202 and by_ops.json()["erasure_id"] == erasure["erasure_id"]
    await issuance.relay_drained()
    published = [r for r in await read_topic(issuance.stack.kafka_bootstrap_servers, "privacy.erasures")
                 if r.key == ref.encode()]
    assert len(published) == 1 and header(published[0], "ce_type") == "privacy.learner.erasure-requested.v1"
    assert lena.encode() not in published[0].value

    # Notifications confirms (twice: the inbox makes the second a no-op; the request completes once).
    status_url = asked.headers["location"]
    confirmation = Event(type="privacy.learner.erasure-confirmed.v1", source="/mimis/notifications",
                         partition_key=ref, data={"erasure_id": erasure["erasure_id"], "learner_ref": ref,
                                                  "service": "notifications", "records_erased": 2,
                                                  "confirmed_at": datetime.now(UTC).isoformat()})
    record_ = to_kafka(confirmation)
    await send_records(issuance.stack.kafka_bootstrap_servers, "privacy.erasure-confirmations",
                       [(record_.key, record_.value, record_.headers)] * 2)

    async def complete() -> dict[str, Any] | None:
        state = (await issuance.http.get(status_url, headers=learner)).json()
        return state if state["status"] == "complete" else None

    state = await eventually(complete, what="the erasure to complete")
    assert state["waiting_for"] == [] and {c["service"]: c["records_erased"] for c in state["confirmed"]} == {
        "issuance": 2, "notifications": 2}  # issuance: the learner record and the credential
    # Someone else may not read it; ops may.
    assert (await issuance.http.get(status_url, headers=issuance.learner("someone@example.se"))).status_code == 404
    assert (await issuance.http.get(status_url, headers=issuance.ops)).status_code == 200


async def test_an_operator_finds_and_exports_a_learner_and_an_export_missing_a_part_is_refused(
        stack: LocalStack, mongo_client: Any, unique_name: str, dev_issuer: DevelopmentIssuer) -> None:
    nobody_listens = f"http://127.0.0.1:{free_port()}"
    async with running_issuance(stack, mongo_client, unique_name, dev_issuer,
                                notifications_url=nobody_listens) as issuance:
        await issuance.publish()
        address = f"olle.{uuid.uuid4().hex[:8]}@example.se"
        await issuance.issue(email=address)
        found = await issuance.http.post("/v1/learners/lookup", headers=issuance.ops, json={"email": address})
        assert found.status_code == 200, found.text
        ref = found.json()["learner_ref"]
        assert (await issuance.http.post("/v1/learners/lookup", headers=issuance.learner(address),
                                         json={"email": address})).status_code == 403
        assert (await issuance.http.post("/v1/learners/lookup", headers=issuance.ops, json={})).status_code == 422

        export = await issuance.http.get(f"/v1/learners/{ref}/personal-data", headers=issuance.ops)
        assert export.status_code == 503, export.text
        assert export.json()["error"] == "export_incomplete" and "notifications" in export.json()["message"]
        mine = await issuance.http.get("/v1/me/personal-data", headers=issuance.learner(address))
        assert mine.status_code == 503
        bad = await issuance.http.get("/v1/learners/not-a-ref/personal-data", headers=issuance.ops)
        assert bad.status_code == 422
