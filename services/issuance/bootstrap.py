"""Composition root of the issuance service: settings -> runtime -> stores -> consumers -> app."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from mimis_platform.contracts import CONTRACTS
from mimis_platform.service import ServiceRuntime, create_service_app
from mimis_platform.service_tokens import TokenSource, token_source
from services.issuance.api import ROUTERS
from services.issuance.catalogue import CatalogueReadModel
from services.issuance.domain.credential import IssuerProfile
from services.issuance.domain.keys import did_web
from services.issuance.domain.sealing import Sealer
from services.issuance.events import (
    ASSESSMENT_RECORDED,
    AssessmentConsumer,
    BatchIssuing,
    assessment_routes,
    erasure_routes,
)
from services.issuance.issuer import Issuer
from services.issuance.keystore import KeyStore, ProviderSecrets
from services.issuance.personal_data import ServicePart
from services.issuance.settings import IssuanceSettings
from services.issuance.storage import CredentialStore


def bootstrap(settings: IssuanceSettings | None = None, *, tokens: TokenSource | None = None) -> FastAPI:
    settings = settings or IssuanceSettings()
    runtime = ServiceRuntime(settings=settings, publishes=True)
    assert runtime.outbox is not None
    sealer = Sealer(settings.key_encryption_key.get_secret_value())
    lookup_key = settings.learner_lookup_key.get_secret_value().encode()
    did = did_web(settings.issuer_domain)
    keys = KeyStore(runtime.client, runtime.db, sealer, did)
    secrets = ProviderSecrets(runtime.client, runtime.db, sealer,
                              timedelta(hours=settings.provider_secret_overlap_hours))
    catalogue = CatalogueReadModel(runtime.db)
    store = CredentialStore(runtime.client, runtime.db, runtime.outbox, keys, catalogue,
                            IssuerProfile(did, settings.issuer_name, url=settings.public_base_url),
                            settings.public_base_url, settings.catalogue_base_url, settings.share_page_url,
                            suspension_entry=settings.suspension_entry)
    issuer = Issuer(store, catalogue, keys, lookup_key, settings.bulk_max_rows)
    runtime.bind_routes({**catalogue.routes(), **erasure_routes(store)})
    # The topic registry names this group (the KafkaUser's ACL is generated from it); tests give each
    # service instance groups of its own through CONSUMER_GROUP.
    group = settings.assessment_consumer_group or (
        f"{settings.consumer_group}-assessments" if settings.consumer_group
        else CONTRACTS.topic_for(ASSESSMENT_RECORDED).group_of(settings.service_name))
    routes = assessment_routes(store, catalogue)
    batch = BatchIssuing(store, catalogue) if settings.assessment_batch_size > 1 else None
    consumers = [AssessmentConsumer(
        provider_secrets=secrets, batch=batch, batch_size=settings.assessment_batch_size,
        service=settings.service_name, group_id=group,
        kafka=settings.kafka_connection(), client=runtime.client, db=runtime.db,
        contracts=runtime.contracts, routes=routes,
        max_attempts=settings.consumer_max_attempts, backoff_seconds=settings.consumer_backoff_seconds,
        backoff_max_seconds=settings.consumer_backoff_max_seconds) for _ in range(settings.assessment_consumers)]

    async def start(_: ServiceRuntime) -> None:
        await keys.ensure_indexes()
        await secrets.ensure_indexes()
        await catalogue.ensure_indexes()
        await store.ensure_indexes()
        await keys.ensure_key()
        for consumer in consumers:
            await consumer.start()

    # A learner's export asks every other service holding learner data for its part.
    services_http = httpx.AsyncClient(timeout=10.0)
    tokens = tokens or token_source(settings, services_http)
    export_parts = [ServicePart("notifications", services_http, settings.notifications_url, tokens)]

    async def stop() -> None:
        for consumer in consumers:
            await consumer.stop()
        await services_http.aclose()

    runtime.on_startup = [start]
    runtime.on_shutdown.append(stop)
    app = create_service_app(
        runtime,
        ROUTERS,
        title="MIMIS issuance",
        description="Signed, verifiable, revocable credentials (Open Badges 3.0 / VC 2.0) from providers' "
        "assessment events and the API; did:web keys with rotation, Bitstring Status Lists, verification, "
        "learners' downloads and share links.",
    )
    app.state.issuer = issuer
    app.state.provider_secrets = secrets
    app.state.export_parts = export_parts
    app.state.assessment_consumers = consumers
    return app
