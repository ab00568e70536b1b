"""Webhook URLs that reach loopback, private or link-local addresses are refused when a
subscription is made or changed, and again when sending (a DNS answer may change: rebinding)."""

from __future__ import annotations

import pytest

from services.notifications.domain.addresses import UnsafeUrl, check_addresses, forbidden_reason
from services.notifications.tests.conftest import Factory
from services.notifications.tests.factories import issued, uid
from services.notifications.tests.servers import WebhookReceiver

ISSUED = "issuance.credential.issued.v1"
PUBLIC = "93.184.215.14"


class SwitchingDns:
    """A resolver whose answer the test changes: first public, then (rebinding) loopback."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    async def __call__(self, host: str, port: int) -> list[str]:
        if host not in self.answers:
            raise OSError(-2, "Name or service not known")
        return self.answers[host]


UNSAFE = [
    ("https://127.0.0.1/hook", "loopback"),
    ("https://[::1]/hook", "loopback"),
    ("https://10.1.2.3/hook", "private"),
    ("https://192.168.0.10/hook", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://[::ffff:127.0.0.1]/hook", "loopback"),
    ("https://internal.example/hook", "private"),
    ("https://mixed.example/hook", "private"),
    ("https://localhost/hook", "loopback"),
    ("http://hooks.example/hook", "must be https"),
    ("https://user:pw@hooks.example/hook", "user name"),
    ("ftp://hooks.example/hook", "must be https"),
    ("https://nowhere.example/hook", "does not resolve"),
]


async def test_unsafe_urls_are_refused_on_create_and_update(notifications_factory: Factory) -> None:
    dns = SwitchingDns({"internal.example": ["10.0.0.7"], "mixed.example": [PUBLIC, "172.16.5.4"],
                        "hooks.example": [PUBLIC], "localhost": ["127.0.0.1"]})
    async with notifications_factory(resolver=dns, allow_private_webhook_urls=False) as n:
        org = uid("prov")
        base = {"organisation_id": org, "event_types": [ISSUED], "filters": {"providers": [org]},
                "owner_email": "it@example.se"}
        ok = await n.http.post("/subscriptions", headers=n.member(org), json={**base, "url": "https://hooks.example/h"})
        assert ok.status_code == 201, ok.text
        for url, reason in UNSAFE:
            answer = await n.http.post("/subscriptions", headers=n.member(org), json={**base, "url": url})
            assert answer.status_code == 422, (url, answer.text)
            assert answer.json()["errors"][0]["field"] == "url" and reason in answer.json()["message"], url
            changed = await n.http.patch(f"/subscriptions/{ok.json()['id']}", headers=n.member(org),
                                         json={"url": url})
            assert changed.status_code == 422 and reason in changed.json()["message"], (url, changed.text)


async def test_a_host_that_rebinds_to_loopback_is_refused_when_sending(notifications_factory: Factory,
                                                                       receiver: WebhookReceiver) -> None:
    host = "partner.example"
    dns = SwitchingDns({host: [PUBLIC]})
    async with notifications_factory(resolver=dns, allow_private_webhook_urls=False) as n:
        org = uid("prov")
        sub = await n.subscribe(org, f"https://{host}:{receiver.server.port}/hooks", [ISSUED],
                                filters={"providers": [org]})
        dns.answers[host] = ["127.0.0.1"]  # the partner's DNS now points at us: rebinding
        event = issued(org)
        await n.send(event)
        await n.wait_delivery(event, sub["id"])
        await n.drain()
        state = await n.delivery(event, sub["id"])
        assert state is not None and state["status"] == "failed" and "loopback" in state["last_error"]
        assert receiver.requests == []  # nothing reached the loopback receiver


def test_the_address_rule() -> None:
    assert forbidden_reason("8.8.8.8") is None and forbidden_reason("2001:4860:4860::8888") is None
    assert forbidden_reason("100.64.0.1") == "private" or forbidden_reason("100.64.0.1") == "not a public address"
    assert forbidden_reason("fe80::1") == "link-local" and forbidden_reason("fd00::1") == "private"
    assert forbidden_reason("0.0.0.0") is not None and forbidden_reason("224.0.0.1") is not None
    with pytest.raises(UnsafeUrl):
        check_addresses("x", [], allow_private=True)
    assert check_addresses("x", ["127.0.0.1"], allow_private=True) == ["127.0.0.1"]
