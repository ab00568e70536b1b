"""The README's receiver snippet runs as written against a real signed delivery."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from services.notifications.domain.subscriptions import new_secret
from services.notifications.tests.servers import WebhookReceiver
from services.notifications.webhooks import WebhookSender

README = Path(__file__).resolve().parents[1] / "README.md"


async def test_the_readme_receiver_verifies_a_real_delivery() -> None:
    [snippet] = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    secret = new_secret()
    seen: set[str] = set()
    handled: list[tuple[str, Any]] = []

    def already_seen(webhook_id: str) -> bool:
        if webhook_id in seen:
            return True
        seen.add(webhook_id)
        return False

    namespace: dict[str, Any] = {"already_seen": already_seen, "handle": lambda t, d: handled.append((t, d))}
    exec(snippet.replace('"whsec_..."', repr(secret)), namespace)
    receive = namespace["receive"]

    with WebhookReceiver() as receiver:
        async with httpx.AsyncClient() as http:
            sender = WebhookSender(http, allow_private=True)
            body = ('{"id":"e1","source":"/mimis/catalog","type":"catalog.provider.updated.v1",'
                    '"timestamp":"x","data":{}}')
            assert (await sender.send(receiver.url(), "msg_readme", body, [secret])).status == 200
    [request] = receiver.requests
    assert receive(request.body, request.headers) == 200
    assert receive(request.body, request.headers) == 200  # the repeat is dropped by its webhook-id
    assert handled == [("catalog.provider.updated.v1", {})]
    assert receive(request.body.replace(b"e1", b"e2"), request.headers) == 400
