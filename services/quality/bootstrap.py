"""Composition root of the quality service."""

from __future__ import annotations

from fastapi import FastAPI

from mimis_platform.service import ServiceRuntime, create_service_app
from services.quality import api, events
from services.quality.settings import QualitySettings
from services.quality.storage import QualityStore


def bootstrap(settings: QualitySettings | None = None) -> FastAPI:
    settings = settings or QualitySettings()
    runtime = ServiceRuntime(settings=settings)
    store = QualityStore(runtime.db)
    runtime.bind_routes(events.routes(store))
    runtime.on_startup = [lambda _: store.ensure_indexes()]
    app = create_service_app(
        runtime, [api.router], title="MIMIS quality",
        description="The quality board's workplace: reviews of micro-credentials against published criteria.",
    )
    app.state.quality_store = store
    return app
