"""How fast the outbox relay drains a backlog, as a ratio to the two limits it cannot beat.

In one run, on a fresh local stack (Tansu + SecantusDB in a temporary folder), with the same N
events:

  (a) broker limit:   a bare aiokafka producer (acks=all) sends the N records ``to_kafka`` makes;
  (b) database limit: a bare loop reads the N pending outbox documents in batches and marks each
                      batch published, with the fastest queries found (one seq range per batch);
  (c) the relay:      ``OutboxRelay`` drains the N pre-written outbox documents to broker
                      acknowledgement and marks them.

It prints events/s for each and ``relay / min(a, b)``. ``--compare-marking`` also times the ways
of marking a batch that were considered.

    .venv/bin/python benchmarks/outbox_relay.py [--events N] [--batch-size B] [--compare-marking]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from pymongo import UpdateOne

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mimis_platform.contracts import CONTRACTS, ContractRegistry, TopicSpec
from mimis_platform.envelope import Event, from_kafka, to_kafka
from mimis_platform.kafka import ensure_topics, new_producer
from mimis_platform.localstack import LocalStack
from mimis_platform.mongo import new_client
from mimis_platform.outbox import Outbox, OutboxRelay, ensure_outbox_indexes, in_transaction

EVENT_TYPE = "bench.outbox.happened.v1"
SCHEMA = {"type": "object", "required": ["credential_id", "n"]}
PARTITIONS = 6
AGGREGATES = 200
ORDER = [("seq", 1), ("_id", 1)]


def contracts() -> ContractRegistry:
    topics = [
        TopicSpec(name=name, description="benchmark", key="credential_id", event_types=types,
                  producers=("bench",), partitions=PARTITIONS)
        for name, types in (("bench.outbox.relay", (EVENT_TYPE,)), ("bench.outbox.bare", ()))
    ]
    return CONTRACTS.extended({EVENT_TYPE: SCHEMA}, topics)


def make_events(count: int) -> list[Event]:
    # About the size of a real domain event: a few ids, a title, some skills.
    return [
        Event(type=EVENT_TYPE, source="/bench/catalog", partition_key=f"mc-{i % AGGREGATES:05d}",
              data={"credential_id": f"mc-{i % AGGREGATES:05d}", "n": i, "title": "Basic wound care " * 4,
                    "skills": [f"http://data.europa.eu/esco/skill/{i % 97:08d}"] * 3, "ects": 1.5})
        for i in range(count)
    ]


async def timed(work: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await work()
    return time.perf_counter() - started


async def bare_producer(bootstrap: str, docs: list[dict[str, Any]]) -> float:
    records = [to_kafka(Event.from_document(d)) for d in docs]
    producer = new_producer(bootstrap)
    await producer.start()
    try:
        async def send_all() -> None:
            futures = [await producer.send("bench.outbox.bare", r.value, key=r.key, headers=r.headers)
                       for r in records]
            await asyncio.gather(*futures)

        return await timed(send_all)
    finally:
        await producer.stop()


async def bare_read_and_mark(collection: Any, docs: list[dict[str, Any]], batch_size: int) -> float:
    """The database work no relay can avoid: read each batch once, mark it once (exact ranges)."""
    async def run() -> None:
        for start in range(0, len(docs), batch_size):
            low, high = docs[start]["seq"], docs[min(start + batch_size, len(docs)) - 1]["seq"]
            seq_range = {"$gte": low, "$lt": high + 1}
            batch = await collection.find({"pending": True, "seq": seq_range}).sort(ORDER) \
                .limit(batch_size).batch_size(batch_size).to_list()
            assert len(batch) == min(batch_size, len(docs) - start)
            await collection.update_many({"pending": True, "seq": seq_range},
                                         {"$set": {"pending": False, "published_at": datetime.now(UTC)}})

    return await timed(run)


async def relay_drain(db: Any, registry: ContractRegistry, bootstrap: str, count: int,
                      batch_size: int) -> float:
    relay = OutboxRelay(db, registry, bootstrap, batch_size=batch_size, retention=None)
    started = time.perf_counter()
    task = asyncio.create_task(relay.run())
    # The relay's own counter, not a database count, so watching does not slow the database.
    while relay.counters["published"] < count:
        if task.done():
            task.result()
            raise RuntimeError(f"relay stopped early: {relay.counters}")
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    await relay.stop()
    await task
    assert await relay.pending_count() == 0, "relay left pending events"
    return elapsed


async def event_ids_on(bootstrap: str, topic: str, expected: int) -> list[str]:
    """Every event id on ``topic``, read back (Tansu's end offsets undercount, so no shortcut)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ids: list[str] = []
        while len(ids) < expected and (batches := await consumer.getmany(timeout_ms=5000, max_records=5000)):
            ids += [from_kafka(r.key, r.value, r.headers).id for records in batches.values() for r in records]
        while batches := await consumer.getmany(timeout_ms=500):
            ids += [from_kafka(r.key, r.value, r.headers).id for records in batches.values() for r in records]
        return ids
    finally:
        await consumer.stop()


async def compare_marking(db: Any, docs: list[dict[str, Any]], batch_size: int) -> None:
    """Time each way of marking one batch, on copies of the same documents."""
    now = datetime.now(UTC)
    ways: dict[str, Callable[[Any, list[dict[str, Any]]], Awaitable[Any]]] = {
        "update_many over the seq range": lambda c, b: c.update_many(
            {"pending": True, "seq": {"$gte": b[0]["seq"], "$lt": b[-1]["seq"] + 1}},
            {"$set": {"pending": False, "published_at": now}}),
        "bulk_write of UpdateOne by _id": lambda c, b: c.bulk_write(
            [UpdateOne({"_id": d["_id"]}, {"$set": {"pending": False, "published_at": now}}) for d in b],
            ordered=False),
        "update_many with $in of the ids": lambda c, b: c.update_many(
            {"_id": {"$in": [d["_id"] for d in b]}}, {"$set": {"pending": False, "published_at": now}}),
    }
    sample = docs[: batch_size * 3]
    print(f"\nmarking {len(sample)} documents in batches of {batch_size}:")
    for name, mark in ways.items():
        collection = db[f"marking_{abs(hash(name))}"]
        await ensure_outbox_indexes(collection)
        await collection.insert_many([dict(d) for d in sample])

        async def run(collection: Any = collection, mark: Any = mark) -> None:
            for start in range(0, len(sample), batch_size):
                await mark(collection, sample[start:start + batch_size])

        seconds = await timed(run)
        print(f"  {name:34s} {len(sample) / seconds:8.0f} docs/s")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--compare-marking", action="store_true")
    args = parser.parse_args()
    registry = contracts()
    with tempfile.TemporaryDirectory(prefix="mimis-bench-") as root:
        async with LocalStack(root=Path(root)) as stack:
            bootstrap = stack.kafka_bootstrap_servers
            client = new_client(stack.mongo_url)
            try:
                await ensure_topics(bootstrap, registry.topics)
                db = client["bench"]
                outbox = Outbox(db, registry)
                await outbox.ensure_indexes()
                events = make_events(args.events)

                async def write_outbox() -> None:
                    for start in range(0, len(events), 500):
                        chunk = events[start:start + 500]
                        await in_transaction(client, lambda s, chunk=chunk: outbox.add_many(chunk, s))

                write_seconds = await timed(write_outbox)
                docs = await outbox.collection.find({}).sort(ORDER).to_list()
                bare = db["bare_outbox"]
                await ensure_outbox_indexes(bare)
                await bare.insert_many([dict(d) for d in docs])
                n = len(docs)
                print(f"{n} events, batches of {args.batch_size}, {PARTITIONS} partitions, "
                      f"{AGGREGATES} keys; written to the outbox at {n / write_seconds:.0f} events/s "
                      "(500 per transaction)")

                a = n / await bare_producer(bootstrap, docs)
                b = n / await bare_read_and_mark(bare, docs, args.batch_size)
                c = n / await relay_drain(db, registry, bootstrap, n, args.batch_size)
                on_topic = await event_ids_on(bootstrap, "bench.outbox.relay", n)
                assert sorted(on_topic) == sorted(d["id"] for d in docs), "not each event once on the topic"

                print(f"(a) bare producer, acks=all          {a:9.0f} events/s")
                print(f"(b) bare read-and-mark (database)     {b:9.0f} events/s")
                print(f"(c) relay, drain to ack and mark      {c:9.0f} events/s")
                print(f"relay / min(a, b) = {c:.0f} / {min(a, b):.0f} = {c / min(a, b):.2f}")
                if args.compare_marking:
                    await compare_marking(db, docs, args.batch_size)
            finally:
                await client.close()


if __name__ == "__main__":
    asyncio.run(main())
