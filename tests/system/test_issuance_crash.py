"""kill -9 the issuance service in the middle of 1,000 provider assessment events and start it
again: exactly 1,000 credentials, one per provider event id, and 1,000 distinct issued events.

Issuance runs as a process (as `make run` and Kubernetes run it) on a broker and database of this
module's own. The catalogue's events reach it as the catalog sends them; the provider's events
are signed with a secret issued through the API and name 1,000 learners registered over HTTPS
beforehand (``provider.assessment.recorded.v2``), as a provider's system does. The outbox relay
publishes at least once, so a crash between the broker's acknowledgement and the relay's mark may
put the same issued event (same CloudEvents id) on the topic twice: consumers drop such repeats by
id, and the test counts events by id, reporting the repeats it saw.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.devstack import ServiceProcess, start_services, wait_ready
from mimis_platform.envelope import Event, from_kafka, to_kafka
from mimis_platform.localstack import HOST, LocalStack, free_port
from mimis_platform.mongo import new_client
from services.issuance.domain.assessment import sign_record
from services.issuance.tests.service_factories import assessment, person, provider_registered, published
from tests.running_services import eventually

# Slow, and longer than the suite's 300 s per test: after a kill -9 the restarted consumers may
# wait for the broker to give up on the dead process's group members, which can take up to the
# rebalance timeout (aiokafka's default, 300 s) on the local broker (seen once on a clean clone).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

EVENTS = 1_000
REGISTRATION_BATCH = 1_000  # POST /v1/providers/{id}/learners takes up to 1,000 learners a call
PROVIDER, MICRO_CREDENTIAL = "crash-provider", "crash-mc"


@pytest.fixture(scope="module")
async def issuance(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[LocalStack, ServiceProcess,
                                                                                    DevelopmentIssuer]]:
    stack = LocalStack(root=Path(tmp_path_factory.mktemp("crash")))
    await stack.start()
    issuer = DevelopmentIssuer.load_or_create(stack.root / "dev-issuer-key.json")
    services: list[ServiceProcess] = []
    try:
        services = start_services(stack, issuer, {"issuance": f"http://{HOST}:{free_port()}"},
                                  {"RELAY_IDLE_SECONDS": "0.05", "LOG_LEVEL": "WARNING"})
        await wait_ready(services)
        yield stack, services[0], issuer
    finally:
        for service in services:
            await asyncio.to_thread(service.server.stop, 25.0)
        await stack.stop()


async def _send(stack: LocalStack, topic: str, records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=False,
                                linger_ms=10, acks="all")
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key, headers=headers) for key, value, headers in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def _record(event: Event) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    record = to_kafka(event)
    return record.key, record.value, record.headers


async def test_a_crash_mid_stream_issues_every_credential_exactly_once(
    issuance: tuple[LocalStack, ServiceProcess, DevelopmentIssuer],
) -> None:
    stack, service, issuer = issuance
    client = new_client(stack.mongo_url)
    db = client["issuance"]
    try:
        await _send(stack, "catalog.providers", [_record(provider_registered(PROVIDER))])
        await _send(stack, "catalog.micro-credentials", [_record(published(MICRO_CREDENTIAL, 1, PROVIDER))])

        async def in_read_model() -> bool | None:
            return True if await db.catalogue_versions.find_one({"_id": f"{MICRO_CREDENTIAL}@1"}) else None

        assert await eventually(in_read_model, timeout=120), "issuance never heard of the published version"
        staff = {"authorization": f"Bearer {issuer.token('staff', ['provider-member'], [PROVIDER])}"}
        people = [person() for _ in range(EVENTS)]
        refs: list[str] = []
        async with httpx.AsyncClient(timeout=300) as http:
            answer = await http.post(f"{service.url}/v1/providers/{PROVIDER}/event-secrets", headers=staff)
            assert answer.status_code == 201, answer.text
            secret = answer.json()["secret"]
            # The provider's system registers its learners first (before the crash part), for their learner_refs.
            for start in range(0, EVENTS, REGISTRATION_BATCH):
                answer = await http.post(f"{service.url}/v1/providers/{PROVIDER}/learners", headers=staff,
                                         json={"learners": people[start:start + REGISTRATION_BATCH]})
                assert answer.status_code == 200, answer.text
                refs.extend(row["learner_ref"] for row in answer.json()["learners"])
        assert len(set(refs)) == EVENTS

        records = []
        source_ids = []
        for learner_ref in refs:
            data = assessment(PROVIDER, MICRO_CREDENTIAL, learner_ref=learner_ref)
            source_ids.append(data["provider_event_id"])
            event = Event(type="provider.assessment.recorded.v2", source=f"/providers/{PROVIDER}/lms",
                          partition_key=data["provider_event_id"], data=data, id=str(uuid.uuid4()))
            key, value, headers = _record(event)
            signed = sign_record(secret, event.id, datetime.now(UTC), value)
            records.append((key, value, headers + [(k, v.encode()) for k, v in signed.items()]))
        await _send(stack, "provider.assessments", records)

        # Kill it hard once it is well into the stream, then start it again.
        async def a_third_issued() -> bool | None:
            return True if await db.credentials.count_documents({}) >= EVENTS // 3 else None

        assert await eventually(a_third_issued, timeout=300)
        service.server.signal(signal.SIGKILL)
        await asyncio.to_thread(service.server.process.wait if service.server.process else lambda: None)
        at_crash = await db.credentials.count_documents({})
        assert at_crash < EVENTS, "the crash came too late to prove anything"
        service.server.start()
        await wait_ready([service])

        async def all_issued() -> bool | None:
            return True if await db.credentials.count_documents({}) >= EVENTS else None

        assert await eventually(all_issued, timeout=600), f"{await db.credentials.count_documents({})} issued"
        credentials = [d async for d in db.credentials.find({}, {"source_key": 1, "learner_ref": 1})]
        assert len(credentials) == EVENTS
        assert len({d["source_key"] for d in credentials}) == EVENTS
        assert {d["learner_ref"] for d in credentials} == set(refs)

        issued = await _issued_events(stack, EVENTS)
        by_id: dict[str, list[Any]] = {}
        for event in issued:
            by_id.setdefault(event.id, []).append(event)
        assert len(by_id) == EVENTS, f"{len(by_id)} distinct issued events"
        credential_ids = {e.data["credential_id"] for e in issued}
        assert len(credential_ids) == EVENTS
        assert {e.data["source_event_id"] for e in issued} == set(source_ids)
        repeats = len(issued) - len(by_id)
        print(f"crash after {at_crash} credentials; {repeats} issued event(s) published twice by the relay")
    finally:
        await client.close()


async def _issued_events(stack: LocalStack, expected: int) -> list[Event]:
    reader = AIOKafkaConsumer("issuance.credentials", bootstrap_servers=stack.kafka_bootstrap_servers,
                              auto_offset_reset="earliest", enable_auto_commit=False)
    await reader.start()
    try:
        events: list[Event] = []
        ids: set[str] = set()
        async with asyncio.timeout(300):
            while len(ids) < expected:
                for records in (await reader.getmany(timeout_ms=500)).values():
                    for r in records:
                        event = from_kafka(r.key, r.value, r.headers)
                        if event.type == "issuance.credential.issued.v1":
                            events.append(event)
                            ids.add(event.id)
        for records in (await reader.getmany(timeout_ms=2000)).values():
            events.extend(e for e in (from_kafka(r.key, r.value, r.headers) for r in records)
                          if e.type == "issuance.credential.issued.v1")
        return events
    finally:
        await reader.stop()
