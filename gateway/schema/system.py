"""The caller and the services, as the gateway sees them."""

from __future__ import annotations

import asyncio

import httpx
import strawberry
from strawberry.types import Info

from gateway.schema.common import ctx


@strawberry.type(description="Whether one MIMIS service answers ready.")
class ServiceStatus:
    name: str
    ready: bool


@strawberry.type(description="Who the gateway takes the caller to be.")
class Viewer:
    subject: str
    roles: list[str]
    organisations: list[str]
    via_api_key: bool


@strawberry.type
class SystemQuery:
    @strawberry.field(description="The caller: subject, roles and organisations (null when anonymous).")
    def viewer(self, info: Info) -> Viewer | None:
        identity = ctx(info).identity
        identity.forward()  # credentials that did not hold are an error, not anonymity
        p = identity.principal
        if p is None:
            return None
        return Viewer(subject=p.subject, roles=sorted(p.roles), organisations=sorted(p.organisations),
                      via_api_key=identity.via_api_key)

    @strawberry.field(description="Whether each MIMIS service answers ready.")
    async def services(self, info: Info) -> list[ServiceStatus]:
        c = ctx(info)

        async def probe(name: str, url: str) -> ServiceStatus:
            try:
                answer = await c.services.http.get(f"{url}/readyz")
                return ServiceStatus(name=name, ready=answer.status_code == 200)
            except httpx.HTTPError:
                return ServiceStatus(name=name, ready=False)

        return list(await asyncio.gather(*(probe(n, u) for n, u in c.services.urls.items())))
