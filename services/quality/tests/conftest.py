"""Fixtures for the quality service's tests: the real service on the real local stack, people
with tokens, and the catalog's submissions sent over the real broker as the catalog sends them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.envelope import Event, to_kafka
from mimis_platform.kafka import new_producer
from mimis_platform.localstack import LocalStack
from mimis_platform.testing import jwks_setting
from services.quality.bootstrap import bootstrap
from services.quality.settings import QualitySettings
from services.quality.storage import QualityStore
from services.quality.tests.factories import checklist_payload, submitted_event

ADMIN = "kerstin.admin"


async def send(bootstrap_servers: str, events: Iterable[Event], topic: str = "catalog.micro-credentials") -> None:
    producer = new_producer(bootstrap_servers)
    await producer.start()
    try:
        for event in events:
            record = to_kafka(event)
            await producer.send_and_wait(topic, record.value, key=record.key, headers=record.headers)
    finally:
        await producer.stop()


@dataclass
class QualityUnderTest:
    http: httpx.AsyncClient
    app: FastAPI
    issuer: DevelopmentIssuer
    stack: LocalStack
    settings: QualitySettings

    @property
    def store(self) -> QualityStore:
        store: QualityStore = self.app.state.quality_store
        return store

    def auth(self, subject: str, *roles: str, org: Iterable[str] = ()) -> dict[str, str]:
        return {"authorization": f"Bearer {self.issuer.token(subject, roles, org)}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.auth(ADMIN, "quality-admin")

    def reviewer(self, subject: str, *org: str) -> dict[str, str]:
        return self.auth(subject, "reviewer", org=org)

    async def submit(self, **options: Any) -> Event:
        """The catalog's submission event, sent over the broker."""
        event = submitted_event(**options)
        await send(self.stack.kafka_bootstrap_servers, [event])
        return event

    async def wait_for_review(self, mc_id: str, round_: int = 1, version: int = 1,
                              timeout: float = 45.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = await self.http.get("/reviews", params={"micro_credential_id": mc_id}, headers=self.admin)
            assert answer.status_code == 200, answer.text
            for item in answer.json()["items"]:
                if item["round"] == round_ and item["version"] == version:
                    return dict(item)
            await asyncio.sleep(0.1)  # poll interval while the consumer opens the review
        raise AssertionError(f"no review round {round_} of {mc_id} v{version} was opened")

    async def open_review(self, **options: Any) -> dict[str, Any]:
        event = await self.submit(**options)
        return await self.wait_for_review(event.data["micro_credential_id"], version=event.data["version"])

    async def register(self, subject: str, *organisations: str) -> None:
        answer = await self.http.post("/reviewers", headers=self.admin, json={
            "subject": subject, "display_name": subject.replace(".", " ").title(),
            "organisations": list(organisations)})
        assert answer.status_code == 201, answer.text

    async def assign(self, review_id: str, subject: str) -> httpx.Response:
        return await self.http.post(f"/reviews/{review_id}/assignments", headers=self.admin,
                                    json={"reviewer": subject})

    async def checklist(self, review_id: str, subject: str, *org: str, **marks: Any) -> httpx.Response:
        return await self.http.put(f"/reviews/{review_id}/checklist", headers=self.reviewer(subject, *org),
                                   json=checklist_payload(**marks))

    async def verdict(self, review_id: str, subject: str, decision: str, *org: str, **body: Any) -> httpx.Response:
        return await self.http.post(f"/reviews/{review_id}/verdicts", headers=self.reviewer(subject, *org),
                                    json={"decision": decision, **body})

    async def judge(self, review_id: str, subject: str, decision: str, **body: Any) -> httpx.Response:
        """A complete checklist (all met) and a verdict."""
        answer = await self.checklist(review_id, subject)
        assert answer.status_code == 200, answer.text
        return await self.verdict(review_id, subject, decision, **body)


def quality_settings(stack: LocalStack, unique_name: str, issuer: DevelopmentIssuer,
                     **overrides: Any) -> QualitySettings:
    return QualitySettings(
        kafka_bootstrap_servers=stack.kafka_bootstrap_servers,
        mongo_url=stack.mongo_url,
        mongo_database=f"quality_{unique_name}",
        consumer_group=f"quality-{unique_name}",
        relay_idle_seconds=0.05,
        auth_jwks=jwks_setting(issuer),
        auth_issuer=issuer.issuer,
        **overrides,
    )


@pytest.fixture
async def quality(
    stack: LocalStack, mongo_client, unique_name: str, dev_issuer: DevelopmentIssuer
) -> AsyncIterator[QualityUnderTest]:
    settings = quality_settings(stack, unique_name, dev_issuer)
    app = bootstrap(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://quality") as http:
                yield QualityUnderTest(http, app, dev_issuer, stack, settings)
    finally:
        await mongo_client.drop_database(settings.mongo_database)
