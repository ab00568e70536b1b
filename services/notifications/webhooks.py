"""Sending one webhook: Standard Webhooks signatures, and the SSRF guard.

The guard resolves the host itself, requires every address to be public (unless development
allows private ones), then connects to exactly the address it checked: the request goes to the IP
with the original ``Host`` header and TLS server name, so a DNS answer that changes between the
check and the connection (rebinding) cannot redirect it. Redirects are never followed (a 3xx is a
failure) and only the first bytes of an answer are read.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from standardwebhooks import Webhook

from services.notifications.domain.addresses import UnsafeUrl, check_addresses, check_url_shape

Resolver = Callable[[str, int], Awaitable[list[str]]]
USER_AGENT = "MIMIS-Webhooks/1.0 (+https://mikromeriter.skane.se/webhooks)"
EXCERPT_CHARS = 300


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def resolve_safely(url: str, resolver: Resolver, allow_private: bool) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to); raise :class:`UnsafeUrl` when refused."""
    scheme, host, port = check_url_shape(url, allow_private)
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        try:
            addresses = await resolver(host, port)
        except OSError as exc:
            raise UnsafeUrl(f"{host} does not resolve ({exc.strerror or exc})") from exc
    return scheme, host, port, check_addresses(host, addresses, allow_private)[0]


def signature_header(secrets: Sequence[str], message_id: str, timestamp: int, body: str) -> str:
    at = datetime.fromtimestamp(timestamp, UTC)
    return " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets)


@dataclass(frozen=True)
class AttemptResult:
    status: int | None  # None: no HTTP answer
    latency_ms: float
    error: str | None
    retry_after: str | None = None
    refused: bool = False  # the SSRF guard refused the address: repeating will not help
    excerpt: str | None = None


class WebhookSender:
    def __init__(self, http: httpx.AsyncClient, *, resolver: Resolver = system_resolver, allow_private: bool = False,
                 timeout_seconds: float = 10.0, max_response_bytes: int = 64 * 1024,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.http, self.resolver, self.allow_private = http, resolver, allow_private
        self.timeout_seconds, self.max_response_bytes = timeout_seconds, max_response_bytes
        # The webhook-timestamp is real time: receivers compare it with their own clocks (±5 min).
        self.wall_clock = wall_clock

    async def send(self, url: str, message_id: str, body: str, secrets: Sequence[str]) -> AttemptResult:
        started = time.perf_counter()

        def elapsed() -> float:
            return round((time.perf_counter() - started) * 1000, 2)

        try:
            scheme, host, port, address = await resolve_safely(url, self.resolver, self.allow_private)
        except UnsafeUrl as exc:
            return AttemptResult(None, elapsed(), f"refused: {exc}", refused=True)
        timestamp = int(self.wall_clock())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(secrets, message_id, timestamp, body),
            "host": host if (scheme, port) in (("https", 443), ("http", 80)) else f"{host}:{port}",
        }
        parts = urlsplit(url)
        literal = f"[{address}]" if ":" in address else address
        pinned = urlunsplit((scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        try:
            async with asyncio.timeout(self.timeout_seconds):
                request = self.http.build_request("POST", pinned, content=body.encode(), headers=headers,
                                                  extensions=extensions)
                response = await self.http.send(request, stream=True, follow_redirects=False)
                try:
                    read = b""
                    async for chunk in response.aiter_raw():
                        read += chunk
                        if len(read) >= self.max_response_bytes:
                            break
                finally:
                    await response.aclose()
        except TimeoutError:
            return AttemptResult(None, elapsed(), f"timeout after {self.timeout_seconds:g} s")
        except httpx.TimeoutException as exc:
            return AttemptResult(None, elapsed(), f"timeout: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return AttemptResult(None, elapsed(), f"connection error: {type(exc).__name__}: {exc}"[:500])
        status = response.status_code
        excerpt = read[:EXCERPT_CHARS].decode("utf-8", "replace") or None
        error = None if 200 <= status < 300 else f"HTTP {status}"
        return AttemptResult(status, elapsed(), error, response.headers.get("retry-after"), excerpt=excerpt)
