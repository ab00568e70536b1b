"""The issuance process killed with SIGKILL while it works through a burst of provider events:
after a restart every event is issued exactly once (one credential, one issued event each)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.envelope import to_kafka
from mimis_platform.localstack import HOST, LocalStack, ServerProcess, free_port
from mimis_platform.testing import jwks_setting
from services.issuance.tests.conftest import (
    RawRecord,
    eventually,
    read_topic,
    send_records,
)
from services.issuance.tests.service_factories import assessment, provider_registered, published

EVENTS = 600


async def _ready(url: str, server: ServerProcess) -> bool | None:
    server.check_alive()
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return True if (await http.get(f"{url}/readyz")).status_code == 200 else None
    except httpx.HTTPError:
        return None


async def test_a_killed_process_issues_every_event_exactly_once_after_restart(
        stack: LocalStack, mongo_client: Any, unique_name: str, dev_issuer: DevelopmentIssuer, tmp_path: Path) -> None:
    port, database = free_port(), f"issuance_{unique_name}"
    provider, mc = f"prov-{unique_name}", f"mc-{unique_name}"
    env = {**os.environ, **stack.environment("ISSUANCE_"), "ISSUANCE_MONGO_DATABASE": database,
           "ISSUANCE_CONSUMER_GROUP": f"issuance-{unique_name}", "ISSUANCE_AUTH_JWKS": jwks_setting(dev_issuer),
           "ISSUANCE_AUTH_ISSUER": dev_issuer.issuer, "ISSUANCE_HTTP_PORT": str(port), "ISSUANCE_HTTP_HOST": HOST,
           "ISSUANCE_ENVIRONMENT": "test", "ISSUANCE_RELAY_IDLE_SECONDS": "0.05"}
    server = ServerProcess("issuance", port, [sys.executable, "-m", "services.issuance"], tmp_path / "issuance.log",
                           env)
    url = f"http://{HOST}:{port}"
    db = mongo_client[database]
    server.start()
    try:
        await eventually(lambda: _ready(url, server), timeout=120, what="issuance to start")
        for topic, event in (("catalog.providers", provider_registered(provider)),
                             ("catalog.micro-credentials", published(mc, 1, provider))):
            r = to_kafka(event)
            await send_records(stack.kafka_bootstrap_servers, topic, [(r.key, r.value, r.headers)])

        async def known() -> bool | None:
            return True if await db["catalogue_versions"].find_one({"_id": f"{mc}@1"}) and \
                await db["providers"].find_one({"_id": provider}) else None

        await eventually(known, what="the read model")
        token = dev_issuer.token("staff", ["provider-member"], [provider])
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            answer = await http.post(f"/v1/providers/{provider}/event-secrets",
                                     headers={"authorization": f"Bearer {token}"})
            secret = answer.raise_for_status().json()["secret"]

        from datetime import UTC, datetime

        from mimis_platform.envelope import Event
        from services.issuance.domain.assessment import sign_record

        events = [assessment(provider, mc) for _ in range(EVENTS)]
        records: list[RawRecord] = []
        for data in events:
            event = Event(type="provider.assessment.recorded.v1", source=f"/providers/{provider}/lms",
                          partition_key=data["provider_event_id"], data=data)
            r = to_kafka(event)
            signed = sign_record(secret, event.id, datetime.now(UTC), r.value)
            records.append((r.key, r.value, [*r.headers, *((k, v.encode()) for k, v in signed.items())]))
        await send_records(stack.kafka_bootstrap_servers, "provider.assessments", records)

        async def some_issued() -> bool | None:
            return True if await db["credentials"].count_documents({}) >= EVENTS // 4 else None

        await eventually(some_issued, timeout=300, what="a quarter of the credentials")
        server.signal(signal.SIGKILL)
        assert server.process is not None
        await asyncio.to_thread(server.process.wait, 30)
        assert await db["credentials"].count_documents({}) < EVENTS  # it was killed mid-stream
        server.start()

        async def all_issued() -> bool | None:
            done = await db["credentials"].count_documents({}) >= EVENTS
            return True if done and await db["outbox"].count_documents({"pending": True}) == 0 else None

        await eventually(all_issued, timeout=600, what="every credential and every issued event")
        assert await db["credentials"].count_documents({}) == EVENTS
        sources = await db["credentials"].distinct("source_event_id")
        assert sorted(sources) == sorted(d["provider_event_id"] for d in events)
        assert await db["outbox"].count_documents({"type": "issuance.credential.issued.v1"}) == EVENTS
        on_topic = {json.loads(r.value)["credential_id"]
                    for r in await read_topic(stack.kafka_bootstrap_servers, "issuance.credentials")
                    if json.loads(r.value).get("provider_id") == provider}
        assert len(on_topic) == EVENTS  # duplicates on the topic are allowed (at least once); none missing
    finally:
        server.stop(25)
        await mongo_client.drop_database(database)
