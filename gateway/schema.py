"""The GraphQL schema (a first placeholder: service status and a micro-credential by id; the
domain schema arrives with the gateway issue)."""

from __future__ import annotations

import asyncio

import httpx
import strawberry
from strawberry.types import Info


@strawberry.type
class ServiceStatus:
    name: str
    ready: bool
    detail: str | None


@strawberry.type
class LanguageMap:
    sv: str
    en: str | None


@strawberry.type
class MicroCredential:
    id: strawberry.ID
    version: int
    provider_id: str
    title: LanguageMap
    status: str


@strawberry.type
class Query:
    @strawberry.field(description="Whether each MIMIS service answers ready.")
    async def services(self, info: Info) -> list[ServiceStatus]:
        http: httpx.AsyncClient = info.context["http"]
        urls: dict[str, str] = info.context["service_urls"]

        async def probe(name: str, url: str) -> ServiceStatus:
            try:
                answer = await http.get(f"{url}/readyz")
                return ServiceStatus(name=name, ready=answer.status_code == 200, detail=None)
            except httpx.HTTPError as exc:
                return ServiceStatus(name=name, ready=False, detail=type(exc).__name__)

        return list(await asyncio.gather(*(probe(n, u) for n, u in urls.items())))

    @strawberry.field(description="The latest version of a micro-credential, or null if there is none.")
    async def micro_credential(self, info: Info, id: strawberry.ID) -> MicroCredential | None:
        http: httpx.AsyncClient = info.context["http"]
        answer = await http.get(f"{info.context['service_urls']['catalog']}/micro-credentials/{id}")
        if answer.status_code == 404:
            return None
        answer.raise_for_status()
        body = answer.json()
        return MicroCredential(
            id=strawberry.ID(body["id"]), version=body["version"], provider_id=body["provider_id"],
            title=LanguageMap(sv=body["title"]["sv"], en=body["title"].get("en")), status=body["status"],
        )


schema = strawberry.Schema(query=Query)
