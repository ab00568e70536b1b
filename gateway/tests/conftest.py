"""One region per test session: catalog, quality, issuance, notifications and the gateway on the real
local stack (issuance asks notifications for its part of a learner's export), with
five providers and 55 published micro-credentials (approved through the quality service's API,
as the board would), plus one draft per provider."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pymongo import AsyncMongoClient

from gateway.app import bootstrap as gateway_app
from gateway.tests.region import (
    CountingTransport,
    Region,
    gateway_key,
    gateway_settings,
    partner_service_settings,
    served,
    service_settings,
)
from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.localstack import LocalStack, free_port
from mimis_platform.mongo import Document
from mimis_platform.service_tokens import DevelopmentTokenSource
from services.catalog.bootstrap import bootstrap as catalog_app
from services.catalog.tests.factories import content_payload, provider_payload
from services.issuance.bootstrap import bootstrap as issuance_app
from services.notifications.bootstrap import bootstrap as notifications_app
from services.quality.bootstrap import bootstrap as quality_app
from services.quality.demo import approve_through_quality

PROVIDERS = 5
PER_PROVIDER = 11
KINDS = ("university", "adult-education", "civil-society", "employer", "municipality")


async def _seed(region: Region, catalog: httpx.AsyncClient, name: str) -> None:
    ids: list[str] = []
    for n in range(PROVIDERS):
        pid = f"gw{n}-{name[-6:]}"
        member = region.bearer(f"anna-{pid}", "provider-member", org=(pid,))
        answer = await catalog.post("/providers", json={"id": pid, **provider_payload(
            name=f"Utbildare {n} {name[-6:]}", kind=KINDS[n])}, headers=member)
        assert answer.status_code == 201, answer.text
        region.providers.append(pid)
        for i in range(PER_PROVIDER + 1):
            content = content_payload(title={"sv": f"Mikromerit {n}-{i:02d} i omsorg", "en": f"Micro {n}-{i:02d}"},
                                      level={"eqf": 2 + (i % 3)})
            answer = await catalog.post("/micro-credentials", json={"provider_id": pid, "content": content},
                                        headers=member)
            assert answer.status_code == 201, answer.text
            mc_id = answer.json()["micro_credential_id"]
            if i == PER_PROVIDER:
                region.drafts[pid] = mc_id
                continue
            answer = await catalog.post(f"/micro-credentials/{mc_id}/versions/1/submit", headers=member)
            assert answer.status_code == 200, answer.text
            ids.append(mc_id)
    await approve_through_quality(region.quality_url, region.issuer, ids, say=lambda _: None, timeout=240)
    deadline = time.monotonic() + 240
    pending = set(ids)
    while pending and time.monotonic() < deadline:
        page = (await catalog.get("/micro-credentials", params={"limit": 50, "facets": "false",
                                                                "providers": region.providers})).json()
        seen = {i["id"] for i in page["items"]}
        cursor = page.get("next_cursor")
        while cursor:
            page = (await catalog.get("/micro-credentials", params={"limit": 50, "facets": "false", "cursor": cursor,
                                                                    "providers": region.providers})).json()
            seen |= {i["id"] for i in page["items"]}
            cursor = page.get("next_cursor")
        pending -= seen
        if pending:
            await asyncio.sleep(0.3)  # poll while the catalog consumes the board's decisions
    assert not pending, f"{len(pending)} entries were never published"
    region.published = ids


@pytest.fixture(scope="session")
async def region(stack: LocalStack, mongo_client: AsyncMongoClient[Document],
                 dev_issuer: DevelopmentIssuer) -> AsyncIterator[Region]:
    name = f"gw{int(time.time() * 1000) % 10**9}"
    key = gateway_key()
    catalog_settings, quality_settings = service_settings(stack, name, dev_issuer, key)
    transport = CountingTransport()
    issuance_port, notifications_port = free_port(), free_port()
    issuance_url = f"http://127.0.0.1:{issuance_port}"
    issuance_settings, notifications_settings = partner_service_settings(
        stack, name, dev_issuer, key, issuance_url, f"http://127.0.0.1:{notifications_port}")
    tokens = DevelopmentTokenSource(dev_issuer, "service:notifications")
    try:
        async with served(catalog_app(catalog_settings)) as catalog_url, \
                served(quality_app(quality_settings)) as quality_url, \
                served(issuance_app(issuance_settings, tokens=DevelopmentTokenSource(dev_issuer, "service:issuance")),
                       issuance_port), \
                served(notifications_app(notifications_settings, tokens=tokens), notifications_port) \
                as notifications_url:
            settings = gateway_settings(stack, name, dev_issuer, key, catalog_url, quality_url, issuance_url,
                                        notifications_url)
            gateway = gateway_app(settings, transport=transport)
            async with served(gateway) as gateway_url:
                region = Region(catalog_url, quality_url, issuance_url, notifications_url, gateway_url, dev_issuer,
                                transport, gateway)
                async with httpx.AsyncClient(base_url=catalog_url, timeout=60) as catalog:
                    await _seed(region, catalog, name)
                yield region
    finally:
        for database in (f"catalog_{name}", f"quality_{name}", f"gateway_{name}", f"issuance_{name}",
                         f"notifications_{name}"):
            await mongo_client.drop_database(database)
