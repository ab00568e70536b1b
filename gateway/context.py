"""What every resolver gets: who is calling, the services, the request's DataLoaders, the limits.

The DataLoaders live for one request (their caches must never leak one caller's view to
another) and batch what resolvers ask in the same tick: the providers of a page of 50
micro-credentials are one call to the catalog, however many entries and providers there are.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from gateway.api_keys import ApiKeyStore
from gateway.identity import Authenticator, Identity
from gateway.live import LiveEvents
from gateway.services import Services, seg
from gateway.settings import GatewaySettings

PROVIDER_BATCH = 100  # the catalog's page limit for GET /providers?id=...


class GatewayContext(BaseContext):
    def __init__(self, identity: Identity, services: Services, settings: GatewaySettings,
                 api_keys: ApiKeyStore, authenticator: Authenticator, live: LiveEvents | None = None) -> None:
        super().__init__()
        self.identity, self.services, self.settings, self.api_keys = identity, services, settings, api_keys
        self.authenticator, self.live = authenticator, live
        self.providers: DataLoader[str, dict[str, Any] | None] = DataLoader(
            self._load_providers, max_batch_size=PROVIDER_BATCH)
        self.versions: DataLoader[tuple[str, int], dict[str, Any] | None] = DataLoader(self._load_versions)
        self.review_summaries: DataLoader[str, dict[str, Any] | None] = DataLoader(self._load_summaries)
        # Catalogue searches by their parameters (JSON): the same provider's entries asked under many
        # nodes are one search.
        self.searches: DataLoader[str, dict[str, Any]] = DataLoader(self._load_searches)

    @property
    def token(self) -> str | None:
        return self.identity.forward()

    async def _load_providers(self, ids: list[str]) -> list[dict[str, Any] | None]:
        page = await self.services.get("catalog", "/providers", token=self.token,
                                       params={"id": ids, "limit": PROVIDER_BATCH})
        found = {p["id"]: p for p in page["items"]}
        return [found.get(i) for i in ids]

    async def _load_versions(self, keys: list[tuple[str, int]]) -> list[dict[str, Any] | None]:
        # The catalog has no batch read of exact versions; the loader still dedupes and runs them at once.
        token = self.token
        return list(await asyncio.gather(*(
            self.services.get("catalog", f"/micro-credentials/{seg(mc)}/versions/{seg(n)}", token=token,
                              missing_is_none=True)
            for mc, n in keys)))

    async def _load_searches(self, keys: list[str]) -> list[dict[str, Any]]:
        token = self.token
        return list(await asyncio.gather(*(
            self.services.get("catalog", "/micro-credentials", token=token, params=json.loads(k)) for k in keys)))

    async def _load_summaries(self, ids: list[str]) -> list[dict[str, Any] | None]:
        return list(await asyncio.gather(*(
            self.services.get("quality", f"/summaries/{seg(mc)}", missing_is_none=True) for mc in ids)))


def context_of(info: Info) -> GatewayContext:
    context: GatewayContext = info.context
    return context
