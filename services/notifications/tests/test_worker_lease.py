"""Two workers never send the same delivery at once; a worker that dies between sending and
recording leaves the delivery to be sent again after its lease, with the same webhook-id."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from services.notifications.tests.conftest import NotificationsUnderTest
from services.notifications.tests.factories import issued, uid
from services.notifications.tests.servers import WebhookReceiver
from services.notifications.worker import DeliveryWorker

ISSUED = "issuance.credential.issued.v1"


def _twin(n: NotificationsUnderTest) -> DeliveryWorker:
    """A second replica's worker on the same database and clock."""
    w = n.worker
    return DeliveryWorker(w.store, w.sender, w.box, w.mailer, w.recipients, w.policy, w.clock,
                          batch_size=7, concurrency=8, lease_seconds=60, disable_after=20)


async def test_two_replicas_send_each_delivery_once(notifications: NotificationsUnderTest,
                                                    receiver: WebhookReceiver) -> None:
    n = notifications
    org = uid("prov")
    sub = await n.subscribe(org, receiver.url(), [ISSUED], filters={"providers": [org]})
    events = [issued(org) for _ in range(40)]
    await n.send(*events)
    for e in events:
        await n.wait_delivery(e, sub["id"])
    n.worker.batch_size = 7
    twin = _twin(n)

    async def drain(worker: DeliveryWorker) -> None:
        while await worker.run_once():
            pass

    await asyncio.gather(drain(n.worker), drain(twin), drain(_twin(n)))
    assert sorted(receiver.ids()) == sorted(set(receiver.ids())) and len(receiver.ids()) == 40
    assert n.worker.counters.delivered + twin.counters.delivered > 0


async def test_a_crash_after_sending_means_one_repeat_with_the_same_webhook_id(
        notifications: NotificationsUnderTest, receiver: WebhookReceiver) -> None:
    n = notifications
    org = uid("prov")
    sub = await n.subscribe(org, receiver.url(), [ISSUED], filters={"providers": [org]})
    event = issued(org)
    await n.send(event)
    d = await n.wait_delivery(event, sub["id"])

    # A replica claims it, sends it, and dies before recording anything.
    lease = n.settings.delivery_lease_seconds
    taken = await n.store.claim(n.clock.now(), 100, timedelta(seconds=lease), uuid.uuid4().hex)
    [claimed] = [c for c in taken if c["_id"] == d["_id"]]  # (others' e-mails may be due too)
    secret = n.worker.box.open((await n.store.subscription_docs([sub["id"]]))[sub["id"]]["secret"])
    body = (await n.store.payloads_by_key([claimed["event_key"]]))[claimed["event_key"]]
    result = await n.worker.sender.send(sub["url"], claimed["_id"], body, [secret])
    assert result.status == 200

    await n.drain()
    assert receiver.ids() == [d["_id"]]  # leased: nobody else sends it meanwhile
    n.clock.advance(lease - 1)
    await n.drain()
    assert receiver.ids() == [d["_id"]]  # still leased a second before the lease ends
    n.clock.advance(1)
    await n.drain()
    assert receiver.ids() == [d["_id"], d["_id"]]  # a repeat, which the receiver can drop by its id
    state = await n.delivery(event, sub["id"])
    assert state is not None and state["status"] == "delivered"
