"""Events over the real broker become signed webhook deliveries to a real receiver."""

from __future__ import annotations

import json
from typing import Any

from standardwebhooks import Webhook

from services.notifications.tests.conftest import NotificationsUnderTest
from services.notifications.tests.factories import issued, provider_registered, published, uid
from services.notifications.tests.servers import WebhookReceiver

ISSUED = "issuance.credential.issued.v1"


async def test_an_event_arrives_signed_and_verifies_with_standardwebhooks(
        notifications: NotificationsUnderTest, receiver: WebhookReceiver) -> None:
    org = uid("prov")
    sub = await notifications.subscribe(org, receiver.url(), [ISSUED], filters={"providers": [org]})
    event = issued(org)
    await notifications.send(event)
    delivery = await notifications.wait_delivery(event, sub["id"])
    assert await notifications.drain() >= 1

    [request] = receiver.requests
    payload = Webhook(sub["secret"]).verify(request.body, request.headers)
    assert payload["type"] == ISSUED and payload["id"] == event.id and payload["data"] == event.data
    assert request.headers["webhook-id"] == delivery["_id"]
    assert request.path == "/hooks/mimis"
    tampered = request.body.replace(b"Basala", b"Basalt")
    try:
        Webhook(sub["secret"]).verify(tampered, request.headers)
    except Exception as exc:
        assert "signature" in str(exc).lower()
    else:
        raise AssertionError("a changed body verified")
    log = (await notifications.http.get(f"/subscriptions/{sub['id']}/deliveries",
                                        headers=notifications.member(org))).json()
    [item] = log["items"]
    assert item["status"] == "delivered" and item["id"] == delivery["_id"]
    assert item["attempt_log"][0]["status_code"] == 200 and item["attempt_log"][0]["latency_ms"] > 0


async def test_a_duplicated_event_is_delivered_once(notifications: NotificationsUnderTest,
                                                    receiver: WebhookReceiver) -> None:
    org = uid("prov")
    sub = await notifications.subscribe(org, receiver.url(), [ISSUED], filters={"providers": [org]})
    event = issued(org)
    await notifications.send(event, event, event)  # at-least-once: the broker may well carry it three times
    await notifications.wait_delivery(event, sub["id"])
    consumer = notifications.app.state.runtime.consumer
    await notifications.wait_for(lambda: _true(consumer.counters.duplicates >= 2), "the two copies")
    await notifications.drain()
    assert [json.loads(r.body)["id"] for r in receiver.requests] == [event.id]
    assert await notifications.store.deliveries.count_documents({"subscription_id": sub["id"]}) == 1


async def _true(value: bool) -> bool:
    return value


async def test_filters_choose_what_a_subscription_receives(notifications: NotificationsUnderTest,
                                                           receiver: WebhookReceiver) -> None:
    branch, fu = uid("vard"), uid("fu")
    care = await notifications.subscribe("malmo", receiver.url("/care"), ["catalog.credential.published.v1"],
                                         role="municipality", filters={"branches": [branch]})
    providers = await notifications.subscribe("malmo", receiver.url("/providers"),
                                              ["catalog.provider.registered.v1"], role="municipality",
                                              filters={"providers": [fu]})
    wanted, unwanted = published(branches=(branch, "handel")), published(branches=("bygg",))
    other_provider, right_provider = provider_registered(uid("p"), "a@p.example"), provider_registered(
        fu, "kontakt@fu.example")
    await notifications.send(unwanted, wanted, other_provider, right_provider)
    await notifications.wait_delivery(wanted, care["id"])
    await notifications.wait_delivery(right_provider, providers["id"])
    await notifications.wait_handled(unwanted)
    await notifications.wait_handled(other_provider)
    await notifications.drain()
    got = sorted((r.path, json.loads(r.body)["id"]) for r in receiver.requests)
    assert got == sorted([("/care", wanted.id), ("/providers", right_provider.id)])


async def test_a_disabled_subscription_gets_nothing_new(notifications: NotificationsUnderTest,
                                                        receiver: WebhookReceiver) -> None:
    org = uid("prov")
    sub = await notifications.subscribe(org, receiver.url(), [ISSUED], filters={"providers": [org]},
                                        enabled=False)
    event = issued(org)
    await notifications.send(event)
    await notifications.wait_handled(event)
    await notifications.drain()
    assert receiver.requests == []
    assert await notifications.delivery(event, sub["id"]) is None


async def test_the_store_itself_refuses_a_second_delivery_of_an_event_to_a_subscription(
        notifications: NotificationsUnderTest) -> None:
    """Beyond the consumer's inbox: the delivery's id is derived from (event, subscription), so even
    a path that bypassed the inbox could not create a second delivery."""
    from pymongo.errors import BulkWriteError

    from mimis_platform.outbox import in_transaction
    from services.notifications.events import webhook_delivery

    n = notifications
    org = uid("prov")
    sub = await n.subscribe(org, "http://127.0.0.1:9/x", [ISSUED], filters={"providers": [org]})
    stored = await n.store.subscription(sub["id"])
    assert stored is not None
    event = issued(org)

    async def add(session: Any) -> None:
        await n.store.add_deliveries([webhook_delivery(event, stored, n.clock.now())], None, session)

    await in_transaction(n.store.client, add)
    n.clock.advance(60)
    try:
        await in_transaction(n.store.client, add)
    except BulkWriteError as exc:
        assert {e["code"] for e in exc.details["writeErrors"]} == {11000}  # duplicate key
    else:
        raise AssertionError("a second delivery of the same event to the same subscription was stored")
    assert await n.store.deliveries.count_documents({"subscription_id": sub["id"]}) == 1
