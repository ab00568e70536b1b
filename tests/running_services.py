"""Helpers for cross-service tests: services run in-process with their bootstraps and lifespans
(outbox relay and consumer running) on the real local stack, each with its own database and
consumer group."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.localstack import LocalStack
from mimis_platform.testing import jwks_setting
from services.catalog.settings import CatalogSettings
from services.quality.settings import QualitySettings

T = TypeVar("T")


@asynccontextmanager
async def running(app: FastAPI, base_url: str = "http://testserver") -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (relay and consumer running) and an HTTP client bound to it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as http:
            yield http


def settings_for(
    stack: LocalStack, unique_name: str, issuer: DevelopmentIssuer
) -> tuple[CatalogSettings, QualitySettings]:
    common: dict[str, Any] = {
        "kafka_bootstrap_servers": stack.kafka_bootstrap_servers,
        "mongo_url": stack.mongo_url,
        "relay_idle_seconds": 0.05,
        "auth_jwks": jwks_setting(issuer),
        "auth_issuer": issuer.issuer,
    }
    return (
        CatalogSettings(mongo_database=f"catalog_{unique_name}", consumer_group=f"catalog-{unique_name}", **common),
        QualitySettings(mongo_database=f"quality_{unique_name}", consumer_group=f"quality-{unique_name}", **common),
    )


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 45.0) -> T | None:
    """Poll ``probe`` until it returns something other than None (or the time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if result is not None or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.1)  # poll interval while events cross the broker
