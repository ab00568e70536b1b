"""Issuance's consumers: the catalogue read model (``catalog.*`` topics, the runtime's consumer)
and providers' assessment events (``provider.assessments``, its own consumer group).

The assessment consumer is the shared :class:`EventConsumer` with one step added before the
handler: the provider's Standard Webhooks signature over the record value, checked against the
secrets of the provider the event names. It needs the raw record, which handlers never see, so
it sits in ``_on_record``; a bad signature is dead-lettered with its reason like any other
event that can never pass.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeAlias, cast

from aiokafka import ConsumerRecord
from faststream.kafka import KafkaBroker, Topic
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from mimis_platform.consumer import EventConsumer, Handler, PermanentError, RetryableError
from mimis_platform.envelope import Event, from_kafka
from mimis_platform.tracecontext import context_from, current_trace_context
from services.issuance.catalogue import CatalogueReadModel, NotIssuable
from services.issuance.domain.assessment import (
    AssessmentRefused,
    IssueCommand,
    command_from_assessment,
    learner_from_record,
    learner_problem,
    signature_problem,
)
from services.issuance.domain.credential import CatalogueVersion
from services.issuance.domain.issuing import IssuedCredential
from services.issuance.keystore import ProviderSecrets
from services.issuance.storage import AlreadyIssued, CredentialStore, IndexTaken, LearnerErased, source_key

ASSESSMENT_RECORDED = "provider.assessment.recorded.v2"
# Retired types: dead-lettered with the reason (the dead letter keeps none of their personal fields).
RETIRED = {
    "provider.assessment.recorded.v1": "provider.assessment.recorded.v1 is retired: it carried the learner's name, "
    "e-mail address and personal identity number on the topic, where erasure cannot reach them. Register the learner "
    "(POST /v1/providers/{provider_id}/learners) and send provider.assessment.recorded.v2 with the learner_ref",
}
ERASURE_CONFIRMED = "privacy.learner.erasure-confirmed.v1"
Record: TypeAlias = "ConsumerRecord[Any, Any]"
_log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)


def assessment_routes(store: CredentialStore, catalogue: CatalogueReadModel,
                      clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> dict[str, Handler]:
    # Provider event ids met again under a new CloudEvents id: the next attempt looks first.
    resent: set[str] = set()

    async def recorded(event: Event, session: AsyncClientSession) -> None:
        if event.data["result"] != "passed":
            return  # acknowledged (the inbox remembers it); nothing to issue
        ref = str(event.data["learner_ref"])
        learner = (await store.learners_by_ref([ref], session)).get(ref)
        problem = learner_problem(ref, learner)
        if problem is not None or learner is None:
            raise PermanentError(f"refused: {problem}")
        try:
            command = command_from_assessment(event.data, learner_from_record(learner))
        except AssessmentRefused as exc:
            raise PermanentError(f"refused: {exc}") from None
        source = f"{command.provider_id}:{command.source_event_id}"
        if source in resent:
            resent.discard(source)
            if await store.already_issued(command, session):
                return  # the provider sent the same assessment again under another CloudEvents id
        try:
            version = await catalogue.issuable_cached(command.provider_id, command.micro_credential_id,
                                                      command.version)
        except NotIssuable as exc:
            if exc.final:
                raise PermanentError(f"refused: {exc}") from None
            raise RetryableError(str(exc)) from None
        now = clock().replace(microsecond=0)
        try:
            issued = await store.prepare(command, version, now)
        except AssessmentRefused as exc:
            raise PermanentError(f"refused: {exc}") from None
        try:
            await store.save(command, version, issued, now, session)
        except LearnerErased:
            # Erased between the read above and this write (they conflict): the next attempt refuses it.
            raise RetryableError("the learner changed concurrently; checking") from None
        except AlreadyIssued:
            # Unique source key: the whole transaction is void; the next attempt finds the credential.
            resent.add(source)
            raise RetryableError("a credential for this provider event id exists; checking") from None
        except IndexTaken:
            await store.refresh_allocator()
            raise RetryableError("status index taken by another replica") from None
        except DuplicateKeyError:
            # Two events of one learner (a new e-mail address) at once: the next attempt finds the record.
            raise RetryableError("the learner was recorded concurrently") from None

    return {ASSESSMENT_RECORDED: recorded}


def erasure_routes(store: CredentialStore) -> dict[str, Handler]:
    """Other services' confirmations of a learner's erasure (``privacy.erasure-confirmations``)."""
    async def confirmed(event: Event, session: AsyncClientSession) -> None:
        d = event.data
        at = datetime.fromisoformat(str(d["confirmed_at"]).replace("Z", "+00:00"))
        if await store.confirm_erasure(d["erasure_id"], d["service"], at, int(d["records_erased"]), session) is None:
            _log.warning("confirmation of unknown erasure %s from %s ignored", d["erasure_id"], d["service"])

    return {ERASURE_CONFIRMED: confirmed}


class BatchIssuing:
    """Many assessment events in one transaction (the consumer's batch path): the events that
    cannot be settled here (refused, not issuable yet) are handed back for the one-at-a-time path,
    which retries or dead-letters each with its reason."""

    def __init__(self, store: CredentialStore, catalogue: CatalogueReadModel,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store, self.catalogue, self.clock = store, catalogue, clock

    async def __call__(self, items: list[tuple[Record, Event]],
                       session: AsyncClientSession) -> tuple[list[tuple[Record, Event]], list[tuple[Record, Event]]]:
        single: list[tuple[Record, Event]] = []
        done: list[tuple[Record, Event]] = []
        plans: list[tuple[Record, Event, IssueCommand]] = []
        learners = await self.store.learners_by_ref([str(e.data["learner_ref"]) for _, e in items], session)
        for record, event in items:
            if event.data["result"] != "passed":
                done.append((record, event))
                continue
            learner = learners.get(str(event.data["learner_ref"]))
            if learner_problem(str(event.data["learner_ref"]), learner) is not None or learner is None:
                single.append((record, event))  # refused there, with the reason
                continue
            try:
                command = command_from_assessment(event.data, learner_from_record(learner))
            except AssessmentRefused:
                single.append((record, event))
                continue
            plans.append((record, event, command))
        keys = [source_key(command, "") for _, _, command in plans]
        issued_before = await self.store.issued_sources(keys, session) if keys else set()
        now = self.clock().replace(microsecond=0)
        prepared: list[tuple[IssueCommand, CatalogueVersion, IssuedCredential]] = []
        issued_now: list[tuple[Record, Event]] = []
        traces: list[dict[str, str]] = []
        for (record, event, command), key in zip(plans, keys, strict=True):
            if key in issued_before:
                done.append((record, event))  # re-sent under a new CloudEvents id
                continue
            try:
                version = await self.catalogue.issuable_cached(command.provider_id, command.micro_credential_id,
                                                               command.version)
                issued = await self.store.prepare(command, version, now)
            except (NotIssuable, AssessmentRefused):
                single.append((record, event))
                continue
            issued_before.add(key)
            prepared.append((command, version, issued))
            issued_now.append((record, event))
            traces.append(self._trace(record, event))
        if prepared:
            await self.store.save_many(prepared, now, session, traces)
        return single, done + issued_now


    @staticmethod
    def _trace(record: Record, event: Event) -> dict[str, str]:
        """A consumer span per event, child of the provider's trace, so the issued event (and the
        notification it causes) joins the trace the provider's record carried."""
        with _tracer.start_as_current_span(
            f"consume {event.type}", context=context_from(event.trace_context), kind=SpanKind.CONSUMER,
            attributes={"messaging.system": "kafka", "messaging.destination.name": record.topic,
                        "messaging.kafka.message.offset": record.offset, "cloudevents.event_id": event.id,
                        "mimis.batch": True}):
            return current_trace_context()


class AssessmentConsumer(EventConsumer):
    """The shared consumer plus the provider signature check (see the module's doc), reading in
    batches: a batch's events are issued in one transaction (inbox, learners, credentials, outbox),
    which is what makes SecantusDB/MongoDB keep up; any event the batch cannot settle, and every
    event of a batch whose transaction fails, goes through the shared one-at-a-time path."""

    def __init__(self, *, provider_secrets: ProviderSecrets, batch: BatchIssuing | None = None,
                 batch_size: int = 200, **options: Any) -> None:
        super().__init__(**options)
        self.provider_secrets = provider_secrets
        self.batch = batch
        if batch is None:
            return
        # Replace the shared single-record subscriber with a batch one (same commit policy).
        service, group_id = options["service"], options["group_id"]
        self.broker = KafkaBroker(
            self.kafka.bootstrap_servers, security=self.kafka.security(), client_id=f"{service}-{group_id}",
            consumer_only=True, apply_types=False, graceful_timeout=options.get("graceful_timeout", 15.0),
            log_level=logging.DEBUG, description=f"Provider assessment events consumed by {service}.")
        subscriber = self.broker.subscriber(
            *(Topic(name, declare=False) for name in self.topics), group_id=group_id, batch=True,
            max_records=batch_size, batch_timeout_ms=50,
            auto_offset_reset=options.get("auto_offset_reset", "earliest"),
            ack_policy=AckPolicy.NACK_ON_ERROR,  # commit once the batch's outcome is durable
            session_timeout_ms=options.get("session_timeout_ms", 10_000),
            heartbeat_interval_ms=options.get("heartbeat_interval_ms", 3_000),
            parser=_parse_batch_leniently, decoder=_raw_batch, no_reply=True,
            title=f"{service}:{group_id}", description=ASSESSMENT_RECORDED)
        subscriber(self._consume_batch)

    async def _screen(self, record: Record) -> Event | None:
        """Decode, contract and signature; None when the record was dead-lettered or skipped."""
        try:
            event = from_kafka(record.key, record.value, record.headers)
        except Exception:
            await super()._on_record(record)  # dead-letters it as undecodable
            return None
        if event.type in RETIRED:
            await self._dead_letter(record, f"retired event type: {RETIRED[event.type]}")
            return None
        if event.type not in self.routes:
            await super()._on_record(record)  # skipped or dead-lettered as unknown
            return None
        try:
            self.contracts.validate(event.type, event.data)
        except Exception as exc:
            await self._dead_letter(record, f"contract violation: {type(exc).__name__}: {exc}")
            return None
        problem = await self._signature_problem(record, event)
        if problem is not None:
            await self._dead_letter(record, f"bad signature: {problem}")
            return None
        return event

    async def _on_record(self, record: Record) -> None:
        event = await self._screen(record)
        if event is not None:
            await self._handle(record, event, self.routes[event.type])

    async def _consume_batch(self, records: Any) -> None:
        ready = []
        for record in cast("tuple[Record, ...]", records):
            event = await self._screen(record)
            if event is not None:
                ready.append((record, event))
        single = ready
        if self.batch is not None and len(ready) > 1:
            try:
                single = await self._apply_batch(ready)
            except Exception as exc:  # a conflict, a duplicate, an outage: the careful path decides
                _log.info("a batch of %d assessment events goes one at a time: %s: %s", len(ready),
                          type(exc).__name__, exc)
        for record, event in single:
            await self._handle(record, event, self.routes[event.type])

    async def _apply_batch(self, ready: list[tuple[Record, Event]]) -> list[tuple[Record, Event]]:
        assert self.batch is not None
        async with self.client.start_session() as session:
            await session.start_transaction()
            try:
                ids = sorted({event.id for _, event in ready})
                seen = {(d["event_id"], d["source"]) async for d in self.inbox.find(
                    {"event_id": {"$in": ids}}, {"event_id": 1, "source": 1}, session=session)}
                fresh = []
                for record, event in ready:
                    if (event.id, event.source) not in seen:
                        seen.add((event.id, event.source))
                        fresh.append((record, event))
                single, done = await self.batch(fresh, session)
                if done:
                    now = datetime.now(UTC)
                    await self.inbox.insert_many([{
                        "event_id": e.id, "source": e.source, "type": e.type, "topic": r.topic,
                        "partition": r.partition, "offset": r.offset, "group_id": self.group_id, "received_at": now,
                    } for r, e in done], session=session)
                await session.commit_transaction()
            finally:
                if session.in_transaction:
                    await session.abort_transaction()
        self.counters.handled += len(done)
        self.counters.duplicates += len(ready) - len(fresh)
        return single

    async def _signature_problem(self, record: Record, event: Event) -> str | None:
        headers = {name.lower(): (raw or b"").decode("latin-1") for name, raw in record.headers}
        provider_id = str(event.data["provider_id"])
        body = record.value or b""
        problem = signature_problem(body, headers, event.id, await self.provider_secrets.current(provider_id))
        if problem is not None:  # a secret made on another replica moments ago is not cached yet
            problem = signature_problem(body, headers, event.id,
                                        await self.provider_secrets.current(provider_id, fresh=True))
        return problem


async def _parse_batch_leniently(records: tuple[Record, ...],
                                 default: Callable[[Any], Awaitable[StreamMessage[Any]]]) -> StreamMessage[Any]:
    """FastStream's batch parser decodes every header as UTF-8; a binary header would fail there,
    before our code could dead-letter it. It gets safe copies; the message keeps the originals."""
    safe = tuple(dataclasses.replace(r, headers=[(k, (v or b"").decode("utf-8", "replace").encode())
                                                 for k, v in r.headers]) for r in records)
    message = await default(safe)
    message.raw_message = records
    return message


def _raw_batch(message: StreamMessage[Any]) -> Any:
    return message.raw_message
