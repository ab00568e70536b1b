"""A whole local MIMIS for a benchmark: a fresh stack in a temporary folder, the named services as
processes (as `make run` starts them) and the demo data."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.devstack import load_demo_data, start_services, wait_ready
from mimis_platform.localstack import HOST, LocalStack, free_port


@dataclass(frozen=True)
class RunningSystem:
    stack: LocalStack
    urls: dict[str, str]
    issuer: DevelopmentIssuer


@asynccontextmanager
async def running_system(names: tuple[str, ...], demo: bool = True) -> AsyncIterator[RunningSystem]:
    with tempfile.TemporaryDirectory(prefix="mimis-bench-") as folder:
        stack = LocalStack(root=Path(folder))
        await stack.start()
        issuer = DevelopmentIssuer.load_or_create(stack.root / "dev-issuer-key.json")
        urls = {name: f"http://{HOST}:{free_port()}" for name in names}
        services = start_services(stack, issuer, urls, {"LOG_LEVEL": "WARNING", "RELAY_IDLE_SECONDS": "0.05"})
        try:
            await wait_ready(services)
            if demo:
                print("loading the demo data ...", flush=True)
                await load_demo_data(stack, urls)
            yield RunningSystem(stack, urls, issuer)
        finally:
            for service in services:
                await asyncio.to_thread(service.server.stop, 25.0)
            await stack.stop()
