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
from typing import Any

from mimis_platform.dead_letters import Outcome, replay
from mimis_platform.kafka import KafkaConnection

__all__ = ["Outcome", "connection", "main", "replay"]


def connection(env: Mapping[str, str]) -> dict[str, Any]:
    bootstrap = env.get("MIMIS_OPS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    return KafkaConnection.for_operator(bootstrap, env).client_options()


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
