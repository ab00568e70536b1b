"""Fixtures for the issuance service's tests: the real service on the real local stack, the
catalog's events and providers' signed assessment events sent over the real broker."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from fastapi import FastAPI

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.envelope import Event, to_kafka
from mimis_platform.kafka import new_producer
from mimis_platform.localstack import LocalStack
from mimis_platform.service_tokens import DevelopmentTokenSource
from mimis_platform.testing import jwks_setting
from services.issuance.bootstrap import bootstrap
from services.issuance.domain.assessment import sign_record
from services.issuance.issuer import Issuer
from services.issuance.settings import IssuanceSettings
from services.issuance.tests.service_factories import assessment, person, provider_registered, published

T = TypeVar("T")
RawRecord = tuple[bytes, bytes, list[tuple[str, bytes]]]
ASSESSMENTS = "provider.assessments"


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 60.0, what: str = "") -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or probe}")
        await asyncio.sleep(0.1)  # poll interval while events cross the broker


async def send_records(bootstrap_servers: str, topic: str,
                       records: Iterable[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> None:
    producer = new_producer(bootstrap_servers)
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def read_topic(bootstrap_servers: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on the topic now (no consumer group: assigned partitions, from the start)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())]
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[ConsumerRecord[bytes, bytes]] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                found.extend(records)
        return found
    finally:
        await consumer.stop()


def header(record: ConsumerRecord[Any, Any], name: str) -> str | None:
    for key, value in record.headers:
        if key == name:
            return bytes(value).decode()
    return None


@dataclass
class IssuanceUnderTest:
    http: httpx.AsyncClient
    app: FastAPI
    issuer: DevelopmentIssuer
    stack: LocalStack
    settings: IssuanceSettings
    provider_id: str
    micro_credential_id: str
    # The people registered by ``assessment()``, by learner_ref (what the provider's system knows).
    people: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def service(self) -> Issuer:
        service: Issuer = self.app.state.issuer
        return service

    def auth(self, subject: str, *roles: str, org: Iterable[str] = ()) -> dict[str, str]:
        return {"authorization": f"Bearer {self.issuer.token(subject, roles, org)}"}

    def staff(self, provider_id: str | None = None) -> dict[str, str]:
        return self.auth("staff-anna", "provider-member", org=[provider_id or self.provider_id])

    def learner(self, subject: str) -> dict[str, str]:
        return self.auth(subject, "learner")

    @property
    def ops(self) -> dict[str, str]:
        return self.auth("ops-olle", "ops")

    @property
    def service_token(self) -> dict[str, str]:
        return self.auth("notifications", "service")

    async def send_catalog(self, events: Iterable[tuple[str, Event]]) -> None:
        for topic, event in events:
            record = to_kafka(event)
            await send_records(self.stack.kafka_bootstrap_servers, topic, [(record.key, record.value, record.headers)])

    async def publish(self, micro_credential_id: str | None = None, version: int = 1, provider_id: str | None = None,
                      **content: Any) -> None:
        """The catalog's events for a provider and a published version, then wait until issuance has them."""
        mc, provider = micro_credential_id or self.micro_credential_id, provider_id or self.provider_id
        await self.send_catalog([("catalog.providers", provider_registered(provider)),
                                 ("catalog.micro-credentials", published(mc, version, provider, **content))])
        catalogue = self.service.catalogue

        async def ready() -> bool | None:
            have = await catalogue.versions.find_one({"_id": f"{mc}@{version}", "provider_id": provider})
            return True if have and await catalogue.providers.find_one({"_id": provider}) else None

        await eventually(ready, what=f"{mc} v{version} in issuance's read model")

    async def new_secret(self, provider_id: str | None = None) -> str:
        provider = provider_id or self.provider_id
        answer = await self.http.post(f"/v1/providers/{provider}/event-secrets", headers=self.staff(provider))
        assert answer.status_code == 201, answer.text
        return str(answer.json()["secret"])

    def assessment_record(self, secret: str | None, data: dict[str, Any], event_id: str | None = None,
                          key: str | None = None, trace: str | None = None,
                          event_type: str = "provider.assessment.recorded.v2") -> RawRecord:
        event = Event(type=event_type, source=f"/providers/{data.get('provider_id')}/lms",
                      partition_key=key or str(data.get("provider_event_id")), data=data,
                      id=event_id or str(uuid.uuid4()), trace_context={"traceparent": trace} if trace else {})
        record = to_kafka(event)
        headers = list(record.headers)
        if secret is not None:
            signed = sign_record(secret, event.id, datetime.now(UTC), record.value)
            headers += [(k, v.encode()) for k, v in signed.items()]
        return record.key, record.value, headers

    async def send_assessments(self, records: Iterable[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> None:
        await send_records(self.stack.kafka_bootstrap_servers, ASSESSMENTS, records)

    async def register(self, *people: dict[str, Any], provider_id: str | None = None) -> list[str]:
        """What a provider's system does first: register its learners over HTTPS for their learner_refs."""
        provider = provider_id or self.provider_id
        answer = await self.http.post(f"/v1/providers/{provider}/learners", json={"learners": list(people)},
                                      headers=self.staff(provider))
        assert answer.status_code == 200, answer.text
        refs = [str(row["learner_ref"]) for row in answer.json()["learners"]]
        self.people.update(zip(refs, people, strict=True))
        return refs

    async def assessment(self, learner: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
        """A v2 assessment of a newly registered learner (a new one each time unless ``learner`` is given,
        or ``learner_ref`` is among the overrides)."""
        options = {"provider_id": self.provider_id, "micro_credential_id": self.micro_credential_id, **overrides}
        if "learner_ref" not in options:
            [options["learner_ref"]] = await self.register(learner or person(), provider_id=options["provider_id"])
        return assessment(**options)

    async def credential_for(self, provider_event_id: str) -> dict[str, Any]:
        credentials = self.service.store.credentials

        async def found() -> dict[str, Any] | None:
            return await credentials.find_one({"source_event_id": provider_event_id,
                                               "provider_id": self.provider_id})

        return await eventually(found, what=f"the credential of {provider_event_id}")

    async def issue(self, email: str = "lena.larsson@example.se", **body: Any) -> dict[str, Any]:
        payload = {"micro_credential_id": self.micro_credential_id, "version": 1,
                   "learner": {"name": "Lena Larsson", "email": email}, **body}
        answer = await self.http.post(f"/v1/providers/{self.provider_id}/credentials", json=payload,
                                      headers=self.staff())
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    async def full(self, credential_id: str) -> dict[str, Any]:
        answer = await self.http.get(f"/v1/credentials/{credential_id}", headers=self.staff())
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def verify(self, credential: str | dict[str, Any]) -> dict[str, Any]:
        answer = await self.http.post("/v1/verify", json={"credential": credential})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def relay_drained(self) -> None:
        relay = self.app.state.runtime.relay

        async def empty() -> bool | None:
            return True if await relay.pending_count() == 0 else None

        await eventually(empty, what="the outbox relay to publish everything")


def issuance_settings(stack: LocalStack, unique_name: str, issuer: DevelopmentIssuer,
                      **overrides: Any) -> IssuanceSettings:
    options: dict[str, Any] = {
        "kafka_bootstrap_servers": stack.kafka_bootstrap_servers,
        "mongo_url": stack.mongo_url,
        "mongo_database": f"issuance_{unique_name}",
        "consumer_group": f"issuance-{unique_name}",
        "relay_idle_seconds": 0.05,
        "consumer_max_attempts": 3,
        "assessment_consumers": 1,
        "consumer_backoff_seconds": 0.05,
        "auth_jwks": jwks_setting(issuer),
        "auth_issuer": issuer.issuer,
        "environment": "test",
        "log_json": False,
        "public_base_url": "https://issuance.test",
    }
    options.update(overrides)
    return IssuanceSettings(**options)


@asynccontextmanager
async def running_issuance(stack: LocalStack, mongo_client: Any, unique_name: str, issuer: DevelopmentIssuer,
                           **overrides: Any) -> AsyncIterator[IssuanceUnderTest]:
    settings = issuance_settings(stack, unique_name, issuer, **overrides)
    app = bootstrap(settings, tokens=DevelopmentTokenSource(issuer, "service:issuance"))
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://issuance") as http:
                yield IssuanceUnderTest(http, app, issuer, stack, settings, f"prov-{unique_name}",
                                        f"mc-{unique_name}")
    finally:
        await mongo_client.drop_database(settings.mongo_database)


@pytest.fixture
async def issuance(stack: LocalStack, mongo_client: Any, unique_name: str,
                   dev_issuer: DevelopmentIssuer) -> AsyncIterator[IssuanceUnderTest]:
    async with running_issuance(stack, mongo_client, unique_name, dev_issuer) as running:
        yield running


def jws_payload(token: str) -> dict[str, Any]:
    import base64

    part = token.split(".")[1]
    loaded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return loaded
