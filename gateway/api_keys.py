"""API keys for partner systems, kept in the gateway's own database (collection ``api_keys``).

A key reads ``mimis_<id>_<secret>``. Only an HMAC-SHA256 of the secret is stored, keyed with the
gateway's ``SECRET_KEY`` (a pepper: a copy of the database alone cannot check guesses). The secret
is 256 random bits, so a slow password hash would add nothing but latency on every call. The
secret is shown once, when an administrator creates the key; a revoked key stops at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from mimis_platform.auth import Role

PREFIX = "mimis_"

#: The roles a partner system may hold through a key; people's roles (reviewer, quality-admin,
#: region-admin, learner) and service-to-service calls are never given to a key.
KEY_ROLES = frozenset({Role.EMPLOYER, Role.MUNICIPALITY, Role.PROVIDER_MEMBER, Role.OPS})


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    organisation: str
    roles: tuple[str, ...]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def subject(self) -> str:
        return f"api-key:{self.id}"


class ApiKeyStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], pepper: str) -> None:
        self.keys = db["api_keys"]
        self._pepper = pepper.encode()

    async def ensure_indexes(self) -> None:
        await self.keys.create_index([("organisation", ASCENDING), ("_id", ASCENDING)])

    def _digest(self, secret: str) -> str:
        return hmac.new(self._pepper, secret.encode(), hashlib.sha256).hexdigest()

    async def create(self, name: str, organisation: str, roles: list[str], created_by: str) -> tuple[ApiKey, str]:
        """The stored key and the full key text (shown once)."""
        key = ApiKey(id=secrets.token_hex(8), name=name, organisation=organisation, roles=tuple(sorted(set(roles))),
                     created_by=created_by, created_at=datetime.now(UTC))
        secret = secrets.token_urlsafe(32)
        await self.keys.insert_one({
            "_id": key.id, "name": key.name, "organisation": key.organisation, "roles": list(key.roles),
            "created_by": key.created_by, "created_at": key.created_at, "revoked_at": None,
            "digest": self._digest(secret),
        })
        return key, f"{PREFIX}{key.id}_{secret}"

    async def authenticate(self, presented: str) -> ApiKey | None:
        """The key the text names, if the secret matches and it is not revoked."""
        if not presented.startswith(PREFIX):
            return None
        key_id, _, secret = presented[len(PREFIX):].partition("_")
        if not key_id or not secret or len(presented) > 200:
            return None
        doc = await self.keys.find_one({"_id": key_id})
        if doc is None or doc.get("revoked_at") is not None:
            return None
        if not hmac.compare_digest(doc["digest"], self._digest(secret)):
            return None
        return _key_of(doc)

    async def list(self, organisation: str | None = None, limit: int = 100) -> list[ApiKey]:
        query = {"organisation": organisation} if organisation else {}
        return [_key_of(d) async for d in self.keys.find(query).sort("_id", ASCENDING).limit(limit)]

    async def revoke(self, key_id: str) -> ApiKey | None:
        doc = await self.keys.find_one_and_update({"_id": key_id, "revoked_at": None},
                                                  {"$set": {"revoked_at": datetime.now(UTC)}}, return_document=True)
        if doc is None:
            doc = await self.keys.find_one({"_id": key_id})
        return _key_of(doc) if doc else None


def _key_of(doc: dict[str, Any]) -> ApiKey:
    return ApiKey(id=doc["_id"], name=doc["name"], organisation=doc["organisation"], roles=tuple(doc["roles"]),
                  created_by=doc["created_by"], created_at=doc["created_at"], revoked_at=doc.get("revoked_at"))
