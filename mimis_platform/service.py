"""The runtime every service process shares: one database client, the outbox and its relay,
the event consumer, telemetry, logs and health, started and stopped together.

A service's ``bootstrap`` module builds a :class:`ServiceRuntime` from its settings, its routing
table and its API router; nothing here knows any service's business.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from mimis_platform.api_errors import MethodNotAllowedMessage, install_error_handlers
from mimis_platform.auth import verifier_for
from mimis_platform.consumer import EventConsumer, Handler
from mimis_platform.contracts import CONTRACTS, ContractRegistry
from mimis_platform.health import health_router, kafka_check, mongo_check
from mimis_platform.kafka import ensure_topics
from mimis_platform.logs import get_logger, setup_logging
from mimis_platform.mongo import Document, new_client
from mimis_platform.outbox import Outbox, OutboxRelay
from mimis_platform.settings import ServiceSettings
from mimis_platform.telemetry import instrument_app, setup_tracing

Startup = Callable[["ServiceRuntime"], Any]


@dataclass
class ServiceRuntime:
    """The connections and background workers of one service process."""

    settings: ServiceSettings
    contracts: ContractRegistry = CONTRACTS
    routes: Mapping[str, Handler] = field(default_factory=dict)
    publishes: bool = False
    on_startup: Sequence[Startup] = ()
    on_shutdown: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    client: AsyncMongoClient[Document] = field(init=False)
    db: AsyncDatabase[Document] = field(init=False)
    outbox: Outbox | None = field(init=False, default=None)
    relay: OutboxRelay | None = field(init=False, default=None)
    consumer: EventConsumer | None = field(init=False, default=None)
    _relay_task: asyncio.Task[None] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        s = self.settings
        self.client = new_client(s.mongo_url)
        self.db = self.client[s.mongo_database]
        if self.publishes:
            self.outbox = Outbox(self.db, self.contracts)
            self.relay = OutboxRelay(
                self.db, self.contracts, s.kafka_connection(),
                batch_size=s.relay_batch_size, idle_seconds=s.relay_idle_seconds,
            )

    def bind_routes(self, routes: Mapping[str, Handler]) -> None:
        """Set the routing table (handlers usually close over stores built from ``self.db``)."""
        self.routes = routes

    async def start(self) -> None:
        log = get_logger("mimis.runtime")
        s = self.settings
        created = await ensure_topics(s.kafka_connection(), self.contracts.topics)
        if created:
            log.info("topics created", topics=created)
        if self.outbox is not None:
            await self.outbox.ensure_indexes()
        for step in self.on_startup:
            result = step(self)
            if asyncio.iscoroutine(result):
                await result
        if self.relay is not None:
            self._relay_task = asyncio.create_task(self.relay.run(), name=f"{s.service_name}-outbox-relay")
        if self.routes:
            self.consumer = EventConsumer(
                service=s.service_name, group_id=s.consumer_group or s.service_name,
                kafka=s.kafka_connection(), client=self.client, db=self.db,
                contracts=self.contracts, routes=self.routes,
                max_attempts=s.consumer_max_attempts, backoff_seconds=s.consumer_backoff_seconds,
                backoff_max_seconds=s.consumer_backoff_max_seconds,
            )
            await self.consumer.ensure_indexes()
            await self.consumer.start()
        log.info("service started", service=s.service_name)

    async def stop(self) -> None:
        # The consumer first, so the event in hand finishes while the database is still open.
        if self.consumer is not None:
            await self.consumer.stop()
        if self.relay is not None:
            await self.relay.stop()
        if self._relay_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay_task
        for close in self.on_shutdown:
            await close()
        await self.client.close()


def create_service_app(
    runtime: ServiceRuntime,
    routers: Sequence[APIRouter],
    *,
    title: str,
    description: str,
    version: str = "1.0.0",
    method_not_allowed: MethodNotAllowedMessage | None = None,
) -> FastAPI:
    """A FastAPI app whose lifespan starts and stops the runtime, with health and error handling."""
    s = runtime.settings
    setup_logging(s.service_name, s.log_level, json=s.log_json)
    setup_tracing(s.service_name, s.trace_exporter, s.otlp_endpoint)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title=title, description=description, version=version, lifespan=lifespan)
    app.state.runtime = runtime
    app.state.token_verifier = verifier_for(s.auth_issuer, s.auth_audience, s.auth_jwks, s.auth_trusted_issuers)
    broker_check = kafka_check(s.kafka_connection())
    runtime.on_shutdown.append(broker_check.aclose)
    app.include_router(health_router({"mongodb": mongo_check(runtime.client), "kafka": broker_check}))
    for router in routers:
        app.include_router(router)
    install_error_handlers(app, method_not_allowed)
    instrument_app(app)
    return app


def runtime_of(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime
