"""pytest plugin: the real local stack for every test that touches Kafka or MongoDB.

One broker and one database server per test session, started by the same code as
``make run`` (:class:`mimis_platform.localstack.LocalStack`); each test gets its own database
name and its own topics, so tests never see each other's data.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.localstack import LocalStack
from mimis_platform.mongo import Document, new_client
from mimis_platform.telemetry import setup_tracing


@pytest.fixture(scope="session")
async def stack() -> AsyncIterator[LocalStack]:
    root = Path(os.environ.get("MIMIS_TEST_STACK_DIR") or tempfile.mkdtemp(prefix="mimis-test-stack-"))
    async with LocalStack(root=root) as local:
        yield local


@pytest.fixture(scope="session")
def session_span_exporter() -> InMemorySpanExporter:
    """The process's one tracer provider (set up as a service would) with an in-memory exporter."""
    exporter = InMemorySpanExporter()
    setup_tracing("mimis-tests", extra_processors=[SimpleSpanProcessor(exporter)])
    return exporter


@pytest.fixture
def span_exporter(session_span_exporter: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    """Finished spans of this test only."""
    session_span_exporter.clear()
    yield session_span_exporter
    session_span_exporter.clear()


@pytest.fixture(scope="session")
async def mongo_client(stack: LocalStack, session_span_exporter: InMemorySpanExporter):  # type: ignore[no-untyped-def]
    # Tracing first: PyMongo gives a client only the listeners registered when it was built.
    client = new_client(stack.mongo_url)
    yield client
    await client.close()


@pytest.fixture
def unique_name() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def db(mongo_client, unique_name: str):  # type: ignore[no-untyped-def]
    """A fresh database for one test, dropped afterwards."""
    database = mongo_client[f"test_{unique_name}"]
    yield database
    await mongo_client.drop_database(database.name)


@pytest.fixture(scope="session")
def dev_issuer() -> DevelopmentIssuer:
    """Signs bearer tokens the services under test accept (pass ``jwks_setting(dev_issuer)``)."""
    return DevelopmentIssuer()


def jwks_setting(issuer: DevelopmentIssuer) -> str:
    import json

    return json.dumps(issuer.jwks())


__all__ = ["Document", "db", "dev_issuer", "jwks_setting", "mongo_client", "session_span_exporter", "span_exporter",
           "stack", "unique_name"]


async def start_group_at_end(bootstrap_servers: str, group_id: str, topics: list[str]) -> dict[str, int]:
    """Commit a new consumer group's offsets at the current end of ``topics``, so a service
    started with that group reads only what is published from now on.

    Tests share one broker per session: a fresh group would otherwise read every earlier test's
    events first (thousands of issued credentials, say), which a service that reacts to all of
    them (notifications) turns into work a test did not ask for. Committed before the service
    starts, there is no race with the test's own events. Returns the committed offsets by topic."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from mimis_platform.dead_letters import end_offsets

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or set())]
        if not partitions:
            return {}
        consumer.assign(partitions)
        ends = await end_offsets(consumer, partitions)
        await consumer.commit(dict(ends))
        totals: dict[str, int] = {}
        for tp, offset in ends.items():
            totals[tp.topic] = totals.get(tp.topic, 0) + offset
        return totals
    finally:
        await consumer.stop()
