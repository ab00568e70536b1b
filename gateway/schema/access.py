"""API keys for partner systems (region administrators create, list and revoke them)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from gateway.api_keys import KEY_ROLES, ApiKey
from gateway.errors import ErrorCode, GatewayError, bad_input
from gateway.schema.common import ctx
from mimis_platform.auth import Role


@strawberry.enum(description="Roles a partner system may hold through an API key.")
class PartnerRole(Enum):
    EMPLOYER = Role.EMPLOYER.value
    MUNICIPALITY = Role.MUNICIPALITY.value
    PROVIDER_MEMBER = Role.PROVIDER_MEMBER.value
    OPS = Role.OPS.value


@strawberry.type(description="A partner system's API key (its secret is shown only when it is created).")
class ApiKeyInfo:
    id: strawberry.ID
    name: str
    organisation: str
    roles: list[str]
    subject: str = strawberry.field(description="The subject the services see for calls made with this key.")
    created_by: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyInfo:
        return cls(id=strawberry.ID(key.id), name=key.name, organisation=key.organisation, roles=list(key.roles),
                   subject=key.subject, created_by=key.created_by, created_at=key.created_at,
                   revoked_at=key.revoked_at)


@strawberry.type
class CreatedApiKey:
    key: ApiKeyInfo
    secret: str = strawberry.field(description="Send as the X-API-Key header. Shown once; store it safely.")


@strawberry.type
class AccessQuery:
    @strawberry.field(description="API keys (region administrators).")
    async def api_keys(self, info: Info, organisation: str | None = None) -> list[ApiKeyInfo] | None:
        c = ctx(info)
        c.identity.require(Role.REGION_ADMIN)
        return [ApiKeyInfo.of(k) for k in await c.api_keys.list(organisation)]


@strawberry.type
class AccessMutation:
    @strawberry.mutation(description="Create an API key for a partner system, scoped to one organisation and roles "
                                     "(region administrators).")
    async def create_api_key(self, info: Info, name: str, organisation: str, roles: list[PartnerRole]
                             ) -> CreatedApiKey | None:
        c = ctx(info)
        admin = c.identity.require(Role.REGION_ADMIN)
        if not name.strip() or len(name) > 200:
            raise bad_input("name must be 1 to 200 characters", "name")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,63}", organisation):
            raise bad_input("organisation is an organisation id as the catalog names providers (e.g. 'hkr')",
                            "organisation")
        if not roles:
            raise bad_input("give the key at least one role", "roles")
        values = [r.value for r in roles]
        assert set(values) <= {r.value for r in KEY_ROLES}
        key, secret = await c.api_keys.create(name.strip(), organisation, values, admin.subject)
        return CreatedApiKey(key=ApiKeyInfo.of(key), secret=secret)

    @strawberry.mutation(description="Revoke an API key at once (region administrators).")
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> ApiKeyInfo | None:
        c = ctx(info)
        c.identity.require(Role.REGION_ADMIN)
        key = await c.api_keys.revoke(str(id))
        if key is None:
            raise GatewayError(ErrorCode.NOT_FOUND, f"no API key with id {id!r}")
        return ApiKeyInfo.of(key)
