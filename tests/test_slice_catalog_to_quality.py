"""The thin vertical slice: a submission accepted over HTTP by the catalog reaches the quality
service through the outbox, the real broker and the consumer loop, and opens a review there;
the trace started by the HTTP request continues in the quality service's consumer."""

from __future__ import annotations

from typing import Any

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.localstack import LocalStack
from services.catalog.bootstrap import bootstrap as catalog_app
from services.catalog.tests.factories import content_payload, provider_payload
from services.quality.bootstrap import bootstrap as quality_app
from tests.running_services import eventually, running, settings_for


async def test_a_submission_opens_a_review_in_the_quality_service(
    stack: LocalStack, mongo_client, unique_name: str, dev_issuer: DevelopmentIssuer
) -> None:
    catalog_settings, quality_settings = settings_for(stack, unique_name, dev_issuer)
    anna = {"authorization": f"Bearer {dev_issuer.token('anna', ['provider-member'])}"}
    admin = {"authorization": f"Bearer {dev_issuer.token('kerstin', ['quality-admin'])}"}
    try:
        async with running(catalog_app(catalog_settings)) as catalog, running(quality_app(quality_settings)) as quality:
            answer = await catalog.post("/providers", json={"id": "hkr", **provider_payload()}, headers=anna)
            assert answer.status_code == 201, answer.text
            answer = await catalog.post(
                "/micro-credentials", json={"provider_id": "hkr", "content": content_payload()}, headers=anna
            )
            assert answer.status_code == 201, answer.text
            mc_id = answer.json()["micro_credential_id"]
            answer = await catalog.post(f"/micro-credentials/{mc_id}/versions/1/submit", headers=anna)
            assert answer.status_code == 200 and answer.json()["status"] == "submitted"

            async def opened() -> dict[str, Any] | None:
                reply = await quality.get("/reviews", params={"micro_credential_id": mc_id}, headers=admin)
                items = reply.json()["items"]
                return dict(items[0]) if items else None

            review = await eventually(opened)
            assert review is not None, "the quality service never opened a review"
            assert (review["provider_id"], review["provider_name"], review["version"]) == (
                "hkr", "Högskolan Kristianstad", 1)
            assert review["title"] == {"sv": "Basala hygienrutiner i vård och omsorg",
                                       "en": "Basic hygiene routines in care"}

            async def in_review() -> bool | None:
                reply = await catalog.get(f"/micro-credentials/{mc_id}/versions/1", headers=anna)
                return True if reply.json()["status"] == "in-review" else None

            assert await eventually(in_review), "the catalog never heard that the review was opened"
            # The catalog's outbox marked every event as acknowledged by the broker.
            outbox = mongo_client[catalog_settings.mongo_database]["outbox"]
            assert [d["type"] async for d in outbox.find().sort("seq", 1)] == [
                "catalog.provider.registered.v1", "catalog.credential.drafted.v1", "catalog.credential.submitted.v1",
                "catalog.credential.status-changed.v1"]

            async def all_relayed() -> bool | None:
                return True if await outbox.count_documents({"published_at": None}) == 0 else None

            assert await eventually(all_relayed)
    finally:
        await mongo_client.drop_database(catalog_settings.mongo_database)
        await mongo_client.drop_database(quality_settings.mongo_database)


async def test_a_trace_started_at_an_http_request_continues_in_the_consumer(
    stack: LocalStack, mongo_client, unique_name: str, dev_issuer: DevelopmentIssuer, span_exporter
) -> None:
    from opentelemetry.trace import SpanKind

    catalog_settings, quality_settings = settings_for(stack, unique_name, dev_issuer)
    anna = {"authorization": f"Bearer {dev_issuer.token('anna', ['provider-member'])}"}
    admin = {"authorization": f"Bearer {dev_issuer.token('kerstin', ['quality-admin'])}"}
    try:
        async with running(catalog_app(catalog_settings)) as catalog, running(quality_app(quality_settings)) as quality:
            assert (
                await catalog.post("/providers", json={"id": "hkr", **provider_payload()}, headers=anna)
            ).status_code == 201
            answer = await catalog.post(
                "/micro-credentials", json={"provider_id": "hkr", "content": content_payload()}, headers=anna
            )
            mc_id = answer.json()["micro_credential_id"]
            span_exporter.clear()
            submitted = await catalog.post(f"/micro-credentials/{mc_id}/versions/1/submit", headers=anna)
            assert submitted.status_code == 200

            async def opened() -> bool | None:
                reply = await quality.get("/reviews", params={"micro_credential_id": mc_id}, headers=admin)
                return True if reply.json()["items"] else None

            assert await eventually(opened)

            def consumed():  # type: ignore[no-untyped-def]
                return [
                    s
                    for s in span_exporter.get_finished_spans()
                    if s.name == "consume catalog.credential.submitted.v1"
                    and s.attributes.get("cloudevents.event_type")
                    and s.kind is SpanKind.CONSUMER
                ]

            async def consumer_span():  # type: ignore[no-untyped-def]
                return consumed() or None

            spans = await eventually(consumer_span)
            assert spans, "the consumer span was not recorded"
            request = [
                s
                for s in span_exporter.get_finished_spans()
                if s.kind is SpanKind.SERVER and s.name.startswith("POST /micro-credentials/") and "submit" in s.name
            ]
            assert len(request) == 1, [s.name for s in span_exporter.get_finished_spans()]
            trace_id = request[0].context.trace_id
            consumer = [s for s in spans if s.context.trace_id == trace_id]
            assert consumer, "the consumer's span is not in the request's trace"
            # Its parent is a span of that request, recorded on the producer side.
            parents = {s.context.span_id for s in span_exporter.get_finished_spans() if s.context.trace_id == trace_id}
            assert consumer[0].parent is not None and consumer[0].parent.span_id in parents
    finally:
        await mongo_client.drop_database(catalog_settings.mongo_database)
        await mongo_client.drop_database(quality_settings.mongo_database)
