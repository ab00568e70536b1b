"""Composition root of the gateway: /graphql (GraphiQL outside production), the web pages under
/web (``/`` leads there), the gateway's JWKS for the services, health probes. The gateway owns no
domain data; its database holds API keys only."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from strawberry.fastapi import GraphQLRouter

from gateway.api_keys import ApiKeyStore
from gateway.context import GatewayContext
from gateway.identity import Authenticator
from gateway.limits import extensions
from gateway.live import LiveEvents
from gateway.schema import build_schema
from gateway.services import Services
from gateway.settings import GatewaySettings
from gateway.tokens import GatewayTokens
from gateway.web import mount_pages
from mimis_platform.auth import verifier_for
from mimis_platform.health import health_router, mongo_check
from mimis_platform.logs import setup_logging
from mimis_platform.mongo import new_client
from mimis_platform.telemetry import instrument_app, setup_tracing


def bootstrap(settings: GatewaySettings | None = None, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """``transport`` replaces the network for the calls to the services (tests count calls with it)."""
    settings = settings or GatewaySettings()
    setup_logging(settings.service_name, settings.log_level, json=settings.log_json)
    setup_tracing(settings.service_name, settings.trace_exporter, settings.otlp_endpoint)

    client = new_client(settings.mongo_url)
    api_keys = ApiKeyStore(client[settings.mongo_database], settings.secret_key.get_secret_value())
    tokens = GatewayTokens.from_setting(settings.token_issuer, settings.auth_audience,
                                        settings.token_signing_key.get_secret_value(), settings.token_lifetime_seconds)
    authenticator = Authenticator(
        verifier_for(settings.auth_issuer, settings.auth_audience, settings.auth_jwks, settings.auth_trusted_issuers),
        api_keys, tokens)

    live = LiveEvents(settings.kafka_connection()) if settings.live_events else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await api_keys.ensure_indexes()
        if live is not None:
            await live.start()
        timeout = httpx.Timeout(settings.service_timeout_seconds)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(timeout=timeout, limits=limits, transport=transport) as http:
            app.state.services = Services(http, settings.service_urls())
            try:
                yield
            finally:
                if live is not None:
                    await live.stop()
                await client.close()

    async def context(connection: HTTPConnection) -> GatewayContext:
        identity = await authenticator.identify(connection.headers)
        return GatewayContext(identity, connection.app.state.services, settings, api_keys, authenticator, live)

    app = FastAPI(title="MIMIS gateway", lifespan=lifespan,
                  description="GraphQL for web and partner clients at /graphql; the schema is gateway/schema.graphql.")
    app.state.tokens, app.state.settings, app.state.live = tokens, settings, live
    app.include_router(health_router({"mongodb": mongo_check(client)}))

    @app.get("/.well-known/jwks.json", tags=["identity"],
             summary="The public key of the tokens the gateway signs for API-key calls (the services trust it)")
    async def jwks() -> dict[str, Any]:
        return tokens.jwks()

    if settings.cors_origins:  # web clients on the region's own sites; no cookies, so no credentials mode
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["authorization", "content-type", "x-api-key"], max_age=600)
    schema = build_schema(extensions(settings))
    app.include_router(
        GraphQLRouter(schema, context_getter=context, graphql_ide="graphiql" if settings.graphiql_enabled() else None),
        prefix="/graphql",
    )
    mount_pages(app)  # the catalogue and verification pages for people, on the same GraphQL API
    instrument_app(app)
    return app
