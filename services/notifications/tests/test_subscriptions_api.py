"""The subscriptions API: secrets shown once and rotatable, event types from the contract
registry, authorisation by organisation, cursor pages."""

from __future__ import annotations

import re

from standardwebhooks import Webhook

from services.notifications.tests.conftest import NotificationsUnderTest
from services.notifications.tests.factories import issued, uid
from services.notifications.tests.servers import WebhookReceiver

ISSUED = "issuance.credential.issued.v1"
PUBLISHED = "catalog.credential.published.v1"


async def test_the_secret_is_standard_shown_once_and_rotates_with_an_overlap(
        notifications: NotificationsUnderTest, receiver: WebhookReceiver) -> None:
    n = notifications
    org = uid("prov")
    sub = await n.subscribe(org, receiver.url(), [ISSUED], filters={"providers": [org]})
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", sub["secret"])
    shown = await n.http.get(f"/subscriptions/{sub['id']}", headers=n.member(org))
    assert shown.status_code == 200 and "secret" not in shown.json()
    assert sub["secret"] not in str(await n.store.subscriptions.find_one({"_id": sub["id"]}))  # sealed at rest

    rotated = await n.http.post(f"/subscriptions/{sub['id']}/secret", headers=n.member(org))
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != sub["secret"]
    event = issued(org)
    await n.send(event)
    await n.wait_delivery(event, sub["id"])
    await n.drain()
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2  # old and new sign during the overlap
    Webhook(new_secret).verify(request.body, request.headers)
    Webhook(sub["secret"]).verify(request.body, request.headers)


async def test_event_types_are_checked_against_the_contracts(notifications: NotificationsUnderTest) -> None:
    n = notifications
    types = (await n.http.get("/event-types")).json()
    assert {"type": PUBLISHED, "topic": "catalog.micro-credentials", "scope": "public"} in types
    assert {t["type"] for t in types} >= {ISSUED, "quality.review.decided.v1", "catalog.provider.updated.v1"}
    base = {"organisation_id": "malmo", "url": "http://127.0.0.1:9/x", "owner_email": "it@malmo.se"}
    unknown = await n.http.post("/subscriptions", headers=n.member("malmo", "municipality"),
                                json={**base, "event_types": ["catalog.credential.exploded.v1"]})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "event_types.0"
    # Another provider's issued credentials are not a municipality's business.
    other = await n.http.post("/subscriptions", headers=n.member("malmo", "municipality"),
                              json={**base, "event_types": [PUBLISHED, ISSUED]})
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "event_types.1"
    admin = n.auth("region-admin-1", "region-admin")
    assert (await n.http.post("/subscriptions", headers=admin, json={**base, "event_types": [ISSUED]})).status_code \
        == 201


async def test_only_the_organisation_manages_its_subscriptions(notifications: NotificationsUnderTest) -> None:
    n = notifications
    org = uid("kommun")
    body = {"organisation_id": org, "url": "http://127.0.0.1:9/x", "event_types": [PUBLISHED],
            "owner_email": "it@kommun.se"}
    assert (await n.http.post("/subscriptions", json=body)).status_code == 401
    assert (await n.http.post("/subscriptions", headers=n.member("other-org", "municipality"),
                              json=body)).status_code == 403
    assert (await n.http.post("/subscriptions", headers=n.auth("learner-1", "learner", org=[org]),
                              json=body)).status_code == 403
    sub = (await n.http.post("/subscriptions", headers=n.member(org, "municipality"), json=body)).json()
    outsider = n.member("other-org", "employer")
    for method, path in [("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/secret"), ("GET", "/deliveries")]:
        answer = await n.http.request(method, f"/subscriptions/{sub['id']}{path}", headers=outsider,
                                      json={"enabled": False} if method == "PATCH" else None)
        assert answer.status_code == 404, (method, path, answer.text)
    ops = n.auth("ops-1", "ops")
    assert (await n.http.get(f"/subscriptions/{sub['id']}/deliveries", headers=ops)).status_code == 200
    assert (await n.http.patch(f"/subscriptions/{sub['id']}", headers=ops, json={"enabled": False})).status_code \
        == 403
    assert (await n.http.delete(f"/subscriptions/{sub['id']}", headers=n.member(org, "municipality"))).status_code \
        == 204
    assert (await n.http.get(f"/subscriptions/{sub['id']}", headers=n.member(org, "municipality"))).status_code \
        == 404


async def test_lists_come_in_cursor_pages(notifications: NotificationsUnderTest, receiver: WebhookReceiver) -> None:
    n = notifications
    org = uid("prov")
    subs = [await n.subscribe(org, receiver.url(f"/{i}"), [ISSUED], filters={"providers": [org]}) for i in range(3)]
    seen, cursor = [], None
    while True:
        page = (await n.http.get("/subscriptions", headers=n.member(org),
                                 params={"limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(s["id"] for s in subs)

    events = [issued(org) for _ in range(5)]
    await n.send(*events)
    for e in events:
        await n.wait_delivery(e, subs[0]["id"])
    await n.drain()
    ids, cursor = [], None
    while True:
        page = (await n.http.get(f"/subscriptions/{subs[0]['id']}/deliveries", headers=n.member(org),
                                 params={"limit": 2, **({"cursor": cursor} if cursor else {})})).json()
        ids += [d["event_id"] for d in page["items"]]
        assert all(d["status"] == "delivered" for d in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(ids) == sorted(e.id for e in events)
    bad = await n.http.get(f"/subscriptions/{subs[0]['id']}/deliveries", headers=n.member(org),
                           params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.json()["error"] == "validation_failed"
