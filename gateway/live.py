"""Live events for GraphQL subscriptions: the gateway reads the topics it shows and fans each event
out to the subscribers in this process that may see it.

Every gateway replica must see every event, so there is no consumer group: the consumer is assigned
all partitions and starts at the end (a subscription shows what happens from now on; the history is
in the services' own APIs). Nothing is committed and nothing is written, so there is no effect to
make idempotent; a redelivered event (same ``source`` and ``id``) is still dropped, by a bounded
memory of recent ids. Events are validated against their contract on receipt; one that fails is
logged and skipped, never stops the loop. A subscriber that cannot keep up loses its oldest
events rather than slow everyone down.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, TopicPartition

from mimis_platform.contracts import CONTRACTS, ContractRegistry
from mimis_platform.envelope import Event, from_kafka
from mimis_platform.kafka import KafkaConnection, ensure_topics
from mimis_platform.logs import get_logger

#: The topics whose events a party may watch live through the gateway.
LIVE_TOPICS = ("quality.reviews", "issuance.credentials")
QUEUE_SIZE = 256
REMEMBERED_IDS = 10_000

_log = get_logger(__name__)

Wanted = Callable[[Event], bool]


@dataclass(eq=False)
class _Subscriber:
    wanted: Wanted
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    dropped: int = 0

    def offer(self, event: Event) -> None:
        if self.queue.full():  # a slow client loses its oldest event, not everyone their latency
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)


class LiveEvents:
    def __init__(self, kafka: KafkaConnection, topics: Iterable[str] = LIVE_TOPICS,
                 contracts: ContractRegistry = CONTRACTS) -> None:
        self.kafka, self.topics, self.contracts = kafka, tuple(topics), contracts
        self._subscribers: set[_Subscriber] = set()
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self.received = 0
        self.invalid = 0

    async def start(self) -> None:
        specs = [self.contracts.topics.get(t) for t in self.topics]
        await ensure_topics(self.kafka, specs)  # a no-op where KafkaTopic resources own the topics
        consumer = AIOKafkaConsumer(**self.kafka.client_options(), group_id=None, enable_auto_commit=False,
                                    auto_offset_reset="latest")
        await consumer.start()
        self._consumer = consumer
        partitions = [TopicPartition(s.name, p) for s in specs for p in range(s.partitions)]
        consumer.assign(partitions)
        # Resolve the starting offsets now, so that a subscriber who came after start-up misses nothing.
        for partition in partitions:
            await consumer.position(partition)
        self._task = asyncio.create_task(self._run(), name="gateway-live-events")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    @contextlib.asynccontextmanager
    async def subscribe(self, wanted: Wanted) -> AsyncIterator[asyncio.Queue[Event]]:
        subscriber = _Subscriber(wanted)
        self._subscribers.add(subscriber)
        try:
            yield subscriber.queue
        finally:
            self._subscribers.discard(subscriber)

    async def _run(self) -> None:
        assert self._consumer is not None
        async for record in self._consumer:
            try:
                event = from_kafka(record.key, record.value, record.headers)
                self.contracts.validate(event.type, event.data)
            except Exception as exc:  # bad input never stops the loop
                self.invalid += 1
                _log.warning("live event skipped", topic=record.topic, offset=record.offset, reason=str(exc)[:200])
                continue
            identity = (event.source, event.id)
            if identity in self._seen:
                continue
            self._seen[identity] = None
            if len(self._seen) > REMEMBERED_IDS:
                self._seen.popitem(last=False)
            self.received += 1
            for subscriber in list(self._subscribers):
                if subscriber.wanted(event):
                    subscriber.offer(event)
