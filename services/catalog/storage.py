"""The catalog's database: micro-credential versions, written with their events in one transaction."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from mimis_platform.mongo import Document
from mimis_platform.outbox import Outbox, in_transaction
from services.catalog import events
from services.catalog.domain import CredentialDrafted, LanguageMap, MicroCredentialVersion


class CatalogStore:
    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], outbox: Outbox) -> None:
        self.client, self.db, self.outbox = client, db, outbox
        self.versions = db["micro_credential_versions"]

    async def ensure_indexes(self) -> None:
        await self.versions.create_index([("id", ASCENDING), ("version", ASCENDING)], unique=True)
        await self.versions.create_index([("provider_id", ASCENDING), ("status", ASCENDING)])

    async def add_draft(self, draft: MicroCredentialVersion, drafted: list[CredentialDrafted]) -> None:
        async def write(session: AsyncClientSession) -> None:
            await self.versions.insert_one(_to_document(draft), session=session)
            await self.outbox.add_many([events.credential_drafted(e) for e in drafted], session)

        await in_transaction(self.client, write)

    async def get_latest(self, micro_credential_id: str) -> MicroCredentialVersion | None:
        doc = await self.versions.find_one({"id": micro_credential_id}, sort=[("version", -1)])
        return _from_document(doc) if doc else None


def _to_document(v: MicroCredentialVersion) -> dict[str, Any]:
    return {
        "id": v.id, "version": v.version, "provider_id": v.provider_id,
        "title": v.title.model_dump(exclude_none=True), "status": v.status, "created_at": v.created_at,
    }


def _from_document(doc: Document) -> MicroCredentialVersion:
    created = doc["created_at"]
    return MicroCredentialVersion(
        id=doc["id"], version=doc["version"], provider_id=doc["provider_id"], title=LanguageMap(**doc["title"]),
        status=doc["status"], created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
    )
