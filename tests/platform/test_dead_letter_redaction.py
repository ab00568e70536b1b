"""Dead letters keep no direct personal data (issue 11), on the real local broker and database.

Dead-letter topics keep records for days or weeks and erasure cannot reach them, so the shared
consumer removes every field a known event type's schema marks ``x-personal-data: direct`` before it
writes the letter, and takes the removed values out of the reason too. The test consumer reads
the product's own provider assessment contracts (v1 carries the learner's name, e-mail address,
date of birth and personal identity number; v2 only a learner_ref) from a topic of its own.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from pymongo.asynchronous.client_session import AsyncClientSession

from mimis_platform.consumer import (
    DLQ_CONSUMER_GROUP,
    DLQ_HEADER_PREFIX,
    DLQ_REASON,
    DLQ_REDACTED,
    EventConsumer,
    PermanentError,
)
from mimis_platform.contracts import CONTRACTS, REMOVED_PERSONAL_DATA, ContractRegistry, TopicRegistry, TopicSpec
from mimis_platform.dead_letters import replay
from mimis_platform.envelope import Event, KafkaRecord, to_kafka
from mimis_platform.kafka import KafkaConnection, ensure_topics, new_producer
from mimis_platform.localstack import LocalStack

V1 = "provider.assessment.recorded.v1"
V2 = "provider.assessment.recorded.v2"
DEADLINE = 30.0
REFUSED = "refused: provider.assessment.recorded.v1 is retired"


def assessment_contracts(topic: str) -> ContractRegistry:
    """The product's schemas (markings and all), with the assessment types on this test's topic only."""
    spec = TopicSpec(name=topic, description="test assessments", key="provider_event_id", event_types=(V1, V2),
                     producers=("tests",), consumers=("tests",), partitions=1)
    return ContractRegistry(CONTRACTS.schemas, TopicRegistry((spec,)), CONTRACTS.shared)


class Learner:
    """One learner's personal data, unique to the test so a scan cannot meet it by chance."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:10]
        self.name = f"Redakta Dödsdotter {tag}"
        self.email = f"redakta.{tag}@example.se"
        self.bad_email = f"redakta.{tag}.example.se"  # refused by the contract, quoted by the validator
        self.date_of_birth = "1990-01-01"
        self.pin = "19900101-0017"  # valid check digit

    def secrets(self) -> list[str]:
        return [self.name, self.email, self.bad_email, self.date_of_birth, self.pin, self.pin.replace("-", "")[2:],
                json.dumps(self.name)[1:-1]]  # as JSON escapes it (ö -> \u00f6)

    def v1(self, n: int, **learner: Any) -> dict[str, Any]:
        return {
            "provider_event_id": f"exam-{n}", "provider_id": "hkr", "micro_credential_id": "mc-1", "version": 1,
            "learner": {"name": self.name, "email": self.email, "date_of_birth": self.date_of_birth,
                        "personal_identity_number": self.pin, "language": "sv", **learner},
            "result": "passed", "grade": "VG", "assessed_on": "2026-11-20",
            "evidence_url": "https://lms.example.se/evidence/1",
        }


def event(event_type: str, data: dict[str, Any]) -> Event:
    return Event(type=event_type, source="/providers/hkr/lms", partition_key=data["provider_event_id"], data=data)


def structured(ev: Event) -> KafkaRecord:
    body = {"specversion": "1.0", "id": ev.id, "source": ev.source, "type": ev.type,
            "datacontenttype": "application/json", "partitionkey": ev.partition_key, "data": ev.data}
    return KafkaRecord(ev.partition_key.encode(), json.dumps(body).encode(),
                       [("content-type", b"application/cloudevents+json")])


async def eventually(check: Callable[[], Any], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {DEADLINE:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


async def read_all(stack: LocalStack, topic: str, expected: int) -> list[ConsumerRecord[Any, Any]]:
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
        return sorted(records, key=lambda r: r.offset)
    finally:
        await reader.stop()


def headers_of(record: ConsumerRecord[Any, Any]) -> dict[str, bytes]:
    return {k: v for k, v in record.headers if v is not None}


@pytest.fixture
async def producer(stack: LocalStack) -> AsyncIterator[AIOKafkaProducer]:
    p = new_producer(stack.kafka_bootstrap_servers, linger_ms=0)
    await p.start()
    yield p
    await p.stop()


async def test_a_dead_lettered_v1_assessment_keeps_no_name_email_or_identity_number_but_keeps_its_reason(
    stack: LocalStack, mongo_client, db, unique_name: str, producer: AIOKafkaProducer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mimis_platform.consumer")
    topic = f"{unique_name}.assessments"
    contracts = assessment_contracts(topic)
    await ensure_topics(stack.kafka_bootstrap_servers, contracts.topics)
    learner = Learner()
    v2_failures: set[str] = set()

    async def refuse_v1(ev: Event, session: AsyncClientSession) -> None:
        raise PermanentError(REFUSED)

    async def issue_v2_after_one_failure(ev: Event, session: AsyncClientSession) -> None:
        if ev.id not in v2_failures:  # fails the first time: a bug fixed before the replay
            v2_failures.add(ev.id)
            raise PermanentError("catalogue version not found")
        await db.issued.insert_one({"event_id": ev.id, "learner_ref": ev.data["learner_ref"]}, session=session)

    binary_v1 = to_kafka(event(V1, learner.v1(1)))
    malformed_v1 = to_kafka(event(V1, learner.v1(2, email=learner.bad_email)))
    structured_v1 = structured(event(V1, learner.v1(3)))
    no_source = to_kafka(event(V1, learner.v1(4)))
    no_source = KafkaRecord(no_source.key, no_source.value, [(k, v) for k, v in no_source.headers if k != "ce_source"])
    v2_data = {key: value for key, value in learner.v1(5).items() if key != "learner"}
    v2 = to_kafka(event(V2, {**v2_data, "learner_ref": "lr-" + uuid.uuid4().hex}))
    sent = [binary_v1, malformed_v1, structured_v1, no_source, v2]
    for record in sent:
        await producer.send_and_wait(topic, value=record.value, key=record.key, headers=record.headers)

    consumer = EventConsumer(
        service="tests", group_id=f"{unique_name}-group", kafka=stack.kafka_bootstrap_servers,
        client=mongo_client, db=db, contracts=contracts, routes={V1: refuse_v1, V2: issue_v2_after_one_failure},
        session_timeout_ms=1000, heartbeat_interval_ms=200, graceful_timeout=DEADLINE,
    )
    await consumer.start()
    try:
        await eventually(lambda: consumer.counters.dead_lettered == len(sent), "every record dead-lettered")
        letters = await read_all(stack, f"{topic}.dlq", expected=len(sent))
        assert len(letters) == len(sent)

        # Nothing of the learner anywhere in a letter: value, key or any header (the reason included).
        for letter in letters:
            blob = (letter.value or b"") + (letter.key or b"") + b"".join(v for _, v in letter.headers if v)
            for secret in learner.secrets():
                assert secret.encode() not in blob, f"{secret!r} left in dead letter @{letter.offset}"
        for secret in learner.secrets():  # nor in the consumer's log lines about them
            assert secret not in caplog.text

        by_key = {letter.key: letter for letter in letters}
        reasons = {key: headers_of(letter)[DLQ_REASON].decode() for key, letter in by_key.items()}
        # The reasons are kept: an operator still sees why each record was refused.
        assert reasons[b"exam-1"] == f"PermanentError: {REFUSED}"
        assert reasons[b"exam-3"] == f"PermanentError: {REFUSED}"
        assert reasons[b"exam-2"].startswith(f"contract violation: ContractViolation: {V1}: /learner/email: ")
        assert REMOVED_PERSONAL_DATA in reasons[b"exam-2"]  # the refused value, quoted by the validator
        assert reasons[b"exam-4"].startswith("undecodable: ")
        assert reasons[b"exam-5"] == "PermanentError: catalogue version not found"

        # Binary mode: the envelope's headers as they came, the data with only the direct fields replaced.
        letter = by_key[b"exam-1"]
        assert [(k, v) for k, v in letter.headers if not k.startswith(DLQ_HEADER_PREFIX)] == binary_v1.headers
        assert headers_of(letter)[DLQ_REDACTED].decode().split(",") == [
            "/learner/date_of_birth", "/learner/email", "/learner/name", "/learner/personal_identity_number"]
        kept = json.loads(letter.value)
        assert kept["learner"] == {"name": REMOVED_PERSONAL_DATA, "email": REMOVED_PERSONAL_DATA,
                                   "date_of_birth": REMOVED_PERSONAL_DATA,
                                   "personal_identity_number": REMOVED_PERSONAL_DATA, "language": "sv"}
        assert {k: v for k, v in kept.items() if k != "learner"} == {
            k: v for k, v in learner.v1(1).items() if k != "learner"}
        # Structured mode: the envelope in the value is kept, its data redacted the same way.
        envelope = json.loads(by_key[b"exam-3"].value)
        assert envelope["type"] == V1 and envelope["source"] == "/providers/hkr/lms"
        assert envelope["data"]["learner"]["email"] == REMOVED_PERSONAL_DATA
        assert envelope["data"]["grade"] == "VG"
        # Undecodable as an event (no ce_source), but its type and data were readable: redacted too.
        assert json.loads(by_key[b"exam-4"].value)["learner"]["name"] == REMOVED_PERSONAL_DATA

        # v2 has no direct fields: its letter is the original, byte for byte, and replays.
        letter = by_key[b"exam-5"]
        assert letter.value == v2.value
        assert DLQ_REDACTED not in headers_of(letter)
        outcome = await replay(
            f"{topic}.dlq", KafkaConnection.of(stack.kafka_bootstrap_servers).client_options(),
            group=headers_of(letter)[DLQ_CONSUMER_GROUP].decode(), reason_contains="catalogue version",
            out=io.StringIO())
        assert outcome.replayed == 1
        await eventually(lambda: consumer.counters.handled == 1, "the replayed v2 event handled")
        assert [d["event_id"] for d in await db.issued.find().to_list()] == [headers_of(letter)["ce_id"].decode()]
    finally:
        await consumer.stop()
