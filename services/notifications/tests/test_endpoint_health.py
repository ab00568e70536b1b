"""An endpoint that keeps failing is disabled and its owner told by e-mail (a real SMTP server);
enabling it again sends what was held. 410 Gone disables at once."""

from __future__ import annotations

from services.notifications.tests.conftest import Factory
from services.notifications.tests.factories import issued, uid
from services.notifications.tests.servers import Reply, WebhookReceiver

ISSUED = "issuance.credential.issued.v1"


async def test_consecutive_failures_disable_the_endpoint_and_tell_its_owner(
        notifications_factory: Factory, receiver: WebhookReceiver) -> None:
    async with notifications_factory(disable_after_failures=3) as n:
        org = uid("prov")
        owner = f"it-{org}@example.se"
        sub = await n.subscribe(org, receiver.url(), [ISSUED], filters={"providers": [org]}, owner_email=owner,
                                language="sv")
        receiver.default = Reply(500)
        events = [issued(org) for _ in range(2)]
        await n.send(*events)
        for e in events:
            await n.wait_delivery(e, sub["id"])
        await n.drain()  # two failures
        assert (await n.http.get(f"/subscriptions/{sub['id']}", headers=n.member(org))).json()["enabled"] is True
        n.clock.advance(6)
        await n.drain()  # the third (and fourth) failure: disabled, notice queued and sent
        state = (await n.http.get(f"/subscriptions/{sub['id']}", headers=n.member(org))).json()
        assert state["enabled"] is False and "failed attempts in a row" in state["disabled_reason"]
        await n.drain()
        [notice] = n.smtp.to(owner)
        assert notice["Subject"] == f"Webhook avstängd: {receiver.url()}"
        assert sub["id"] in notice.get_content() and "misslyckade" in notice.get_content()
        sent_before = len(receiver.requests)
        assert sent_before in (3, 4)  # both deliveries may have had a second try in the same round

        held = [await n.delivery(e, sub["id"]) for e in events]
        assert {d["status"] for d in held if d} == {"held"}
        n.clock.advance(3600)
        await n.drain()
        assert len(receiver.requests) == sent_before  # nothing goes to a disabled endpoint

        receiver.default = Reply(200)
        answer = await n.http.patch(f"/subscriptions/{sub['id']}", headers=n.member(org), json={"enabled": True})
        assert answer.status_code == 200 and answer.json()["consecutive_failures"] == 0
        await n.drain()
        assert {(await n.delivery(e, sub["id"]) or {}).get("status") for e in events} == {"delivered"}
        assert len(n.smtp.to(owner)) == 1  # one notice, not one per failure


async def test_410_gone_disables_at_once(notifications_factory: Factory, receiver: WebhookReceiver) -> None:
    async with notifications_factory(disable_after_failures=50) as n:
        org = uid("prov")
        sub = await n.subscribe(org, receiver.url(), [ISSUED], filters={"providers": [org]},
                                owner_email=f"ops-{org}@example.com", language="en")
        receiver.answer(Reply(410))
        event = issued(org)
        await n.send(event)
        await n.wait_delivery(event, sub["id"])
        await n.drain()
        state = (await n.http.get(f"/subscriptions/{sub['id']}", headers=n.member(org))).json()
        assert state["enabled"] is False and "410" in state["disabled_reason"]
        assert (await n.delivery(event, sub["id"]) or {})["status"] == "failed"
        await n.drain()
        [notice] = n.smtp.to(f"ops-{org}@example.com")
        assert notice["Subject"].startswith("Webhook disabled") and "Content-Language" in notice
        assert notice["Content-Language"] == "en"


async def test_a_success_ends_a_run_of_failures(notifications_factory: Factory, receiver: WebhookReceiver) -> None:
    async with notifications_factory(disable_after_failures=3) as n:
        org = uid("prov")
        sub = await n.subscribe(org, receiver.url(), [ISSUED], filters={"providers": [org]})
        receiver.answer(Reply(500), Reply(500), Reply(200), Reply(500), Reply(500))
        for _ in range(5):  # five events, one at a time: fail, fail, pass, fail, fail
            event = issued(org)
            await n.send(event)
            await n.wait_delivery(event, sub["id"])
            await n.drain()
        state = (await n.http.get(f"/subscriptions/{sub['id']}", headers=n.member(org))).json()
        assert len(receiver.requests) == 5
        assert state["enabled"] is True and state["consecutive_failures"] == 2  # 2 + 2 with a success between
