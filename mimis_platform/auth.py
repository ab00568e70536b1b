"""Who is calling: bearer JWTs verified against an OIDC issuer's JWKS, on every service.

The gateway checks access first, but it is not the only wall: each service verifies the same
token and applies its own rules (a provider's members edit that provider's entries, and so
on). Claims MIMIS reads besides the registered ones: ``roles`` (list of :class:`Role`
values), ``org`` (list of organisation ids the person acts for) and ``name``.

For ``make run`` and the tests, :class:`DevelopmentIssuer` signs tokens with a local key and
publishes its JWKS; in production the JWKS comes from the region's identity provider.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OKPKey

from mimis_platform.api_errors import ApiError

# Ed25519 by its new JOSE name (RFC 9864) and the old one; RS256 and ES256 for identity providers.
ACCEPTED_ALGORITHMS = ["Ed25519", "EdDSA", "RS256", "ES256"]


class Role(StrEnum):
    PROVIDER_MEMBER = "provider-member"
    REVIEWER = "reviewer"
    QUALITY_ADMIN = "quality-admin"
    EMPLOYER = "employer"
    MUNICIPALITY = "municipality"
    LEARNER = "learner"
    OPS = "ops"
    REGION_ADMIN = "region-admin"
    # A MIMIS service calling another (client-credentials token from the identity provider; the
    # development issuer in `make run` and the tests). Never given to a person.
    SERVICE = "service"


class Unauthenticated(ApiError):
    status, code = 401, "unauthenticated"


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str] = field(default_factory=frozenset)
    organisations: frozenset[str] = field(default_factory=frozenset)
    name: str | None = None

    def has_role(self, *roles: Role) -> bool:
        return any(r.value in self.roles for r in roles)


class TokenVerifier:
    def __init__(self, keys: KeySet, issuer: str, audience: str, leeway_seconds: int = 30) -> None:
        self.keys, self.issuer, self.audience = keys, issuer, audience
        self._claims = jwt.JWTClaimsRegistry(
            leeway=leeway_seconds,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            sub={"essential": True},
            exp={"essential": True},
        )

    @classmethod
    def from_jwks(cls, jwks: str | dict[str, Any], issuer: str, audience: str) -> TokenVerifier:
        """``jwks``: a JWKS as a dict or JSON text, or a path to a file holding one."""
        if isinstance(jwks, str):
            text = jwks.strip()
            jwks = json.loads(text if text.startswith("{") else Path(text.removeprefix("file://")).read_text())
        return cls(KeySet.import_key_set(jwks), issuer, audience)  # type: ignore[arg-type]

    def verify(self, token: str) -> Principal:
        try:
            decoded = jwt.decode(token, self.keys, algorithms=ACCEPTED_ALGORITHMS)
            self._claims.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise Unauthenticated(f"the bearer token is not valid: {exc}") from exc
        claims = decoded.claims
        return Principal(
            subject=str(claims["sub"]),
            roles=frozenset(str(r) for r in claims.get("roles") or ()),
            organisations=frozenset(str(o) for o in claims.get("org") or ()),
            name=claims.get("name"),
        )


class Verifier(Protocol):
    def verify(self, token: str) -> Principal: ...


class TrustedIssuers:
    """Several issuers, each with its own JWKS: the region's identity provider and, for partner
    systems that call with an API key, the gateway, which exchanges the key for a short-lived token
    of its own. The token's ``iss`` picks the verifier; that verifier checks signature and claims."""

    def __init__(self, verifiers: Iterable[TokenVerifier]) -> None:
        self.by_issuer = {v.issuer: v for v in verifiers}

    def verify(self, token: str) -> Principal:
        verifier = self.by_issuer.get(_unverified_issuer(token))
        if verifier is None:
            raise Unauthenticated("the bearer token is not valid: its issuer is not trusted here")
        return verifier.verify(token)


def _unverified_issuer(token: str) -> str:
    """The ``iss`` claim read without checking anything (only to choose the verifier that will)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["iss"]) if isinstance(claims, dict) else ""
    except (IndexError, KeyError, ValueError, binascii.Error):
        return ""


def verifier_for(issuer: str, audience: str, jwks: str, trusted_issuers: str = "") -> Verifier | None:
    """The verifier a service's settings describe: ``jwks`` for ``issuer`` and, in
    ``trusted_issuers``, a JSON list of further ``{"issuer": ..., "jwks": ...}`` (JWKS as an object,
    JSON text or a file path). None when no issuer is configured."""
    verifiers = [TokenVerifier.from_jwks(jwks, issuer, audience)] if jwks else []
    for extra in json.loads(trusted_issuers) if trusted_issuers.strip() else []:
        verifiers.append(TokenVerifier.from_jwks(extra["jwks"], str(extra["issuer"]), audience))
    if not verifiers:
        return None
    return verifiers[0] if len(verifiers) == 1 else TrustedIssuers(verifiers)


def _verifier(request: Request) -> Verifier:
    verifier: Verifier | None = getattr(request.app.state, "token_verifier", None)
    if verifier is None:
        raise Unauthenticated("this service has no identity provider configured (set its AUTH_JWKS setting)")
    return verifier


def optional_principal(request: Request) -> Principal | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("send the token as 'Authorization: Bearer <token>'")
    return _verifier(request).verify(token.strip())


def required_principal(request: Request) -> Principal:
    principal = optional_principal(request)
    if principal is None:
        raise Unauthenticated("this operation needs a bearer token")
    return principal


CurrentParty = Annotated[Principal, Depends(required_principal)]
OptionalParty = Annotated[Principal | None, Depends(optional_principal)]


class DevelopmentIssuer:
    """A local token issuer for development and tests (never configured in production)."""

    def __init__(self, issuer: str = "https://login.mimis.localhost", audience: str = "mimis",
                 key: OKPKey | None = None) -> None:
        self.issuer, self.audience = issuer, audience
        self.key = key or OKPKey.generate_key("Ed25519", parameters={"kid": f"dev-{uuid.uuid4().hex[:8]}"})

    @classmethod
    def load_or_create(cls, path: Path, **options: Any) -> DevelopmentIssuer:
        if path.exists():
            return cls(key=OKPKey.import_key(json.loads(path.read_text())), **options)
        issuer = cls(**options)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(issuer.key.as_dict(private=True)))
        path.chmod(0o600)
        return issuer

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def verifier(self) -> TokenVerifier:
        return TokenVerifier(KeySet.import_key_set(self.jwks()), self.issuer, self.audience)  # type: ignore[arg-type]

    def token(self, subject: str, roles: Iterable[str | Role] = (), organisations: Iterable[str] = (),
              name: str | None = None, lifetime_seconds: int = 3600) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer, "aud": self.audience, "sub": subject, "iat": now, "exp": now + lifetime_seconds,
            "roles": [str(r) for r in roles], "org": list(organisations),
        }
        if name:
            claims["name"] = name
        return jwt.encode({"alg": "Ed25519", "kid": self.key.kid}, claims, self.key, algorithms=["Ed25519"])
