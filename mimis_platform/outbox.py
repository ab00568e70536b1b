"""The transactional outbox and its relay: no state change without its events, no lost events.

A service writes its state change and the events it causes in one MongoDB transaction
(:func:`in_transaction` + :meth:`Outbox.add`), so either both exist or neither does. The
:class:`OutboxRelay` publishes pending outbox documents to Kafka (acks=all) and marks as
published only what the broker acknowledged.

What the relay guarantees
-------------------------
* **No lost events.** A document leaves the pending set only after the broker acknowledged its
  record. A crash, a database error or a broker outage leaves it pending, and it is sent again.
* **At least once, so duplicates happen.** A send that timed out may still have been stored (seen
  with a frozen broker, see DESIGN.md), a crash between the acknowledgement and the mark resends
  the batch, and the broker refuses the idempotent producer. Consumers dedupe by event id.
* **Per partition key, the first appearance of each event on the topic follows write order.**
  Pending documents are read in ``seq`` order (microseconds since the epoch, strictly increasing
  within a process). One batch's records for one partition are handed to aiokafka as explicit
  record batches, at most one per partition in flight, and the next batch is sent only after the
  previous one was acknowledged. On any failure the relay stops sending, marks only the
  acknowledged prefix of each partition, drops what it had read ahead, recreates the producer,
  re-ensures the registry's topics, backs off (exponential, capped) and starts again from the
  oldest pending document. A failed record batch that was in fact stored is resent before
  anything newer, so it only adds duplicates.
* **One publisher per outbox.** A lease document lets one relay replica publish; the others
  wait. Expiry is judged the way Kubernetes' leader election does it: a contender takes over
  only after it has watched the lease go unrenewed for ``lease_seconds`` on its own monotonic
  clock, so wall-clock skew between replicas does not matter, and the holder stops publishing
  well before that (a quarter of the lease earlier).

Residual risks, stated plainly
------------------------------
* Order across writers: ``seq`` comes from the writer's clock, so two replicas writing the *same*
  aggregate within their clock skew may be ordered by clock rather than by commit. Writes of one
  aggregate normally conflict on its document and so are serialised by the database.
* A transaction that commits after the relay has read past its ``seq`` (a long-running
  transaction) is published on the next pass, after newer events of other transactions.
* A relay that lost its lease while a send was already under way can publish that batch once
  more alongside the new holder (duplicates, not loss).
* After a broker restart that lost its data, a producer with cached metadata may get acks for
  records that vanish (DESIGN.md); the relay re-ensures topics whenever it reconnects, but cannot
  detect acknowledgements the broker did not honour.

Why it reads and marks the way it does
--------------------------------------
The local MongoDB (SecantusDB) materialises every document a query's index range selects before
it sorts and limits, so "oldest pending, limit 500" costs O(all pending). The relay therefore
reads a backlog through ``seq`` windows sized from the density it has seen, which also suits a
real MongoDB. Measured there in batches of 500 (benchmarks/outbox_relay.py ``--compare-marking``):
``update_many`` over the batch's ``seq`` range marks about 1,000 documents/s, ``bulk_write`` of
``UpdateOne`` by ``_id`` about 670/s, ``update_many`` with ``$in`` of the ids about 270/s. The range update is
exact because a mark that changed more documents than the relay sent (a late commit in the
range) is detected by its count and the extra documents are put back to pending. Reading,
sending and marking run as a pipeline, so the relay runs at about the pace of the slower of the
database work and the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.structs import TopicPartition
from bson import ObjectId
from pymongo import AsyncMongoClient, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from mimis_platform.contracts import ContractRegistry
from mimis_platform.envelope import Event, to_kafka
from mimis_platform.kafka import KafkaConnection, ensure_topics, new_producer
from mimis_platform.mongo import Document
from mimis_platform.tracecontext import current_trace_context

__all__ = ["Outbox", "OutboxRelay", "UnpublishableEvent", "in_transaction"]

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Kafka's default ``message.max.bytes``, rounded down: a larger record would be refused for ever.
MAX_RECORD_BYTES = 1_000_000
_ORDER = [("seq", 1), ("_id", 1)]
_MAX_OBJECT_ID = ObjectId("f" * 24)
_MIN_WINDOW_US = 1_000
# Reads see only majority-committed writes, so a failover cannot make the relay publish an event
# whose transaction is rolled back; lease changes must survive a failover too.
_MAJORITY_READ = ReadConcern("majority")
_MAJORITY_WRITE = WriteConcern("majority")


class UnpublishableEvent(ValueError):
    """The event could never be sent (not encodable, or larger than a Kafka record may be)."""


async def in_transaction(
    client: AsyncMongoClient[Document], work: Callable[[AsyncClientSession], Awaitable[T]]
) -> T:
    """Run ``work`` in one multi-document transaction; the whole callback is retried on
    ``TransientTransactionError`` and ``UnknownTransactionCommitResult`` (PyMongo's
    ``with_transaction``), so ``work`` must do nothing outside the database it cannot repeat."""
    async with client.start_session() as session:
        return await session.with_transaction(work)


class _SequenceClock:
    """Microseconds since the epoch, strictly increasing within this process, so one writer's
    events keep their order even when the wall clock steps back or two writes share a tick."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def take(self, count: int = 1) -> int:
        with self._lock:
            first = max(self._last + 1, time.time_ns() // 1000)
            self._last = first + count - 1
            return first


_SEQUENCE = _SequenceClock()


def _now_us() -> int:
    return time.time_ns() // 1000


def _order_key(doc: Document) -> tuple[int, ObjectId]:
    return doc["seq"], doc["_id"]


def _seq_range(low: int, high: int) -> Document:
    """``low <= seq <= high``, written with an exclusive upper bound: SecantusDB 0.7.0b3 treats
    ``$lte`` on the range field of a compound index as ``$lt`` (seen 2026-11-23), and seq is an
    integer, so both mean the same on MongoDB."""
    return {"seq": {"$gte": low, "$lt": high + 1}}


class Outbox:
    """Where a service writes its events, inside the transaction of the state change."""

    def __init__(self, db: AsyncDatabase[Document], contracts: ContractRegistry, collection: str = "outbox",
                 *, max_record_bytes: int = MAX_RECORD_BYTES) -> None:
        self.contracts = contracts
        self.collection: AsyncCollection[Document] = db[collection]
        self.max_record_bytes = max_record_bytes

    async def ensure_indexes(self) -> None:
        await ensure_outbox_indexes(self.collection)

    async def add(self, event: Event, session: AsyncClientSession) -> None:
        """Write one event in the caller's transaction; refuse it before writing if it breaks its
        contract (:class:`ContractViolation`), has no topic (``KeyError``) or cannot be sent."""
        document = self._document(event, _SEQUENCE.take())
        _require_transaction(session)
        await self.collection.insert_one(document, session=session)

    async def add_many(self, events: Sequence[Event], session: AsyncClientSession) -> None:
        if not events:
            return
        first = _SEQUENCE.take(len(events))
        documents = [self._document(event, first + i) for i, event in enumerate(events)]
        _require_transaction(session)
        await self.collection.insert_many(documents, ordered=True, session=session)

    def _document(self, event: Event, seq: int) -> Document:
        self.contracts.validate(event.type, event.data)
        topic = self.contracts.topic_for(event.type)
        if not event.trace_context:
            event = replace(event, trace_context=current_trace_context())
        # Encoding now turns a payload the relay could never send (a value JSON cannot carry, a
        # record over the broker's limit) into the caller's error instead of a stuck outbox.
        try:
            record = to_kafka(event)
        except (TypeError, ValueError) as exc:
            raise UnpublishableEvent(f"{event.type} {event.id}: cannot encode: {exc}") from exc
        size = len(record.key) + len(record.value) + sum(len(k) + len(v) for k, v in record.headers)
        if size > self.max_record_bytes:
            raise UnpublishableEvent(
                f"{event.type} {event.id}: record of {size} bytes exceeds {self.max_record_bytes}"
            )
        document = event.to_document()
        document.update(topic=topic.name, seq=seq, pending=True, published_at=None, attempts=0)
        return document


def _require_transaction(session: AsyncClientSession) -> None:
    # Outside a transaction the event and the state change could part ways: the one thing the
    # outbox exists to prevent.
    if not session.in_transaction:
        raise ValueError("outbox writes must happen inside a transaction (use in_transaction)")


async def ensure_outbox_indexes(collection: AsyncCollection[Document]) -> None:
    # One index serves every query: pending reads by seq window, marks and their checks by
    # (pending, seq range), and the purge of old published documents.
    await collection.create_index([("pending", 1), ("seq", 1), ("_id", 1)], name="pending_seq")


@dataclass
class _Sent:
    """One read batch after sending: what the broker acknowledged, and what failed."""

    docs: list[Document]
    acked: list[Document] = field(default_factory=list)
    failed: list[Document] = field(default_factory=list)
    failure: BaseException | None = None


class _Lease:
    """The right to publish one outbox, held by one relay at a time.

    The holder renews every third of the lease and considers itself the holder for three
    quarters of it after a renewal started; a contender takes over only after it has watched the
    document unchanged for the whole lease on its own monotonic clock, or when it was released.
    """

    def __init__(self, collection: AsyncCollection[Document], name: str, owner: str, seconds: float) -> None:
        self.collection, self.name, self.owner, self.seconds = collection, name, owner, seconds
        self._version: int | None = None
        self._valid_until = 0.0
        self._renew_due = 0.0
        self._observed: tuple[Any, Any] | None = None
        self._observed_at = 0.0

    async def hold(self) -> bool:
        started = time.monotonic()
        if self._version is not None and started < min(self._valid_until, self._renew_due):
            return True
        if self._version is not None:
            renewed = await self.collection.find_one_and_update(
                {"_id": self.name, "owner": self.owner, "version": self._version},
                {"$inc": {"version": 1}, "$set": {"renewed_at": datetime.now(UTC)}},
                return_document=ReturnDocument.AFTER,
            )
            if renewed is not None:
                return self._granted(renewed["version"], started)
            log.warning("outbox lease %s lost by %s", self.name, self.owner)
            self._version = None
        current = await self.collection.find_one({"_id": self.name})
        if current is None:
            try:
                await self.collection.insert_one(
                    {"_id": self.name, "owner": self.owner, "version": 1, "renewed_at": datetime.now(UTC),
                     "lease_seconds": self.seconds}
                )
            except DuplicateKeyError:
                return False  # another replica created it first
            return self._granted(1, started)
        observed = (current.get("owner"), current.get("version"))
        if observed != self._observed:
            self._observed, self._observed_at = observed, started
        if current.get("owner") is not None and started - self._observed_at < self.seconds:
            return False
        taken = await self.collection.find_one_and_update(
            {"_id": self.name, "version": current.get("version")},
            {"$set": {"owner": self.owner, "renewed_at": datetime.now(UTC), "lease_seconds": self.seconds},
             "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if taken is None:
            return False
        log.info("outbox lease %s taken over by %s from %s", self.name, self.owner, current.get("owner"))
        return self._granted(taken["version"], started)

    def _granted(self, version: int, started: float) -> bool:
        self._version = version
        self._valid_until = started + self.seconds * 0.75
        self._renew_due = started + self.seconds / 3
        return True

    async def release(self) -> None:
        if self._version is None:
            return
        version, self._version = self._version, None
        await self.collection.update_one(
            {"_id": self.name, "owner": self.owner, "version": version},
            {"$set": {"owner": None}, "$inc": {"version": 1}},
        )


class OutboxRelay:
    """Publishes one outbox to Kafka and marks what the broker acknowledged (see the module doc).

    ``counters``: ``published`` (marked by this relay), ``failed_sends`` (events in record batches
    the broker did not acknowledge), ``batches``, ``errors`` (passes that ended in a failure and a
    back-off), ``unmarked`` (late commits put back to pending), ``purged`` (published documents
    removed after ``retention``)."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        contracts: ContractRegistry,
        kafka: KafkaConnection | str,
        *,
        collection: str = "outbox",
        batch_size: int = 500,
        idle_seconds: float = 0.2,
        owner: str | None = None,
        lease_seconds: float = 15.0,
        producer_options: dict[str, Any] | None = None,
        backoff_seconds: float = 0.2,
        max_backoff_seconds: float = 30.0,
        retention: timedelta | None = timedelta(days=7),
    ) -> None:
        self.contracts = contracts
        self.kafka = KafkaConnection.of(kafka)
        self.collection: AsyncCollection[Document] = db.get_collection(
            collection, read_concern=_MAJORITY_READ, write_concern=_MAJORITY_WRITE
        )
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.producer_options = dict(producer_options or {})
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.retention = retention
        self.counters: dict[str, int] = {
            "published": 0, "failed_sends": 0, "batches": 0, "errors": 0, "unmarked": 0, "purged": 0,
        }
        leases = db.get_collection(f"{collection}.lease", read_concern=_MAJORITY_READ,
                                   write_concern=_MAJORITY_WRITE)
        self._lease = _Lease(leases, collection, self.owner, lease_seconds)
        self._producer: AIOKafkaProducer | None = None
        self._partitions: dict[str, list[int]] = {}
        self._partitioner = DefaultPartitioner()
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._running = False
        self._next_purge = 0.0

    # -- public ----------------------------------------------------------------------------------
    async def pending_count(self) -> int:
        return await self.collection.count_documents({"pending": True})

    async def run_once(self) -> int:
        """Publish the oldest pending batch; return how many documents were marked published.

        Raises the send error, after marking what the broker acknowledged, if a send failed."""
        if not await self._lease.hold():
            return 0
        docs = await self._find({"pending": True})
        if not docs:
            return 0
        sent = await self._publish(docs)
        marked = await self._mark(sent)
        if sent.failure is not None:
            await self._discard_producer()
            raise sent.failure
        return marked

    async def run(self) -> None:
        """Publish until :meth:`stop`; outages of the broker or the database only delay it."""
        self._running = True
        backoff = self.backoff_seconds
        indexed = False
        try:
            while not self._stopping.is_set():
                try:
                    if not indexed:
                        await ensure_outbox_indexes(self.collection)
                        indexed = True
                    if not await self._lease.hold():
                        await self._discard_producer()  # a standby holds no broker connections
                        await self._pause(self._lease.seconds / 4)
                        continue
                    published = await self._drain()
                    backoff = self.backoff_seconds
                    if published == 0:
                        await self._maybe_purge()
                        await self._pause(self.idle_seconds)
                except Exception as exc:  # any failure means "not now": the outbox keeps the events
                    self.counters["errors"] += 1
                    log.warning("outbox relay %s: %s: %s; retrying in %.1fs",
                                self.owner, type(exc).__name__, exc, backoff)
                    await self._discard_producer()
                    await self._pause(backoff)
                    backoff = min(backoff * 2, self.max_backoff_seconds)
        finally:
            await self._shutdown()
            self._running = False
            self._stopped.set()

    async def stop(self) -> None:
        """End :meth:`run` after the batch in hand (also when called before it started), close the
        producer and release the lease. A stopped relay stays stopped."""
        self._stopping.set()
        if self._running:
            await self._stopped.wait()
        else:
            await self._shutdown()

    # -- pipeline --------------------------------------------------------------------------------
    async def _drain(self) -> int:
        """Read, send and mark concurrently until nothing is pending; return how many were marked."""
        to_send: asyncio.Queue[list[Document] | None] = asyncio.Queue(maxsize=2)
        to_mark: asyncio.Queue[_Sent | None] = asyncio.Queue(maxsize=2)
        try:
            async with asyncio.TaskGroup() as group:
                reader = group.create_task(self._read_stage(to_send))
                marker = group.create_task(self._mark_stage(to_mark))
                sender = group.create_task(self._send_stage(to_send, to_mark, reader))
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None
        failure = sender.result()
        if failure is not None:
            raise failure
        return marker.result()

    async def _read_stage(self, out: asyncio.Queue[list[Document] | None]) -> None:
        async for docs in self._pending_batches():
            await out.put(docs)
        await out.put(None)

    async def _send_stage(self, source: asyncio.Queue[list[Document] | None],
                          out: asyncio.Queue[_Sent | None],
                          reader: asyncio.Task[None]) -> BaseException | None:
        failure: BaseException | None = None
        try:
            while not self._stopping.is_set():
                docs = await source.get()
                if docs is None or not await self._lease.hold():
                    break
                sent = await self._publish(docs)
                await out.put(sent)
                if sent.failure is not None:
                    failure = sent.failure
                    break
        finally:
            reader.cancel()  # what it read ahead is still pending and will be read again
        await out.put(None)
        return failure

    async def _mark_stage(self, source: asyncio.Queue[_Sent | None]) -> int:
        marked = 0
        while (sent := await source.get()) is not None:
            marked += await self._mark(sent)
        return marked

    # -- reading ---------------------------------------------------------------------------------
    async def _find(self, query: Document) -> list[Document]:
        cursor = self.collection.find(query).sort(_ORDER).limit(self.batch_size).batch_size(self.batch_size)
        return await cursor.to_list()

    async def _pending_batches(self) -> AsyncIterator[list[Document]]:
        """Pending documents in (seq, _id) order, batch by batch.

        The first read takes the oldest pending documents; later reads follow in ``seq`` windows
        sized so one window holds about two batches, widening while they come back short, and
        end with an open-ended read once the window reaches the present."""
        docs = await self._find({"pending": True})
        if docs:
            yield docs
        if len(docs) < self.batch_size:
            return
        after = _order_key(docs[-1])
        window = max(_MIN_WINDOW_US, 2 * (docs[-1]["seq"] - docs[0]["seq"]))
        while True:
            upper = after[0] + window  # exclusive: see _seq_range
            open_ended = upper >= _now_us()
            seq_range = {"$gte": after[0]} if open_ended else {"$gte": after[0], "$lt": upper}
            rows = await self._find({"pending": True, "seq": seq_range})
            # $gte, not $gt: another writer may have used the same microsecond.
            fresh = [d for d in rows if _order_key(d) > after]
            if fresh:
                yield fresh
                window = max(_MIN_WINDOW_US, 2 * (fresh[-1]["seq"] - after[0]))
                after = _order_key(fresh[-1])
            if len(rows) == self.batch_size:
                if not fresh:
                    return  # a whole batch shares one microsecond: the next pass reads it from the start
                continue
            if open_ended:
                return
            after = (upper - 1, _MAX_OBJECT_ID)
            window *= 2

    # -- sending ---------------------------------------------------------------------------------
    async def _producer_ready(self) -> AIOKafkaProducer:
        if self._producer is None:
            # Topics first: a broker that lost them must not auto-create them with defaults.
            await ensure_topics(self.kafka, self.contracts.topics)
            producer = new_producer(self.kafka, **self.producer_options)
            try:
                await producer.start()
            except BaseException:
                await _close_quietly(producer)
                raise
            self._producer = producer
            self._partitions.clear()
        return self._producer

    async def _discard_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await _close_quietly(producer)

    async def _publish(self, docs: list[Document]) -> _Sent:
        """Send one read batch; per partition the acknowledged part is always a prefix."""
        sent = _Sent(docs)
        try:
            producer = await self._producer_ready()
            plan = await self._plan(producer, docs)
        except Exception as exc:  # the broker is unreachable: nothing was sent
            sent.failure, sent.failed = exc, list(docs)
            return sent
        rounds = max(len(chunks) for chunks in plan.values())
        for round_no in range(rounds):
            in_flight: list[tuple[list[Document], asyncio.Future[Any]]] = []
            for tp, chunks in plan.items():
                if round_no >= len(chunks):
                    continue
                builder, chunk = chunks[round_no]
                try:
                    future = await producer.send_batch(builder, tp.topic, partition=tp.partition)
                except Exception as exc:
                    sent.failure = sent.failure or exc
                    sent.failed.extend(chunk)
                else:
                    in_flight.append((chunk, future))
            results = await asyncio.gather(*(f for _, f in in_flight), return_exceptions=True)
            for (chunk, _), result in zip(in_flight, results, strict=True):
                if isinstance(result, BaseException):
                    sent.failure = sent.failure or result
                    sent.failed.extend(chunk)
                else:
                    sent.acked.extend(chunk)
            if sent.failure is not None:
                # A later record batch of a partition whose earlier one failed must not overtake it.
                break
        if sent.failure is not None:
            self.counters["failed_sends"] += len(sent.failed)
            log.warning("outbox relay %s: %d of %d events not acknowledged: %s: %s", self.owner,
                        len(docs) - len(sent.acked), len(docs), type(sent.failure).__name__, sent.failure)
        return sent

    async def _plan(self, producer: AIOKafkaProducer,
                    docs: list[Document]) -> dict[TopicPartition, list[Any]]:
        """Record batches per partition, in read order; a partition gets more than one only when
        its records outgrow the producer's batch size."""
        plan: dict[TopicPartition, list[Any]] = {}
        for doc in docs:
            record = to_kafka(Event.from_document(doc))
            partitions = self._partitions.get(doc["topic"])
            if partitions is None:
                partitions = sorted(await producer.partitions_for(doc["topic"]))
                self._partitions[doc["topic"]] = partitions
            tp = TopicPartition(doc["topic"], self._partitioner(record.key, partitions, partitions))
            chunks = plan.setdefault(tp, [])
            fits = bool(chunks) and chunks[-1][0].append(
                key=record.key, value=record.value, timestamp=None, headers=record.headers) is not None
            if not fits:
                builder = producer.create_batch()  # its first record always fits
                builder.append(key=record.key, value=record.value, timestamp=None, headers=record.headers)
                chunks.append((builder, []))
            chunks[-1][1].append(doc)
        return plan

    # -- marking ---------------------------------------------------------------------------------
    async def _mark(self, sent: _Sent) -> int:
        if sent.failed:
            await self._note_attempts(sent)
        if not sent.acked:
            return 0
        now = datetime.now(UTC)
        if len(sent.acked) < len(sent.docs):
            # Partial success is rare (a failure): mark exactly the acknowledged documents.
            result = await self.collection.bulk_write(
                [UpdateOne({"_id": d["_id"], "pending": True},
                           {"$set": {"pending": False, "published_at": now}}) for d in sent.acked],
                ordered=False,
            )
            marked = result.modified_count
        else:
            marked = await self._mark_range(sent.acked, now)
        self.counters["published"] += marked
        self.counters["batches"] += 1
        return marked

    async def _mark_range(self, acked: list[Document], now: datetime) -> int:
        """Mark a fully acknowledged read batch by its seq range: one index range instead of
        one lookup per document. The read batch was every pending document of that range, so a
        count above the batch's size means another transaction committed into the range since:
        those documents go back to pending."""
        token = ObjectId()
        in_range = _seq_range(min(d["seq"] for d in acked), max(d["seq"] for d in acked))
        result = await self.collection.update_many(
            {"pending": True, **in_range},
            {"$set": {"pending": False, "published_at": now, "mark": token}},
        )
        if result.modified_count <= len(acked):
            return result.modified_count
        ours = {d["_id"] for d in acked}
        marked = await self.collection.find({"pending": False, **in_range, "mark": token},
                                            {"_id": 1}).to_list()
        extra = [m["_id"] for m in marked if m["_id"] not in ours]
        await self.collection.bulk_write(
            [UpdateOne({"_id": i, "mark": token}, {"$set": {"pending": True, "published_at": None},
                                                   "$unset": {"mark": ""}}) for i in extra],
            ordered=False,
        )
        self.counters["unmarked"] += len(extra)
        log.info("outbox relay %s: %d late-committed events in a marked range put back to pending",
                 self.owner, len(extra))
        return result.modified_count - len(extra)

    async def _note_attempts(self, sent: _Sent) -> None:
        # Bookkeeping for operators looking at a stuck outbox; losing it loses nothing.
        with contextlib.suppress(Exception):
            await self.collection.bulk_write(
                [UpdateOne({"_id": d["_id"], "pending": True},
                           {"$inc": {"attempts": 1}, "$set": {"last_error": repr(sent.failure)[:500]}})
                 for d in sent.failed],
                ordered=False,
            )

    # -- housekeeping ----------------------------------------------------------------------------
    async def _maybe_purge(self) -> None:
        if self.retention is None or time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + min(3600.0, self.retention.total_seconds() / 10)
        cutoff = _now_us() - int(self.retention.total_seconds() * 1_000_000)
        result = await self.collection.delete_many({"pending": False, "seq": {"$lt": cutoff}})
        self.counters["purged"] += result.deleted_count

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _shutdown(self) -> None:
        await self._discard_producer()
        try:
            await self._lease.release()
        except Exception as exc:  # the lease then expires on its own
            log.warning("outbox relay %s could not release its lease: %s", self.owner, exc)


async def _close_quietly(producer: AIOKafkaProducer) -> None:
    # After a failure the producer holds nothing worth waiting for: the outbox still has it all.
    try:
        async with asyncio.timeout(5.0):
            await producer.stop()
    except Exception as exc:
        log.debug("closing a Kafka producer failed: %s", exc)
