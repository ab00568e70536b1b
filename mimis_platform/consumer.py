"""The consumer loop every service shares: at-least-once delivery made effectively-once.

FastStream's ``KafkaBroker`` runs the group subscriber (lifecycle, rebalances, graceful stop,
AsyncAPI). Everything it lacks is here:

* **Commit after the outcome.** The subscriber uses ``AckPolicy.NACK_ON_ERROR`` (auto-commit off):
  FastStream commits the consumed offset only after :meth:`EventConsumer._on_record` returns, i.e.
  after the event was handled, recognised as a duplicate, skipped or dead-lettered *and* the
  dead-letter topic acknowledged it. Anything that escapes (``NackMessage`` on shutdown) seeks
  back instead, so the record comes again.
* **Inbox.** The event's ``(id, source)`` goes into a uniquely indexed inbox collection in the same
  MongoDB transaction as the handler's writes; a redelivered event hits the index, the whole
  transaction aborts and nothing happens twice. CloudEvents makes ``source`` + ``id`` unique, not
  ``id`` alone, and providers' own systems choose their ids.
* **Retry and dead letters.** :class:`RetryableError` is retried with exponential backoff up to
  ``max_attempts``; a database that cannot be reached is waited for without a bound (dead-lettering
  every event during an outage would be worse); anything else goes to ``<topic>.dlq`` with the
  original key, value and headers plus ``mimis-dlq-*`` headers saying why.
* **No direct personal data in dead letters.** Dead letters are kept for days or weeks and are
  read by operators; erasure cannot reach them. A record of a known event type keeps its envelope,
  but every field its schema marks ``x-personal-data: direct`` is replaced (see
  :meth:`ContractRegistry.redact_personal`), also inside the reason; the letter says so in a
  ``mimis-dlq-redacted`` header. A record with nothing to remove is copied byte for byte, so it can
  be replayed; a redacted one cannot be replayed as it was (its provider resends it).
* **Tracing.** Each routed event is handled inside a ``consume <type>`` CONSUMER span whose parent
  is the trace context the record carries.

Records are handled one at a time per consumer, which keeps one aggregate's events in order.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from aiokafka import AIOKafkaProducer, ConsumerRecord
from faststream.exceptions import NackMessage
from faststream.kafka import KafkaBroker, Topic
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError

from mimis_platform.contracts import REMOVED_PERSONAL_DATA, ContractRegistry
from mimis_platform.envelope import Event, UndecodableEvent, from_kafka
from mimis_platform.kafka import KafkaConnection, ensure_topics, new_producer
from mimis_platform.tracecontext import context_from

__all__ = [
    "DLQ_CONSUMER_GROUP",
    "DLQ_FAILED_AT",
    "DLQ_HEADER_PREFIX",
    "DLQ_ORIGINAL_OFFSET",
    "DLQ_ORIGINAL_PARTITION",
    "DLQ_ORIGINAL_TOPIC",
    "DLQ_REASON",
    "DLQ_REDACTED",
    "ConsumerCounters",
    "EventConsumer",
    "Handler",
    "PermanentError",
    "RetryableError",
]

Handler = Callable[[Event, AsyncClientSession], Awaitable[None]]
"""Handles one event inside the MongoDB transaction that also records it in the inbox: every
write must pass the session, or it is not part of the all-or-nothing."""

DLQ_HEADER_PREFIX = "mimis-dlq-"
DLQ_REASON = "mimis-dlq-reason"
DLQ_ORIGINAL_TOPIC = "mimis-dlq-original-topic"
DLQ_ORIGINAL_PARTITION = "mimis-dlq-original-partition"
DLQ_ORIGINAL_OFFSET = "mimis-dlq-original-offset"
DLQ_CONSUMER_GROUP = "mimis-dlq-consumer-group"
DLQ_FAILED_AT = "mimis-dlq-failed-at"
DLQ_REDACTED = "mimis-dlq-redacted"  # the direct personal fields removed from the value, comma-separated
MAX_REASON_CHARS = 2000  # a header, not a log: enough for a validation message and its path

_OFFSET_RESETS = ("earliest", "latest", "none")
_log = logging.getLogger(__name__)


class PermanentError(Exception):
    """Raised by a handler: this event will never pass; dead-letter it with this message."""


class RetryableError(Exception):
    """Raised by a handler: this event may pass later; retry it with backoff."""


@dataclass
class ConsumerCounters:
    """Outcomes since start. ``retried`` counts every backoff: a handler's RetryableError, a wait
    for the database, a dead-letter produce that failed."""

    handled: int = 0
    duplicates: int = 0
    retried: int = 0
    dead_lettered: int = 0
    skipped: int = 0  # a known event type on our topics that this consumer has no handler for

    def snapshot(self) -> dict[str, int]:
        return dataclasses.asdict(self)


class EventConsumer:
    """One consumer group of one service: routes each event type to its handler."""

    def __init__(
        self,
        *,
        service: str,
        group_id: str,
        kafka: KafkaConnection | str,
        client: AsyncMongoClient[Any],
        db: AsyncDatabase[Any],
        contracts: ContractRegistry,
        routes: Mapping[str, Handler],
        topics: Sequence[str] | None = None,
        max_attempts: int = 5,
        backoff_seconds: float = 0.2,
        backoff_max_seconds: float = 30.0,
        inbox_collection: str = "inbox",
        auto_offset_reset: str = "earliest",
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        graceful_timeout: float = 15.0,
        session_timeout_ms: int = 10_000,
        heartbeat_interval_ms: int = 3_000,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        for event_type in routes:
            contracts.topic_for(event_type)  # a route for a type without a contract is a bug: fail now
        if topics is None:
            topics = list(dict.fromkeys(contracts.topic_for(t).name for t in routes))
        if not topics:
            raise ValueError(f"consumer {group_id!r} of {service!r} has no routes and no topics to consume")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if auto_offset_reset not in _OFFSET_RESETS:
            raise ValueError(f"auto_offset_reset must be one of {_OFFSET_RESETS}, not {auto_offset_reset!r}")

        self.service = service
        self.group_id = group_id
        self.kafka = KafkaConnection.of(kafka)
        self.client = client
        self.db = db
        self.contracts = contracts
        self.routes = dict(routes)
        self.topics = list(topics)
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.inbox = db[inbox_collection]
        self.counters = ConsumerCounters()
        self._sleep = sleep
        self._stopping = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._started = False
        # None means the process's global provider; tests pass their own instead of replacing it.
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

        # consumer_only: the dead-letter producer below is our own, see _dead_letter.
        self.broker = KafkaBroker(
            self.kafka.bootstrap_servers,
            security=self.kafka.security(),
            client_id=f"{service}-{group_id}",
            consumer_only=True,
            apply_types=False,  # the handler takes the raw record; decoding is ours
            graceful_timeout=graceful_timeout,
            log_level=logging.DEBUG,  # FastStream's per-message lines; ours carry the outcome
            description=f"Events consumed by {service} (group {group_id}).",
        )
        subscriber = self.broker.subscriber(
            *(Topic(name, declare=False) for name in self.topics),  # ensure_topics creates them
            group_id=group_id,
            auto_offset_reset=cast(Literal["latest", "earliest", "none"], auto_offset_reset),
            # Never ACK_FIRST (at most once): commit once the outcome is durable, seek back otherwise.
            ack_policy=AckPolicy.NACK_ON_ERROR,
            session_timeout_ms=session_timeout_ms,
            heartbeat_interval_ms=heartbeat_interval_ms,
            parser=_parse_leniently,
            decoder=_raw_record,
            no_reply=True,  # a record's reply_to header must not make us publish anything
            title=f"{service}:{group_id}",
            description=", ".join(sorted(self.routes)) or None,
        )
        subscriber(self._consume)

    # -- lifecycle ---------------------------------------------------------------------------
    async def ensure_indexes(self) -> None:
        await self.inbox.create_index(
            [("event_id", ASCENDING), ("source", ASCENDING)], unique=True, name="event_id_source_unique"
        )

    async def start(self) -> None:
        if self._started:
            return
        await self.ensure_indexes()  # without the unique index the inbox dedupes nothing
        await ensure_topics(self.kafka, self.contracts.topics)
        self._stopping.clear()
        self._producer = new_producer(self.kafka, client_id=f"{self.service}-{self.group_id}-dlq")
        await self._producer.start()
        try:
            await self.broker.start()
        except BaseException:
            await self._producer.stop()
            self._producer = None
            raise
        self._started = True
        _log.info("consumer %s of %s started on %s", self.group_id, self.service, ", ".join(self.topics))

    async def stop(self) -> None:
        """Stop reading; the event in hand finishes and is committed (up to ``graceful_timeout``).

        An event waiting in a retry backoff is abandoned uncommitted, so it comes again.
        """
        self._stopping.set()
        if not self._started and self._producer is None:
            return
        try:
            await self.broker.stop()
        finally:
            # After the broker: the event in hand may still need to be dead-lettered.
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None
            self._started = False
        _log.info("consumer %s of %s stopped: %s", self.group_id, self.service, self.counters.snapshot())

    # -- one record --------------------------------------------------------------------------
    async def _consume(self, record: Any) -> None:
        # Typed Any for FastStream: it derives the AsyncAPI payload schema from this annotation,
        # and aiokafka's ConsumerRecord makes that recurse. The payload schemas are the contracts'.
        await self._on_record(cast("ConsumerRecord[Any, Any]", record))

    async def _on_record(self, record: ConsumerRecord[Any, Any]) -> None:
        try:
            event = from_kafka(record.key, record.value, record.headers)
        except UndecodableEvent as exc:
            await self._dead_letter(record, f"undecodable: {exc}")
            return
        except Exception as exc:  # an escape here would make FastStream seek back to it forever
            await self._dead_letter(record, f"undecodable: {_describe(exc)}")
            return
        handler = self.routes.get(event.type)
        if handler is None:
            if event.type in self.contracts.schemas:
                # Topics carry several types; another service's type is not ours to judge.
                self.counters.skipped += 1
            else:
                await self._dead_letter(record, f"unknown event type: {event.type!r} has no contract")
            return
        try:
            self.contracts.validate(event.type, event.data)
        except Exception as exc:  # ContractViolation, or a validator that chokes (e.g. deep nesting)
            await self._dead_letter(record, f"contract violation: {_describe(exc)}")
            return
        await self._handle(record, event, handler)

    async def _handle(self, record: ConsumerRecord[Any, Any], event: Event, handler: Handler) -> None:
        attributes: dict[str, str | int] = {
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.destination.name": record.topic,
            "messaging.destination.partition.id": str(record.partition),
            "messaging.consumer.group.name": self.group_id,
            "messaging.kafka.message.offset": record.offset,
            "cloudevents.event_id": event.id,
            "cloudevents.event_type": event.type,
            "cloudevents.event_source": event.source,
        }
        with self._tracer.start_as_current_span(
            f"consume {event.type}", context=context_from(event.trace_context), kind=SpanKind.CONSUMER,
            attributes=attributes, record_exception=False, set_status_on_exception=False,
        ) as span:
            # One session for every attempt: a transaction cut off by a network error may live on
            # in the server holding its inbox entry; the next transaction on the same session
            # supersedes it, where a new session would meet its write conflict until it expires.
            async with self.client.start_session() as session:
                await self._attempt_until_done(span, session, record, event, handler)

    async def _attempt_until_done(self, span: Span, session: AsyncClientSession,
                                  record: ConsumerRecord[Any, Any], event: Event, handler: Handler) -> None:
        failures = outages = 0
        while True:
            try:
                first_time = await self._apply(session, record, event, handler)
            except RetryableError as exc:
                failures += 1
                span.record_exception(exc)
                if failures >= self.max_attempts:
                    await self._fail(span, record, f"retries exhausted after {failures} attempts: "
                                                   f"{_describe(exc)}")
                    return
                _log.info("event %s (%s) will be retried: %s", event.id, event.type, _describe(exc))
                await self._back_off(failures)
            except Exception as exc:
                if not _database_unavailable(exc):
                    span.record_exception(exc)
                    await self._fail(span, record, _describe(exc))
                    return
                outages += 1
                _log.warning("database unavailable while handling event %s (%s), attempt %d: %s",
                             event.id, event.type, outages, _describe(exc))
                await self._back_off(outages)
            else:
                span.set_attribute("mimis.duplicate", not first_time)
                if first_time:
                    self.counters.handled += 1
                else:
                    self.counters.duplicates += 1
                    _log.info("event %s (%s) was handled before; skipped", event.id, event.type)
                return

    async def _apply(self, session: AsyncClientSession, record: ConsumerRecord[Any, Any], event: Event,
                     handler: Handler) -> bool:
        """Record the event in the inbox and run its handler in one transaction; False if seen before."""
        inbox_entry = {
            "event_id": event.id, "source": event.source, "type": event.type,
            "topic": record.topic, "partition": record.partition, "offset": record.offset,
            "group_id": self.group_id, "received_at": datetime.now(UTC),
        }
        await session.start_transaction()
        try:
            try:
                await self.inbox.insert_one(inbox_entry, session=session)
            except DuplicateKeyError:
                return False  # the server has aborted the transaction; `finally` tidies up
            await handler(event, session)
            await session.commit_transaction()
            return True
        finally:
            if session.in_transaction:
                await session.abort_transaction()

    async def _fail(self, span: Span, record: ConsumerRecord[Any, Any], reason: str) -> None:
        _, _, clean = self._without_direct_personal_data(record)  # a span outlives erasure too
        span.set_status(Status(StatusCode.ERROR, clean(reason)[:200]))
        await self._dead_letter(record, reason)

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        """Produce the record as it came, plus why, to its topic's DLQ; return once the broker acked.

        Our own producer rather than FastStream's publish: that one sends headers as a str dict,
        which would merge repeated names, rewrite content-type and re-encode bytes that are not
        UTF-8 (exactly what malformed records carry), and a dead letter must be the original,
        except for direct personal data (:meth:`_without_direct_personal_data`).
        """
        value, removed, clean = self._without_direct_personal_data(record)
        reason = clean(reason)[:MAX_REASON_CHARS]
        headers = [(k, v) for k, v in record.headers if not k.lower().startswith(DLQ_HEADER_PREFIX)]
        if removed:
            headers.append((DLQ_REDACTED, ",".join(removed).encode()))
        headers += [
            (DLQ_REASON, reason.encode()),
            (DLQ_ORIGINAL_TOPIC, record.topic.encode()),
            (DLQ_ORIGINAL_PARTITION, str(record.partition).encode()),
            (DLQ_ORIGINAL_OFFSET, str(record.offset).encode()),
            (DLQ_CONSUMER_GROUP, self.group_id.encode()),
            (DLQ_FAILED_AT, datetime.now(UTC).isoformat().encode()),
        ]
        topic = self._dlq_topic(record.topic)
        attempt = 0
        while True:
            producer = self._producer
            if producer is None:
                raise NackMessage()  # stopped under us: leave the record uncommitted
            try:
                await producer.send_and_wait(topic, value=value, key=record.key, headers=headers)
                break
            except Exception as exc:  # any failure leaves the outcome unrecorded: retry, never commit
                attempt += 1
                _log.warning("dead-lettering %s[%d]@%d to %s failed (attempt %d): %s",
                             record.topic, record.partition, record.offset, topic, attempt, _describe(exc))
                await self._back_off(attempt)
        self.counters.dead_lettered += 1
        _log.warning("dead-lettered %s[%d]@%d to %s: %s", record.topic, record.partition, record.offset,
                     topic, reason)

    def _without_direct_personal_data(
        self, record: ConsumerRecord[Any, Any]
    ) -> tuple[bytes | None, list[str], Callable[[str], str]]:
        """The value to dead-letter, the direct fields removed from it, and a function that takes
        their values out of a text (a validation message quotes the value it refused).

        The event type comes from the ``ce_type`` header (binary mode) or the ``type`` member
        (structured mode) and the data is read as JSON, without the rest of the envelope having to
        be valid: a record refused as undecodable for a missing attribute still has its name
        removed. A value that is not JSON, or of a type no contract describes, is copied as it came.
        """
        unchanged: tuple[bytes | None, list[str], Callable[[str], str]] = (record.value, [], _same)
        located = _event_data(record)
        if located is None:
            return unchanged
        event_type, data, structured = located
        if event_type not in self.contracts.schemas:
            return unchanged
        direct = [path for path, kind in self.contracts.personal_fields(event_type).items() if kind == "direct"]
        if not direct:
            return unchanged
        redacted = self.contracts.redact_personal(event_type, data)
        if redacted == data:
            return unchanged
        if structured is None:
            value = json.dumps(redacted).encode()
        else:
            structured.pop("data_base64", None)
            value = json.dumps({**structured, "data": redacted}).encode()
        removed_texts = sorted({text for text in _removed_texts(data, redacted) if text}, key=len, reverse=True)

        def clean(text: str) -> str:
            for removed in removed_texts:
                text = text.replace(removed, REMOVED_PERSONAL_DATA)
            return text

        return value, direct, clean

    def _dlq_topic(self, topic: str) -> str:
        try:
            return self.contracts.topics.get(topic).dlq
        except KeyError:
            return f"{topic}.dlq"

    # -- backoff -----------------------------------------------------------------------------
    def backoff_delay(self, attempt: int) -> float:
        """Exponential, capped, with jitter that spreads replicas but never shrinks the next wait
        below the previous one (the next base is twice this one; jitter takes at most a quarter)."""
        base = min(self.backoff_max_seconds, self.backoff_seconds * 2 ** (attempt - 1))
        return base * (1 - random.random() / 4)  # jitter, not a secret

    async def _back_off(self, attempt: int) -> None:
        """Wait before the next attempt; on stop, abandon the record uncommitted (``NackMessage``)."""
        if self._stopping.is_set():
            raise NackMessage()
        self.counters.retried += 1
        sleeper = asyncio.ensure_future(self._sleep(self.backoff_delay(attempt)))
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            stopper.cancel()
        if self._stopping.is_set():
            raise NackMessage()


def _database_unavailable(exc: BaseException) -> bool:
    """Errors that say the database (or the transaction), not the event, is the problem."""
    if isinstance(exc, ConnectionFailure):  # AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError
        return True
    labels = ("TransientTransactionError", "UnknownTransactionCommitResult")
    return isinstance(exc, PyMongoError) and any(exc.has_error_label(label) for label in labels)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _same(text: str) -> str:
    return text


def _event_data(record: ConsumerRecord[Any, Any]) -> tuple[str, dict[str, Any], dict[str, Any] | None] | None:
    """(event type, data, the structured-mode envelope or None) of a record whose data is a JSON object."""
    headers = {k.lower(): v for k, v in record.headers if v is not None}
    try:
        body = json.loads(record.value or b"")
        if headers.get("content-type", b"").decode("latin-1").startswith("application/cloudevents"):
            if not isinstance(body, dict):
                return None
            data = body.get("data")
            if data is None and isinstance(body.get("data_base64"), str):
                data = json.loads(base64.b64decode(body["data_base64"]))
            event_type, structured = body.get("type"), body
        else:
            data, event_type, structured = body, headers.get("ce_type", b"").decode(), None
    except (ValueError, UnicodeDecodeError):  # not JSON, not base64, not UTF-8: nothing to read fields from
        return None
    if not isinstance(event_type, str) or not isinstance(data, dict):
        return None
    return event_type, data, structured


def _removed_texts(original: Any, redacted: Any) -> list[str]:
    """Every text the redaction took away, as written and as Python quotes it in a message."""
    if redacted == REMOVED_PERSONAL_DATA and original != REMOVED_PERSONAL_DATA:
        return [form for leaf in _leaves(original) for form in (leaf, repr(leaf)[1:-1])]
    if isinstance(original, dict) and isinstance(redacted, dict):
        return [t for key in original if key in redacted for t in _removed_texts(original[key], redacted[key])]
    if isinstance(original, list) and isinstance(redacted, list):
        return [t for a, b in zip(original, redacted, strict=False) for t in _removed_texts(a, b)]
    return []


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, str):
        return [value] if len(value) > 1 else []
    # A number where a text was expected (a personal identity number without quotes); short ones
    # would take every digit out of the reason.
    if isinstance(value, int | float) and not isinstance(value, bool) and len(str(value)) >= 4:
        return [str(value)]
    return []


async def _parse_leniently(
    record: ConsumerRecord[Any, Any], default: Callable[[Any], Awaitable[StreamMessage[Any]]]
) -> StreamMessage[Any]:
    """FastStream's parser, fed headers it cannot choke on.

    It decodes every header value as UTF-8; a record with a binary or null header would fail
    there, before our code runs, and be skipped without a dead letter. The message keeps the
    original record.
    """
    safe = dataclasses.replace(
        record, headers=[(k, (v or b"").decode("utf-8", "replace").encode()) for k, v in record.headers]
    )
    message = await default(safe)
    message.raw_message = record
    return message


def _raw_record(message: StreamMessage[Any]) -> Any:
    return message.raw_message
