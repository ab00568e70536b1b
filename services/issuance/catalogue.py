"""Issuance's own read model of the catalogue, fed by the catalog's events (it never reads the
catalog's database): every published version with its full content, and every provider's
details (the awarding body on a credential).

``catalogue_versions`` (``_id`` = ``<micro_credential_id>@<version>``) and ``providers``
(``_id`` = provider id). Writes are idempotent upserts, so a redelivered event changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from mimis_platform.consumer import Handler, RetryableError
from mimis_platform.envelope import Event
from mimis_platform.mongo import Document
from services.catalog.domain.model import MicroCredentialContent, ProviderDetails
from services.issuance.domain.credential import CatalogueVersion
from services.issuance.domain.statistics import VersionFacts

PUBLISHED = "published"
NO_LONGER_PUBLISHED = ("superseded", "retired")


class NotIssuable(Exception):
    """The catalogue says no (the message says why); ``final`` False when it may change (not
    heard of yet), True when it never will for this event."""

    def __init__(self, message: str, *, final: bool) -> None:
        super().__init__(message)
        self.final = final


def version_key(micro_credential_id: str, version: int) -> str:
    return f"{micro_credential_id}@{version}"


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


class CatalogueReadModel:
    #: How long the hot path trusts what it read (the catalog's own events arrive asynchronously
    #: anyway; this adds at most this much to the time a retirement takes to reach issuance).
    CACHE_SECONDS = 5.0

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.versions = db["catalogue_versions"]
        self.providers = db["providers"]
        self._parsed: dict[tuple[str, Any], CatalogueVersion] = {}
        self._recent: dict[tuple[str, str, int], tuple[float, CatalogueVersion]] = {}

    async def issuable_cached(self, provider_id: str, micro_credential_id: str, version: int) -> CatalogueVersion:
        """:meth:`issuable`, remembering a yes for :attr:`CACHE_SECONDS` (a no is never remembered)."""
        key = (provider_id, micro_credential_id, version)
        hit = self._recent.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.CACHE_SECONDS:
            return hit[1]
        found = await self.issuable(provider_id, micro_credential_id, version)
        if len(self._recent) > 5000:
            self._recent.clear()
        self._recent[key] = (time.monotonic(), found)
        return found

    async def ensure_indexes(self) -> None:
        await self.versions.create_index([("micro_credential_id", ASCENDING), ("version", ASCENDING)], unique=True)

    # --- events -------------------------------------------------------------------------------
    async def on_published(self, data: dict[str, Any], session: AsyncClientSession) -> None:
        mc, version = data["micro_credential_id"], data["version"]
        await self.versions.update_one(
            {"_id": version_key(mc, version)},
            {"$set": {"micro_credential_id": mc, "version": version, "provider_id": data["provider_id"],
                      "provider_name": data["provider_name"], "content": data["content"], "status": PUBLISHED,
                      "published_at": _time(data["published_at"])}},
            upsert=True, session=session)
        if data.get("supersedes_version"):
            await self._set_status(mc, data["supersedes_version"], "superseded", session)

    async def on_status_changed(self, data: dict[str, Any], session: AsyncClientSession) -> None:
        if data["status"] in NO_LONGER_PUBLISHED:
            await self._set_status(data["micro_credential_id"], data["version"], data["status"], session)

    async def _set_status(self, mc: str, version: int, status: str, session: AsyncClientSession) -> None:
        await self.versions.update_one({"_id": version_key(mc, version)}, {"$set": {"status": status}},
                                       session=session)

    async def on_provider(self, data: dict[str, Any], session: AsyncClientSession) -> None:
        await self.providers.update_one({"_id": data["provider_id"]},
                                        {"$set": {"details": data["details"], "at": _time(data["at"])}},
                                        upsert=True, session=session)

    def routes(self) -> dict[str, Handler]:
        async def published(event: Event, session: AsyncClientSession) -> None:
            await self.on_published(event.data, session)

        async def status_changed(event: Event, session: AsyncClientSession) -> None:
            await self.on_status_changed(event.data, session)

        async def provider(event: Event, session: AsyncClientSession) -> None:
            await self.on_provider(event.data, session)

        return {
            "catalog.credential.published.v1": published,
            "catalog.credential.status-changed.v1": status_changed,
            "catalog.provider.registered.v1": provider,
            "catalog.provider.updated.v1": provider,
        }

    # --- queries ------------------------------------------------------------------------------
    async def issuable(self, provider_id: str, micro_credential_id: str, version: int,
                       session: AsyncClientSession | None = None) -> CatalogueVersion:
        """The published version, owned by ``provider_id``, or :class:`NotIssuable` saying why."""
        doc = await self.versions.find_one({"_id": version_key(micro_credential_id, version)}, session=session)
        if doc is None:
            raise NotIssuable(f"micro-credential {micro_credential_id} version {version} is not published "
                              f"(not known to issuance)", final=False)
        if doc["provider_id"] != provider_id:
            raise NotIssuable(f"provider {provider_id} does not own micro-credential {micro_credential_id}",
                              final=True)
        if doc["status"] != PUBLISHED:
            raise NotIssuable(f"micro-credential {micro_credential_id} version {version} is not published "
                              f"({doc['status']})", final=True)
        provider = await self.providers.find_one({"_id": provider_id}, session=session)
        if provider is None:
            raise NotIssuable(f"provider {provider_id} is not known to issuance yet", final=False)
        cache_key = (doc["_id"], provider.get("at"))
        parsed = self._parsed.get(cache_key)
        if parsed is None:
            # Parsing the content is the costly part of a look-up; a version's content never changes.
            parsed = CatalogueVersion(
                micro_credential_id=micro_credential_id, version=version, provider_id=provider_id,
                provider=ProviderDetails.model_validate(provider["details"]),
                content=MicroCredentialContent.model_validate(doc["content"]))
            if len(self._parsed) > 5000:
                self._parsed.clear()
            self._parsed[cache_key] = parsed
        return parsed

    async def facts(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], VersionFacts]:
        """The branches and level of these exact versions and their provider's kind (for statistics)."""
        ids = sorted({version_key(mc, version) for mc, version in keys})
        if not ids:
            return {}
        versions = [doc async for doc in self.versions.find(
            {"_id": {"$in": ids}},
            {"micro_credential_id": 1, "version": 1, "provider_id": 1, "content.branches": 1, "content.level": 1})]
        provider_ids = sorted({str(doc["provider_id"]) for doc in versions})
        kinds = {str(doc["_id"]): (doc.get("details") or {}).get("kind") async for doc in self.providers.find(
            {"_id": {"$in": provider_ids}}, {"details.kind": 1})}
        found: dict[tuple[str, int], VersionFacts] = {}
        for doc in versions:
            content = doc.get("content") or {}
            level = (content.get("level") or {}).get("eqf")
            kind = kinds.get(str(doc["provider_id"]))
            found[(str(doc["micro_credential_id"]), int(doc["version"]))] = VersionFacts(
                branches=tuple(str(b) for b in content.get("branches") or ()),
                level=int(level) if level is not None else None, provider_kind=str(kind) if kind else None)
        return found

    async def version_exists(self, micro_credential_id: str, version: int) -> str | None:
        doc = await self.versions.find_one({"_id": version_key(micro_credential_id, version)}, {"status": 1})
        return None if doc is None else str(doc["status"])


def retry_unless_final(exc: NotIssuable) -> RetryableError:
    return RetryableError(str(exc))
