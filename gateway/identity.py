"""Who is calling the gateway: a person with a bearer JWT from the identity provider, a partner
system with an API key, or nobody (public fields only).

The result is an :class:`Identity`: the principal (roles, organisations) the resolvers check, and
the token the gateway forwards to the services, which check it again: the caller's own JWT, or for
an API key a short-lived token the gateway signs (:mod:`gateway.tokens`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.api_keys import ApiKeyStore
from gateway.errors import GatewayError, forbidden, unauthenticated
from gateway.tokens import GatewayTokens
from mimis_platform.auth import Principal, Role, Unauthenticated, Verifier

API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True)
class Identity:
    principal: Principal | None = None
    token: str | None = None
    via_api_key: bool = False
    #: Set when the request carried credentials that did not hold; raised when a field needs them.
    error: GatewayError | None = None

    def require(self, *roles: Role, organisation: str | None = None) -> Principal:
        """The principal, if it has one of ``roles`` (any role when none are named) and, when
        ``organisation`` is named, acts for it."""
        if self.error is not None:
            raise self.error
        if self.principal is None:
            raise unauthenticated()
        if roles and not self.principal.has_role(*roles):
            raise forbidden(f"this needs one of the roles: {', '.join(r.value for r in roles)}")
        if organisation is not None and organisation not in self.principal.organisations:
            raise forbidden(f"you do not act for the organisation {organisation!r}")
        return self.principal

    def forward(self) -> str | None:
        """The token to send the services (None: call them anonymously)."""
        if self.error is not None:
            raise self.error
        return self.token


ANONYMOUS = Identity()


class Authenticator:
    def __init__(self, verifier: Verifier | None, api_keys: ApiKeyStore, tokens: GatewayTokens) -> None:
        self.verifier, self.api_keys, self.tokens = verifier, api_keys, tokens

    async def identify(self, headers: Mapping[str, str]) -> Identity:
        key = headers.get(API_KEY_HEADER)
        authorization = headers.get("authorization")
        if key and authorization:
            return Identity(error=unauthenticated("send either a bearer token or an API key, not both"))
        if key:
            return await self._api_key(key.strip())
        if not authorization:
            return ANONYMOUS
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Identity(error=unauthenticated("send the token as 'Authorization: Bearer <token>'"))
        if self.verifier is None:
            return Identity(error=unauthenticated("the gateway has no identity provider configured"))
        try:
            principal = self.verifier.verify(token.strip())
        except Unauthenticated as exc:
            return Identity(error=unauthenticated(exc.message))
        if principal.has_role(Role.SERVICE):
            return Identity(error=unauthenticated("service tokens are for calls between services, not the gateway"))
        return Identity(principal=principal, token=token.strip())

    async def _api_key(self, presented: str) -> Identity:
        key = await self.api_keys.authenticate(presented)
        if key is None:
            return Identity(error=unauthenticated("the API key is not valid (unknown, revoked or mistyped)"))
        principal = Principal(subject=key.subject, roles=frozenset(key.roles),
                              organisations=frozenset({key.organisation}), name=key.name)
        token = self.tokens.token(key.subject, key.roles, [key.organisation], key.name)
        return Identity(principal=principal, token=token, via_api_key=True)
