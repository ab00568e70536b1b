"""How fast the notifications service delivers webhooks, as a ratio to a bare HTTP loop.

In one run, on a fresh local stack (Tansu + SecantusDB in a temporary folder), against one local
receiver (uvicorn in its own process, answering 200 at once), with the same N webhooks:

  (a) bare HTTP:      an httpx loop POSTs the N bodies, ``--concurrency`` at a time, and again one
                      at a time; the faster of the two is the HTTP limit (on a small machine httpx's
                      pool overhead can make the concurrent loop the slower one);
  (b) bare database:  the work a delivery cannot avoid, without HTTP: claim the N due deliveries
                      in batches under a lease and record each outcome with its attempt (the store's
                      own calls: one update_many to lease, one bulk write to record, per batch);
  (c) the worker:     ``DeliveryWorker`` drains N pre-queued deliveries (fanned out as the consumer
                      does: N / S events to S subscriptions): claim, sign (Standard Webhooks), send
                      through the SSRF guard, record.

It prints deliveries/s for each, ``worker / bare HTTP`` (the issue's ratio) and
``worker / min(a, b)`` (the ratio to the slower of the two limits the worker cannot beat).

    .venv/bin/python benchmarks/notifications_delivery.py [--deliveries N] [--subscriptions S]
        [--batch-size B] [--concurrency C] [--loops L]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mimis_platform.envelope import Event
from mimis_platform.localstack import LocalStack, free_port
from mimis_platform.mongo import new_client
from mimis_platform.outbox import in_transaction
from services.notifications.clock import SystemClock
from services.notifications.domain.retry import RetryPolicy
from services.notifications.domain.subscriptions import Filters, Subscription, new_secret
from services.notifications.events import webhook_body, webhook_delivery
from services.notifications.mailer import Mailer, SmtpConfig
from services.notifications.secret_box import SecretBox
from services.notifications.storage import DeliveryStatus, NotificationsStore, event_key
from services.notifications.webhooks import WebhookSender
from services.notifications.worker import DeliveryWorker

RECEIVER = """
import sys, uvicorn

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def issued_event(n: int) -> Event:
    credential_id = f"cred-{uuid.uuid4().hex[:16]}"
    return Event(type="issuance.credential.issued.v1", source="/mimis/issuance", partition_key=credential_id, data={
        "credential_id": credential_id, "learner_ref": f"lr-{uuid.uuid4().hex[:16]}", "micro_credential_id":
        f"mc-{n % 50:04d}", "version": 1, "provider_id": "hkr",
        "title": {"sv": "Basala hygienrutiner i vård och omsorg", "en": "Basic hygiene routines in care"},
        "branches": ["vard-och-omsorg"], "source_event_id": None, "issued_at": "2026-11-23T09:00:00Z",
        "valid_until": None})


async def wait_for_receiver(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            try:
                await http.post(url, content=b"{}")
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.05)  # the receiver process is starting
    raise RuntimeError("the receiver did not start")


async def bare_http(url: str, bodies: list[str], concurrency: int) -> float:
    slots = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as http:
        async def post(body: str) -> None:
            async with slots:
                answer = await http.post(url, content=body.encode(), headers={"content-type": "application/json"})
                assert answer.status_code == 200

        started = time.perf_counter()
        await asyncio.gather(*(post(b) for b in bodies))
        return len(bodies) / (time.perf_counter() - started)


async def queue_deliveries(store: NotificationsStore, subs: list[Subscription], events: list[Event]) -> None:
    clock = SystemClock()
    for i in range(0, len(events), 10):
        chunk = events[i:i + 10]

        async def work(session: Any, chunk: list[Event] = chunk) -> None:
            for event in chunk:
                payload = {"_id": event_key(event.source, event.id), "body": webhook_body(event),
                           "created_at": clock.now()}
                await store.add_deliveries([webhook_delivery(event, s, clock.now()) for s in subs], payload, session)

        await in_transaction(store.client, work)


async def make_subscriptions(store: NotificationsStore, box: SecretBox, url: str, count: int) -> list[Subscription]:
    now = SystemClock().now()
    subs = []
    for i in range(count):
        s = Subscription(id=f"sub_{uuid.uuid4().hex[:20]}", organisation_id="hkr", url=f"{url}/{i}",
                         event_types=("issuance.credential.issued.v1",), filters=Filters(providers=frozenset({"hkr"})),
                         owner_email="it@hkr.example", language="sv", description="bench", enabled=True,
                         disabled_reason=None, created_by="bench", created_at=now, updated_at=now)
        await store.add_subscription(s, box.seal(new_secret()))
        subs.append(s)
    return subs


async def bare_database(store: NotificationsStore, count: int, batch: int) -> float:
    from datetime import timedelta

    clock = SystemClock()
    started = time.perf_counter()
    done = 0
    while done < count:
        token = uuid.uuid4().hex
        now = clock.now()
        claimed = await store.claim(now, batch, timedelta(seconds=60), token)
        if not claimed:
            break
        await store.payloads_by_key(sorted({d["event_key"] for d in claimed}))
        await store.subscription_docs(sorted({d["subscription_id"] for d in claimed}))
        attempt = {"number": 1, "at": now, "status_code": 200, "latency_ms": 1.0, "error": None,
                   "outcome": "delivered", "recipient": None, "response_excerpt": "ok"}
        updates = [(d["_id"], token, {"$set": {
            "status": DeliveryStatus.DELIVERED, "attempts": 1, "delivered_at": now, "updated_at": now,
            "last_status": 200, "last_error": None, "last_attempt_at": now, "attempt_log": [attempt],
            "expires_at": now + store.retention}}) for d in claimed]
        await store.record(updates)
        done += len(claimed)
    return done / (time.perf_counter() - started)


async def run(args: argparse.Namespace, port: int) -> None:
    n, s = args.deliveries, args.subscriptions
    url = f"http://127.0.0.1:{port}/hooks"
    await wait_for_receiver(url)
    with tempfile.TemporaryDirectory(prefix="mimis-bench-notifications-") as root:
        async with LocalStack(root=Path(root)) as stack:
            client = new_client(stack.mongo_url)
            box = SecretBox("bench")
            events = [issued_event(i) for i in range(n // s)]
            bodies = [webhook_body(e) for e in events for _ in range(s)]
            total = len(bodies)
            print(f"{total} webhooks ({len(events)} events x {s} subscriptions), batch {args.batch_size}, "
                  f"concurrency {args.concurrency}, worker loops {args.loops}", flush=True)

            http_rate = await bare_http(url, bodies, args.concurrency)
            print(f"(a) bare httpx POST, {args.concurrency} at a time: {http_rate:,.0f} /s", flush=True)
            sequential = await bare_http(url, bodies, 1)
            print(f"    bare httpx POST, one at a time: {sequential:,.0f} /s", flush=True)
            http_rate = max(http_rate, sequential)

            db_store = NotificationsStore(client, client["bench_db"])
            await db_store.ensure_indexes()
            db_subs = await make_subscriptions(db_store, box, url, s)
            await queue_deliveries(db_store, db_subs, [issued_event(i) for i in range(n // s)])
            db_rate = await bare_database(db_store, total, args.batch_size)
            print(f"(b) bare claim-and-record (database only): {db_rate:,.0f} /s", flush=True)

            store = NotificationsStore(client, client["bench_worker"])
            await store.ensure_indexes()
            subs = await make_subscriptions(store, box, url, s)
            await queue_deliveries(store, subs, events)
            hooks = httpx.AsyncClient(follow_redirects=False, trust_env=False,
                                      limits=httpx.Limits(max_connections=args.concurrency * 2,
                                                          max_keepalive_connections=args.concurrency))
            sender = WebhookSender(hooks, allow_private=True, timeout_seconds=10)
            worker = DeliveryWorker(store, sender, box, Mailer(SmtpConfig("127.0.0.1", 25)), None,
                                    RetryPolicy(), SystemClock(), batch_size=args.batch_size,
                                    concurrency=args.concurrency, lease_seconds=60)
            async def loop() -> None:
                while await worker.run_once():
                    pass

            started = time.perf_counter()
            await asyncio.gather(*(loop() for _ in range(args.loops)))
            worker_rate = total / (time.perf_counter() - started)
            await hooks.aclose()
            delivered = await store.deliveries.count_documents({"status": DeliveryStatus.DELIVERED})
            assert delivered == total, f"{delivered} of {total} delivered"
            print(f"(c) delivery worker (claim, sign, SSRF guard, send, record): {worker_rate:,.0f} /s "
                  f"({delivered} delivered)", flush=True)
            print(f"worker / bare HTTP (the faster loop) = {worker_rate / http_rate:.2f}x; "
                  f"worker / min(bare HTTP, bare database) = {worker_rate / min(http_rate, db_rate):.2f}x")
            await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--subscriptions", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--loops", type=int, default=2, help="worker rounds in flight at once (the service's "
                        "NOTIFICATIONS_DELIVERY_LOOPS)")
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)])  # its own process, its own CPU
    try:
        asyncio.run(run(parser.parse_args(), port))
    finally:
        receiver.terminate()
        receiver.wait(10)


if __name__ == "__main__":
    main()
