"""Subscriptions (graphql-ws): live events a party may see.

Authenticate on the WebSocket upgrade (``Authorization`` or ``X-API-Key`` header) or, for browsers,
in graphql-ws's ``connection_init`` payload (``{"authorization": "Bearer ..."}`` or
``{"x-api-key": "..."}``). Access is checked when the subscription starts.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.errors import ErrorCode, GatewayError, bad_input
from gateway.identity import Identity
from gateway.schema.common import ctx, parse_time
from mimis_platform.auth import Role
from mimis_platform.envelope import Event


@strawberry.enum
class ReviewEventKind(Enum):
    OPENED = "quality.review.opened.v1"
    DECIDED = "quality.review.decided.v1"


@strawberry.enum
class CredentialEventKind(Enum):
    ISSUED = "issuance.credential.issued.v1"
    REVOKED = "issuance.credential.revoked.v1"
    SUSPENDED = "issuance.credential.suspended.v1"
    REINSTATED = "issuance.credential.reinstated.v1"


@strawberry.type(description="A review opened for, or decided on, one of a provider's micro-credentials.")
class ReviewEvent:
    kind: ReviewEventKind
    review_id: strawberry.ID
    micro_credential_id: strawberry.ID
    version: int
    provider_id: strawberry.ID
    decision: str | None
    comments: list[str]
    at: datetime

    @classmethod
    def of(cls, e: Event) -> ReviewEvent:
        d = e.data
        return cls(kind=ReviewEventKind(e.type), review_id=strawberry.ID(d["review_id"]),
                   micro_credential_id=strawberry.ID(d["micro_credential_id"]), version=d["version"],
                   provider_id=strawberry.ID(d["provider_id"]), decision=d.get("decision"),
                   comments=list(d.get("comments") or []),
                   at=parse_time(d.get("decided_at") or d.get("opened_at")) or e.time)


@strawberry.type(description="A credential a provider issued, revoked, suspended or reinstated (no personal data: a "
                             "learner reference).")
class CredentialEvent:
    kind: CredentialEventKind
    credential_id: strawberry.ID
    micro_credential_id: strawberry.ID
    version: int
    provider_id: strawberry.ID
    learner_ref: str
    reason: str | None
    at: datetime

    @classmethod
    def of(cls, e: Event) -> CredentialEvent:
        d = e.data
        return cls(kind=CredentialEventKind(e.type), credential_id=strawberry.ID(d["credential_id"]),
                   micro_credential_id=strawberry.ID(d["micro_credential_id"]), version=d["version"],
                   provider_id=strawberry.ID(d["provider_id"]), learner_ref=d["learner_ref"], reason=d.get("reason"),
                   at=parse_time(d.get("issued_at") or d.get("revoked_at") or d.get("reinstated_at")
                                 or d.get("suspended_at")) or e.time)


async def _identity(info: Info) -> Identity:
    """The caller, from the upgrade request or else from graphql-ws's connection_init payload."""
    c = ctx(info)
    params: Any = c.connection_params
    if c.identity.principal is None and c.identity.error is None and isinstance(params, dict):
        headers = {k.lower(): str(v) for k, v in params.items() if isinstance(v, str)}
        c.identity = await c.authenticator.identify(headers)
    return c.identity


def _live(info: Info) -> Any:
    live = ctx(info).live
    if live is None:
        raise GatewayError(ErrorCode.SERVICE_UNAVAILABLE, "live events are not available on this gateway",
                           service="kafka")
    return live


@strawberry.type
class Subscription:
    @strawberry.subscription(description="Reviews opened and decided: a provider's members for their provider, the "
                                         "quality board for every provider (or one).")
    async def review_events(self, info: Info, provider_id: strawberry.ID | None = None
                            ) -> AsyncGenerator[ReviewEvent, None]:
        identity = await _identity(info)
        principal = identity.require(Role.PROVIDER_MEMBER, Role.QUALITY_ADMIN)
        if not principal.has_role(Role.QUALITY_ADMIN):
            if provider_id is None:
                raise bad_input("name the provider whose reviews you follow", "providerId", "required")
            identity.require(Role.PROVIDER_MEMBER, organisation=str(provider_id))
        wanted_provider = str(provider_id) if provider_id is not None else None

        def wanted(e: Event) -> bool:
            return e.type in {k.value for k in ReviewEventKind} and (
                wanted_provider is None or e.data.get("provider_id") == wanted_provider)

        async with _live(info).subscribe(wanted) as queue:
            while True:
                yield ReviewEvent.of(await queue.get())

    @strawberry.subscription(description="Credentials a provider issues, revokes, suspends and reinstates (its "
                                         "members).")
    async def credential_events(self, info: Info, provider_id: strawberry.ID) -> AsyncGenerator[CredentialEvent, None]:
        identity = await _identity(info)
        identity.require(Role.PROVIDER_MEMBER, organisation=str(provider_id))

        def wanted(e: Event) -> bool:
            return e.type in {k.value for k in CredentialEventKind} and e.data.get("provider_id") == str(provider_id)

        async with _live(info).subscribe(wanted) as queue:
            while True:
                yield CredentialEvent.of(await queue.get())
