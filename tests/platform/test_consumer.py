"""The shared consumer loop against the real local broker and database.

Each test declares its own topic and event types beside the product's contracts, produces with a
plain aiokafka producer and watches effects, counters and the dead-letter topic with deadlines.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from faststream.specification import AsyncAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect

from mimis_platform.consumer import (
    DLQ_CONSUMER_GROUP,
    DLQ_FAILED_AT,
    DLQ_HEADER_PREFIX,
    DLQ_ORIGINAL_OFFSET,
    DLQ_ORIGINAL_PARTITION,
    DLQ_ORIGINAL_TOPIC,
    DLQ_REASON,
    EventConsumer,
    Handler,
    PermanentError,
    RetryableError,
)
from mimis_platform.contracts import CONTRACTS, ContractRegistry, TopicSpec, UnknownEventType
from mimis_platform.envelope import Event, KafkaRecord, to_kafka
from mimis_platform.kafka import ensure_topics, new_producer
from mimis_platform.localstack import LocalStack
from mimis_platform.mongo import new_client
from mimis_platform.tracecontext import current_trace_context

HAPPENED = "test.thing.happened.v1"
IGNORED = "test.thing.noticed.v1"  # on the same topic, routed to nobody in these tests
THING_SCHEMA = {
    "type": "object",
    "required": ["thing_id", "n"],
    "properties": {"thing_id": {"type": "string"}, "n": {"type": "integer"}},
    "additionalProperties": False,
}
DEADLINE = 30.0


# -- helpers ---------------------------------------------------------------------------------
def thing_contracts(unique_name: str, partitions: int = 2) -> ContractRegistry:
    return CONTRACTS.extended(
        {HAPPENED: THING_SCHEMA, IGNORED: THING_SCHEMA},
        [TopicSpec(name=f"{unique_name}.things", description="test things", key="thing_id",
                   event_types=(HAPPENED, IGNORED), producers=("tests",), consumers=("tests",),
                   partitions=partitions)],
    )


async def declare_things(stack: LocalStack, unique_name: str, partitions: int = 2) -> ContractRegistry:
    """The test topic as start-up code creates it; producing first would let the broker
    auto-create it with its own default partition count."""
    contracts = thing_contracts(unique_name, partitions)
    await ensure_topics(stack.kafka_bootstrap_servers, [contracts.topics.get(f"{unique_name}.things")])
    return contracts


def thing(n: int, *, event_type: str = HAPPENED, **overrides: Any) -> Event:
    fields: dict[str, Any] = {"type": event_type, "source": "/tests/things", "partition_key": f"thing-{n}",
                              "data": {"thing_id": f"thing-{n}", "n": n}}
    fields.update(overrides)
    return Event(**fields)


def recorder(db: AsyncDatabase[Any]) -> Handler:
    """The handler most tests use: one effect document per handled event, with no unique index,
    so a double effect would show as two documents."""

    async def record_effect(event: Event, session: AsyncClientSession) -> None:
        await db.effects.insert_one({"event_id": event.id, "n": event.data["n"]}, session=session)

    return record_effect


class Sleeps:
    """The injected sleep: records each backoff and returns at once (no real waiting)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


async def eventually(check: Callable[[], Any], what: str) -> None:
    """Poll ``check`` (sync or async) until it is true or the deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while True:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {DEADLINE:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


async def send(producer: AIOKafkaProducer, topic: str, record: KafkaRecord) -> Any:
    return await producer.send_and_wait(topic, value=record.value, key=record.key, headers=record.headers)


async def read_all(stack: LocalStack, topic: str, expected: int) -> list[ConsumerRecord[Any, Any]]:
    """Every record of ``topic`` once ``expected`` have arrived (no group: reads from the start)."""
    reader = AIOKafkaConsumer(topic, bootstrap_servers=stack.kafka_bootstrap_servers,
                              auto_offset_reset="earliest", enable_auto_commit=False)
    await reader.start()
    try:
        records: list[ConsumerRecord[Any, Any]] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE
        while len(records) < expected and loop.time() < deadline:
            for batch in (await reader.getmany(timeout_ms=200)).values():
                records.extend(batch)
        # a short extra read: more than expected is a failure too
        for batch in (await reader.getmany(timeout_ms=300)).values():
            records.extend(batch)
        return records
    finally:
        await reader.stop()


def dlq_headers(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers if k.startswith(DLQ_HEADER_PREFIX)}


def original_headers(record: ConsumerRecord[Any, Any]) -> list[tuple[str, bytes]]:
    return [(k, v) for k, v in record.headers if not k.startswith(DLQ_HEADER_PREFIX)]


# -- fixtures --------------------------------------------------------------------------------
@pytest.fixture
async def things(stack: LocalStack, unique_name: str) -> str:
    """The name of this test's topic, created with the partitions its contract declares."""
    await declare_things(stack, unique_name)
    return f"{unique_name}.things"


@pytest.fixture
async def producer(stack: LocalStack) -> AsyncIterator[AIOKafkaProducer]:
    p = new_producer(stack.kafka_bootstrap_servers, linger_ms=0)
    await p.start()
    yield p
    await p.stop()


@pytest.fixture
async def make_consumer(stack: LocalStack, mongo_client, db, unique_name: str):
    """Build and start consumers with short group timeouts; every one is stopped afterwards."""
    started: list[EventConsumer] = []

    async def make(routes: dict[str, Handler] | None = None, *, contracts: ContractRegistry | None = None,
                   start: bool = True, **options: Any) -> EventConsumer:
        options.setdefault("sleep", Sleeps())
        options.setdefault("graceful_timeout", DEADLINE)
        # The local broker lets a new member in only once the previous one's session has lapsed.
        options.setdefault("session_timeout_ms", 1000)
        options.setdefault("heartbeat_interval_ms", 200)
        options.setdefault("client", mongo_client)
        options.setdefault("db", db)
        consumer = EventConsumer(
            service="tests", group_id=f"{unique_name}-group", kafka=stack.kafka_bootstrap_servers,
            contracts=contracts or thing_contracts(unique_name),
            routes=routes if routes is not None else {HAPPENED: recorder(db)}, **options,
        )
        if start:
            await consumer.start()
            started.append(consumer)
        return consumer

    yield make
    for consumer in started:
        await consumer.stop()


# -- construction ----------------------------------------------------------------------------
async def test_topics_default_to_those_carrying_the_routed_types(make_consumer, unique_name: str) -> None:
    consumer = await make_consumer(start=False)
    assert consumer.topics == [f"{unique_name}.things"]
    spec = json.loads(AsyncAPI(consumer.broker, schema_version="3.0.0").to_specification().to_json())
    assert f"{unique_name}.things" in json.dumps(spec["channels"])  # AsyncAPI can be generated


async def test_backoff_doubles_with_jitter_up_to_its_cap(make_consumer) -> None:
    consumer = await make_consumer(start=False, backoff_seconds=1.0, backoff_max_seconds=4.0)
    delays = [consumer.backoff_delay(attempt) for attempt in range(1, 8)]
    for delay, base in zip(delays, [1, 2, 4, 4, 4, 4, 4], strict=True):
        assert 0.75 * base <= delay <= base


async def test_a_route_for_a_type_without_a_contract_is_refused(make_consumer, db) -> None:
    with pytest.raises(UnknownEventType):
        await make_consumer({"test.nobody.knows.v1": recorder(db)}, start=False)


# -- (a) no double effects --------------------------------------------------------------------
async def test_a_duplicated_event_has_exactly_one_effect(make_consumer, producer, db,
                                                         things: str) -> None:
    topic = things
    twice = thing(1)
    same_id_other_source = thing(2, id=twice.id, source="/tests/other-provider")
    for record in (twice, twice, same_id_other_source, twice):
        await send(producer, topic, to_kafka(record))
    consumer = await make_consumer()

    await eventually(lambda: consumer.counters.handled + consumer.counters.duplicates == 4,
                     "all four records")
    assert consumer.counters.handled == 2 and consumer.counters.duplicates == 2
    effects = await db.effects.find({}, {"_id": 0}).sort("n").to_list()
    # CloudEvents makes source + id unique: the other provider's event with the same id is another event.
    assert effects == [{"event_id": twice.id, "n": 1}, {"event_id": twice.id, "n": 2}]
    assert await db.inbox.count_documents({}) == 2


# -- (b) bad input never stops a consumer -------------------------------------------------------
async def test_malformed_records_are_dead_lettered_and_the_good_ones_around_them_processed(
    make_consumer, producer, db, stack: LocalStack, things: str
) -> None:
    topic = things
    # Headers FastStream's own parser would choke on (it decodes every value as UTF-8); they
    # must reach the dead-letter topic byte for byte.
    odd_headers: list[Any] = [("x-origin", b"\xfe\xff not utf-8"), ("x-empty", None)]
    envelope = to_kafka(thing(3))
    bad = [
        ("undecodable: ", KafkaRecord(envelope.key, b"{not json", [*envelope.headers, *odd_headers])),
        ("undecodable: ", KafkaRecord(envelope.key, b"\xff\xfe", envelope.headers)),
        ("undecodable: not a CloudEvent", KafkaRecord(
            b"legacy-1", json.dumps({"thing_id": "x", "n": 1}).encode(),
            [*odd_headers, ("content-type", b"application/json")],
        )),
        ("contract violation: ", to_kafka(thing(4, data={"thing_id": "thing-4", "n": "four"}))),
        ("unknown event type: ", to_kafka(thing(5, event_type="test.nobody.knows.v1"))),
    ]
    await send(producer, topic, to_kafka(thing(1)))
    sent = [await send(producer, topic, record) for _, record in bad]
    await send(producer, topic, to_kafka(thing(6, event_type=IGNORED)))  # known, not ours: skipped
    await send(producer, topic, to_kafka(thing(2)))
    consumer = await make_consumer()

    await eventually(lambda: consumer.counters.handled == 2 and consumer.counters.dead_lettered == len(bad),
                     "both good events handled and every bad record dead-lettered")
    assert consumer.counters.skipped == 1
    assert sorted(d["n"] for d in await db.effects.find().to_list()) == [1, 2]

    letters = await read_all(stack, f"{topic}.dlq", expected=len(bad))
    assert len(letters) == len(bad)
    for (reason, record), meta in zip(bad, sent, strict=True):
        [letter] = [r for r in letters
                    if dlq_headers(r)[DLQ_ORIGINAL_OFFSET] == str(meta.offset)
                    and dlq_headers(r)[DLQ_ORIGINAL_PARTITION] == str(meta.partition)]
        headers = dlq_headers(letter)
        assert headers[DLQ_REASON].startswith(reason), headers[DLQ_REASON]
        assert headers[DLQ_ORIGINAL_TOPIC] == topic
        assert headers[DLQ_CONSUMER_GROUP] == consumer.group_id
        assert headers[DLQ_FAILED_AT]
        assert (letter.key, letter.value) == (record.key, record.value)
        assert original_headers(letter) == list(record.headers)
    violation = next(dlq_headers(r)[DLQ_REASON] for r in letters
                     if dlq_headers(r)[DLQ_REASON].startswith("contract violation"))
    assert "/n" in violation  # the reason names the field


# -- (c) retries with backoff -----------------------------------------------------------------
async def test_a_retryable_error_is_retried_with_growing_backoff_until_it_passes(
    make_consumer, producer, db, things: str
) -> None:
    record_effect = recorder(db)
    calls = 0

    async def flaky(event: Event, session: AsyncClientSession) -> None:
        nonlocal calls
        calls += 1
        await record_effect(event, session)  # written, then rolled back with the failed attempt
        if calls <= 3:
            raise RetryableError(f"provider register busy (call {calls})")

    await send(producer, things, to_kafka(thing(1)))
    sleeps = Sleeps()
    consumer = await make_consumer({HAPPENED: flaky}, sleep=sleeps, max_attempts=5,
                                   backoff_seconds=0.5, backoff_max_seconds=60)

    await eventually(lambda: consumer.counters.handled == 1, "the event to pass on its fourth attempt")
    assert calls == 4 and consumer.counters.retried == 3 and consumer.counters.dead_lettered == 0
    assert len(sleeps.delays) == 3
    assert sleeps.delays[0] < sleeps.delays[1] < sleeps.delays[2]
    assert 0.5 * 0.75 <= sleeps.delays[0] <= 0.5 and sleeps.delays[2] <= 2.0
    assert await db.effects.count_documents({}) == 1


async def test_a_retryable_error_that_never_passes_is_dead_lettered_after_max_attempts(
    make_consumer, producer, db, stack: LocalStack, things: str
) -> None:
    record_effect = recorder(db)
    topic = things
    attempts: list[int] = []

    async def stuck(event: Event, session: AsyncClientSession) -> None:
        if event.data["n"] == 1:
            attempts.append(1)
            raise RetryableError("register never answers")
        await record_effect(event, session)

    await send(producer, topic, to_kafka(thing(1)))
    await send(producer, topic, to_kafka(thing(2)))
    sleeps = Sleeps()
    consumer = await make_consumer({HAPPENED: stuck}, sleep=sleeps, max_attempts=3)

    await eventually(lambda: consumer.counters.dead_lettered == 1 and consumer.counters.handled == 1,
                     "the stuck event dead-lettered and the next one handled")
    assert len(attempts) == 3 and len(sleeps.delays) == 2 and sleeps.delays[0] < sleeps.delays[1]
    [letter] = await read_all(stack, f"{topic}.dlq", expected=1)
    assert dlq_headers(letter)[DLQ_REASON] == (
        "retries exhausted after 3 attempts: RetryableError: register never answers"
    )


async def test_an_unreachable_database_is_waited_for_without_dead_lettering(
    make_consumer, producer, db, things: str
) -> None:
    record_effect = recorder(db)
    calls = 0

    async def database_down_for_a_while(event: Event, session: AsyncClientSession) -> None:
        nonlocal calls
        calls += 1
        if calls <= 6:  # more than max_attempts: outages are not counted against the event
            raise AutoReconnect("connection refused")
        await record_effect(event, session)

    await send(producer, things, to_kafka(thing(1)))
    consumer = await make_consumer({HAPPENED: database_down_for_a_while}, max_attempts=2)

    await eventually(lambda: consumer.counters.handled == 1, "the event once the database is back")
    assert consumer.counters.dead_lettered == 0 and consumer.counters.retried == 6
    assert await db.effects.count_documents({}) == 1


async def test_a_real_database_outage_is_waited_out(make_consumer, producer, db, stack: LocalStack,
                                                    things: str) -> None:
    # A client that gives up quickly on a frozen server; the freeze (SIGSTOP) keeps the data and
    # the port, as a hung or partitioned database would.
    impatient = new_client(stack.mongo_url, serverSelectionTimeoutMS=300, connectTimeoutMS=300,
                           socketTimeoutMS=300)
    consumer = await make_consumer({HAPPENED: recorder(impatient[db.name])}, client=impatient,
                                   db=impatient[db.name], max_attempts=1)
    try:
        stack.database.signal(signal.SIGSTOP)
        try:
            await send(producer, things, to_kafka(thing(1)))
            # The driver's own errors must read as "wait", not "dead-letter".
            await eventually(lambda: consumer.counters.retried >= 2, "the consumer to notice the outage")
        finally:
            stack.database.signal(signal.SIGCONT)
        await eventually(lambda: consumer.counters.handled == 1, "the event once the database is back")
        assert consumer.counters.dead_lettered == 0
        assert await db.effects.count_documents({}) == 1
    finally:
        await consumer.stop()  # before its client closes
        await impatient.close()


async def test_stop_interrupts_an_endless_wait_for_the_database_and_commits_nothing(
    make_consumer, producer, db, things: str
) -> None:
    waits: list[float] = []

    async def wait_forever(delay: float) -> None:
        waits.append(delay)
        await asyncio.Event().wait()

    async def database_down(event: Event, session: AsyncClientSession) -> None:
        raise AutoReconnect("connection refused")

    await send(producer, things, to_kafka(thing(1)))
    consumer = await make_consumer({HAPPENED: database_down}, sleep=wait_forever)
    await eventually(lambda: waits, "the consumer to wait for the database")
    await asyncio.wait_for(consumer.stop(), DEADLINE)
    assert consumer.counters.dead_lettered == 0 and consumer.counters.handled == 0

    # Nothing was committed: the next consumer of the group gets the event again and handles it.
    successor = await make_consumer()
    await eventually(lambda: successor.counters.handled == 1, "the event to come again")
    assert await db.effects.count_documents({}) == 1


# -- (d) offsets are committed ----------------------------------------------------------------
async def test_a_new_consumer_of_the_group_processes_nothing_again(
    make_consumer, producer, db, stack: LocalStack, unique_name: str
) -> None:
    contracts = await declare_things(stack, unique_name, partitions=1)  # later records come after
    topic = f"{unique_name}.things"
    for n in (1, 2, 3):
        await send(producer, topic, to_kafka(thing(n)))
    await send(producer, topic, KafkaRecord(b"k", b"garbage", []))
    first = await make_consumer(contracts=contracts)
    await eventually(lambda: first.counters.handled == 3 and first.counters.dead_lettered == 1,
                     "the first consumer to finish")
    await first.stop()

    await send(producer, topic, to_kafka(thing(4)))
    second = await make_consumer(contracts=contracts)
    await eventually(lambda: second.counters.handled == 1, "the second consumer to handle the new event")
    # Had any offset gone uncommitted, the second consumer would have seen those records first.
    assert second.counters.snapshot() == {"handled": 1, "duplicates": 0, "retried": 0,
                                          "dead_lettered": 0, "skipped": 0}
    assert sorted(d["n"] for d in await db.effects.find().to_list()) == [1, 2, 3, 4]
    assert len(await read_all(stack, f"{topic}.dlq", expected=1)) == 1


# -- (e) graceful shutdown -------------------------------------------------------------------
async def test_stop_lets_the_event_in_hand_finish_and_commit(
    make_consumer, producer, db, stack: LocalStack, unique_name: str
) -> None:
    record_effect = recorder(db)
    contracts = await declare_things(stack, unique_name, partitions=1)  # later records come after
    topic = f"{unique_name}.things"
    in_hand, release = asyncio.Event(), asyncio.Event()

    async def slow(event: Event, session: AsyncClientSession) -> None:
        in_hand.set()
        await release.wait()
        await record_effect(event, session)

    await send(producer, topic, to_kafka(thing(1)))
    consumer = await make_consumer({HAPPENED: slow}, contracts=contracts)
    await eventually(in_hand.is_set, "the handler to start")
    stopping = asyncio.create_task(consumer.stop())
    for _ in range(20):
        await asyncio.sleep(0.01)
    assert not stopping.done(), "stop() returned while the handler was still working"
    release.set()
    await asyncio.wait_for(stopping, DEADLINE)
    assert consumer.counters.handled == 1
    assert await db.effects.count_documents({}) == 1

    await send(producer, topic, to_kafka(thing(2)))
    successor = await make_consumer(contracts=contracts)
    await eventually(lambda: successor.counters.handled == 1, "the successor to handle the next event")
    assert successor.counters.duplicates == 0  # the finished event was committed, not redelivered


# -- (f) effect and inbox record are atomic ---------------------------------------------------
async def test_a_failing_handler_leaves_neither_effect_nor_inbox_record(
    make_consumer, producer, db, stack: LocalStack, things: str
) -> None:
    record_effect = recorder(db)
    topic = things

    async def writes_then_fails(event: Event, session: AsyncClientSession) -> None:
        await record_effect(event, session)
        if event.data["n"] == 1:
            raise PermanentError("learner 1 is not enrolled")
        if event.data["n"] == 2:
            raise KeyError("grade")  # a bug is permanent too: it will not pass by waiting

    for n in (1, 2, 3):
        await send(producer, topic, to_kafka(thing(n)))
    consumer = await make_consumer({HAPPENED: writes_then_fails})

    await eventually(lambda: consumer.counters.dead_lettered == 2 and consumer.counters.handled == 1,
                     "two dead letters and one handled event")
    assert [d["n"] for d in await db.effects.find().to_list()] == [3]
    assert await db.inbox.count_documents({}) == 1  # replaying a dead letter will run it again
    reasons = sorted(dlq_headers(r)[DLQ_REASON] for r in await read_all(stack, f"{topic}.dlq", expected=2))
    assert reasons == ["KeyError: 'grade'", "PermanentError: learner 1 is not enrolled"]


# -- tracing ---------------------------------------------------------------------------------
async def test_the_handler_runs_in_a_consumer_span_child_of_the_records_trace(
    make_consumer, producer, things: str
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests")
    seen: list[Any] = []

    async def traced(event: Event, session: AsyncClientSession) -> None:
        seen.append(trace.get_current_span().get_span_context())

    with tracer.start_as_current_span("request") as parent:
        event = thing(1, trace_context=current_trace_context())
    await send(producer, things, to_kafka(event))
    consumer = await make_consumer({HAPPENED: traced}, tracer_provider=provider)
    await eventually(lambda: consumer.counters.handled == 1, "the traced event")

    [span] = [s for s in exporter.get_finished_spans() if s.name == f"consume {HAPPENED}"]
    assert span.kind is SpanKind.CONSUMER
    assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id
    assert span.context.trace_id == parent.get_span_context().trace_id
    assert seen[0].span_id == span.context.span_id  # the handler ran inside it
    attributes = dict(span.attributes or {})
    assert attributes["messaging.system"] == "kafka"
    assert attributes["messaging.destination.name"] == things
    assert isinstance(attributes["messaging.kafka.message.offset"], int)
    assert attributes["cloudevents.event_id"] == event.id
    assert attributes["cloudevents.event_type"] == HAPPENED
