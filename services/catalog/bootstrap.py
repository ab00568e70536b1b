"""Composition root of the catalog service: settings -> runtime -> store -> app."""

from __future__ import annotations

from fastapi import FastAPI

from mimis_platform.service import ServiceRuntime, create_service_app
from services.catalog import api
from services.catalog.settings import CatalogSettings
from services.catalog.storage import CatalogStore


def bootstrap(settings: CatalogSettings | None = None) -> FastAPI:
    settings = settings or CatalogSettings()
    runtime = ServiceRuntime(settings=settings, publishes=True)
    assert runtime.outbox is not None
    store = CatalogStore(runtime.client, runtime.db, runtime.outbox)
    runtime.on_startup = [lambda _: store.ensure_indexes()]
    app = create_service_app(
        runtime, [api.router], title="MIMIS catalog",
        description="The catalogue of micro-credentials in Skåne: providers, definitions, versions and lifecycle.",
    )
    app.state.catalog_store = store
    return app
