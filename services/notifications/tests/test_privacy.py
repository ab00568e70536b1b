"""Issue 11 in the notifications service, on the real broker and database: an erasure request
(issuance's event) erases what this service holds about the learner, exactly once, and is
confirmed once on ``privacy.erasure-confirmations``; a learner's export part holds their records
and nobody else's; ``privacy.*`` event types are never offered to partners.

The broker is shared by the whole test session and a fresh consumer group reads every topic from
the beginning, so every learner_ref here is new and whatever is read is filtered by it.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from bson import json_util

from mimis_platform.contracts import CONTRACTS
from mimis_platform.envelope import Event, from_kafka
from services.notifications.domain.privacy import erasure_marker, is_learner_ref, scrub
from services.notifications.storage import delivery_id, event_key
from services.notifications.tests.conftest import NotificationsUnderTest
from services.notifications.tests.factories import erasure_requested, issued, learner_ref, revoked, uid
from services.notifications.tests.servers import WebhookReceiver

ISSUED = "issuance.credential.issued.v1"
REVOKED = "issuance.credential.revoked.v1"
CONFIRMATIONS = "privacy.erasure-confirmations"
EXPORT = "/v1/internal/learners/{}/personal-data"


async def _holding(n: NotificationsUnderTest, text: str) -> dict[str, list[dict[str, Any]]]:
    """Every document of the service's database that holds ``text`` anywhere, by collection."""
    db = n.app.state.runtime.db
    found: dict[str, list[dict[str, Any]]] = {}
    for name in await db.list_collection_names():
        async for doc in db[name].find({}):
            if text in json_util.dumps(doc):
                found.setdefault(name, []).append(doc)
    return found


async def _confirmations(n: NotificationsUnderTest, ref: str, erasure_ids: set[str],
                         within: float = 60.0) -> list[Event]:
    """The confirmations of ``ref`` on the topic, once one of each erasure id has been seen, and
    whatever else of that learner is there after (so duplicates are counted)."""
    spec = CONTRACTS.topics.get(CONFIRMATIONS)
    consumer = AIOKafkaConsumer(bootstrap_servers=n.stack.kafka_bootstrap_servers, enable_auto_commit=False,
                                group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(spec.name, p) for p in range(spec.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        found: list[Event] = []

        async def read(timeout_ms: int) -> bool:
            batches = await consumer.getmany(timeout_ms=timeout_ms)
            for records in batches.values():
                for r in records:
                    event = from_kafka(r.key, r.value, r.headers or [])
                    if event.data.get("learner_ref") == ref:
                        found.append(event)
            return bool(batches)

        deadline = time.monotonic() + within
        while not erasure_ids <= {e.data["erasure_id"] for e in found}:
            assert time.monotonic() < deadline, f"no confirmation of {erasure_ids} on {CONFIRMATIONS}: {found}"
            await read(500)
        while await read(1500):  # the rest of the topic (end offsets are not exact on the local broker)
            pass
        return found
    finally:
        await consumer.stop()


def _recipient(credential_id: str, ref: str, address: str) -> dict[str, str]:
    return {"learner_ref": ref, "email": address, "name": "Ett Namn", "language": "sv",
            "share_url": f"https://mikromeriter.skane.se/dela/{credential_id}"}


async def _two_learners(n: NotificationsUnderTest, receiver: WebhookReceiver) -> dict[str, Any]:
    """Alice: a delivered e-mail, a pending one (issuance does not know the credential yet), a
    revocation; webhooks for all three. Bob: a delivered e-mail and its webhook."""
    org = uid("prov")
    sub = await n.subscribe(org, receiver.url(), [ISSUED, REVOKED], filters={"providers": [org]})
    alice, bob = learner_ref(), learner_ref()
    a1, a2, b1 = issued(org, learner_ref=alice), issued(org, learner_ref=alice), issued(org, learner_ref=bob)
    a_revoked = revoked(a1.data["credential_id"], alice, org)
    for event, ref in ((a1, alice), (b1, bob)):
        n.issuance.recipients[event.data["credential_id"]] = _recipient(event.data["credential_id"], ref,
                                                                        f"{uid('x')}@example.se")
    await n.send(a1, a2, b1, a_revoked)
    for event in (a1, a2, b1):
        await n.wait_email(event, "learner-credential")
    for event in (a1, a2, b1, a_revoked):
        await n.wait_delivery(event, sub["id"])
    await n.drain()
    assert (await n.wait_email(a1, "learner-credential"))["status"] == "delivered"
    assert (await n.wait_email(a2, "learner-credential"))["status"] == "pending"
    assert (await n.wait_email(b1, "learner-credential"))["status"] == "delivered"
    return {"org": org, "sub": sub, "alice": alice, "bob": bob, "a1": a1, "a2": a2, "b1": b1, "a_revoked": a_revoked}


async def test_an_erasure_leaves_nothing_naming_the_learner_and_is_confirmed_once(
        notifications: NotificationsUnderTest, receiver: WebhookReceiver) -> None:
    n = notifications
    w = await _two_learners(n, receiver)
    alice, bob = w["alice"], w["bob"]
    before = await _holding(n, alice)
    assert set(before) == {"deliveries", "payloads"}, before.keys()
    bobs_before = await _holding(n, bob)
    assert set(bobs_before) == {"deliveries", "payloads"}

    first = erasure_requested(alice)
    await n.send(first, first)  # the broker carries it twice: one effect, one confirmation
    await n.wait_handled(first)
    # A later request with a new erasure id (same key, so the same partition, after both copies).
    second = erasure_requested(alice)
    await n.send(second)
    found = await _confirmations(n, alice, {first.data["erasure_id"], second.data["erasure_id"]})
    by_erasure = {e.data["erasure_id"]: [x for x in found if x.data["erasure_id"] == e.data["erasure_id"]]
                  for e in found}
    [one] = by_erasure[first.data["erasure_id"]]
    [two] = by_erasure[second.data["erasure_id"]]
    assert len(found) == 2
    assert one.type == "privacy.learner.erasure-confirmed.v1" and one.source == "/mimis/notifications"
    assert one.partition_key == alice
    # Two e-mail deliveries deleted, three webhook payloads (two issued, one revoked) scrubbed.
    assert {k: v for k, v in one.data.items() if k != "confirmed_at"} == {
        "erasure_id": first.data["erasure_id"], "learner_ref": alice, "service": "notifications",
        "records_erased": 5}
    datetime.fromisoformat(one.data["confirmed_at"].replace("Z", "+00:00"))
    assert two.data["records_erased"] == 0
    CONTRACTS.validate(one.type, one.data)

    # Nothing names her any more, except the confirmations waiting in (or published from) the
    # outbox, which must name her: that is what issuance is told.
    after = await _holding(n, alice)
    assert set(after) <= {"outbox"}, {k: [d.get("_id") for d in v] for k, v in after.items()}
    assert {d["type"] for d in after.get("outbox", [])} <= {"privacy.learner.erasure-confirmed.v1"}
    assert await _holding(n, bob) == bobs_before  # the other learner's records untouched
    assert await n.store.erased_learners.find_one({"_id": erasure_marker(alice)}) is not None

    # Her webhook bodies stay (partners' delivery logs), naming her "erased".
    bodies = await n.store.payloads_by_key([event_key(e.source, e.id) for e in (w["a1"], w["a2"], w["a_revoked"])])
    assert len(bodies) == 3 and {json.loads(b)["data"]["learner_ref"] for b in bodies.values()} == {"erased"}
    # Her waiting e-mail is gone: even if issuance could now give an address, nothing is sent.
    a2_credential = w["a2"].data["credential_id"]
    n.issuance.recipients[a2_credential] = _recipient(a2_credential, alice, "late@example.se")
    n.clock.advance(10)  # past its retry time
    await n.drain()
    assert n.smtp.to("late@example.se") == []
    assert await n.store.delivery(delivery_id(event_key(w["a2"].source, w["a2"].id), "email:learner-credential")) \
        is None

    # A credential event about her that arrives late (another topic) mails nobody and names her "erased".
    late = issued(w["org"], learner_ref=alice)
    n.issuance.recipients[late.data["credential_id"]] = _recipient(late.data["credential_id"], alice,
                                                                   "later@example.se")
    await n.send(late)
    hook = await n.wait_delivery(late, w["sub"]["id"])
    await n.wait_handled(late)
    assert await n.store.delivery(delivery_id(event_key(late.source, late.id), "email:learner-credential")) is None
    await n.drain()
    assert n.smtp.to("later@example.se") == []
    [sent] = [r for r in receiver.requests if r.headers["webhook-id"] == hook["_id"]]
    assert json.loads(sent.body)["data"]["learner_ref"] == "erased"
    assert set(await _holding(n, alice)) <= {"outbox"}


async def test_the_export_holds_the_learners_records_and_nobody_elses(
        notifications: NotificationsUnderTest, receiver: WebhookReceiver) -> None:
    n = notifications
    w = await _two_learners(n, receiver)
    alice, bob = w["alice"], w["bob"]
    service = n.auth("service:issuance", "service")
    answer = await n.http.get(EXPORT.format(alice), headers=service)
    assert answer.status_code == 200, answer.text
    part = answer.json()
    assert part["service"] == "notifications" and part["learner_ref"] == alice
    emails = {e["credential_id"]: e for e in part["email_deliveries"]}
    assert set(emails) == {w["a1"].data["credential_id"], w["a2"].data["credential_id"]}
    delivered = emails[w["a1"].data["credential_id"]]
    assert delivered["kind"] == "learner-credential" and delivered["status"] == "delivered"
    assert delivered["attempts"] == 1 and delivered["delivered_at"] and delivered["last_error"] is None
    assert [a["outcome"] for a in delivered["attempt_log"]] == ["delivered"]
    waiting = emails[w["a2"].data["credential_id"]]
    assert waiting["status"] == "pending" and "does not know" in waiting["last_error"]
    hooks = part["webhook_deliveries"]
    assert sorted((h["event_type"], h["credential_id"]) for h in hooks) == sorted([
        (ISSUED, w["a1"].data["credential_id"]), (ISSUED, w["a2"].data["credential_id"]),
        (REVOKED, w["a1"].data["credential_id"])])
    assert {(h["organisation_id"], h["status"]) for h in hooks} == {(w["org"], "delivered")}
    assert all(h["delivered_at"] for h in hooks)
    assert bob not in answer.text and w["b1"].data["credential_id"] not in answer.text

    nobody = learner_ref()
    empty = await n.http.get(EXPORT.format(nobody), headers=service)
    assert empty.status_code == 200
    assert empty.json() == {"service": "notifications", "learner_ref": nobody, "email_deliveries": [],
                            "webhook_deliveries": []}

    # Services only.
    assert (await n.http.get(EXPORT.format(alice))).status_code == 401
    for role in ("learner", "ops", "region-admin"):
        refused = await n.http.get(EXPORT.format(alice), headers=n.auth(f"someone-{role}", role))
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden", role
    # A malformed reference is refused in the shared error shape.
    for bad in ("lr-123", "alice@example.se", f"LR-{uuid.uuid4().hex}", f"lr-{uuid.uuid4().hex}x"):
        refused = await n.http.get(EXPORT.format(bad), headers=service)
        assert refused.status_code == 422, bad
        body = refused.json()
        assert body["error"] == "validation_failed" and body["errors"][0]["field"] == "learner_ref", body

    # After her erasure the export has nothing left for her; his is still whole.
    erasure = erasure_requested(alice)
    await n.send(erasure)
    await n.wait_handled(erasure)
    gone = (await n.http.get(EXPORT.format(alice), headers=service)).json()
    assert gone["email_deliveries"] == [] and gone["webhook_deliveries"] == []
    his = (await n.http.get(EXPORT.format(bob), headers=service)).json()
    assert [e["credential_id"] for e in his["email_deliveries"]] == [w["b1"].data["credential_id"]]
    assert [h["credential_id"] for h in his["webhook_deliveries"]] == [w["b1"].data["credential_id"]]

    operations = (await n.http.get("/openapi.json")).json()["paths"][EXPORT.format("{learner_ref}")]
    assert operations["get"]["description"] and {"401", "403", "422"} <= set(operations["get"]["responses"])


async def test_payloads_from_before_learner_refs_were_recorded_are_found(
        notifications: NotificationsUnderTest) -> None:
    """Payloads written by an earlier version (no ``learner_ref`` field) are indexed at start-up,
    so an erasure or an export finds them too."""
    n = notifications
    alice, org = learner_ref(), uid("prov")
    event = issued(org, learner_ref=alice)
    key = event_key(event.source, event.id)
    did = delivery_id(key, "sub_legacy")
    body = json.dumps({"id": event.id, "source": event.source, "type": ISSUED, "timestamp": "2026-11-23T09:00:00Z",
                       "data": event.data})
    now = n.clock.now()
    await n.store.payloads.insert_one({"_id": key, "body": body, "created_at": now})
    await n.store.deliveries.insert_one({
        "_id": did, "event_key": key, "target": "sub_legacy", "channel": "webhook", "status": "failed", "attempts": 1,
        "event_id": event.id, "event_source": event.source, "event_type": ISSUED, "subscription_id": "sub_legacy",
        "organisation_id": org, "created_at": now, "delivered_at": None, "next_attempt_at": now,
        "last_error": f"HTTP 400: unknown learner {alice}", "sort_key": "0"})
    assert await n.store.index_payload_learners() >= 1
    assert await n.store.index_payload_learners() == 0  # once
    part = (await n.http.get(EXPORT.format(alice), headers=n.auth("service:issuance", "service"))).json()
    assert [(h["id"], h["organisation_id"]) for h in part["webhook_deliveries"]] == [(did, org)]

    erasure = erasure_requested(alice)
    await n.send(erasure)
    await n.wait_handled(erasure)
    assert set(await _holding(n, alice)) <= {"outbox"}
    scrubbed = await n.store.delivery(did)
    assert scrubbed is not None and scrubbed["last_error"] == "HTTP 400: unknown learner erased"


async def test_privacy_event_types_are_not_offered_to_partners(notifications: NotificationsUnderTest) -> None:
    n = notifications
    offered = {t["type"] for t in (await n.http.get("/event-types")).json()}
    assert ISSUED in offered and not any(t.startswith("privacy.") for t in offered)
    refused = await n.http.post("/subscriptions", headers=n.auth("region-admin-1", "region-admin"), json={
        "organisation_id": "region", "url": "http://127.0.0.1:9/x", "owner_email": "it@region.se",
        "event_types": ["privacy.learner.erasure-requested.v1"]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "event_types.0"
    # The consumer still handles the erasure requests (its routing table is not the offer).
    assert "privacy.learner.erasure-requested.v1" in n.app.state.runtime.routes


def test_scrub_replaces_the_reference_everywhere_and_nothing_else() -> None:
    ref, other = learner_ref(), learner_ref()
    moment = datetime(2026, 11, 23)
    doc = {"_id": "msg_1", "at": moment, "n": 3, "params": {"learner_ref": ref, "other": other},
           "attempt_log": [{"recipient": f"learner:{ref}", "error": None}], "body": f'{{"learner_ref":"{ref}"}}'}
    assert scrub(doc, ref) == {
        "_id": "msg_1", "at": moment, "n": 3, "params": {"learner_ref": "erased", "other": other},
        "attempt_log": [{"recipient": "learner:erased", "error": None}], "body": '{"learner_ref":"erased"}'}
    assert is_learner_ref(ref) and not is_learner_ref("erased") and not is_learner_ref(ref + "0")
    assert erasure_marker(ref) != erasure_marker(other) and ref not in erasure_marker(ref)
