"""Thin process entrypoint shared by every service: ``python -m services.<name>``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from mimis_platform.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def serve(bootstrap: Callable[[S], FastAPI], settings: S) -> None:
    app = bootstrap(settings)
    # log_config=None keeps uvicorn's records on our structured logging set up by the app.
    uvicorn.run(app, host=settings.http_host, port=settings.http_port, log_config=None,
                timeout_graceful_shutdown=20, access_log=False)
