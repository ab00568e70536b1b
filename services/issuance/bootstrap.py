"""Composition root of the issuance service (a running skeleton: health, telemetry, logs)."""

from __future__ import annotations

from fastapi import FastAPI

from mimis_platform.service import ServiceRuntime, create_service_app
from services.issuance.settings import IssuanceSettings


def bootstrap(settings: IssuanceSettings | None = None) -> FastAPI:
    runtime = ServiceRuntime(settings=settings or IssuanceSettings())
    return create_service_app(
        runtime,
        [],
        title="MIMIS issuance",
        description="Issued credentials, signing keys and status lists (domain arrives with the issuance issue).",
    )
