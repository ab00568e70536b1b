"""The gateway's own short-lived tokens, for partner systems that call with an API key.

The services verify every bearer token themselves, so a call authenticated by an API key needs a
token they trust. The gateway signs one (Ed25519) for the key's subject, roles and organisation,
valid a few minutes, and the services trust the gateway's issuer beside the identity provider
(their ``AUTH_TRUSTED_ISSUERS`` setting holds this issuer and its public JWKS, which the gateway
also serves at ``/.well-known/jwks.json``). The private key never leaves the gateway; a token
minted for one key says so (``sub`` = ``api-key:<id>``, ``mimis_via`` = ``api-key``).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from joserfc import jwt
from joserfc.jwk import OKPKey

from mimis_platform.settings import DEVELOPMENT_SECRET

#: A cached token is replaced this long before it expires.
RENEW_BEFORE_SECONDS = 60


class GatewayTokens:
    def __init__(self, issuer: str, audience: str, key: OKPKey, lifetime_seconds: int = 300,
                 clock: Callable[[], float] = time.time) -> None:
        self.issuer, self.audience, self.key = issuer, audience, key
        self.lifetime_seconds, self._clock = lifetime_seconds, clock
        self._cache: dict[tuple[Any, ...], tuple[str, float]] = {}

    @classmethod
    def from_setting(cls, issuer: str, audience: str, signing_key: str, lifetime_seconds: int) -> GatewayTokens:
        if signing_key == DEVELOPMENT_SECRET:  # development only (the settings refuse it in production)
            key = OKPKey.generate_key("Ed25519", parameters={"kid": f"gateway-dev-{uuid.uuid4().hex[:8]}"})
        else:
            key = OKPKey.import_key(json.loads(signing_key))
        return cls(issuer, audience, key, lifetime_seconds)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def token(self, subject: str, roles: Iterable[str], organisations: Iterable[str], name: str | None) -> str:
        """A token for the subject, from the cache while it has more than a minute left."""
        cache_key = (subject, tuple(sorted(roles)), tuple(sorted(organisations)), name)
        now = self._clock()
        cached = self._cache.get(cache_key)
        if cached is not None and now < cached[1] - RENEW_BEFORE_SECONDS:
            return cached[0]
        issued = int(now)
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": self.audience, "sub": subject, "iat": issued,
            "exp": issued + self.lifetime_seconds, "jti": uuid.uuid4().hex,
            "roles": list(cache_key[1]), "org": list(cache_key[2]), "mimis_via": "api-key",
        }
        if name:
            claims["name"] = name
        token = jwt.encode({"alg": "Ed25519", "kid": self.key.kid}, claims, self.key, algorithms=["Ed25519"])
        if len(self._cache) > 10_000:  # keys are few; this only bounds memory against surprises
            self._cache.clear()
        self._cache[cache_key] = (token, issued + self.lifetime_seconds)
        return token
