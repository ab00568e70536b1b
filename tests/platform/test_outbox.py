"""The outbox and its relay, against the real local broker and database (no fakes).

Each test declares its own event type and topic, so it depends on no product contract.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from pymongo.errors import DuplicateKeyError

from mimis_platform.contracts import (
    CONTRACTS,
    ContractRegistry,
    ContractViolation,
    TopicSpec,
    UnknownEventType,
)
from mimis_platform.envelope import Event, from_kafka
from mimis_platform.outbox import Outbox, OutboxRelay, UnpublishableEvent, in_transaction

SCHEMA = {
    "type": "object",
    "required": ["key", "n"],
    "properties": {"key": {"type": "string"}, "n": {"type": "integer"}},
    "additionalProperties": False,
}
LOOSE_SCHEMA = {"type": "object"}
PARTITIONS = 3
# Short enough that a frozen broker is noticed quickly, so the pause (which freezes the broker for
# every test of this session) stays short.
REQUEST_TIMEOUT_MS = 1500


class Case:
    """One test's own contracts: an event type, a loose one, and the topic carrying both."""

    def __init__(self, name: str) -> None:
        self.event_type = f"test.{name}.happened.v1"
        self.loose_type = f"test.{name}.loose.v1"
        self.topic = TopicSpec(
            name=f"test.outbox.{name}", description="outbox test events", key="key",
            event_types=(self.event_type, self.loose_type), producers=("tests",), partitions=PARTITIONS,
        )
        self.contracts: ContractRegistry = CONTRACTS.extended(
            {self.event_type: SCHEMA, self.loose_type: LOOSE_SCHEMA}, [self.topic]
        )

    def event(self, key: str, n: int) -> Event:
        return Event(type=self.event_type, source="/tests/outbox", partition_key=key,
                     data={"key": key, "n": n})


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 60.0) -> None:
    """Poll until ``check`` holds; the deadline only bounds a hang, it is no speed requirement."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


async def write(mongo_client, outbox: Outbox, events: list[Event], per_transaction: int = 1) -> None:
    for start in range(0, len(events), per_transaction):
        chunk = events[start:start + per_transaction]

        async def work(session, chunk: list[Event] = chunk) -> None:
            if len(chunk) == 1:
                await outbox.add(chunk[0], session)
            else:
                await outbox.add_many(chunk, session)

        await in_transaction(mongo_client, work)


async def read_topic(bootstrap: str, topic: str, expected_ids: set[str], within: float = 60.0) -> list[Event]:
    """Every record of ``topic`` from the beginning, once all ``expected_ids`` have been seen."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        events: list[Event] = []
        deadline = time.monotonic() + within
        while not expected_ids <= {e.id for e in events}:
            if time.monotonic() > deadline:
                missing = expected_ids - {e.id for e in events}
                raise AssertionError(f"{len(missing)} events never reached {topic}")
            batches = await consumer.getmany(timeout_ms=500)
            for tp in sorted(batches, key=lambda tp: tp.partition):
                events.extend(from_kafka(r.key, r.value, r.headers or []) for r in batches[tp])
        # Then whatever else is on the topic, so the caller can count duplicates. Not up to
        # end_offsets: Tansu 0.6.0 reports the last record batch's base offset + 1 there.
        while batches := await consumer.getmany(timeout_ms=1000):
            for tp in sorted(batches, key=lambda tp: tp.partition):
                events.extend(from_kafka(r.key, r.value, r.headers or []) for r in batches[tp])
        return events
    finally:
        await consumer.stop()


def first_appearances_per_key(events: list[Event]) -> dict[str, list[str]]:
    seen: set[str] = set()
    order: dict[str, list[str]] = {}
    for event in events:
        if event.id not in seen:
            seen.add(event.id)
            order.setdefault(event.partition_key, []).append(event.id)
    return order


def new_relay(stack, db, case: Case, **options) -> OutboxRelay:
    options.setdefault("idle_seconds", 0.05)
    options.setdefault("backoff_seconds", 0.1)
    options.setdefault("max_backoff_seconds", 1.0)
    return OutboxRelay(db, case.contracts, stack.kafka_bootstrap_servers, **options)


# -- writing -------------------------------------------------------------------------------------
async def test_state_change_and_its_event_commit_or_abort_together(mongo_client, db, unique_name) -> None:
    case = Case(unique_name)
    outbox = Outbox(db, case.contracts)
    await outbox.ensure_indexes()
    credentials = db["credentials"]
    kept = case.event("a", 1)

    async def create_a(session) -> None:
        await credentials.insert_one({"_id": "a"}, session=session)
        await outbox.add(kept, session)

    await in_transaction(mongo_client, create_a)
    lost = case.event("b", 1)

    async def create_b_then_a_again(session) -> None:
        await credentials.insert_one({"_id": "b"}, session=session)
        await outbox.add(lost, session)
        await credentials.insert_one({"_id": "a"}, session=session)  # the domain's unique key refuses it

    with pytest.raises(DuplicateKeyError):
        await in_transaction(mongo_client, create_b_then_a_again)
    assert await credentials.distinct("_id") == ["a"]
    stored = await outbox.collection.find({}).to_list()
    assert [d["id"] for d in stored] == [kept.id]
    assert stored[0]["pending"] is True and stored[0]["topic"] == case.topic.name
    assert Event.from_document(stored[0]).data == kept.data


async def test_conflicting_transactions_are_retried_whole(mongo_client, db, unique_name) -> None:
    case = Case(unique_name)
    outbox = Outbox(db, case.contracts)
    credentials = db["credentials"]
    await credentials.insert_one({"_id": "c", "version": 0})

    attempts = []

    async def revise(n: int) -> None:
        async def work(session) -> None:
            attempts.append(n)
            await credentials.update_one({"_id": "c"}, {"$inc": {"version": 1}}, session=session)
            await asyncio.sleep(0.01)  # hold the write so that the others conflict with it
            await outbox.add(case.event("c", n), session)

        await in_transaction(mongo_client, work)

    await asyncio.gather(*(revise(n) for n in range(5)))
    assert (await credentials.find_one({"_id": "c"}) or {})["version"] == 5
    assert await outbox.collection.count_documents({}) == 5  # one event per committed attempt
    assert len(attempts) > 5  # the conflicts happened, and the losers' callbacks ran again


async def test_outbox_writes_outside_a_transaction_are_refused(mongo_client, db, unique_name) -> None:
    case = Case(unique_name)
    outbox = Outbox(db, case.contracts)
    async with mongo_client.start_session() as session:
        with pytest.raises(ValueError, match="inside a transaction"):
            await outbox.add(case.event("a", 1), session)
    assert await outbox.collection.count_documents({}) == 0


async def test_an_invalid_event_is_refused_before_anything_is_written(mongo_client, db, unique_name) -> None:
    case = Case(unique_name)
    outbox = Outbox(db, case.contracts, max_record_bytes=2_000)
    credentials = db["credentials"]
    refused = [
        (Event(type=case.event_type, source="/t", partition_key="a", data={"key": "a", "n": "one"}),
         ContractViolation),
        (Event(type="test.nobody.declared.v1", source="/t", partition_key="a", data={}), UnknownEventType),
        (Event(type=case.loose_type, source="/t", partition_key="a", data={"blob": b"\x00"}),
         UnpublishableEvent),
        (Event(type=case.loose_type, source="/t", partition_key="a", data={"text": "x" * 5_000}),
         UnpublishableEvent),
    ]
    for event, error in refused:
        async def work(session, event: Event = event) -> None:
            await credentials.insert_one({"_id": event.id}, session=session)
            await outbox.add_many([case.event("a", 1), event], session)

        with pytest.raises(error):
            await in_transaction(mongo_client, work)
    assert await credentials.count_documents({}) == 0
    assert await outbox.collection.count_documents({}) == 0


async def test_trace_context_is_stored_with_the_event(mongo_client, db, unique_name) -> None:
    from opentelemetry.sdk.trace import TracerProvider

    case = Case(unique_name)
    outbox = Outbox(db, case.contracts)
    with TracerProvider().get_tracer("test").start_as_current_span("request") as span:
        await write(mongo_client, outbox, [case.event("a", 1)])
        trace_id = format(span.get_span_context().trace_id, "032x")
    stored = await outbox.collection.find_one({})
    assert stored is not None and trace_id in stored["trace_context"]["traceparent"]


# -- relaying ------------------------------------------------------------------------------------
async def test_a_backlog_is_published_in_order_and_marked(stack, mongo_client, db, unique_name) -> None:
    case = Case(unique_name)
    outbox = Outbox(db, case.contracts)
    await outbox.ensure_indexes()
    keys = [f"k{i}" for i in range(7)]
    events = [case.event(key, n) for n in range(30) for key in keys]
    await write(mongo_client, outbox, events, per_transaction=15)
    relay = new_relay(stack, db, case, batch_size=40)  # several windows and pipelined batches
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: _zero(relay.pending_count()), "the backlog to be marked published")
    finally:
        await relay.stop()
        await task
    seen = await read_topic(stack.kafka_bootstrap_servers, case.topic.name, {e.id for e in events})
    assert len(seen) == len(events)  # nothing failed, so nothing was sent twice
    assert first_appearances_per_key(seen) == first_appearances_per_key(events)
    assert relay.counters["published"] == len(events)
    published = await outbox.collection.find({}, {"published_at": 1}).to_list()
    assert all(d["published_at"] is not None for d in published)


async def test_the_outbox_survives_a_broker_outage(stack, mongo_client, db, unique_name) -> None:
    case = Case(unique_name)
    outbox = Outbox(db, case.contracts)
    await outbox.ensure_indexes()
    keys = [f"k{i}" for i in range(6)]
    written: list[Event] = []
    relay = new_relay(stack, db, case, batch_size=8,
                      producer_options={"request_timeout_ms": REQUEST_TIMEOUT_MS, "linger_ms": 0})
    task = asyncio.create_task(relay.run())
    try:
        before = [case.event(key, n) for n in range(3) for key in keys]
        await write(mongo_client, outbox, before, per_transaction=2)
        written += before
        await eventually(lambda: _zero(relay.pending_count()), "the first events to be published")

        stack.pause_broker()
        try:
            during = [case.event(key, n) for n in range(3, 6) for key in keys]
            await write(mongo_client, outbox, during)
            written += during
            # The relay tried, and the frozen broker made those sends fail.
            await eventually(lambda: _positive(relay.counters["failed_sends"]),
                             "a send to the frozen broker to fail", within=4 * REQUEST_TIMEOUT_MS / 1000 + 10)
            still_during = [case.event(key, 6) for key in keys]
            await write(mongo_client, outbox, still_during)
            written += still_during
            assert await relay.pending_count() > 0
        finally:
            stack.resume_broker()

        after = [case.event(key, n) for n in range(7, 9) for key in keys]
        await write(mongo_client, outbox, after, per_transaction=3)
        written += after
        await eventually(lambda: _zero(relay.pending_count()), "every event to be published after the outage")
    finally:
        stack.resume_broker()
        await relay.stop()
        await task

    seen = await read_topic(stack.kafka_bootstrap_servers, case.topic.name, {e.id for e in written})
    assert {e.id for e in seen} == {e.id for e in written}  # none lost, nothing foreign
    assert first_appearances_per_key(seen) == first_appearances_per_key(written)
    assert relay.counters["published"] == len(written)
    assert relay.counters["failed_sends"] > 0 and relay.counters["errors"] > 0


async def test_a_late_commit_inside_a_marked_range_goes_back_to_pending(stack, mongo_client, db, unique_name):
    case = Case(unique_name)
    outbox = Outbox(db, case.contracts)
    await outbox.ensure_indexes()
    await write(mongo_client, outbox, [case.event("a", n) for n in range(3)])
    docs = await outbox.collection.find({}).sort("seq", 1).to_list()
    relay = new_relay(stack, db, case)
    # As if the middle document's transaction committed after the relay read the other two.
    assert await relay._mark_range([docs[0], docs[2]], datetime.now(UTC)) == 2
    states = {d["id"]: d["pending"] for d in await outbox.collection.find({}).to_list()}
    assert states == {docs[0]["id"]: False, docs[1]["id"]: True, docs[2]["id"]: False}
    assert relay.counters["unmarked"] == 1


async def test_published_events_are_purged_after_the_retention_pending_ones_never(
        stack, mongo_client, db, unique_name) -> None:
    case = Case(unique_name)
    outbox = Outbox(db, case.contracts)
    await outbox.ensure_indexes()
    relay = new_relay(stack, db, case, retention=timedelta(microseconds=1))
    try:
        await write(mongo_client, outbox, [case.event("a", 0), case.event("a", 1)], per_transaction=2)
        assert await relay.run_once() == 2
        await write(mongo_client, outbox, [case.event("a", 2)])
        await relay._maybe_purge()
        left = await outbox.collection.find({}).to_list()
        assert [(d["data"]["n"], d["pending"]) for d in left] == [(2, True)]
        assert relay.counters["purged"] == 2
    finally:
        await relay.stop()


# -- one publisher at a time ---------------------------------------------------------------------
async def test_two_relays_on_one_outbox_only_one_publishes(stack, mongo_client, db, unique_name) -> None:
    case = Case(unique_name)
    outbox = Outbox(db, case.contracts)
    await outbox.ensure_indexes()
    first = [case.event(f"k{i % 4}", i) for i in range(40)]
    await write(mongo_client, outbox, first, per_transaction=10)
    relays = [new_relay(stack, db, case, owner=name, batch_size=10, lease_seconds=2.0) for name in ("a", "b")]
    tasks = {relay.owner: asyncio.create_task(relay.run()) for relay in relays}
    try:
        await eventually(lambda: _zero(relays[0].pending_count()), "the first events to be published")
        holder, standby = sorted(relays, key=lambda r: -r.counters["published"])
        assert (holder.counters["published"], standby.counters["published"]) == (len(first), 0)

        # A standby that keeps watching a renewed lease never takes over.
        await asyncio.sleep(2 * 2.0)
        second = [case.event(f"k{i % 4}", i) for i in range(40, 50)]
        await write(mongo_client, outbox, second, per_transaction=5)
        await eventually(lambda: _zero(holder.pending_count()), "the second events to be published")
        assert standby.counters["published"] == 0

        # The holder stops (and releases the lease): the standby takes over.
        await holder.stop()
        await tasks[holder.owner]
        third = [case.event(f"k{i % 4}", i) for i in range(50, 60)]
        await write(mongo_client, outbox, third, per_transaction=5)
        await eventually(lambda: _zero(standby.pending_count()), "the standby to publish after a handover")
        assert standby.counters["published"] == len(third)
        assert holder.counters["published"] == len(first) + len(second)
    finally:
        for relay in relays:
            await relay.stop()
        await asyncio.gather(*tasks.values())
    everything = first + second + third
    seen = await read_topic(stack.kafka_bootstrap_servers, case.topic.name, {e.id for e in everything})
    assert len(seen) == len(everything)  # never two publishers at once, so no duplicates
    assert first_appearances_per_key(seen) == first_appearances_per_key(everything)


async def test_a_lease_nobody_renews_is_taken_over_after_it_expires(stack, mongo_client, db, unique_name):
    case = Case(unique_name)
    outbox = Outbox(db, case.contracts)
    await outbox.ensure_indexes()
    crashed = new_relay(stack, db, case, owner="crashed", lease_seconds=1.0)
    survivor = new_relay(stack, db, case, owner="survivor", lease_seconds=1.0)
    try:
        await write(mongo_client, outbox, [case.event("a", 0)])
        assert await crashed.run_once() == 1  # takes the lease, then never renews it
        await write(mongo_client, outbox, [case.event("a", 1)])
        first_look = time.monotonic()
        assert await survivor.run_once() == 0  # the lease looks alive
        await eventually(lambda: _positive(survivor.run_once()), "the survivor to take over", within=30)
        assert time.monotonic() - first_look >= 1.0  # not before it watched the lease go unrenewed
        assert await crashed.run_once() == 0  # the old holder notices it lost the lease
        assert await survivor.pending_count() == 0
    finally:
        await survivor.stop()
        await crashed.stop()


async def _zero(count: Awaitable[int]) -> bool:
    return await count == 0


async def _positive(value: int | Awaitable[int]) -> bool:
    return (await value if not isinstance(value, int) else value) > 0
