"""The `mimis` command line against the real local broker: lag, dead letters (listed and replayed), and
sample provider events (learners registered with the real issuance service over HTTP, then events signed
as the contract says, which issuance turns into credentials). (`mimis status` runs in test_make_run.py,
against a running `make run`.)"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from typer.testing import CliRunner

from mimis_cli.app import app
from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.contracts import CONTRACTS
from mimis_platform.envelope import from_kafka, headers_to_dict
from mimis_platform.localstack import LocalStack, free_port
from services.issuance.domain.assessment import new_provider_secret, signature_problem
from services.issuance.tests.conftest import running_issuance

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


async def _topics(stack: LocalStack, *names: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 2, 1) for name in names])
    finally:
        await admin.close()


async def _send_in_one_batch(stack: LocalStack, topic: str, records: list[dict[str, Any]]) -> None:
    # One batch per partition: the local broker's ListOffsets then undercounts, which the CLI corrects.
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=False,
                                linger_ms=200)
    await producer.start()
    try:
        sent = [await producer.send(topic, r["value"], key=r.get("key"), partition=r.get("partition", 0),
                                    headers=r.get("headers", [])) for r in records]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


@pytest.fixture
async def lagging(stack: LocalStack, unique_name: str) -> tuple[str, str]:
    topic, group = f"{unique_name}.things", f"{unique_name}-group"
    await _topics(stack, topic)
    await _send_in_one_batch(stack, topic, [{"value": f"{n}".encode()} for n in range(7)])
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.kafka_bootstrap_servers, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): 2})
    finally:
        await consumer.stop()
    return topic, group


def test_lag_counts_what_the_group_has_not_committed(stack: LocalStack, lagging: tuple[str, str]) -> None:
    topic, group = lagging
    kafka = stack.kafka_bootstrap_servers
    rows = json.loads(_run("lag", "--group", group, "--topic", topic, "--json", "--kafka", kafka))
    assert rows == [
        {"group": group, "topic": topic, "partition": 0, "committed": 2, "end": 7, "lag": 5},
        {"group": group, "topic": topic, "partition": 1, "committed": None, "end": 0, "lag": 0},
    ]
    assert "total lag: 5" in _run("lag", "--group", group, "--topic", topic, "--kafka", kafka)


def _letter(n: int, topic: str, group: str, reason: str) -> dict[str, Any]:
    return {"key": f"k{n}".encode(), "value": f'{{"n": {n}}}'.encode(), "partition": n % 2, "headers": [
        ("ce_id", f"id-{n}".encode()), ("ce_type", b"test.happened.v1"),
        ("mimis-dlq-reason", reason.encode()), ("mimis-dlq-original-topic", topic.encode()),
        ("mimis-dlq-original-partition", b"0"), ("mimis-dlq-original-offset", str(n).encode()),
        ("mimis-dlq-consumer-group", group.encode()), ("mimis-dlq-failed-at", b"2026-11-23T09:00:00+00:00"),
    ]}


async def test_dead_letters_are_listed_with_their_reasons_and_replayed(stack: LocalStack, unique_name: str) -> None:
    topic, dlq = f"{unique_name}.events", f"{unique_name}.events.dlq"
    await _topics(stack, topic, dlq)
    letters = [_letter(n, topic, "quality" if n % 3 else "issuance", f"PermanentError: case {n}") for n in range(6)]
    await _send_in_one_batch(stack, dlq, letters)
    kafka = stack.kafka_bootstrap_servers

    listed = json.loads(await asyncio.to_thread(_run, "dlq", "list", dlq, "--json", "--kafka", kafka))
    assert listed["total"] == 6
    assert {(x["event_id"], x["group"], x["reason"], x["original_topic"]) for x in listed["letters"]} == {
        (f"id-{n}", "quality" if n % 3 else "issuance", f"PermanentError: case {n}", topic) for n in range(6)}
    assert "6 letter(s)" in await asyncio.to_thread(_run, "dlq", "list", dlq, "--kafka", kafka)
    first_two = json.loads(await asyncio.to_thread(_run, "dlq", "list", dlq, "--limit=2", "--json", f"--kafka={kafka}"))
    assert first_two["total"] == 6 and len(first_two["letters"]) == 2

    dry = await asyncio.to_thread(_run, "dlq", "replay", dlq, "--group", "quality", "--dry-run", "--kafka", kafka)
    assert "would replay 4, skipped 2" in dry
    done = await asyncio.to_thread(_run, "dlq", "replay", dlq, "--group", "quality", "--kafka", kafka)
    assert "replayed 4, skipped 2" in done and "next run: --from 0:3 --from 1:3" in done

    reader = AIOKafkaConsumer(topic, bootstrap_servers=kafka, auto_offset_reset="earliest", enable_auto_commit=False)
    await reader.start()
    try:
        back: list[Any] = []
        async with asyncio.timeout(30):
            while len(back) < 4:
                back.extend(r for rs in (await reader.getmany(timeout_ms=300)).values() for r in rs)
        back.extend(r for rs in (await reader.getmany(timeout_ms=500)).values() for r in rs)
    finally:
        await reader.stop()
    assert sorted(r.key for r in back) == [b"k1", b"k2", b"k4", b"k5"]
    assert all(not k.startswith("mimis-dlq-") for r in back for k, _ in r.headers)


def test_a_dead_letter_list_of_a_normal_topic_is_refused() -> None:
    result = runner.invoke(app, ["dlq", "list", "catalog.micro-credentials"])
    assert result.exit_code == 1 and "is not a dead-letter topic" in result.output


@contextlib.contextmanager
def _no_signals() -> Iterator[None]:
    yield


@asynccontextmanager
async def _serving(app: Any) -> AsyncIterator[str]:
    """The app on a real port (the CLI calls it over HTTP from its own thread)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    server.capture_signals = _no_signals  # type: ignore[method-assign]  # the test runner keeps Ctrl-C
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                serving.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.05)  # uvicorn binding its port
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def test_sample_provider_events_register_their_learners_follow_the_contract_and_issue(
        stack: LocalStack, mongo_client: Any, unique_name: str, dev_issuer: DevelopmentIssuer,
        tmp_path: Path) -> None:
    async with running_issuance(stack, mongo_client, unique_name, dev_issuer) as issuance, \
            _serving(issuance.app) as url:
        await issuance.publish(version=2)
        secret = await issuance.new_secret()
        # What `make run` leaves in its folder: where things are, and the development issuer's key.
        (tmp_path / "running.json").write_text(json.dumps(
            {"services": {"issuance": url}, "kafka_bootstrap_servers": stack.kafka_bootstrap_servers}))
        (tmp_path / "dev-issuer-key.json").write_text(json.dumps(dev_issuer.key.as_dict(private=True)))
        out = await asyncio.to_thread(
            _run, "provider", "sample-event", "--provider-id", issuance.provider_id,
            "--micro-credential", issuance.micro_credential_id, "--version", "2", "--secret", secret,
            "--count", "3", "--stack-dir", str(tmp_path))
        ids = set(re.findall(r"sample-[0-9a-f-]{36}", out))
        assert len(ids) == 3, out

        topic = CONTRACTS.topics.topic_for("provider.assessment.recorded.v2").name
        reader = AIOKafkaConsumer(topic, bootstrap_servers=stack.kafka_bootstrap_servers,
                                  auto_offset_reset="earliest", enable_auto_commit=False)
        await reader.start()
        try:
            mine: list[Any] = []
            async with asyncio.timeout(30):
                while len(mine) < 3:
                    for records in (await reader.getmany(timeout_ms=300)).values():
                        mine.extend(r for r in records if r.key.decode() in ids)
        finally:
            await reader.stop()
        refs = set()
        for record in mine:
            event = from_kafka(record.key, record.value, record.headers)
            assert event.type == "provider.assessment.recorded.v2"
            CONTRACTS.validate(event.type, event.data)
            assert "learner" not in event.data and b"Sample Learner" not in record.value
            assert (event.data["provider_id"], event.data["version"]) == (issuance.provider_id, 2)
            assert signature_problem(record.value, headers_to_dict(record.headers), event.id, [secret]) is None
            assert signature_problem(record.value, headers_to_dict(record.headers), event.id,
                                     [new_provider_secret()]) is not None
            refs.add(event.data["learner_ref"])
        # Each event names a learner the CLI registered first, and each becomes a credential for them.
        assert len(refs) == 3
        learners = await issuance.service.store.learners_by_ref(sorted(refs))
        assert set(learners) == refs
        assert sorted(d["name"] for d in learners.values()) == [f"Sample Learner {n}" for n in (1, 2, 3)]
        for event_id in ids:
            credential = await issuance.credential_for(event_id)
            assert credential["learner_ref"] in refs and credential["version"] == 2


def test_sample_events_without_a_token_are_refused_before_anything_is_sent(tmp_path: Path) -> None:
    result = runner.invoke(app, ["provider", "sample-event", "--provider-id", "p", "--micro-credential", "m",
                                 "--secret", new_provider_secret(), "--stack-dir", str(tmp_path),
                                 "--kafka", "127.0.0.1:1"], env={"MIMIS_PROVIDER_TOKEN": ""})
    assert result.exit_code == 1 and "needs a provider-member token" in result.output
