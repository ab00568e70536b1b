"""The region for the gateway's tests: the real catalog and quality services and the gateway, each
served by uvicorn on its own port in this process, on the real local broker and database.

The gateway's calls to the services go through :class:`CountingTransport` (the real network
underneath), so a test can count them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from joserfc.jwk import OKPKey

from gateway.settings import GatewaySettings
from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.localstack import LocalStack, free_port
from mimis_platform.testing import jwks_setting
from services.catalog.settings import CatalogSettings
from services.issuance.settings import IssuanceSettings
from services.notifications.settings import NotificationsSettings
from services.quality.settings import QualitySettings

GATEWAY_ISSUER = "https://gateway.mimis.test"


class CountingTransport(httpx.AsyncBaseTransport):
    """The real HTTP transport, remembering each request's method, host:port and path (as sent)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.calls: list[tuple[str, str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.split(b"?")[0].decode("ascii")  # as sent: percent-encoding kept
        self.calls.append((request.method, f"{request.url.host}:{request.url.port}", path))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@asynccontextmanager
async def served(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """The app behind uvicorn on a free port (lifespan included) until the block ends."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False,
                                           lifespan="on"))
    server.capture_signals = _no_signals  # type: ignore[method-assign]  # the test runner keeps Ctrl-C
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.02)  # start-up poll
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextmanager
def _no_signals() -> Iterator[None]:
    yield


def gateway_key() -> OKPKey:
    return OKPKey.generate_key("Ed25519", parameters={"kid": "gateway-test"})


def trusted_gateway(key: OKPKey) -> str:
    return json.dumps([{"issuer": GATEWAY_ISSUER, "jwks": {"keys": [key.as_dict(private=False)]}}])


def _common(stack: LocalStack, issuer: DevelopmentIssuer, key: OKPKey) -> dict[str, Any]:
    return {
        "kafka_bootstrap_servers": stack.kafka_bootstrap_servers, "mongo_url": stack.mongo_url,
        "relay_idle_seconds": 0.05, "auth_jwks": jwks_setting(issuer), "auth_issuer": issuer.issuer,
        "auth_trusted_issuers": trusted_gateway(key), "log_level": "WARNING", "environment": "test",
    }


def service_settings(stack: LocalStack, name: str, issuer: DevelopmentIssuer,
                     key: OKPKey) -> tuple[CatalogSettings, QualitySettings]:
    common = _common(stack, issuer, key)
    return (CatalogSettings(mongo_database=f"catalog_{name}", consumer_group=f"catalog-{name}", **common),
            QualitySettings(mongo_database=f"quality_{name}", consumer_group=f"quality-{name}", **common))


def partner_service_settings(stack: LocalStack, name: str, issuer: DevelopmentIssuer, key: OKPKey,
                             issuance_url: str, notifications_url: str = "http://127.0.0.1:9"
                             ) -> tuple[IssuanceSettings, NotificationsSettings]:
    """``notifications_url``: where issuance asks for notifications' part of a learner's export."""
    common = _common(stack, issuer, key)
    return (
        IssuanceSettings(mongo_database=f"issuance_{name}", consumer_group=f"issuance-{name}",
                         assessment_consumer_group=f"issuance-assessments-{name}", assessment_consumers=1,
                         public_base_url=issuance_url, notifications_url=notifications_url, **common),
        NotificationsSettings(mongo_database=f"notifications_{name}", consumer_group=f"notifications-{name}",
                              delivery_worker=False, allow_private_webhook_urls=True, issuance_url=issuance_url,
                              **common),
    )


def gateway_settings(stack: LocalStack, name: str, issuer: DevelopmentIssuer, key: OKPKey, catalog_url: str,
                     quality_url: str, issuance_url: str = "http://127.0.0.1:9",
                     notifications_url: str = "http://127.0.0.1:9", **overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "environment": "test", "kafka_bootstrap_servers": stack.kafka_bootstrap_servers,
        "mongo_url": stack.mongo_url, "mongo_database": f"gateway_{name}", "auth_jwks": jwks_setting(issuer),
        "auth_issuer": issuer.issuer, "secret_key": "gateway-test-pepper", "token_issuer": GATEWAY_ISSUER,
        "token_signing_key": json.dumps(key.as_dict(private=True)), "catalog_url": catalog_url,
        "quality_url": quality_url, "issuance_url": issuance_url, "notifications_url": notifications_url,
        "log_level": "WARNING", "service_timeout_seconds": 10.0, "cors_origins": ["https://app.mimis.test"],
    }
    values.update(overrides)
    return GatewaySettings(**values)


@dataclass
class Region:
    catalog_url: str
    quality_url: str
    issuance_url: str
    notifications_url: str
    gateway_url: str
    issuer: DevelopmentIssuer
    transport: CountingTransport
    gateway: FastAPI
    providers: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)
    drafts: dict[str, str] = field(default_factory=dict)  # provider id -> a draft's micro-credential id

    def bearer(self, subject: str, *roles: str, org: tuple[str, ...] = ()) -> dict[str, str]:
        return {"authorization": f"Bearer {self.issuer.token(subject, roles, org)}"}

    async def graphql(self, query: str, variables: dict[str, Any] | None = None,
                      headers: dict[str, str] | None = None) -> dict[str, Any]:
        """The whole GraphQL answer (data and errors), over HTTP, as any client sees it."""
        async with httpx.AsyncClient(timeout=60) as http:
            answer = await http.post(f"{self.gateway_url}/graphql", json={"query": query, "variables": variables or {}},
                                     headers=headers or {})
        assert answer.status_code in (200, 400), answer.text
        body: dict[str, Any] = answer.json()
        return body

    def service_calls(self) -> list[tuple[str, str, str]]:
        return list(self.transport.calls)


async def gql_execute(url: str, query: str, variables: dict[str, Any] | None = None,
                      headers: dict[str, str] | None = None) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """A query through ``gql``, the Python GraphQL client partners use: (data, errors)."""
    from gql import Client, gql
    from gql.transport.exceptions import TransportQueryError
    from gql.transport.httpx import HTTPXAsyncTransport

    transport = HTTPXAsyncTransport(url=f"{url}/graphql", headers=headers or {}, timeout=60)
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        try:
            request = gql(query)
            request.variable_values = variables or {}
            data = await session.execute(request)
        except TransportQueryError as exc:
            return exc.data, list(exc.errors or [])
    return data, []


def codes(errors: list[dict[str, Any]]) -> list[str]:
    return [str((e.get("extensions") or {}).get("code")) for e in errors]
