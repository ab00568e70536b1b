"""Reading and replaying dead-letter topics (``<topic>.dlq``), for the runbook's tool and the CLI.

A letter is the original record (key, value, headers) plus the ``mimis-dlq-*`` headers the
consumer added saying why it gave up (see :mod:`mimis_platform.consumer`). Replay copies chosen
letters back to the topic they came from with their original key (same partition, in order),
value and headers, without the ``mimis-dlq-*`` ones. Consumers are idempotent on
``(ce_source, ce_id)``: groups that had handled the event skip it, only the group that
dead-lettered it runs it again, and replaying the same range twice is harmless.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from mimis_platform.consumer import (
    DLQ_CONSUMER_GROUP,
    DLQ_FAILED_AT,
    DLQ_HEADER_PREFIX,
    DLQ_ORIGINAL_OFFSET,
    DLQ_ORIGINAL_PARTITION,
    DLQ_ORIGINAL_TOPIC,
    DLQ_REASON,
)
from mimis_platform.kafka import KafkaConnection


@dataclass(frozen=True)
class Letter:
    partition: int
    offset: int
    key: str | None
    reason: str
    group: str | None
    original_topic: str | None
    original_position: str | None  # "partition:offset" on the original topic
    failed_at: str | None
    event_type: str | None
    event_id: str | None
    size: int


@dataclass
class Outcome:
    replayed: int = 0
    skipped: int = 0
    next_offsets: dict[int, int] = field(default_factory=dict)  # where a later run would start


def dlq_headers(record: Any) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in record.headers if k.startswith(DLQ_HEADER_PREFIX)}


def letter_of(record: Any) -> Letter:
    meta = dlq_headers(record)
    headers = {k: v.decode(errors="replace") for k, v in record.headers}
    original = (f"{meta[DLQ_ORIGINAL_PARTITION]}:{meta[DLQ_ORIGINAL_OFFSET]}"
                if DLQ_ORIGINAL_PARTITION in meta and DLQ_ORIGINAL_OFFSET in meta else None)
    return Letter(
        partition=record.partition, offset=record.offset,
        key=record.key.decode(errors="replace") if record.key is not None else None,
        reason=meta.get(DLQ_REASON, ""), group=meta.get(DLQ_CONSUMER_GROUP),
        original_topic=meta.get(DLQ_ORIGINAL_TOPIC), original_position=original,
        failed_at=meta.get(DLQ_FAILED_AT), event_type=headers.get("ce_type"), event_id=headers.get("ce_id"),
        size=len(record.value or b""),
    )


async def end_offsets(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    """The offset after each partition's last record.

    Kafka's ListOffsets answers this exactly. The local broker answers with the last *batch's*
    first offset + 1, so the last batch is read to find its true end (on Kafka the read finds
    nothing further and costs one fetch)."""
    ends = dict(await consumer.end_offsets(partitions))
    nonempty = [tp for tp in partitions if ends[tp] > 0]
    if not nonempty:
        return ends
    assigned = set(consumer.assignment())
    if not set(nonempty) <= assigned:
        consumer.assign(list(assigned | set(nonempty)))
    for tp in nonempty:  # every partition at once: one fetch serves them all
        consumer.seek(tp, ends[tp] - 1)
    while True:
        batch = await consumer.getmany(*nonempty, timeout_ms=1000)
        if not any(batch.values()):
            break
        for tp, records in batch.items():
            if records:
                ends[tp] = max(ends[tp], records[-1].offset + 1)
    return ends


async def read_letters(kafka: KafkaConnection | str, dlq: str, limit: int = 100,
                       progress: Callable[[int, int], None] | None = None) -> tuple[list[Letter], int]:
    """Up to ``limit`` letters from the start of ``dlq`` and how many it holds in all."""
    consumer = AIOKafkaConsumer(**KafkaConnection.of(kafka).client_options(), enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [TopicPartition(dlq, p) for p in sorted(consumer.partitions_for_topic(dlq) or ())]
        if not partitions:
            raise LookupError(f"no topic {dlq!r} (or no permission to describe it)")
        consumer.assign(partitions)
        ends = await end_offsets(consumer, partitions)
        starts = await consumer.beginning_offsets(partitions)
        total = sum(ends[tp] - starts[tp] for tp in partitions)
        letters: list[Letter] = []
        for tp in partitions:
            await consumer.seek_to_beginning(tp)
        pending = {tp for tp in partitions if ends[tp] > starts[tp]}
        while pending and len(letters) < limit:
            for tp, records in (await consumer.getmany(*pending, timeout_ms=1000)).items():
                letters.extend(letter_of(r) for r in records if r.offset < ends[tp])
                if records and records[-1].offset + 1 >= ends[tp]:
                    pending.discard(tp)
            if progress:
                progress(min(len(letters), limit), min(total, limit))
        return sorted(letters, key=lambda x: (x.partition, x.offset))[:limit], total
    finally:
        await consumer.stop()


async def replay(
    dlq: str,
    options: Mapping[str, Any],
    *,
    group: str | None = None,
    reason_contains: str | None = None,
    start: Mapping[int, int] | None = None,
    dry_run: bool = False,
    out: TextIO = sys.stdout,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Copy letters back to their original topics. Reads up to the end each partition had when the
    run started, so letters that arrive meanwhile (the same bug again, say) are left for the next run.
    ``options`` are aiokafka client options (:meth:`KafkaConnection.client_options`)."""
    consumer = AIOKafkaConsumer(**options, enable_auto_commit=False, auto_offset_reset="earliest")
    producer = AIOKafkaProducer(**options, acks="all", enable_idempotence=False)
    await consumer.start()
    await producer.start()
    outcome = Outcome()
    try:
        partitions = [TopicPartition(dlq, p) for p in sorted(consumer.partitions_for_topic(dlq) or ())]
        if not partitions:
            raise SystemExit(f"no topic {dlq!r} (or no permission to describe it)")
        consumer.assign(partitions)
        ends = await end_offsets(consumer, partitions)
        for tp in partitions:
            if start and tp.partition in start:
                consumer.seek(tp, start[tp.partition])
            else:
                await consumer.seek_to_beginning(tp)
        pending = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=1000)
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        break
                    meta = dlq_headers(record)
                    wanted = (group is None or meta.get(DLQ_CONSUMER_GROUP) == group) and (
                        reason_contains is None or reason_contains in meta.get(DLQ_REASON, "")
                    )
                    target = meta.get(DLQ_ORIGINAL_TOPIC)
                    if not wanted or not target:
                        outcome.skipped += 1
                        continue
                    headers = [(k, v) for k, v in record.headers if not k.startswith(DLQ_HEADER_PREFIX)]
                    print(f"{'would replay' if dry_run else 'replay'} {dlq}[{record.partition}]@{record.offset}"
                          f" -> {target} ({meta.get(DLQ_CONSUMER_GROUP)}: {meta.get(DLQ_REASON, '')[:120]})",
                          file=out)
                    if not dry_run:
                        await producer.send_and_wait(target, record.value, key=record.key, headers=headers)
                    outcome.replayed += 1
                if progress:
                    progress(len(records))
            for tp in list(pending):
                position = await consumer.position(tp)
                outcome.next_offsets[tp.partition] = min(position, ends[tp])
                if position >= ends[tp]:
                    pending.discard(tp)
        for tp in partitions:
            outcome.next_offsets.setdefault(tp.partition, ends[tp])
        return outcome
    finally:
        await producer.stop()
        await consumer.stop()
