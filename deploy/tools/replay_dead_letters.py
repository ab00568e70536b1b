"""Replay dead letters: copy records from ``<topic>.dlq`` back to the topic they came from.

Each record goes back with its original key (so to the same partition, in order), value and headers
(``ce_*``, ``traceparent``); the ``mimis-dlq-*`` headers are dropped. Consumers are idempotent on
``(ce_source, ce_id)``, so groups that had already handled the event skip it, and only the group that
dead-lettered it runs it again. Replaying the same range twice is therefore harmless.

    python /app/tools/replay_dead_letters.py catalog.micro-credentials.dlq --group quality --dry-run
    python /app/tools/replay_dead_letters.py catalog.micro-credentials.dlq --group quality --from 0:120 --from 1:98

Reads up to the end each partition had when the run started, so letters that arrive meanwhile (say, the
same bug again) are left for the next run. Connection settings come from the environment:
``MIMIS_OPS_KAFKA_BOOTSTRAP_SERVERS`` and, on the production listener, ``MIMIS_OPS_KAFKA_SASL_USERNAME``,
``MIMIS_OPS_KAFKA_SASL_PASSWORD`` (SCRAM-SHA-512) and ``MIMIS_OPS_KAFKA_SSL_CAFILE``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.helpers import create_ssl_context

DLQ_PREFIX = "mimis-dlq-"
ORIGINAL_TOPIC = "mimis-dlq-original-topic"
CONSUMER_GROUP = "mimis-dlq-consumer-group"
REASON = "mimis-dlq-reason"


@dataclass
class Outcome:
    replayed: int = 0
    skipped: int = 0
    next_offsets: dict[int, int] = field(default_factory=dict)  # where a later run would start


def connection(env: Mapping[str, str]) -> dict[str, Any]:
    options: dict[str, Any] = {"bootstrap_servers": env.get("MIMIS_OPS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")}
    if env.get("MIMIS_OPS_KAFKA_SASL_USERNAME"):
        options.update(
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_plain_username=env["MIMIS_OPS_KAFKA_SASL_USERNAME"],
            sasl_plain_password=env["MIMIS_OPS_KAFKA_SASL_PASSWORD"],
            ssl_context=create_ssl_context(cafile=env.get("MIMIS_OPS_KAFKA_SSL_CAFILE")),
        )
    return options


def _headers(record: Any) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in record.headers if k.startswith(DLQ_PREFIX)}


async def replay(
    dlq: str,
    options: Mapping[str, Any],
    *,
    group: str | None = None,
    reason_contains: str | None = None,
    start: Mapping[int, int] | None = None,
    dry_run: bool = False,
    out: Any = sys.stdout,
) -> Outcome:
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
        for tp in partitions:
            if start and tp.partition in start:
                consumer.seek(tp, start[tp.partition])
            else:
                await consumer.seek_to_beginning(tp)
        ends = await consumer.end_offsets(partitions)
        pending = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=1000)
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        break
                    meta = _headers(record)
                    wanted = (group is None or meta.get(CONSUMER_GROUP) == group) and (
                        reason_contains is None or reason_contains in meta.get(REASON, "")
                    )
                    target = meta.get(ORIGINAL_TOPIC)
                    if not wanted or not target:
                        outcome.skipped += 1
                        continue
                    headers = [(k, v) for k, v in record.headers if not k.startswith(DLQ_PREFIX)]
                    print(f"{'would replay' if dry_run else 'replay'} {dlq}[{record.partition}]@{record.offset}"
                          f" -> {target} ({meta.get(CONSUMER_GROUP)}: {meta.get(REASON, '')[:120]})", file=out)
                    if not dry_run:
                        await producer.send_and_wait(target, record.value, key=record.key, headers=headers)
                    outcome.replayed += 1
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


def _offset(text: str) -> tuple[int, int]:
    partition, _, offset = text.partition(":")
    return int(partition), int(offset)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dlq", help="the dead-letter topic, e.g. catalog.micro-credentials.dlq")
    parser.add_argument("--group", help="only letters this consumer group dead-lettered (mimis-dlq-consumer-group)")
    parser.add_argument("--reason-contains", help="only letters whose mimis-dlq-reason contains this text")
    parser.add_argument("--from", dest="start", action="append", type=_offset, default=[], metavar="PARTITION:OFFSET",
                        help="start a partition here (repeatable; default: its beginning)")
    parser.add_argument("--dry-run", action="store_true", help="list what would be replayed, send nothing")
    args = parser.parse_args(argv)
    outcome = asyncio.run(replay(args.dlq, connection(os.environ), group=args.group,
                                 reason_contains=args.reason_contains, start=dict(args.start), dry_run=args.dry_run))
    resume = " ".join(f"--from {p}:{o}" for p, o in sorted(outcome.next_offsets.items()))
    print(f"{'would replay' if args.dry_run else 'replayed'} {outcome.replayed}, skipped {outcome.skipped}; "
          f"next run: {resume}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
