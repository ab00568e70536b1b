"""/healthz and /readyz against the real broker and database, and against dead ones."""

from __future__ import annotations

import asyncio
import errno
from collections.abc import AsyncIterator, Mapping

import httpx
import pytest
from fastapi import FastAPI

from mimis_platform.health import Check, KafkaMetadataCheck, health_router, kafka_check, mongo_check
from mimis_platform.localstack import LocalStack, free_port
from mimis_platform.mongo import new_client


def client_for(checks: Mapping[str, Check], timeout_seconds: float = 2.0) -> httpx.AsyncClient:
    app = FastAPI()
    app.include_router(health_router(checks, timeout_seconds=timeout_seconds))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")


@pytest.fixture
async def live_kafka_check(stack: LocalStack) -> AsyncIterator[KafkaMetadataCheck]:
    check = kafka_check(stack.kafka_bootstrap_servers)
    yield check
    await check.aclose()


async def test_ready_when_the_broker_and_the_database_answer(mongo_client, live_kafka_check) -> None:
    async with client_for({"mongodb": mongo_check(mongo_client), "kafka": live_kafka_check}) as client:
        for _ in range(2):  # the second probe reuses the first one's Kafka connection
            response = await client.get("/readyz")
            assert response.status_code == 200, response.text
            assert response.json() == {"status": "ready", "checks": {"mongodb": "ok", "kafka": "ok"}}


async def test_not_ready_names_the_dead_dependencies_and_why(mongo_client) -> None:
    dead_kafka_port, dead_mongo_port = free_port(), free_port()
    dead_mongo = new_client(
        f"mongodb://127.0.0.1:{dead_mongo_port}/?directConnection=true", serverSelectionTimeoutMS=300
    )
    dead_kafka = kafka_check(f"127.0.0.1:{dead_kafka_port}")
    checks: dict[str, Check] = {
        "mongodb": mongo_check(dead_mongo), "kafka": dead_kafka, "live-mongodb": mongo_check(mongo_client),
    }
    try:
        async with client_for(checks) as client:
            response = await client.get("/readyz")
            assert response.status_code == 503
            body = response.json()
            assert body["status"] == "not ready"
            assert body["checks"]["live-mongodb"] == "ok"
            mongo_reason, kafka_reason = body["checks"]["mongodb"], body["checks"]["kafka"]
            assert mongo_reason.startswith("error: ServerSelectionTimeoutError")
            # The socket error itself ("connect call failed" / "connection refused"), not just a timeout.
            assert f"127.0.0.1:{dead_mongo_port}" in mongo_reason
            assert f"errno {errno.ECONNREFUSED}" in mongo_reason.lower()
            assert kafka_reason.startswith(
                f"error: KafkaConnectionError: no broker answered at 127.0.0.1:{dead_kafka_port} ("
            )
            assert f"errno {errno.ECONNREFUSED}" in kafka_reason.lower()

            liveness = await client.get("/healthz")
            assert liveness.status_code == 200
            assert liveness.json() == {"status": "alive"}
    finally:
        await dead_kafka.aclose()
        await dead_mongo.close()


async def test_a_frozen_broker_times_out_and_is_found_again_after_it_resumes(
    stack: LocalStack, live_kafka_check: KafkaMetadataCheck
) -> None:
    async with client_for({"kafka": live_kafka_check}, timeout_seconds=1.0) as client:
        assert (await client.get("/readyz")).status_code == 200
        stack.pause_broker()
        try:
            frozen = await asyncio.wait_for(client.get("/readyz"), 5)
            assert frozen.status_code == 503
            assert frozen.json()["checks"]["kafka"] == "error: no answer within 1s"
            assert (await client.get("/healthz")).status_code == 200
        finally:
            stack.resume_broker()
        # The kept connection was dropped with the failure; the next probe bootstraps afresh.
        resumed = await client.get("/readyz")
        assert resumed.status_code == 200, resumed.text


async def test_checks_run_concurrently_each_under_the_timeout() -> None:
    # Each check needs the other to be running: run one after the other, the first would time out.
    first_started, second_started = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        first_started.set()
        await second_started.wait()

    async def second() -> None:
        second_started.set()
        await first_started.wait()

    async def hangs() -> None:
        await asyncio.Event().wait()

    async def fails() -> None:
        raise RuntimeError("disk full\nsecond line of detail " + "x" * 500)

    async with client_for({"first": first, "second": second}, timeout_seconds=1.0) as client:
        response = await client.get("/readyz")
        assert response.json() == {"status": "ready", "checks": {"first": "ok", "second": "ok"}}

    async with client_for({"hangs": hangs, "fails": fails}, timeout_seconds=0.2) as client:
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"] == {
            "hangs": "error: no answer within 0.2s",
            "fails": "error: RuntimeError: disk full",
        }


async def test_liveness_never_calls_a_dependency() -> None:
    calls = 0

    async def counted() -> None:
        nonlocal calls
        calls += 1

    async with client_for({"counted": counted}) as client:
        assert (await client.get("/healthz")).json() == {"status": "alive"}
    assert calls == 0


def test_the_probes_are_documented_in_openapi() -> None:
    app = FastAPI()
    app.include_router(health_router({}))
    paths = app.openapi()["paths"]
    assert set(paths) == {"/healthz", "/readyz"}
    assert "503" in paths["/readyz"]["get"]["responses"]
