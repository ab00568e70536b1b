"""The thin vertical slice: a draft accepted over HTTP by the catalog reaches the quality
service's own database through the outbox, the real broker and the consumer loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from mimis_platform.localstack import LocalStack
from services.catalog.bootstrap import bootstrap as catalog_app
from services.catalog.settings import CatalogSettings
from services.quality.bootstrap import bootstrap as quality_app
from services.quality.settings import QualitySettings


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (relay and consumer running) and an HTTP client bound to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


def settings_for(stack: LocalStack, unique_name: str) -> tuple[CatalogSettings, QualitySettings]:
    common = {"kafka_bootstrap_servers": stack.kafka_bootstrap_servers, "mongo_url": stack.mongo_url,
              "log_json": True, "relay_idle_seconds": 0.05}
    return (
        CatalogSettings(mongo_database=f"catalog_{unique_name}", **common),
        QualitySettings(mongo_database=f"quality_{unique_name}", consumer_group=f"quality-{unique_name}", **common),
    )


async def eventually(probe, timeout: float = 45.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result is not None or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.1)


async def test_a_draft_reaches_the_quality_service(stack: LocalStack, mongo_client, unique_name: str) -> None:
    catalog_settings, quality_settings = settings_for(stack, unique_name)
    try:
        async with running(catalog_app(catalog_settings)) as catalog, running(quality_app(quality_settings)) as quality:
            answer = await catalog.post("/micro-credentials", json={
                "provider_id": "hogskolan-kristianstad",
                "title": {"sv": "Grundläggande vårdhygien", "en": "Basic hygiene in care"},
            })
            assert answer.status_code == 201, answer.text
            created = answer.json()
            assert created["status"] == "draft" and created["version"] == 1

            async def known():  # type: ignore[no-untyped-def]
                reply = await quality.get(f"/catalog-entries/{created['id']}")
                return reply.json() if reply.status_code == 200 else None

            versions = await eventually(known)
            assert versions == [{
                "micro_credential_id": created["id"], "version": 1, "provider_id": "hogskolan-kristianstad",
                "title_sv": "Grundläggande vårdhygien", "title_en": "Basic hygiene in care",
                "drafted_at": versions[0]["drafted_at"],
            }]
            # The catalog's outbox marked the event as acknowledged by the broker.
            outbox = mongo_client[catalog_settings.mongo_database]["outbox"]
            assert await outbox.count_documents({"published_at": None}) == 0
    finally:
        await mongo_client.drop_database(catalog_settings.mongo_database)
        await mongo_client.drop_database(quality_settings.mongo_database)


async def test_the_catalog_api_answers_bad_input_precisely(stack: LocalStack, mongo_client, unique_name: str) -> None:
    catalog_settings, _ = settings_for(stack, unique_name)
    try:
        async with running(catalog_app(catalog_settings)) as catalog:
            answer = await catalog.post("/micro-credentials", json={"provider_id": "hkr", "title": {"en": "x"}})
            assert answer.status_code == 422
            body = answer.json()
            assert body["error"] == "validation_failed"
            assert [e["field"] for e in body["errors"]] == ["title.sv"]

            answer = await catalog.post("/micro-credentials", content=b"{not json", headers={"content-type": "application/json"})
            assert answer.status_code == 422 and answer.json()["error"] == "validation_failed"

            missing = await catalog.get("/micro-credentials/mc-does-not-exist")
            assert missing.status_code == 404
            assert missing.json() == {"error": "not_found", "message": "no micro-credential with id 'mc-does-not-exist'",
                                      "errors": []}
            # Nothing was written for the refused requests: no version, no event.
            db = mongo_client[catalog_settings.mongo_database]
            assert await db["micro_credential_versions"].count_documents({}) == 0
            assert await db["outbox"].count_documents({}) == 0

            ready = await catalog.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "ready"
            openapi = (await catalog.get("/openapi.json")).json()
            assert "/micro-credentials" in openapi["paths"]
    finally:
        await mongo_client.drop_database(catalog_settings.mongo_database)
