"""A malformed event never stops the consumer: it goes to the topic's dead-letter twin, and the
events after it are delivered."""

from __future__ import annotations

import json
import time
import uuid

from aiokafka import AIOKafkaConsumer

from mimis_platform.consumer import DLQ_REASON
from mimis_platform.envelope import Event, to_kafka
from mimis_platform.kafka import new_producer
from services.notifications.tests.conftest import NotificationsUnderTest
from services.notifications.tests.factories import issued, uid
from services.notifications.tests.servers import WebhookReceiver

TOPIC = "issuance.credentials"


async def test_a_contract_violation_is_dead_lettered_and_the_next_event_delivered(
        notifications: NotificationsUnderTest, receiver: WebhookReceiver) -> None:
    n = notifications
    org = uid("prov")
    sub = await n.subscribe(org, receiver.url(), ["issuance.credential.issued.v1"], filters={"providers": [org]})
    good = issued(org)
    bad_data = dict(good.data, learner_ref="", email="anna@example.se")  # empty ref, and a field the contract forbids
    bad = Event(type=good.type, source="/mimis/issuance", partition_key=good.partition_key, data=bad_data)
    producer = new_producer(n.stack.kafka_bootstrap_servers)
    await producer.start()
    try:
        for event in (bad, good):
            record = to_kafka(event)
            await producer.send_and_wait(TOPIC, record.value, key=record.key, headers=record.headers)
        await producer.send_and_wait(TOPIC, b"not json at all", key=good.partition_key.encode(),
                                     headers=[("ce_specversion", b"1.0"), ("ce_id", uuid.uuid4().hex.encode())])
    finally:
        await producer.stop()

    await n.wait_delivery(good, sub["id"])
    await n.drain()
    assert [json.loads(r.body)["id"] for r in receiver.requests] == [good.id]
    assert await n.delivery(bad, sub["id"]) is None

    consumer = AIOKafkaConsumer(f"{TOPIC}.dlq", bootstrap_servers=n.stack.kafka_bootstrap_servers,
                                group_id=f"dlq-reader-{uuid.uuid4().hex[:8]}", auto_offset_reset="earliest")
    await consumer.start()
    reasons: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(reasons) < 2:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    headers = dict(r.headers)
                    if headers.get("mimis-dlq-consumer-group") != str(n.settings.consumer_group).encode():
                        continue  # another test's dead letters
                    reasons[(headers.get("ce_id") or b"").decode()] = headers[DLQ_REASON].decode()
    finally:
        await consumer.stop()
    assert "contract violation" in reasons[bad.id]
    assert any("undecodable" in reason or "contract" in reason for key, reason in reasons.items() if key != bad.id)
