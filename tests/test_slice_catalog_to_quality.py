"""The thin vertical slice: a draft accepted over HTTP by the catalog reaches the quality
service's own database through the outbox, the real broker and the consumer loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.localstack import LocalStack
from mimis_platform.testing import jwks_setting
from services.catalog.bootstrap import bootstrap as catalog_app
from services.catalog.settings import CatalogSettings
from services.catalog.tests.factories import content_payload, provider_payload
from services.quality.bootstrap import bootstrap as quality_app
from services.quality.settings import QualitySettings


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (relay and consumer running) and an HTTP client bound to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


def settings_for(
    stack: LocalStack, unique_name: str, issuer: DevelopmentIssuer
) -> tuple[CatalogSettings, QualitySettings]:
    common = {
        "kafka_bootstrap_servers": stack.kafka_bootstrap_servers,
        "mongo_url": stack.mongo_url,
        "relay_idle_seconds": 0.05,
        "auth_jwks": jwks_setting(issuer),
        "auth_issuer": issuer.issuer,
    }
    return (
        CatalogSettings(mongo_database=f"catalog_{unique_name}", consumer_group=f"catalog-{unique_name}", **common),
        QualitySettings(mongo_database=f"quality_{unique_name}", consumer_group=f"quality-{unique_name}", **common),
    )


async def eventually(probe, timeout: float = 45.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result is not None or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.1)


async def test_a_draft_reaches_the_quality_service(
    stack: LocalStack, mongo_client, unique_name: str, dev_issuer: DevelopmentIssuer
) -> None:
    catalog_settings, quality_settings = settings_for(stack, unique_name, dev_issuer)
    anna = {"authorization": f"Bearer {dev_issuer.token('anna', ['provider-member'])}"}
    try:
        async with running(catalog_app(catalog_settings)) as catalog, running(quality_app(quality_settings)) as quality:
            answer = await catalog.post("/providers", json={"id": "hkr", **provider_payload()}, headers=anna)
            assert answer.status_code == 201, answer.text
            answer = await catalog.post(
                "/micro-credentials", json={"provider_id": "hkr", "content": content_payload()}, headers=anna
            )
            assert answer.status_code == 201, answer.text
            created = answer.json()
            assert created["status"] == "draft" and created["version"] == 1

            async def known():  # type: ignore[no-untyped-def]
                reply = await quality.get(f"/catalog-entries/{created['micro_credential_id']}")
                return reply.json() if reply.status_code == 200 else None

            versions = await eventually(known)
            assert versions is not None, "the quality service never heard of the draft"
            assert versions == [
                {
                    "micro_credential_id": created["micro_credential_id"],
                    "version": 1,
                    "provider_id": "hkr",
                    "title_sv": "Basala hygienrutiner i vård och omsorg",
                    "title_en": "Basic hygiene routines in care",
                    "drafted_at": versions[0]["drafted_at"],
                }
            ]
            # The catalog's outbox marked every event as acknowledged by the broker.
            outbox = mongo_client[catalog_settings.mongo_database]["outbox"]
            assert await outbox.count_documents({}) == 2  # provider registered, credential drafted
            assert await outbox.count_documents({"published_at": None}) == 0
    finally:
        await mongo_client.drop_database(catalog_settings.mongo_database)
        await mongo_client.drop_database(quality_settings.mongo_database)


async def test_a_trace_started_at_an_http_request_continues_in_the_consumer(
    stack: LocalStack, mongo_client, unique_name: str, dev_issuer: DevelopmentIssuer, span_exporter
) -> None:
    from opentelemetry.trace import SpanKind

    catalog_settings, quality_settings = settings_for(stack, unique_name, dev_issuer)
    anna = {"authorization": f"Bearer {dev_issuer.token('anna', ['provider-member'])}"}
    try:
        async with running(catalog_app(catalog_settings)) as catalog, running(quality_app(quality_settings)) as quality:
            assert (
                await catalog.post("/providers", json={"id": "hkr", **provider_payload()}, headers=anna)
            ).status_code == 201
            span_exporter.clear()
            answer = await catalog.post(
                "/micro-credentials", json={"provider_id": "hkr", "content": content_payload()}, headers=anna
            )
            mc_id = answer.json()["micro_credential_id"]

            async def known():  # type: ignore[no-untyped-def]
                reply = await quality.get(f"/catalog-entries/{mc_id}")
                return True if reply.status_code == 200 else None

            assert await eventually(known)

            def consumed():  # type: ignore[no-untyped-def]
                return [
                    s
                    for s in span_exporter.get_finished_spans()
                    if s.name == "consume catalog.credential.drafted.v1"
                    and s.attributes.get("cloudevents.event_type")
                    and s.kind is SpanKind.CONSUMER
                    and mc_id in str(s.attributes.get("messaging.kafka.message.key", mc_id))
                ]

            async def consumer_span():  # type: ignore[no-untyped-def]
                return consumed() or None

            spans = await eventually(consumer_span)
            assert spans, "the consumer span was not recorded"
            request = [
                s
                for s in span_exporter.get_finished_spans()
                if s.kind is SpanKind.SERVER and s.name == "POST /micro-credentials"
            ]
            assert len(request) == 1
            trace_id = request[0].context.trace_id
            consumer = [s for s in spans if s.context.trace_id == trace_id]
            assert consumer, "the consumer's span is not in the request's trace"
            # Its parent is a span of that request, recorded on the producer side.
            parents = {s.context.span_id for s in span_exporter.get_finished_spans() if s.context.trace_id == trace_id}
            assert consumer[0].parent is not None and consumer[0].parent.span_id in parents
    finally:
        await mongo_client.drop_database(catalog_settings.mongo_database)
        await mongo_client.drop_database(quality_settings.mongo_database)
