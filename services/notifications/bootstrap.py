"""Composition root of the notifications service: settings -> runtime -> store -> consumer routes,
delivery worker, senders -> app. Tests pass their own clock, resolver or token source here."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import timedelta

import httpx
from fastapi import FastAPI

from mimis_platform.service import ServiceRuntime, create_service_app
from mimis_platform.service_tokens import TokenSource, token_source
from services.notifications import events
from services.notifications.api import ROUTERS
from services.notifications.api.deps import Notifications
from services.notifications.clock import Clock, SystemClock
from services.notifications.mailer import Mailer, SmtpConfig
from services.notifications.recipients import IssuanceRecipients
from services.notifications.secret_box import SecretBox
from services.notifications.settings import ISSUANCE_TIMEOUT_SECONDS, NotificationsSettings
from services.notifications.storage import NotificationsStore
from services.notifications.webhooks import Resolver, WebhookSender, system_resolver
from services.notifications.worker import DeliveryWorker


def bootstrap(settings: NotificationsSettings | None = None, *, clock: Clock | None = None,
              resolver: Resolver = system_resolver, tokens: TokenSource | None = None,
              rng: random.Random | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    clock = clock or SystemClock()
    # It publishes (erasure confirmations, on privacy.erasure-confirmations): the runtime then
    # gives it an outbox and runs the relay.
    runtime = ServiceRuntime(settings=settings, publishes=True)
    assert runtime.outbox is not None
    # An erasure is remembered while an event naming the learner may still come (a topic's or
    # its dead letters' retention).
    consumed = runtime.contracts.topics.consumed_by(settings.service_name)
    erasure_memory = timedelta(milliseconds=max(max(t.retention_ms, t.dlq_retention_ms) for t in consumed))
    store = NotificationsStore(runtime.client, runtime.db, timedelta(days=settings.log_retention_days),
                               erasure_memory)
    runtime.bind_routes(events.routes(store, runtime.contracts, clock, runtime.outbox))

    # Webhooks get a client of their own: no redirects, no cookies, no proxy from the environment.
    hooks_http = httpx.AsyncClient(follow_redirects=False, trust_env=False,
                                   timeout=httpx.Timeout(settings.webhook_timeout_seconds),
                                   limits=httpx.Limits(max_connections=settings.delivery_concurrency * 2,
                                                       max_keepalive_connections=settings.delivery_concurrency))
    services_http = httpx.AsyncClient(timeout=httpx.Timeout(ISSUANCE_TIMEOUT_SECONDS))
    recipients = IssuanceRecipients(services_http, settings.issuance_url,
                                    tokens or token_source(settings, services_http))
    sender = WebhookSender(hooks_http, resolver=resolver, allow_private=settings.allow_private_webhook_urls,
                           timeout_seconds=settings.webhook_timeout_seconds,
                           max_response_bytes=settings.webhook_max_response_bytes)
    mailer = Mailer(SmtpConfig(settings.smtp_host, settings.smtp_port, settings.smtp_username,
                               settings.smtp_password.get_secret_value(), settings.smtp_starttls,
                               settings.smtp_use_tls, settings.smtp_timeout_seconds, settings.mail_from,
                               settings.mail_drop_dir))
    box = SecretBox(settings.secret_key.get_secret_value())
    worker = DeliveryWorker(store, sender, box, mailer, recipients, settings.retry_policy(), clock,
                            batch_size=settings.delivery_batch_size, concurrency=settings.delivery_concurrency,
                            lease_seconds=settings.delivery_lease_seconds,
                            disable_after=settings.disable_after_failures, rng=rng)
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    async def start(_: ServiceRuntime) -> None:
        await store.ensure_indexes()
        if settings.delivery_worker:
            stop.clear()
            for i in range(settings.delivery_loops):
                tasks.append(asyncio.create_task(worker.run(stop, settings.delivery_idle_seconds),
                                                 name=f"notifications-delivery-worker-{i}"))

    async def shutdown() -> None:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        tasks.clear()
        await hooks_http.aclose()
        await services_http.aclose()

    runtime.on_startup = [start]
    runtime.on_shutdown.append(shutdown)
    app = create_service_app(
        runtime,
        ROUTERS,
        title="MIMIS notifications",
        description="Webhook subscriptions for partner organisations (Standard Webhooks signatures, retries, "
        "a delivery log with every attempt, manual redelivery) and e-mail to learners and providers. "
        "Learners are known here only by issuance's pseudonymous learner_ref; issuance asks for this "
        "service's part of a learner's data export, and erasure requests arrive as events.",
    )
    app.state.notifications = Notifications(store, settings, clock, box, resolver, runtime.contracts)
    app.state.delivery_worker = worker
    return app
