"""The quality service's own database (it never reads the catalog's)."""

from __future__ import annotations

from dataclasses import asdict

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from mimis_platform.mongo import Document
from services.quality.domain import KnownMicroCredential


class QualityStore:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.known = db["known_micro_credentials"]

    async def ensure_indexes(self) -> None:
        await self.known.create_index([("micro_credential_id", ASCENDING), ("version", ASCENDING)], unique=True)

    async def record(self, item: KnownMicroCredential, session: AsyncClientSession) -> None:
        # An upsert keyed by (id, version): idempotent even without the consumer's inbox.
        await self.known.update_one(
            {"micro_credential_id": item.micro_credential_id, "version": item.version},
            {"$setOnInsert": asdict(item)}, upsert=True, session=session,
        )

    async def versions_of(self, micro_credential_id: str) -> list[KnownMicroCredential]:
        cursor = self.known.find({"micro_credential_id": micro_credential_id}, {"_id": 0}).sort("version", 1)
        return [KnownMicroCredential(**doc) async for doc in cursor]
