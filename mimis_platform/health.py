"""Liveness and readiness endpoints for Kubernetes probes.

``/healthz`` answers as long as the event loop does, and never touches a dependency: a broker
outage must not make Kubernetes restart every pod. ``/readyz`` asks each dependency concurrently,
each under the same timeout, and says which one failed and why, so ``kubectl describe`` and the
probe log tell ops where to look.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaConnectionError
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pymongo import AsyncMongoClient

from mimis_platform.kafka import KafkaConnection
from mimis_platform.logs import get_logger

Check = Callable[[], Awaitable[None]]
"""Returns when the dependency answers, raises when it does not."""

#: Longest failure reason a probe answer carries; driver messages can run to kilobytes.
MAX_REASON_LENGTH = 200

_log = get_logger(__name__)


class Liveness(BaseModel):
    status: Literal["alive"] = "alive"


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, str]


def health_router(checks: Mapping[str, Check], timeout_seconds: float = 2.0) -> APIRouter:
    """``GET /healthz`` and ``GET /readyz`` over the named dependency checks."""
    router = APIRouter(tags=["health"])
    named_checks = dict(checks)
    last_outcomes: dict[str, str] = {}

    @router.get("/healthz", response_model=Liveness, summary="The process is alive")
    async def healthz() -> Liveness:
        return Liveness()

    @router.get(
        "/readyz",
        response_model=Readiness,
        summary="Every dependency answers",
        responses={503: {"model": Readiness, "description": "A dependency does not answer"}},
    )
    async def readyz() -> JSONResponse:
        outcomes = await asyncio.gather(
            *(_outcome(check, timeout_seconds) for check in named_checks.values())
        )
        results = dict(zip(named_checks, outcomes, strict=True))
        _log_changes(last_outcomes, results)
        ready = all(outcome == "ok" for outcome in outcomes)
        body = Readiness(status="ready" if ready else "not ready", checks=results)
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    return router


def mongo_check(client: AsyncMongoClient[Any]) -> Check:
    """A MongoDB ``ping`` over the service's own client (and its connection pool)."""

    async def check() -> None:
        await client.admin.command("ping")

    return check


def kafka_check(kafka: KafkaConnection | str, request_timeout_ms: int = 2000) -> KafkaMetadataCheck:
    """A Kafka metadata request over one kept connection; close it with ``aclose()`` at shutdown."""
    return KafkaMetadataCheck(kafka, request_timeout_ms)


class KafkaMetadataCheck:
    """Asks the cluster for its metadata, keeping the client between probes so a probe every few
    seconds does not open (and make the broker accept) a new connection each time. After any
    failure the client is dropped and the next probe bootstraps afresh, so a broker that moved or
    restarted is found again."""

    def __init__(self, kafka: KafkaConnection | str, request_timeout_ms: int = 2000) -> None:
        self.kafka = KafkaConnection.of(kafka)
        self.request_timeout_ms = request_timeout_ms
        self._client: AIOKafkaClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()

    async def __call__(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # aiokafka binds its client to the loop that made it; a new loop needs a new client.
            self._loop, self._client, self._lock = loop, None, asyncio.Lock()
        # Concurrent probes share one request rather than racing to replace the client.
        async with self._lock:
            client = self._client
            try:
                if client is None:
                    client = self._client = AIOKafkaClient(
                        **self.kafka.client_options(),
                        request_timeout_ms=self.request_timeout_ms,
                        client_id="mimis-readiness",
                    )
                    try:
                        await client.bootstrap()
                    except KafkaConnectionError as exc:
                        # aiokafka only logs the socket error; the probe answer should say it.
                        raise KafkaConnectionError(
                            f"no broker answered at {self.kafka.bootstrap_servers}"
                            f" ({await _first_connect_error(client.hosts, self.kafka.ssl_context())})"
                        ) from exc
                await client.fetch_all_metadata()
            except BaseException:
                # Including cancellation by the probe timeout: a half-answered connection is
                # not one to reuse.
                self._client = None
                if client is not None:
                    self._close_later(client)
                raise

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def _close_later(self, client: AIOKafkaClient) -> None:
        # Closing in the background keeps a timed-out probe from overrunning its timeout.
        task = asyncio.get_running_loop().create_task(_close_quietly(client))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


async def _first_connect_error(hosts: list[tuple[str, int, Any]], tls: ssl.SSLContext | None) -> str:
    for host, port, _family in hosts:
        try:
            # With TLS, the handshake too: an untrusted certificate is the usual reason, and says so.
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=tls), 3.0)
        except (OSError, TimeoutError) as exc:
            return str(exc) or type(exc).__name__
        writer.close()
    return "the connection opened but no metadata came back"


async def _close_quietly(client: AIOKafkaClient) -> None:
    with contextlib.suppress(Exception):
        await client.close()


async def _outcome(check: Check, timeout_seconds: float) -> str:
    try:
        await asyncio.wait_for(check(), timeout_seconds)
    except TimeoutError:
        return f"error: no answer within {timeout_seconds:g}s"
    except Exception as exc:  # any failure means "not ready"; the reason goes to the answer
        return f"error: {_short_reason(exc)}"
    return "ok"


def _short_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else "(no message)"
    name = type(exc).__name__
    # Some exceptions (aiokafka's) already start their text with their own name.
    reason = text if text.startswith(name) else f"{name}: {text}"
    if len(reason) > MAX_REASON_LENGTH:
        reason = reason[: MAX_REASON_LENGTH - 1] + "…"
    return reason


def _log_changes(last_outcomes: dict[str, str], results: Mapping[str, str]) -> None:
    # Probes run every few seconds: log when a dependency's state changes, not on every probe.
    for name, outcome in results.items():
        previous = last_outcomes.get(name)
        if previous is not None and (previous == "ok") == (outcome == "ok"):
            continue
        last_outcomes[name] = outcome
        if outcome == "ok":
            _log.info("dependency ready", dependency=name)
        else:
            _log.warning("dependency not ready", dependency=name, reason=outcome)
