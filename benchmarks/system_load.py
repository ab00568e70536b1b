"""The whole system under a realistic mix of load, with the bare components measured in the same run.

Broker, database, catalog, quality and issuance run as separate processes (as `make run` starts
them) with the demo data loaded. An open-loop driver offers a mix of requests at rising rates,
each level for ``--seconds``:

* **search** (60 %): catalogue searches over HTTP (free text, a filter, facets on the first page);
* **verify** (30 %): a learner's credential (compact JWS) posted to issuance's ``/v1/verify``;
* **issue** (10 %): a signed ``provider.assessment.recorded.v2`` event produced to Kafka, timed
  until its ``issuance.credential.issued.v1`` is read back from the broker. Its learners are
  registered over HTTPS before anything is timed (``POST /v1/providers/{id}/learners``, as a
  provider's system does; ``LEARNERS`` of them, taken in turn, so the timing is event → credential).

Arrivals are on a fixed schedule whatever the answers (open loop), so a slow system shows its
latency rather than hiding it by asking less. Baselines, measured first on the same machine:

* search: a bare ``find`` on the catalog's catalogue collection (sort, limit 20), ``--workers`` at a time;
* verify: the pure verification of the same JWS in this process (signature, key, validity);
* issue: the per-event database work issuance cannot avoid, a two-document transaction, one at a
  time (its consumer handles one event at a time).

Each component's capacity (alone, ``--workers`` concurrent callers, closed loop) is reported as a
ratio to its baseline; the mixed levels give latency against load.
Results go to ``<out>/system_load.json`` and the plot to ``<out>/system_load.png``.

    .venv/bin/python benchmarks/system_load.py [--levels 4,8,16,32] [--seconds 20] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from benchmarks.running_system import running_system
from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.envelope import Event, from_kafka, to_kafka
from mimis_platform.localstack import LocalStack
from mimis_platform.mongo import new_client
from services.issuance.domain.assessment import sign_record
from services.issuance.domain.keys import assertion_keys_from_did_document
from services.issuance.domain.verifier import verify_credential
from services.issuance.tests.service_factories import person

MIX = (("search", 0.6), ("verify", 0.3), ("issue", 0.1))
QUERIES = ("vård", "hygien", "svetsning", "digital", "service", "språk", "ledarskap", "industri", "")
LEARNERS = 1000  # registered before the run (one call's worth); the issue events name them in turn


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass
class Level:
    offered: float  # requests per second, all kinds together
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sent: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def row(self, kind: str) -> dict[str, Any]:
        done = self.latencies[kind]
        return {"offered_total_per_s": self.offered, "sent": self.sent[kind], "completed": len(done),
                "errors": self.errors[kind], "throughput_per_s": len(done) / self.seconds,
                "p50_ms": pct(done, 0.5) * 1000, "p99_ms": pct(done, 0.99) * 1000}


class Driver:
    def __init__(self, urls: dict[str, str], stack: LocalStack, jws: str, provider_id: str, mc: tuple[str, int],
                 secret: str, learner_refs: list[str]) -> None:
        self.urls, self.stack, self.jws = urls, stack, jws
        self.provider_id, self.mc, self.secret = provider_id, mc, secret
        self.learner_refs, self.issued_count = learner_refs, 0
        self.http = httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200))
        self.producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap_servers, enable_idempotence=False,
                                         linger_ms=2)
        self.pending: dict[str, asyncio.Future[float]] = {}  # provider_event_id -> its issued event's arrival
        self.rng = random.Random(7)
        self._reader_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.producer.start()
        self._reader_task = asyncio.create_task(self._read_issued())

    async def stop(self) -> None:
        if self._reader_task:
            self._reader_task.cancel()
        await self.producer.stop()
        await self.http.aclose()

    async def _read_issued(self) -> None:
        reader = AIOKafkaConsumer("issuance.credentials", bootstrap_servers=self.stack.kafka_bootstrap_servers,
                                  auto_offset_reset="latest", enable_auto_commit=False)
        await reader.start()
        try:
            while True:
                for records in (await reader.getmany(timeout_ms=200)).values():
                    arrived = time.perf_counter()
                    for r in records:
                        event = from_kafka(r.key, r.value, r.headers)
                        source = event.data.get("source_event_id")
                        if event.type == "issuance.credential.issued.v1" and source in self.pending:
                            waiting = self.pending.pop(source)
                            if not waiting.done():
                                waiting.set_result(arrived)
        finally:
            await reader.stop()

    async def search(self, level: Level) -> None:
        params: dict[str, Any] = {"q": self.rng.choice(QUERIES) or None, "limit": 20,
                                  "facets": self.rng.random() < 0.3}
        await self._timed(level, "search", self.http.get(f"{self.urls['catalog']}/micro-credentials",
                                                         params={k: v for k, v in params.items() if v is not None}))

    async def verify(self, level: Level) -> None:
        await self._timed(level, "verify", self.http.post(f"{self.urls['issuance']}/v1/verify",
                                                          json={"credential": self.jws}))

    async def _timed(self, level: Level, kind: str, request: Any) -> None:
        started = time.perf_counter()
        try:
            answer = await request
            ok = answer.status_code == 200 and (kind != "verify" or answer.json()["verified"])
        except httpx.HTTPError:
            ok = False
        if ok:
            level.latencies[kind].append(time.perf_counter() - started)
        else:
            level.errors[kind] += 1

    async def issue(self, level: Level) -> None:
        """One signed provider event; done when its issued event is back on the broker (or after 60 s)."""
        event_id = f"load-{uuid.uuid4().hex}"
        learner_ref = self.learner_refs[self.issued_count % len(self.learner_refs)]
        self.issued_count += 1
        data = {"provider_event_id": event_id, "provider_id": self.provider_id, "micro_credential_id": self.mc[0],
                "version": self.mc[1], "result": "passed", "assessed_on": "2026-11-20", "learner_ref": learner_ref}
        event = Event(type="provider.assessment.recorded.v2", source=f"/providers/{self.provider_id}/load",
                      partition_key=event_id, data=data)
        record = to_kafka(event)
        signed = sign_record(self.secret, event.id, datetime.now(UTC), record.value)
        arrival: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.pending[event_id] = arrival
        started = time.perf_counter()
        await self.producer.send(topic="provider.assessments", value=record.value, key=record.key,
                                 headers=[*record.headers, *((k, v.encode()) for k, v in signed.items())])
        try:
            level.latencies["issue"].append(await asyncio.wait_for(arrival, 60) - started)
        except TimeoutError:
            level.errors["issue"] += 1
            self.pending.pop(event_id, None)

    async def closed_loop(self, kind: str, workers: int, seconds: float) -> Level:
        """``kind`` alone, as fast as ``workers`` concurrent callers can go: the component's capacity."""
        level = Level(0.0, seconds)
        end = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < end:
                level.sent[kind] += 1
                await getattr(self, kind)(level)

        await asyncio.gather(*(worker() for _ in range(workers)))
        return level

    async def run_level(self, level: Level) -> None:
        kinds = [k for k, _ in MIX]
        weights = [w for _, w in MIX]
        interval = 1.0 / level.offered
        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter()
        n = 0
        while (due := start + n * interval) < start + level.seconds:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))  # the arrival schedule
            kind = self.rng.choices(kinds, weights)[0]
            level.sent[kind] += 1
            tasks.append(asyncio.create_task(getattr(self, kind)(level)))
            n += 1
        await asyncio.gather(*tasks)  # issued events still on their way are waited for (up to a minute)


async def _for(seconds: float, workers: int, work: Any) -> float:
    """Operations per second of ``work`` repeated by ``workers`` concurrent callers for ``seconds``."""
    count = 0
    end = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < end:
            await work()
            count += 1

    await asyncio.gather(*(worker() for _ in range(workers)))
    return count / seconds


async def baselines(stack: LocalStack, jws: str, did_document: dict[str, Any], seconds: float,
                    workers: int) -> dict[str, float]:
    client = new_client(stack.mongo_url)
    result: dict[str, float] = {}
    try:
        catalogue = client["catalog"]["catalogue"]
        result["search"] = await _for(seconds, workers,
                                      lambda: catalogue.find({}, sort=[("_id", 1)], limit=20).to_list())

        keys = assertion_keys_from_did_document(did_document)

        async def verify() -> None:
            outcome = verify_credential(jws, keys, now=datetime.now(UTC))
            assert outcome.verification.checks  # computed, not skipped

        result["verify"] = await _for(seconds, 1, verify)  # CPU only: concurrency adds nothing in one process

        scratch = client["bench_scratch"]

        async def two_document_transaction() -> None:
            async with client.start_session() as session, await session.start_transaction():
                await scratch.credentials.insert_one({"_id": uuid.uuid4().hex, "doc": "x" * 4000}, session=session)
                await scratch.outbox.insert_one({"_id": uuid.uuid4().hex, "doc": "x" * 800}, session=session)

        result["issue"] = await _for(seconds, 1, two_document_transaction)  # issuance handles one event at a time
        await client.drop_database("bench_scratch")
    finally:
        await client.close()
    return result


async def seed(urls: dict[str, str], stack: LocalStack, issuer: DevelopmentIssuer
               ) -> tuple[str, str, tuple[str, int], str, dict[str, Any], list[str]]:
    client = new_client(stack.mongo_url)
    try:
        credential = await client["issuance"]["credentials"].find_one({"status": "active", "jws": {"$ne": None}})
        version = await client["issuance"]["catalogue_versions"].find_one({})
    finally:
        await client.close()
    if credential is None or version is None:
        raise SystemExit("the demo data gave issuance no credential or no published version")
    provider_id = str(version["provider_id"])
    staff = {"authorization": f"Bearer {issuer.token('load-staff', ['provider-member'], [provider_id])}"}
    async with httpx.AsyncClient(timeout=300) as http:
        answer = await http.post(f"{urls['issuance']}/v1/providers/{provider_id}/event-secrets", headers=staff)
        answer.raise_for_status()
        did = (await http.get(f"{urls['issuance']}/.well-known/did.json")).json()
        # The provider's system registers its learners first, for the learner_refs its events name.
        registered = await http.post(f"{urls['issuance']}/v1/providers/{provider_id}/learners", headers=staff,
                                     json={"learners": [person(name="Last Testare") for _ in range(LEARNERS)]})
        refs = [str(row["learner_ref"]) for row in registered.raise_for_status().json()["learners"]]
    return (str(credential["jws"]), provider_id, (str(version["micro_credential_id"]), int(version["version"])),
            str(answer.json()["secret"]), did, refs)


def plot(levels: list[Level], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 5))
    for kind, _ in MIX:
        xs = [lv.offered * dict(MIX)[kind] for lv in levels if lv.latencies[kind]]
        p50 = [pct(lv.latencies[kind], 0.5) * 1000 for lv in levels if lv.latencies[kind]]
        p99 = [pct(lv.latencies[kind], 0.99) * 1000 for lv in levels if lv.latencies[kind]]
        (line,) = axis.plot(xs, p50, marker="o", label=f"{kind} p50")
        axis.plot(xs, p99, marker="x", linestyle="--", color=line.get_color(), label=f"{kind} p99")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("offered load of that kind (requests or events per second)")
    axis.set_ylabel("latency (ms)")
    axis.set_title("MIMIS under a mixed load (local stack: Tansu + SecantusDB, 2 cores)")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(ncol=3, fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


async def main(levels: list[float], seconds: float, workers: int, out: Path) -> None:
    async with running_system(("catalog", "quality", "issuance")) as system:
        stack, urls, issuer = system.stack, system.urls, system.issuer
        jws, provider_id, mc, secret, did, learner_refs = await seed(urls, stack, issuer)
        print("baselines ...", flush=True)
        base = await baselines(stack, jws, did, seconds, workers)
        driver = Driver(urls, stack, jws, provider_id, mc, secret, learner_refs)
        await driver.start()
        capacity: dict[str, Level] = {}
        done: list[Level] = []
        try:
            for kind, _ in MIX:
                print(f"capacity of {kind} alone ({workers} callers, {seconds:g} s) ...", flush=True)
                capacity[kind] = await driver.closed_loop(kind, workers, seconds)
            for rate in levels:
                level = Level(rate, seconds)
                print(f"mixed load: offering {rate:g} req/s for {seconds:g} s ...", flush=True)
                await driver.run_level(level)
                done.append(level)
        finally:
            await driver.stop()

    results: dict[str, Any] = {"levels": levels, "seconds": seconds, "workers": workers, "components": {}}
    print(f"\n{'alone':<7} {'done/s':>8} {'p50 ms':>8} {'p99 ms':>9} {'errors':>6} {'bare/s':>8} {'ratio':>6}")
    for kind, _ in MIX:
        row = capacity[kind].row(kind)
        ratio = row["throughput_per_s"] / base[kind]
        print(f"{kind:<7} {row['throughput_per_s']:>8.1f} {row['p50_ms']:>8.0f} {row['p99_ms']:>9.0f} "
              f"{row['errors']:>6} {base[kind]:>8.1f} {ratio:>6.2f}")
        results["components"][kind] = {"alone": row, "baseline_per_s": base[kind], "ratio_to_baseline": ratio}
    print(f"\n{'mixed':<7} {'offered/s':>9} {'done/s':>8} {'p50 ms':>8} {'p99 ms':>9} {'errors':>6}")
    for kind, share in MIX:
        rows = [lv.row(kind) for lv in done]
        for lv, row in zip(done, rows, strict=True):
            print(f"{kind:<7} {lv.offered * share:>9.1f} {row['throughput_per_s']:>8.1f} {row['p50_ms']:>8.0f} "
                  f"{row['p99_ms']:>9.0f} {row['errors']:>6}")
        results["components"][kind]["mixed"] = rows
    write(results, done, out)


def write(results: dict[str, Any], done: list[Level], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "system_load.json").write_text(json.dumps(results, indent=2, default=float))
    plot(done, out / "system_load.png")
    print(f"\nwrote {out / 'system_load.json'} and {out / 'system_load.png'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="4,8,16,32", help="offered total rates, requests per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per level")
    parser.add_argument("--workers", type=int, default=8, help="concurrent callers when measuring capacity")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    asyncio.run(main([float(x) for x in args.levels.split(",")], args.seconds, args.workers, args.out))
