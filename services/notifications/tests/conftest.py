"""Fixtures for the notifications service's tests: the real service on the real local stack
(broker and database), driven by a clock the test moves; a real webhook receiver, SMTP server
and issuance recipient endpoint; events sent over the real broker as their producers send them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.contracts import CONTRACTS
from mimis_platform.envelope import Event, to_kafka
from mimis_platform.kafka import new_producer
from mimis_platform.localstack import LocalStack
from mimis_platform.service_tokens import DevelopmentTokenSource
from mimis_platform.testing import jwks_setting, start_group_at_end
from services.notifications.bootstrap import bootstrap
from services.notifications.clock import ManualClock
from services.notifications.settings import NotificationsSettings
from services.notifications.storage import NotificationsStore, delivery_id, event_key
from services.notifications.tests.servers import IssuanceRecipientEndpoint, SmtpServer, WebhookReceiver
from services.notifications.webhooks import Resolver, system_resolver
from services.notifications.worker import DeliveryWorker


async def send(bootstrap_servers: str, events: Iterable[Event]) -> None:
    producer = new_producer(bootstrap_servers)
    await producer.start()
    try:
        for event in events:
            record = to_kafka(event)
            topic = CONTRACTS.topic_for(event.type).name
            await producer.send_and_wait(topic, record.value, key=record.key, headers=record.headers)
    finally:
        await producer.stop()


@dataclass
class NotificationsUnderTest:
    http: httpx.AsyncClient
    app: FastAPI
    issuer: DevelopmentIssuer
    stack: LocalStack
    settings: NotificationsSettings
    clock: ManualClock
    smtp: SmtpServer
    issuance: IssuanceRecipientEndpoint

    @property
    def store(self) -> NotificationsStore:
        store: NotificationsStore = self.app.state.notifications.store
        return store

    @property
    def worker(self) -> DeliveryWorker:
        worker: DeliveryWorker = self.app.state.delivery_worker
        return worker

    def auth(self, subject: str, *roles: str, org: Iterable[str] = ()) -> dict[str, str]:
        return {"authorization": f"Bearer {self.issuer.token(subject, roles, org)}"}

    def member(self, org: str, role: str = "provider-member") -> dict[str, str]:
        return self.auth(f"someone-at-{org}", role, org=[org])

    async def subscribe(self, org: str, url: str, event_types: list[str], role: str = "provider-member",
                        **body: Any) -> dict[str, Any]:
        answer = await self.http.post("/subscriptions", headers=self.member(org, role), json={
            "organisation_id": org, "url": url, "event_types": event_types,
            "owner_email": body.pop("owner_email", f"webhooks@{org}.example"), **body})
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    async def send(self, *events: Event) -> None:
        await send(self.stack.kafka_bootstrap_servers, events)

    async def wait_for(self, probe: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
        """Poll until ``probe`` returns something truthy (the consumer works in the background)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = await probe()
            if found:
                return found
            await asyncio.sleep(0.1)  # poll interval
        raise AssertionError(f"timed out waiting for {what}")

    async def delivery(self, event: Event, subscription_id: str) -> dict[str, Any] | None:
        return await self.store.delivery(delivery_id(event_key(event.source, event.id), subscription_id))

    async def wait_delivery(self, event: Event, subscription_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.wait_for(lambda: self.delivery(event, subscription_id),
                                                    f"the delivery of {event.type} {event.id}")
        return found

    async def wait_email(self, event: Event, kind: str) -> dict[str, Any]:
        did = delivery_id(event_key(event.source, event.id), f"email:{kind}")
        found: dict[str, Any] = await self.wait_for(lambda: self.store.delivery(did), f"the {kind} e-mail")
        return found

    async def wait_handled(self, event: Event) -> None:
        """Until the consumer has recorded ``event`` in its inbox (handled, whatever it caused)."""
        inbox = self.app.state.runtime.db["inbox"]
        await self.wait_for(lambda: inbox.find_one({"event_id": event.id, "source": event.source}),
                            f"the inbox entry of {event.id}")

    async def drain(self, rounds: int = 20) -> int:
        """Run the worker until nothing is due at the clock's present moment."""
        total = 0
        for _ in range(rounds):
            done = await self.worker.run_once()
            if done == 0:
                return total
            total += done
        raise AssertionError("deliveries kept coming due without the clock moving")


def notifications_settings(stack: LocalStack, unique_name: str, issuer: DevelopmentIssuer, smtp: SmtpServer,
                           **overrides: Any) -> NotificationsSettings:
    options: dict[str, Any] = {
        "kafka_bootstrap_servers": stack.kafka_bootstrap_servers, "mongo_url": stack.mongo_url,
        "mongo_database": f"notifications_{unique_name}", "consumer_group": f"notifications-{unique_name}",
        "auth_jwks": jwks_setting(issuer), "auth_issuer": issuer.issuer, "delivery_worker": False,
        "allow_private_webhook_urls": True, "webhook_timeout_seconds": 2.0, "smtp_host": "127.0.0.1",
        "smtp_port": smtp.port, "consumer_backoff_seconds": 0.05,
    }
    options.update(overrides)
    return NotificationsSettings(**options)


Factory = Callable[..., contextlib.AbstractAsyncContextManager[NotificationsUnderTest]]


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r


@pytest.fixture
def notifications_factory(stack: LocalStack, mongo_client: Any, unique_name: str,
                          dev_issuer: DevelopmentIssuer) -> Factory:
    @contextlib.asynccontextmanager
    async def make(resolver: Resolver = system_resolver, **overrides: Any) -> AsyncIterator[NotificationsUnderTest]:
        clock = ManualClock()
        with SmtpServer(refuse=lambda a: a.startswith("nobody@")) as smtp, \
                IssuanceRecipientEndpoint(dev_issuer.verifier()) as issuance:
            overrides.setdefault("issuance_url", issuance.url)
            settings = notifications_settings(stack, unique_name, dev_issuer, smtp, **overrides)
            # This test's consumer group starts at the topics' present end: earlier tests' events on
            # the session's shared broker are not this test's business (there may be thousands).
            assert settings.consumer_group
            await start_group_at_end(stack.kafka_bootstrap_servers, settings.consumer_group,
                                     [t.name for t in CONTRACTS.topics.consumed_by("notifications")])
            tokens = DevelopmentTokenSource(dev_issuer, "service:notifications")
            app = bootstrap(settings, clock=clock, resolver=resolver, tokens=tokens)
            try:
                async with app.router.lifespan_context(app):
                    transport = httpx.ASGITransport(app=app)
                    async with httpx.AsyncClient(transport=transport, base_url="http://notifications") as http:
                        yield NotificationsUnderTest(http, app, dev_issuer, stack, settings, clock, smtp, issuance)
            finally:
                await mongo_client.drop_database(settings.mongo_database)

    return make


@pytest.fixture
async def notifications(notifications_factory: Factory) -> AsyncIterator[NotificationsUnderTest]:
    async with notifications_factory() as n:
        yield n
