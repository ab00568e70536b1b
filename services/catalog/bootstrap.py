"""Composition root of the catalog service: settings -> runtime -> store -> handlers -> app."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pymongo.asynchronous.client_session import AsyncClientSession

from mimis_platform.consumer import PermanentError
from mimis_platform.service import ServiceRuntime, create_service_app
from services.catalog import events
from services.catalog.api import ROUTERS
from services.catalog.domain import lifecycle as lc
from services.catalog.settings import CatalogSettings
from services.catalog.storage import CatalogStore, Provider, UnknownProvider


def _version(versions: list[lc.MicroCredentialVersion], data: dict[str, Any]) -> lc.MicroCredentialVersion:
    for v in versions:
        if v.version == data["version"]:
            if v.provider_id != data["provider_id"]:
                raise PermanentError(
                    f"the review names provider {data['provider_id']!r}, the version belongs to {v.provider_id!r}"
                )
            return v
    raise PermanentError(f"no version {data['version']} of micro-credential {data['micro_credential_id']!r}")


def review_handlers(store: CatalogStore) -> dict[str, Any]:
    async def opened(data: dict[str, Any], session: AsyncClientSession) -> None:
        def decide(versions: list[lc.MicroCredentialVersion], _: Provider) -> lc.Outcome:
            return lc.start_review(
                _version(versions, data), data["review_id"], now=events.parse_time(data["opened_at"])
            )

        await _change(data, decide, session)

    async def decided(data: dict[str, Any], session: AsyncClientSession) -> None:
        def decide(versions: list[lc.MicroCredentialVersion], _: Provider) -> lc.Outcome:
            version = _version(versions, data)
            published = next((v for v in versions if v.status is lc.Status.PUBLISHED), None)
            decided_at = events.parse_time(data["decided_at"])
            review = lc.ReviewOutcome(
                data["review_id"],
                lc.Decision(data["decision"]),
                tuple(data.get("comments") or ()),
                data.get("reason"),
                data["criteria_version"],
                decided_at,
            )
            return lc.decide(version, review, now=decided_at, published=published)

        await _change(data, decide, session)

    async def _change(data: dict[str, Any], decide: Any, session: AsyncClientSession) -> None:
        try:
            await store.change(data["micro_credential_id"], decide, session=session)
        except UnknownProvider as exc:
            raise PermanentError(f"no micro-credential {data['micro_credential_id']!r} in the catalogue") from exc

    return {"on_review_opened": opened, "on_review_decided": decided}


def bootstrap(settings: CatalogSettings | None = None) -> FastAPI:
    settings = settings or CatalogSettings()
    runtime = ServiceRuntime(settings=settings, publishes=True)
    assert runtime.outbox is not None
    store = CatalogStore(runtime.client, runtime.db, runtime.outbox)
    runtime.bind_routes(events.routes(**review_handlers(store)))
    runtime.on_startup = [lambda _: store.ensure_indexes()]
    app = create_service_app(
        runtime,
        ROUTERS,
        title="MIMIS catalog",
        description="The catalogue of micro-credentials in Skåne: providers, definitions with the EU elements, "
        "versions and lifecycle, pathways, search and the ELM export.",
    )
    app.state.catalog_store = store
    return app
