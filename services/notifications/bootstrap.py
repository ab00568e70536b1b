"""Composition root of the notifications service (a running skeleton: health, telemetry, logs)."""

from __future__ import annotations

from fastapi import FastAPI

from mimis_platform.service import ServiceRuntime, create_service_app
from services.notifications.settings import NotificationsSettings


def bootstrap(settings: NotificationsSettings | None = None) -> FastAPI:
    runtime = ServiceRuntime(settings=settings or NotificationsSettings())
    return create_service_app(
        runtime,
        [],
        title="MIMIS notifications",
        description="Subscriptions, webhook and e-mail deliveries (domain arrives with the notifications issue).",
    )
