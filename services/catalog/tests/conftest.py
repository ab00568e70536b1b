"""Fixtures for the catalog's tests: the real service on the real local stack, people with tokens,
and the quality board's events sent over the real broker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.localstack import LocalStack
from mimis_platform.testing import jwks_setting
from services.catalog.bootstrap import bootstrap
from services.catalog.demo import review_events, send_events
from services.catalog.settings import CatalogSettings
from services.catalog.tests.factories import content_payload, provider_payload


@dataclass
class CatalogUnderTest:
    http: httpx.AsyncClient
    issuer: DevelopmentIssuer
    stack: LocalStack
    settings: CatalogSettings

    def auth(self, subject: str, *roles: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.issuer.token(subject, roles)}"}

    async def register_provider(self, provider_id: str, member: str = "anna", **details: Any) -> dict[str, Any]:
        answer = await self.http.post(
            "/providers",
            json={"id": provider_id, **provider_payload(**details)},
            headers=self.auth(member, "provider-member"),
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    async def draft(self, provider_id: str, member: str = "anna", **content: Any) -> dict[str, Any]:
        answer = await self.http.post(
            "/micro-credentials",
            json={"provider_id": provider_id, "content": content_payload(**content)},
            headers=self.auth(member),
        )
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    async def submit(self, mc_id: str, version: int, member: str = "anna") -> dict[str, Any]:
        answer = await self.http.post(
            f"/micro-credentials/{mc_id}/versions/{version}/submit", headers=self.auth(member)
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def review(self, mc_id: str, version: int, decision: str, provider_id: str = "hkr", **decided: Any) -> str:
        """The quality board's opened and decided events, sent over the real broker."""
        events = review_events(mc_id, version, provider_id, decision, **decided)
        await send_events(self.stack.kafka_bootstrap_servers, events)
        return str(events[0].data["review_id"])

    async def wait_for_status(
        self, mc_id: str, version: int, status: str, member: str = "anna", timeout: float = 45.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            answer = await self.http.get(f"/micro-credentials/{mc_id}/versions/{version}", headers=self.auth(member))
            body = answer.json()
            if answer.status_code == 200 and body["status"] == status:
                return dict(body)
            await asyncio.sleep(0.1)
        raise AssertionError(f"version {version} never reached {status}; last seen {body.get('status')}")


@pytest.fixture
async def catalog(
    stack: LocalStack, mongo_client, unique_name: str, dev_issuer: DevelopmentIssuer
) -> AsyncIterator[CatalogUnderTest]:
    settings = CatalogSettings(
        kafka_bootstrap_servers=stack.kafka_bootstrap_servers,
        mongo_url=stack.mongo_url,
        mongo_database=f"catalog_{unique_name}",
        consumer_group=f"catalog-{unique_name}",
        relay_idle_seconds=0.05,
        auth_jwks=jwks_setting(dev_issuer),
        auth_issuer=dev_issuer.issuer,
    )
    app = bootstrap(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://catalog") as http:
                yield CatalogUnderTest(http, dev_issuer, stack, settings)
    finally:
        await mongo_client.drop_database(settings.mongo_database)
