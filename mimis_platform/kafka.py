"""Kafka connections the services share: topic creation from the registry, the producer."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from mimis_platform.contracts.topics import TopicRegistry, TopicSpec


def new_topics(specs: Iterable[TopicSpec], replication_factor: int = 1) -> list[NewTopic]:
    topics = []
    for spec in specs:
        topics.append(NewTopic(spec.name, spec.partitions, replication_factor,
                               topic_configs={"retention.ms": str(spec.retention_ms)}))
        topics.append(NewTopic(spec.dlq, spec.partitions, replication_factor,
                               topic_configs={"retention.ms": str(spec.dlq_retention_ms)}))
    return topics


async def ensure_topics(bootstrap_servers: str, registry: TopicRegistry | Iterable[TopicSpec],
                        replication_factor: int = 1) -> list[str]:
    """Create every registry topic (and its DLQ) that does not exist yet; return those created.

    Called at every start-up and after a reconnect: a broker that lost its topics must not
    silently auto-create them with default settings.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in new_topics(registry, replication_factor) if t.name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another replica created them first
                await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


def new_producer(bootstrap_servers: str, **overrides: object) -> AIOKafkaProducer:
    """acks=all; no idempotent producer (the local broker refuses InitProducerId, see DESIGN.md),
    so duplicates after ambiguous failures are possible and every consumer dedupes."""
    options: dict[str, object] = {
        "bootstrap_servers": bootstrap_servers,
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": 5,
        "max_batch_size": 256 * 1024,
        "request_timeout_ms": 10_000,
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)
