"""Bearer tokens for one MIMIS service calling another (role ``service``).

In production a service obtains a token from the identity provider with the OAuth2
client-credentials grant (RFC 6749 §4.4) and keeps it until shortly before it expires; in
development and tests the development issuer (whose key ``make run`` keeps in
``.stack/dev-issuer-key.json``) signs one locally. Callers only ask :meth:`TokenSource.token`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import httpx

from mimis_platform.auth import DevelopmentIssuer, Role

if TYPE_CHECKING:
    from mimis_platform.settings import CallerSettings

#: A token is renewed this long before it expires (clock skew, the time a call takes).
RENEW_BEFORE_SECONDS = 60.0


class TokenUnavailable(RuntimeError):
    """No token could be obtained (the identity provider refused or could not be reached)."""


class TokenSource(Protocol):
    async def token(self) -> str: ...


class _Cached:
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    def fresh(self) -> str | None:
        if self._token is not None and self._clock() < self._expires_at - RENEW_BEFORE_SECONDS:
            return self._token
        return None

    def keep(self, token: str, lifetime_seconds: float) -> str:
        self._token, self._expires_at = token, self._clock() + lifetime_seconds
        return token


class DevelopmentTokenSource:
    """Signs service tokens with the development issuer (``make run`` and tests only)."""

    def __init__(self, issuer: DevelopmentIssuer, subject: str, lifetime_seconds: int = 3600,
                 clock: Callable[[], float] = time.time) -> None:
        self.issuer, self.subject, self.lifetime_seconds = issuer, subject, lifetime_seconds
        self._cache = _Cached(clock)

    @classmethod
    def from_key_file(cls, path: Path, subject: str, issuer: str, audience: str) -> DevelopmentTokenSource:
        if not path.exists():
            raise TokenUnavailable(f"no development issuer key at {path} (`make run` writes it)")
        return cls(DevelopmentIssuer.load_or_create(path, issuer=issuer, audience=audience), subject)

    async def token(self) -> str:
        cached = self._cache.fresh()
        if cached is not None:
            return cached
        token = self.issuer.token(self.subject, [Role.SERVICE], lifetime_seconds=self.lifetime_seconds)
        return self._cache.keep(token, self.lifetime_seconds)


class ClientCredentialsTokenSource:
    """OAuth2 client credentials: ``POST token_url`` with HTTP Basic client authentication."""

    def __init__(self, http: httpx.AsyncClient, token_url: str, client_id: str, client_secret: str,
                 scope: str = "", audience: str = "", clock: Callable[[], float] = time.time) -> None:
        self.http, self.token_url = http, token_url
        self.client_id, self.client_secret, self.scope, self.audience = client_id, client_secret, scope, audience
        self._cache = _Cached(clock)

    async def token(self) -> str:
        cached = self._cache.fresh()
        if cached is not None:
            return cached
        async with self._cache._lock:  # one request when many callers find the token stale at once
            cached = self._cache.fresh()
            if cached is not None:
                return cached
            form = {"grant_type": "client_credentials"}
            if self.scope:
                form["scope"] = self.scope
            if self.audience:
                form["audience"] = self.audience
            try:
                answer = await self.http.post(self.token_url, data=form, auth=(self.client_id, self.client_secret),
                                              headers={"accept": "application/json"})
            except httpx.HTTPError as exc:
                raise TokenUnavailable(f"token endpoint {self.token_url} unreachable: {exc}") from exc
            if answer.status_code != 200:
                raise TokenUnavailable(f"token endpoint {self.token_url} answered {answer.status_code}: "
                                       f"{answer.text[:200]}")
            try:
                body = answer.json()
                token = str(body["access_token"])
                lifetime = float(body.get("expires_in") or 300)
            except (ValueError, KeyError, TypeError) as exc:
                raise TokenUnavailable(f"token endpoint {self.token_url} gave no access_token") from exc
            return self._cache.keep(token, lifetime)


class DevelopmentKeyFileTokens:
    """Reads the development issuer's key on first use (``make run`` writes it before starting
    the services, so a service may start before the file exists)."""

    def __init__(self, settings: CallerSettings) -> None:
        self.settings = settings
        self._source: DevelopmentTokenSource | None = None

    async def token(self) -> str:
        if self._source is None:
            s = self.settings
            self._source = DevelopmentTokenSource.from_key_file(
                Path(s.dev_issuer_key_path), f"service:{s.service_name}", s.auth_issuer, s.auth_audience)
        return await self._source.token()


def token_source(settings: CallerSettings, http: httpx.AsyncClient) -> TokenSource:
    """The token source a service's settings describe (see :class:`CallerSettings`)."""
    if settings.token_url:
        return ClientCredentialsTokenSource(http, settings.token_url, settings.token_client_id,
                                            settings.client_secret.get_secret_value(), settings.token_scope,
                                            settings.auth_audience)
    if settings.environment == "production":
        raise TokenUnavailable(f"production needs {settings.model_config.get('env_prefix', '')}TOKEN_URL")
    return DevelopmentKeyFileTokens(settings)
