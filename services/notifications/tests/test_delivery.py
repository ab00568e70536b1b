"""Events over the real broker become signed webhook deliveries to a real receiver."""

from __future__ import annotations

import json

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
