"""The runbook's dead-letter replay tool, against the real local broker: it copies the chosen letters back
to their original topic with key, value and original headers, drops the mimis-dlq-* headers, stops at
the end the DLQ had when it started, and says where a next run would begin."""

from __future__ import annotations

import asyncio
import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import kubernetes_validate
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from mimis_platform.localstack import LocalStack

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("replay_dead_letters", ROOT / "deploy/tools/replay_dead_letters.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _letter(n: int, group: str, reason: str, topic: str) -> dict[str, Any]:
    return {
        "key": f"mc-{n}".encode(),
        "value": f'{{"n": {n}}}'.encode(),
        "headers": [
            ("ce_id", f"id-{n}".encode()), ("ce_type", b"test.happened.v1"), ("traceparent", f"00-{n}".encode()),
            ("mimis-dlq-reason", reason.encode()), ("mimis-dlq-original-topic", topic.encode()),
            ("mimis-dlq-original-partition", b"0"), ("mimis-dlq-original-offset", str(n).encode()),
            ("mimis-dlq-consumer-group", group.encode()), ("mimis-dlq-failed-at", b"2026-11-23T09:00:00+00:00"),
        ],
    }


async def _read(stack: LocalStack, topic: str, expected: int) -> list[Any]:
    reader = AIOKafkaConsumer(topic, bootstrap_servers=stack.kafka_bootstrap_servers, auto_offset_reset="earliest",
                              enable_auto_commit=False)
    await reader.start()
    try:
        records: list[Any] = []
        deadline = asyncio.get_running_loop().time() + 20
        while len(records) < expected and asyncio.get_running_loop().time() < deadline:
            for batch in (await reader.getmany(timeout_ms=200)).values():
                records.extend(batch)
        for batch in (await reader.getmany(timeout_ms=500)).values():  # more than expected is a failure too
            records.extend(batch)
        return records
    finally:
        await reader.stop()


async def test_replay_copies_one_groups_letters_back_without_dlq_headers(stack: LocalStack, unique_name: str) -> None:
    topic, dlq = f"{unique_name}.events", f"{unique_name}.events.dlq"
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 2, 1), NewTopic(dlq, 2, 1)])
    finally:
        await admin.close()
    letters = [_letter(1, "quality", "PermanentError: no such version", topic),
               _letter(2, "issuance", "KeyError: 'grade'", topic),
               _letter(3, "quality", "ContractViolation: /title: required", topic)]
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, acks="all", enable_idempotence=False)
    await producer.start()
    try:
        for letter in letters:
            await producer.send_and_wait(dlq, letter["value"], key=letter["key"], headers=letter["headers"])
    finally:
        await producer.stop()

    tool = _tool()
    options = tool.connection({"MIMIS_OPS_KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap_servers})
    log = io.StringIO()
    dry = await tool.replay(dlq, options, group="quality", dry_run=True, out=log)
    assert (dry.replayed, dry.skipped) == (2, 1) and log.getvalue().count("would replay") == 2
    assert await _read(stack, topic, expected=0) == [], "a dry run sends nothing"

    outcome = await tool.replay(dlq, options, group="quality", out=io.StringIO())
    assert (outcome.replayed, outcome.skipped) == (2, 1)
    assert sum(outcome.next_offsets.values()) == 3, "a next run starts after everything read"

    replayed = sorted(await _read(stack, topic, expected=2), key=lambda r: r.key)
    assert [(r.key, r.value) for r in replayed] == [(b"mc-1", b'{"n": 1}'), (b"mc-3", b'{"n": 3}')]
    for record, letter in zip(replayed, (letters[0], letters[2]), strict=True):
        assert list(record.headers) == [h for h in letter["headers"] if not h[0].startswith("mimis-dlq-")]

    again = await tool.replay(dlq, options, group="quality", start=outcome.next_offsets, out=io.StringIO())
    assert (again.replayed, again.skipped) == (0, 0), "resuming from the reported offsets replays nothing twice"


def test_the_replay_job_runs_the_tool_from_the_image_as_the_ops_user() -> None:
    job = yaml.safe_load((ROOT / "deploy/k8s/ops/replay-dead-letters.yaml").read_text())
    kubernetes_validate.validate(job, "1.32.0", strict=True)
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "/app/tools/replay_dead_letters.py"]
    assert "--dry-run" in container["args"], "the template starts with a dry run"
    env = {e["name"]: e for e in container["env"]}
    assert env["MIMIS_OPS_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "mimis-ops"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert "COPY deploy/tools ./tools" in (ROOT / "deploy/container/Containerfile").read_text()
