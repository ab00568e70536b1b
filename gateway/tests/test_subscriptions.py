"""Live events over graphql-ws (gql's WebSocket client): the gateway reads the review and credential
topics from the real broker and shows each party what it may see."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from gateway.tests.region import Region, gql_execute
from mimis_platform.kafka import new_producer

REVIEWS = "subscription($p: ID) { reviewEvents(providerId: $p) { kind microCredentialId providerId decision } }"
CREDENTIALS = "subscription($p: ID!) { credentialEvents(providerId: $p) { kind credentialId providerId learnerRef } }"


@asynccontextmanager
async def watching(region: Region, query: str, variables: dict[str, Any],
                   init_payload: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> AsyncIterator[asyncio.Queue[Any]]:
    """A subscription running in the background; yields a queue of its results (or its error)."""
    url = region.gateway_url.replace("http://", "ws://") + "/graphql"
    transport = WebsocketsTransport(url=url, init_payload=init_payload or {}, headers=headers,
                                    subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])
    results: asyncio.Queue[Any] = asyncio.Queue()
    live = region.gateway.state.live
    before = len(live._subscribers)

    async def run() -> None:
        try:
            async with Client(transport=transport, fetch_schema_from_transport=False) as session:
                request = gql(query)
                request.variable_values = variables
                async for result in session.subscribe(request):
                    await results.put(result)
        except TransportQueryError as exc:
            await results.put(exc)

    task = asyncio.create_task(run())
    try:
        deadline = time.monotonic() + 30
        # The subscription is live once the gateway holds its subscriber (or it was refused).
        for _ in range(3000):
            if len(live._subscribers) > before or not results.empty() or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)  # poll the gateway's own state
        yield results
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_provider_member_sees_its_reviews_open(region: Region) -> None:
    pid = region.providers[3]
    token = region.issuer.token(f"anna-{pid}", ["provider-member"], [pid])
    live = region.gateway.state.live
    invalid_before = live.invalid
    async with watching(region, REVIEWS, {"p": pid}, init_payload={"authorization": f"Bearer {token}"}) as events:
        # A record that is no event at all comes first: the gateway skips it and keeps going.
        producer = new_producer(region.gateway.state.settings.kafka_bootstrap_servers)
        await producer.start()
        try:
            await producer.send_and_wait("quality.reviews", b"not json", key=region.drafts[pid].encode())
        finally:
            await producer.stop()
        async with httpx.AsyncClient(base_url=region.catalog_url) as catalog:
            answer = await catalog.post(f"/micro-credentials/{region.drafts[pid]}/versions/1/submit",
                                        headers={"authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.text
        event = await asyncio.wait_for(events.get(), timeout=60)
    assert event == {"reviewEvents": {"kind": "OPENED", "microCredentialId": region.drafts[pid], "providerId": pid,
                                      "decision": None}}
    assert live.invalid == invalid_before + 1


async def test_a_provider_member_sees_its_credentials_issued(region: Region) -> None:
    from gateway.tests.test_credentials import _issue

    pid = region.providers[2]
    member = region.bearer(f"anna-{pid}", "provider-member", org=(pid,))
    first = 2 * 11
    await _issue(region, pid, region.published[first], "warmup@example.se")  # the projection is there
    async with watching(region, CREDENTIALS, {"p": pid}, headers=member) as events:
        issued = await _issue(region, pid, region.published[first + 1], "maja@example.se")
        seen: list[dict[str, Any]] = []
        while issued["id"] not in [e["credentialId"] for e in seen]:  # the warm-up's event may come first
            seen.append((await asyncio.wait_for(events.get(), timeout=60))["credentialEvents"])
    assert {(e["kind"], e["providerId"]) for e in seen} == {("ISSUED", pid)}
    assert "maja" not in str(seen)  # no personal data, a learner reference only


async def test_a_provider_member_sees_its_credentials_suspended_and_reinstated(region: Region) -> None:
    from gateway.tests.test_credentials import _issue

    pid = region.providers[2]
    member = region.bearer(f"anna-{pid}", "provider-member", org=(pid,))
    issued = await _issue(region, pid, region.published[2 * 11 + 2], "kim@example.se")
    query = "subscription($p: ID!) { credentialEvents(providerId: $p) { kind credentialId reason at } }"
    async with watching(region, query, {"p": pid}, headers=member) as events:
        for mutation in ("mutation($id: ID!) { suspendCredential(id: $id, reason: \"Under review\") { status } }",
                         "mutation($id: ID!) { reinstateCredential(id: $id) { status } }"):
            _, errors = await gql_execute(region.gateway_url, mutation, {"id": issued["id"]}, member)
            assert errors == [], errors
        seen: list[dict[str, Any]] = []
        while "REINSTATED" not in [e["kind"] for e in seen if e["credentialId"] == issued["id"]]:
            seen.append((await asyncio.wait_for(events.get(), timeout=60))["credentialEvents"])
    # The issued event may come first (the outbox relay may publish it after the subscription began).
    mine = [e for e in seen if e["credentialId"] == issued["id"] and e["kind"] != "ISSUED"]
    assert [(e["kind"], e["reason"]) for e in mine] == [("SUSPENDED", "Under review"), ("REINSTATED", None)]
    assert all(e["at"] for e in mine)


async def test_nobody_follows_another_providers_events(region: Region) -> None:
    p0, p1 = region.providers[0], region.providers[1]
    for payload in ({"authorization": f"Bearer {region.issuer.token('x', ['provider-member'], [p1])}"}, {}):
        async with watching(region, REVIEWS, {"p": p0}, init_payload=payload) as events:
            refused = await asyncio.wait_for(events.get(), timeout=30)
        assert isinstance(refused, TransportQueryError)
        assert refused.errors is not None
        assert refused.errors[0]["extensions"]["code"] in ("FORBIDDEN", "UNAUTHENTICATED")
    data, errors = await gql_execute(region.gateway_url, "{ viewer { subject } }")
    assert errors == [] and data == {"viewer": None}
