"""Composition root of the gateway: the GraphQL endpoint at /graphql (GraphiQL in development)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from fastapi import FastAPI, Request
from strawberry.fastapi import GraphQLRouter

from gateway.schema import schema
from gateway.settings import GatewaySettings
from mimis_platform.health import health_router
from mimis_platform.logs import setup_logging
from mimis_platform.telemetry import instrument_app, setup_tracing


def bootstrap(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    setup_logging(settings.service_name, settings.log_level, json=settings.log_json)
    setup_tracing(settings.service_name, settings.trace_exporter, settings.otlp_endpoint)  # type: ignore[arg-type]

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=settings.service_timeout_seconds) as http:
            app.state.http = http
            yield

    async def context(request: Request) -> dict[str, Any]:
        return {"http": request.app.state.http, "service_urls": settings.service_urls()}

    app = FastAPI(title="MIMIS gateway", lifespan=lifespan)
    app.include_router(health_router({}))
    app.include_router(
        GraphQLRouter(
            schema, context_getter=context, graphql_ide="graphiql" if settings.environment != "production" else None
        ),
        prefix="/graphql",
    )
    instrument_app(app)
    return app
