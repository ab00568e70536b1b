"""Faults with real processes: the catalog and quality services run as separate processes (as
`make run` starts them) on a broker and a database of this module's own, which the tests freeze,
restart and flood.

* The broker frozen while the catalog accepts writes: no write lost, every event flows once the
  broker is back (the quality service opens a review for every submission).
* The database restarted while writes arrive: every write that was acknowledged survives and its
  events flow; writes during the outage are refused with a clear 503, not hung.
* A flood of malformed records on a topic: every one dead-lettered with a reason, every good
  event around them handled, the consumer still running.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.devstack import ServiceProcess, start_services, wait_ready
from mimis_platform.envelope import Event, to_kafka
from mimis_platform.localstack import HOST, LocalStack, free_port
from services.catalog.tests.factories import content_payload, provider_payload
from tests.running_services import eventually

pytestmark = pytest.mark.slow

TOPIC = "catalog.micro-credentials"


@dataclass
class System:
    stack: LocalStack
    services: dict[str, ServiceProcess]
    issuer: DevelopmentIssuer

    def url(self, name: str) -> str:
        return self.services[name].url

    def headers(self, subject: str, role: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.issuer.token(subject, [role])}"}


@pytest.fixture(scope="module")
async def system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    root = tmp_path_factory.mktemp("faults")
    stack = LocalStack(root=Path(root))
    await stack.start()
    issuer = DevelopmentIssuer.load_or_create(stack.root / "dev-issuer-key.json")
    urls = {name: f"http://{HOST}:{free_port()}" for name in ("catalog", "quality")}
    services: list[ServiceProcess] = []
    try:
        # Short consumer sessions so a group recovers quickly after the broker was frozen.
        services = start_services(stack, issuer, urls, {"RELAY_IDLE_SECONDS": "0.05", "LOG_LEVEL": "WARNING"})
        await wait_ready(services)
        yield System(stack, {s.name: s for s in services}, issuer)
    finally:
        for service in services:
            await asyncio.to_thread(service.server.stop, 25.0)
        await stack.stop()


async def _provider(http: httpx.AsyncClient, system: System) -> str:
    provider_id = f"p{uuid.uuid4().hex[:8]}"
    answer = await http.post(f"{system.url('catalog')}/providers", json={"id": provider_id, **provider_payload()},
                             headers=system.headers("anna", "provider-member"))
    assert answer.status_code == 201, answer.text
    return provider_id


async def _draft_and_submit(http: httpx.AsyncClient, system: System, provider_id: str, n: int) -> str:
    anna = system.headers("anna", "provider-member")
    content = content_payload(title={"sv": f"Felsäker mikromerit {n}", "en": f"Fault-proof micro-credential {n}"})
    answer = await http.post(f"{system.url('catalog')}/micro-credentials",
                             json={"provider_id": provider_id, "content": content}, headers=anna)
    assert answer.status_code == 201, answer.text
    mc_id = str(answer.json()["micro_credential_id"])
    answer = await http.post(f"{system.url('catalog')}/micro-credentials/{mc_id}/versions/1/submit", headers=anna)
    assert answer.status_code == 200, answer.text
    return mc_id


async def _reviews_opened(http: httpx.AsyncClient, system: System, ids: set[str], timeout: float) -> set[str]:
    """The micro-credentials among ``ids`` that the quality service opened a review for."""
    admin = system.headers("kerstin", "quality-admin")
    seen: set[str] = set()

    async def all_opened() -> bool | None:
        for mc_id in ids - seen:
            answer = await http.get(f"{system.url('quality')}/reviews", params={"micro_credential_id": mc_id},
                                    headers=admin)
            if answer.status_code == 200 and answer.json()["items"]:
                seen.add(mc_id)
        return True if seen == ids else None

    await eventually(all_opened, timeout=timeout)
    return seen


async def test_writes_while_the_broker_is_frozen_are_kept_and_flow_when_it_returns(system: System) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        provider_id = await _provider(http, system)
        system.stack.pause_broker()
        try:
            # The catalog keeps accepting writes: they go to MongoDB with their events in the outbox.
            ids = {await _draft_and_submit(http, system, provider_id, n) for n in range(15)}
            ready = await http.get(f"{system.url('catalog')}/readyz")
            assert ready.status_code == 503, "readiness should say the broker is not answering"
        finally:
            system.stack.resume_broker()
        assert await _reviews_opened(http, system, ids, timeout=180) == ids
        await _assert_ready(http, system)


async def test_a_database_restart_loses_no_acknowledged_write(system: System) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        provider_id = await _provider(http, system)
        acknowledged: set[str] = set()
        refused: list[dict[str, Any]] = []
        restarted, some_landed, refusal_seen = asyncio.Event(), asyncio.Event(), asyncio.Event()

        anna = system.headers("anna", "provider-member")
        catalog = system.url("catalog")

        async def call(method: str, path: str, **options: Any) -> httpx.Response | None:
            answer = await http.request(method, f"{catalog}{path}", headers=anna, **options)
            if answer.status_code >= 500:
                refused.append({"status": answer.status_code, **answer.json()})
                refusal_seen.set()
                return None
            assert answer.status_code < 300, answer.text
            return answer

        async def writer() -> None:
            n = 0
            while (not restarted.is_set() or len(acknowledged) < 8) and n < 300:
                n += 1
                content = content_payload(title={"sv": f"Omstart {n}", "en": f"Restart {n}"})
                body = {"provider_id": provider_id, "content": content}
                drafted = await call("POST", "/micro-credentials", json=body)
                if drafted is None:
                    continue
                mc_id = drafted.json()["micro_credential_id"]
                if await call("POST", f"/micro-credentials/{mc_id}/versions/1/submit") is None:
                    continue  # refused: the draft stays a draft
                acknowledged.add(mc_id)
                if len(acknowledged) >= 3:
                    some_landed.set()

        async def restart() -> None:
            await some_landed.wait()  # a few writes first
            stack = system.stack
            await asyncio.to_thread(stack.database.stop)
            # Down until the catalog has answered a write with its refusal (longer than its 5 s
            # server-selection wait); a shorter outage only makes writes wait, then succeed.
            await refusal_seen.wait()
            stack.database.start()
            await stack.wait_database_ready()
            restarted.set()

        await asyncio.gather(writer(), restart())
        assert len(acknowledged) >= 8
        assert refused, "no write reached the catalog while the database was down"
        assert all(r["status"] == 503 and r["error"] == "database_unavailable" for r in refused), refused
        # Every acknowledged submission is still there and reached the quality service.
        for mc_id in acknowledged:
            answer = await http.get(f"{system.url('catalog')}/micro-credentials/{mc_id}/versions/1", headers=anna)
            assert answer.status_code == 200, answer.text
        assert await _reviews_opened(http, system, acknowledged, timeout=180) == acknowledged
        await _assert_ready(http, system)


def _malformed(n: int, marker: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    key = f"{marker}-{n}".encode()
    kind = n % 4
    if kind == 0:
        return key, b"\xff not json at all", []
    if kind == 1:  # JSON, but no CloudEvents attributes
        return key, json.dumps({"hello": n}).encode(), []
    event = Event(type="catalog.credential.submitted.v1" if kind == 2 else "catalog.credential.vanished.v1",
                  source="/tests/flood", partition_key=key.decode(), data={"micro_credential_id": 42})
    record = to_kafka(event)  # a schema violation (kind 2) or a type no contract declares (kind 3)
    return key, record.value, record.headers


async def test_a_flood_of_malformed_events_is_dead_lettered_and_good_ones_around_it_handled(system: System) -> None:
    marker = f"flood-{uuid.uuid4().hex[:8]}"
    bad = 200
    async with httpx.AsyncClient(timeout=30) as http:
        provider_id = await _provider(http, system)
        producer = AIOKafkaProducer(bootstrap_servers=system.stack.kafka_bootstrap_servers, enable_idempotence=False,
                                    linger_ms=20)
        await producer.start()
        ids: set[str] = set()
        try:
            for wave in range(5):
                sent = [await producer.send(TOPIC, value, key=key, headers=headers)
                        for key, value, headers in (_malformed(wave * 40 + i, marker) for i in range(bad // 5))]
                await asyncio.gather(*sent)
                ids |= {await _draft_and_submit(http, system, provider_id, 1000 + wave * 2 + i) for i in range(2)}
        finally:
            await producer.stop()
        assert await _reviews_opened(http, system, ids, timeout=180) == ids

        letters = await _dead_letters(system, f"{TOPIC}.dlq", marker, bad)
        assert len(letters) == bad, f"{len(letters)} of {bad} malformed records dead-lettered"
        reasons = {dict(r.headers)["mimis-dlq-reason"].decode() for r in letters}
        assert all(reason.strip() for reason in reasons)
        assert {dict(r.headers)["mimis-dlq-consumer-group"].decode() for r in letters} == {"quality"}
        await _assert_ready(http, system)


async def _dead_letters(system: System, dlq: str, marker: str, expected: int) -> list[Any]:
    reader = AIOKafkaConsumer(dlq, bootstrap_servers=system.stack.kafka_bootstrap_servers,
                              auto_offset_reset="earliest", enable_auto_commit=False)
    await reader.start()
    try:
        found: list[Any] = []
        async with asyncio.timeout(180):
            while len(found) < expected:
                for records in (await reader.getmany(timeout_ms=500)).values():
                    found.extend(r for r in records if r.key and r.key.decode().startswith(marker))
        for records in (await reader.getmany(timeout_ms=1000)).values():  # no more than expected
            found.extend(r for r in records if r.key and r.key.decode().startswith(marker))
        return found
    finally:
        await reader.stop()


async def _assert_ready(http: httpx.AsyncClient, system: System) -> None:
    for name in system.services:
        async def ready(service: str = name) -> bool | None:
            return True if (await http.get(f"{system.url(service)}/readyz")).status_code == 200 else None

        assert await eventually(ready, timeout=60), f"{name} is not ready again"
