"""The catalog's database. Every change is one transaction holding the domain write, its
events (outbox) and the search projection, so none of them can exist without the others.

Collections: ``providers``, ``micro_credential_versions`` (every version, ``_id`` =
``<id>:<version>``), ``vocabulary`` (the region's additions to the built-in lists),
``pathways``, and the search projection ``catalogue`` (see :mod:`services.catalog.search_index`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from mimis_platform.mongo import Document
from mimis_platform.outbox import Outbox, in_transaction
from services.catalog import events
from services.catalog.domain import lifecycle as lc
from services.catalog.domain.model import MicroCredentialContent, ProviderDetails
from services.catalog.domain.pathways import PathwayContent
from services.catalog.domain.search import catalogue_entry
from services.catalog.domain.vocabulary import BUILT_IN, Term, VocabularyKind
from services.catalog.search_index import CatalogueIndex


class AlreadyExists(Exception):
    pass


class UnknownProvider(Exception):
    pass


@dataclass(frozen=True)
class Provider:
    id: str
    details: ProviderDetails
    members: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Pathway:
    id: str
    content: PathwayContent
    owner_provider_id: str | None
    created_by: str
    created_at: datetime


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class CatalogStore:
    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], outbox: Outbox) -> None:
        self.client, self.db, self.outbox = client, db, outbox
        self.providers = db["providers"]
        self.versions = db["micro_credential_versions"]
        self.vocabulary = db["vocabulary"]
        self.pathways = db["pathways"]
        self.index = CatalogueIndex(db)

    async def ensure_indexes(self) -> None:
        await self.versions.create_index([("micro_credential_id", ASCENDING), ("version", ASCENDING)], unique=True)
        await self.versions.create_index([("provider_id", ASCENDING), ("updated_at", DESCENDING), ("_id", ASCENDING)])
        await self.providers.create_index([("members", ASCENDING)])
        await self.vocabulary.create_index([("kind", ASCENDING), ("code", ASCENDING)], unique=True)
        await self.pathways.create_index([("content.micro_credential_ids", ASCENDING)])
        await self.index.ensure_indexes()

    # --- providers -------------------------------------------------------------------------
    async def register_provider(self, provider_id: str, details: ProviderDetails, first_member: str,
                                now: datetime) -> Provider:
        provider = Provider(provider_id, details, (first_member,), now, now)

        async def work(session: AsyncClientSession) -> None:
            await self.providers.insert_one(_provider_doc(provider), session=session)
            await self.outbox.add(events.provider_event(events.PROVIDER_REGISTERED, provider_id, details, now), session)

        try:
            await in_transaction(self.client, work)
        except DuplicateKeyError as exc:
            raise AlreadyExists(f"a provider with id {provider_id!r} already exists") from exc
        return provider

    async def update_provider(self, provider_id: str, details: ProviderDetails, now: datetime) -> Provider:
        async def work(session: AsyncClientSession) -> Provider:
            doc = await self.providers.find_one_and_update(
                {"_id": provider_id},
                {"$set": {"details": details.model_dump(mode="json", exclude_none=True), "updated_at": now}},
                session=session, return_document=True,
            )
            if doc is None:
                raise UnknownProvider(provider_id)
            await self.outbox.add(events.provider_event(events.PROVIDER_UPDATED, provider_id, details, now), session)
            # The search projection carries the provider's name (and searches it): rebuild its entries.
            async for published in self.versions.find({"provider_id": provider_id, "status": lc.Status.PUBLISHED.value},
                                                      session=session):
                entry = catalogue_entry(_version_of(published), details.name, details.kind.value)
                await self.index.upsert(entry, session)
            return _provider_of(doc)

        result: Provider = await in_transaction(self.client, work)
        return result

    async def set_members(self, provider_id: str, add: str | None = None, remove: str | None = None) -> Provider:
        update: dict[str, Any] = {"$addToSet": {"members": add}} if add else {"$pull": {"members": remove}}
        doc = await self.providers.find_one_and_update({"_id": provider_id}, update, return_document=True)
        if doc is None:
            raise UnknownProvider(provider_id)
        return _provider_of(doc)

    async def provider(self, provider_id: str, session: AsyncClientSession | None = None) -> Provider | None:
        doc = await self.providers.find_one({"_id": provider_id}, session=session)
        return _provider_of(doc) if doc else None

    async def list_providers(self, after: str | None, limit: int, only: Sequence[str] | None = None) -> list[Provider]:
        condition: dict[str, Any] = {"$gt": after} if after else {}
        if only is not None:
            condition["$in"] = list(only)
        query = {"_id": condition} if condition else {}
        return [_provider_of(d) async for d in self.providers.find(query).sort("_id", 1).limit(limit)]

    # --- micro-credential versions ------------------------------------------------------------
    async def change(self, micro_credential_id: str,
                     decide: Callable[[list[lc.MicroCredentialVersion], Provider], lc.Outcome],
                     provider_id: str | None = None, session: AsyncClientSession | None = None) -> lc.Outcome:
        """Read the micro-credential's versions, let ``decide`` (pure) say what changes, and write
        versions, events and search projection in one transaction (the caller's, when an event
        handler passes its ``session``). A concurrent change of the same micro-credential
        conflicts on its documents and the whole step is retried."""

        async def work(session: AsyncClientSession) -> lc.Outcome:
            versions = await self.versions_of(micro_credential_id, session)
            owner = versions[0].provider_id if versions else provider_id
            provider = await self.provider(owner, session) if owner else None
            if provider is None:
                raise UnknownProvider(owner or "")
            outcome = decide(versions, provider)
            for version in outcome.changed:
                await self.versions.replace_one({"_id": _version_id(version)}, _version_doc(version), upsert=True,
                                                session=session)
                if version.status is lc.Status.PUBLISHED:
                    await self.index.upsert(
                        catalogue_entry(version, provider.details.name, provider.details.kind.value), session)
                elif version.status is lc.Status.RETIRED:
                    await self.index.remove(version.micro_credential_id, session)
            await self.outbox.add_many([events.lifecycle_event(e, provider.details) for e in outcome.events], session)
            return outcome

        if session is not None:
            return await work(session)
        result: lc.Outcome = await in_transaction(self.client, work)
        return result

    async def versions_of(self, micro_credential_id: str,
                          session: AsyncClientSession | None = None) -> list[lc.MicroCredentialVersion]:
        cursor = self.versions.find({"micro_credential_id": micro_credential_id}, session=session).sort("version", 1)
        return [_version_of(d) async for d in cursor]

    async def by_provider(self, provider_id: str, statuses: Sequence[str] | None, after: tuple[datetime, str] | None,
                          limit: int) -> list[lc.MicroCredentialVersion]:
        query: dict[str, Any] = {"provider_id": provider_id}
        if statuses:
            query["status"] = {"$in": list(statuses)}
        if after:
            at, key = after
            query["$or"] = [{"updated_at": {"$lt": at}}, {"updated_at": at, "_id": {"$gt": key}}]
        cursor = self.versions.find(query).sort([("updated_at", -1), ("_id", 1)]).limit(limit)
        return [_version_of(d) async for d in cursor]

    # --- vocabulary -------------------------------------------------------------------------
    async def terms(self, kind: VocabularyKind) -> list[Term]:
        added = [Term(kind, d["code"], d["sv"], d["en"]) async for d in self.vocabulary.find({"kind": kind.value})]
        return [t for t in BUILT_IN if t.kind is kind] + sorted(added, key=lambda t: t.code)

    async def add_term(self, term: Term) -> None:
        if term.code in {t.code for t in BUILT_IN if t.kind is term.kind}:
            raise AlreadyExists(f"{term.kind} {term.code!r} is already in the list")
        try:
            await self.vocabulary.insert_one({"kind": term.kind.value, "code": term.code, "sv": term.sv, "en": term.en})
        except DuplicateKeyError as exc:
            raise AlreadyExists(f"{term.kind} {term.code!r} is already in the list") from exc

    # --- pathways ---------------------------------------------------------------------------
    async def add_pathway(self, pathway: Pathway) -> None:
        try:
            await self.pathways.insert_one({
                "_id": pathway.id, "content": pathway.content.model_dump(mode="json", exclude_none=True),
                "owner_provider_id": pathway.owner_provider_id, "created_by": pathway.created_by,
                "created_at": pathway.created_at,
            })
        except DuplicateKeyError as exc:
            raise AlreadyExists(f"a pathway with id {pathway.id!r} already exists") from exc

    async def pathway(self, pathway_id: str) -> Pathway | None:
        doc = await self.pathways.find_one({"_id": pathway_id})
        return _pathway_of(doc) if doc else None

    async def list_pathways(self, after: str | None, limit: int) -> list[Pathway]:
        query = {"_id": {"$gt": after}} if after else {}
        return [_pathway_of(d) async for d in self.pathways.find(query).sort("_id", 1).limit(limit)]

    async def published_ids(self, micro_credential_ids: Sequence[str]) -> set[str]:
        found = self.index.collection.find({"_id": {"$in": list(micro_credential_ids)}}, {"_id": 1})
        return {d["_id"] async for d in found}


# --- documents <-> domain ---------------------------------------------------------------------


def _provider_doc(p: Provider) -> dict[str, Any]:
    return {"_id": p.id, "details": p.details.model_dump(mode="json", exclude_none=True), "members": list(p.members),
            "created_at": p.created_at, "updated_at": p.updated_at}


def _provider_of(doc: Document) -> Provider:
    return Provider(doc["_id"], ProviderDetails.model_validate(doc["details"]), tuple(doc.get("members", ())),
                    _utc(doc["created_at"]), _utc(doc["updated_at"]))


def _version_id(v: lc.MicroCredentialVersion) -> str:
    return f"{v.micro_credential_id}:{v.version}"


def _version_doc(v: lc.MicroCredentialVersion) -> dict[str, Any]:
    review = None
    if v.review is not None:
        review = {"review_id": v.review.review_id, "decision": v.review.decision.value if v.review.decision else None,
                  "comments": list(v.review.comments), "reason": v.review.reason,
                  "criteria_version": v.review.criteria_version, "decided_at": v.review.decided_at}
    return {
        "_id": _version_id(v), "micro_credential_id": v.micro_credential_id, "version": v.version,
        "provider_id": v.provider_id, "content": v.content.model_dump(mode="json", exclude_none=True),
        "status": v.status.value, "created_at": v.created_at, "updated_at": v.updated_at,
        "published_at": v.published_at, "review": review,
        "history": [{"status": h.status.value, "at": h.at, "by": h.by} for h in v.history],
    }


def _version_of(doc: Document) -> lc.MicroCredentialVersion:
    review = None
    if doc.get("review"):
        r = doc["review"]
        review = lc.ReviewOutcome(
            r["review_id"], lc.Decision(r["decision"]) if r.get("decision") else None, tuple(r.get("comments") or ()),
            r.get("reason"), r.get("criteria_version"), _utc(r["decided_at"]) if r.get("decided_at") else None,
        )
    return lc.MicroCredentialVersion(
        micro_credential_id=doc["micro_credential_id"], version=doc["version"], provider_id=doc["provider_id"],
        content=MicroCredentialContent.model_validate(doc["content"]), status=lc.Status(doc["status"]),
        created_at=_utc(doc["created_at"]), updated_at=_utc(doc["updated_at"]),
        history=tuple(lc.StatusChange(lc.Status(h["status"]), _utc(h["at"]), h["by"]) for h in doc.get("history", ())),
        review=review, published_at=_utc(doc["published_at"]) if doc.get("published_at") else None,
    )


def _pathway_of(doc: Document) -> Pathway:
    return Pathway(doc["_id"], PathwayContent.model_validate(doc["content"]), doc.get("owner_provider_id"),
                   doc["created_by"], _utc(doc["created_at"]))
