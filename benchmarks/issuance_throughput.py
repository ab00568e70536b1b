"""End-to-end issuance: provider assessment events in -> credentials stored and issued events out,
as a ratio to the bare database insert rate of the same credential documents, in the same run.

On a fresh local stack (Tansu + SecantusDB in a temporary folder) the real issuance service runs
in-process (its consumer, outbox relay and API). The catalog's events for one provider and one
published micro-credential are sent over the broker, a signing secret is made through the API and
the learners of every event are registered through it (``POST /v1/providers/{id}/learners``, as a
provider's system does before it sends ``provider.assessment.recorded.v2``; not timed), then:

  (a) baseline: the credential documents the service stores for N events, built by the same
      pure code, written to a scratch collection with sequential ``insert_one`` (the per-event
      write the pipeline cannot avoid; it writes one event at a time in a transaction) and,
      for reference, with ``insert_many``;
  (b) throughput: N signed provider events produced as one burst; timed from the first send to
      the N-th ``issuance.credential.issued.v1`` read back from the broker;
  (c) latency at a steady load: M events sent at a fixed rate (half of (b)'s throughput unless
      ``--rate``), each one's latency from its send to its issued event on the broker; p50/p99.

    .venv/bin/python benchmarks/issuance_throughput.py [--events N] [--steady M] [--rate R]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.envelope import Event, to_kafka
from mimis_platform.kafka import new_producer
from mimis_platform.localstack import LocalStack
from mimis_platform.testing import jwks_setting
from services.issuance.bootstrap import bootstrap
from services.issuance.domain.assessment import command_from_assessment, learner_from_record, sign_record
from services.issuance.issuer import Issuer
from services.issuance.settings import IssuanceSettings
from services.issuance.storage import iso
from services.issuance.tests.service_factories import assessment, person, provider_registered, published

PROVIDER, MC = "prov-bench", "mc-bench"
REGISTRATION_BATCH = 1000  # POST /v1/providers/{id}/learners takes up to 1,000 learners a call


def record(secret: str, data: dict[str, Any]) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    event = Event(type="provider.assessment.recorded.v2", source="/providers/prov-bench/lms",
                  partition_key=data["provider_event_id"], data=data)
    kafka = to_kafka(event)
    signed = sign_record(secret, event.id, datetime.now(UTC), kafka.value)
    return kafka.key, kafka.value, [*kafka.headers, *((k, v.encode()) for k, v in signed.items())]


class IssuedWatcher:
    """Reads issuance.credentials from its end now; notes when each source event's credential appears."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
        self.seen: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        await self.consumer._client.force_metadata_update()
        partitions = [TopicPartition("issuance.credentials", p)
                      for p in self.consumer.partitions_for_topic("issuance.credentials") or set()]
        self.consumer.assign(partitions)
        await self.consumer.seek_to_end(*partitions)
        for tp in partitions:
            await self.consumer.position(tp)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=200)
            now = time.perf_counter()
            for records in batch.values():
                for r in records:
                    source = json.loads(r.value).get("source_event_id")
                    if source and source not in self.seen:
                        self.seen[source] = now

    async def wait_for(self, ids: set[str], timeout: float = 1800) -> float:
        deadline = time.monotonic() + timeout
        while not ids <= set(self.seen):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(ids - set(self.seen))} issued events never arrived")
            await asyncio.sleep(0.05)  # poll interval of the watcher's progress
        return max(self.seen[i] for i in ids)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.consumer.stop()


async def register(http: httpx.AsyncClient, token: str, count: int) -> list[str]:
    """What a provider's system does before its events: register the learners, for their learner_refs."""
    refs: list[str] = []
    for start in range(0, count, REGISTRATION_BATCH):
        people = [person() for _ in range(min(REGISTRATION_BATCH, count - start))]
        answer = await http.post(f"/v1/providers/{PROVIDER}/learners", json={"learners": people},
                                 headers={"authorization": f"Bearer {token}"})
        refs.extend(str(row["learner_ref"]) for row in answer.raise_for_status().json()["learners"])
    return refs


async def bare_inserts(service: Issuer, events: list[dict[str, Any]]) -> tuple[float, float]:
    """The documents the service stores for these events, inserted bare: (insert_one/s, insert_many/s)."""
    store = service.store
    version = await service.catalogue.issuable(PROVIDER, MC, 1)
    now = datetime.now(UTC).replace(microsecond=0)
    learners = await store.learners_by_ref([data["learner_ref"] for data in events])
    docs = []
    for data in events:
        command = command_from_assessment(data, learner_from_record(learners[data["learner_ref"]]))
        issued = await store.prepare(command, version, now)
        docs.append({"_id": issued.credential_id, "source_key": f"event:{PROVIDER}:{data['provider_event_id']}",
                     "provider_id": PROVIDER, "micro_credential_id": MC, "version": 1,
                     "learner_ref": data["learner_ref"],
                     "issued_at": now, "sort_key": f"{iso(now)}|{issued.credential_id}", "status_list": 0,
                     "status_index": 0, "status": "active", "suspendable": True, "suspended": False,
                     "kid": issued.kid, "jws": issued.jws,
                     "document": issued.credential, "proof": None, "erased": False})
    scratch = store.credentials.database["bare_insert_one"]
    started = time.perf_counter()
    for doc in docs:
        await scratch.insert_one(dict(doc))
    single = len(docs) / (time.perf_counter() - started)
    many = store.credentials.database["bare_insert_many"]
    started = time.perf_counter()
    await many.insert_many([dict(d) for d in docs])
    return single, len(docs) / (time.perf_counter() - started)


async def main(events: int, steady: int, rate: float | None) -> None:
    logging.disable(logging.WARNING)
    root = Path(tempfile.mkdtemp(prefix="mimis-bench-issuance-"))
    async with LocalStack(root=root) as stack:
        dev = DevelopmentIssuer()
        settings = IssuanceSettings(
            kafka_bootstrap_servers=stack.kafka_bootstrap_servers, mongo_url=stack.mongo_url,
            mongo_database="issuance_bench", consumer_group="issuance-bench", relay_idle_seconds=0.05,
            auth_jwks=jwks_setting(dev), auth_issuer=dev.issuer, environment="test", log_level="WARNING")
        app = bootstrap(settings)
        async with app.router.lifespan_context(app):
            service: Issuer = app.state.issuer
            producer = new_producer(stack.kafka_bootstrap_servers)
            await producer.start()
            for topic, event in (("catalog.providers", provider_registered(PROVIDER)),
                                 ("catalog.micro-credentials", published(MC, 1, PROVIDER))):
                r = to_kafka(event)
                await producer.send_and_wait(topic, r.value, key=r.key, headers=r.headers)
            for _ in range(600):
                if await service.catalogue.versions.find_one({"_id": f"{MC}@1"}) and \
                        await service.catalogue.providers.find_one({"_id": PROVIDER}):
                    break
                await asyncio.sleep(0.1)  # poll interval while the read model fills
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://issuance",
                                         timeout=300) as http:
                token = dev.token("bench-staff", ["provider-member"], [PROVIDER])
                answer = await http.post(f"/v1/providers/{PROVIDER}/event-secrets",
                                         headers={"authorization": f"Bearer {token}"})
                secret = answer.raise_for_status().json()["secret"]
                refs = await register(http, token, events + steady)  # before anything is timed

            burst = [assessment(PROVIDER, MC, learner_ref=ref) for ref in refs[:events]]
            single, many = await bare_inserts(service, burst[: min(events, 1000)])
            watcher = IssuedWatcher(stack.kafka_bootstrap_servers)
            await watcher.start()

            records = [record(secret, d) for d in burst]
            started = time.perf_counter()
            for key, value, headers in records:
                await producer.send("provider.assessments", value, key=key, headers=headers)
            await producer.flush()
            finished = await watcher.wait_for({d["provider_event_id"] for d in burst})
            throughput = events / (finished - started)
            stored = await service.store.credentials.count_documents({"provider_id": PROVIDER})

            pace = rate or throughput / 2
            steady_events = [assessment(PROVIDER, MC, learner_ref=ref) for ref in refs[events:]]
            sent: dict[str, float] = {}
            begin = time.perf_counter()
            for i, data in enumerate(steady_events):
                due = begin + i / pace
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                key, value, headers = record(secret, data)
                sent[data["provider_event_id"]] = time.perf_counter()
                await producer.send("provider.assessments", value, key=key, headers=headers)
                await producer.flush()
            await watcher.wait_for(set(sent))
            latencies = sorted((watcher.seen[i] - t) * 1000 for i, t in sent.items())
            await watcher.stop()
            await producer.stop()

    p50 = statistics.median(latencies)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"run {uuid.uuid4().hex[:8]} on {datetime.now(UTC):%Y-%m-%d %H:%M}Z, local stack (Tansu + SecantusDB)")
    print(f"baseline: bare insert_one of the same credential documents   {single:8.1f} docs/s")
    print(f"          bare insert_many (reference)                       {many:8.1f} docs/s")
    print(f"issuance: {events} events in -> {stored} credentials stored, issued events out  "
          f"{throughput:8.1f} events/s")
    print(f"ratio to bare insert_one: {throughput / single:.2f}   (to insert_many: {throughput / many:.3f})")
    print(f"steady load {pace:.1f} events/s x {steady}: latency p50 {p50:.0f} ms, p99 {p99:.0f} ms "
          f"(send -> issued event read back from the broker)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--steady", type=int, default=300)
    parser.add_argument("--rate", type=float, default=None)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.steady, args.rate))
