"""Signing keys and providers' event-signing secrets, sealed at rest.

``signing_keys``: one document per Ed25519 key (``_id`` = kid): its public Multikey, its state
(active / retired / revoked) and the private key sealed with the key-encryption key (AES-GCM,
the kid as associated data). Rotation retires the active key (it stays published, so every
credential it signed still verifies) and makes a new one active, in one transaction.

``provider_secrets``: Standard Webhooks secrets with which each provider signs its assessment
events, sealed the same way; a rotation keeps the previous secret valid for an overlap period.

Nothing here returns or logs a private value except :meth:`KeyStore.signing_key`, which hands
the active key to the signer in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from mimis_platform.mongo import Document
from mimis_platform.outbox import in_transaction
from services.issuance.domain.assessment import new_provider_secret
from services.issuance.domain.keys import KeyRing, KeyState, PublicKey, PublishedKey, SigningKey
from services.issuance.domain.sealing import Sealed, Sealer

RING_CACHE_SECONDS = 10.0  # another replica's rotation is seen within this


def utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def new_kid(now: datetime) -> str:
    return f"key-{now:%Y%m%d}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class KeyInfo:
    """What the API may show of a key: never its private part."""

    kid: str
    verification_method: str
    state: str
    public_key_multibase: str
    created_at: datetime
    retired_at: datetime | None


class KeyStore:
    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], sealer: Sealer,
                 did: str) -> None:
        self.client, self.sealer, self.did = client, sealer, did
        self.keys = db["signing_keys"]
        self.meta = db["issuance_meta"]
        self._ring: KeyRing | None = None
        self._ring_loaded = 0.0
        self._opened: dict[str, SigningKey] = {}
        self._lock = asyncio.Lock()

    async def ensure_indexes(self) -> None:
        await self.keys.create_index([("state", ASCENDING)])

    async def ensure_key(self, now: datetime | None = None) -> None:
        """The first key, made once even when several replicas start together."""
        if await self.keys.find_one({"state": KeyState.ACTIVE.value}) is not None:
            return
        now = now or datetime.now(UTC)

        async def first(session: AsyncClientSession) -> None:
            await self.meta.insert_one({"_id": "first-signing-key", "at": now}, session=session)
            await self._insert(SigningKey.generate(new_kid(now)), now, session)

        with contextlib.suppress(DuplicateKeyError):  # another replica made it
            await in_transaction(self.client, first)

    async def _insert(self, key: SigningKey, now: datetime, session: AsyncClientSession) -> None:
        sealed = self.sealer.seal(key.export_secret_multibase().encode(), f"signing-key:{key.kid}")
        await self.keys.insert_one({
            "_id": key.kid, "state": KeyState.ACTIVE.value, "public_key_multibase": key.public.multikey,
            "created_at": now, "retired_at": None, "revoked_at": None, "sealed": sealed.as_document(),
        }, session=session)

    async def rotate(self, now: datetime | None = None) -> KeyInfo:
        now = now or datetime.now(UTC)
        key = SigningKey.generate(new_kid(now))

        async def work(session: AsyncClientSession) -> None:
            await self.keys.update_many({"state": KeyState.ACTIVE.value},
                                        {"$set": {"state": KeyState.RETIRED.value, "retired_at": now}},
                                        session=session)
            await self._insert(key, now, session)

        await in_transaction(self.client, work)
        self._ring = None
        ring = await self.ring()
        return next(i for i in self.describe(ring) if i.kid == key.kid)

    async def ring(self) -> KeyRing:
        if self._ring is not None and time.monotonic() - self._ring_loaded < RING_CACHE_SECONDS:
            return self._ring
        docs = [d async for d in self.keys.find({}, {"sealed": 0}).sort("created_at", ASCENDING)]
        ring = KeyRing(self.did, tuple(
            PublishedKey(PublicKey.from_multikey(d["_id"], d["public_key_multibase"]), KeyState(d["state"]),
                         utc(d["created_at"]) or datetime.now(UTC), utc(d.get("retired_at")), utc(d.get("revoked_at")))
            for d in docs))
        self._ring, self._ring_loaded = ring, time.monotonic()
        return ring

    async def signing_key(self) -> tuple[SigningKey, str]:
        """The active key and its verification method id (opened once per process per key)."""
        ring = await self.ring()
        active = ring.active
        if active is None:
            await self.ensure_key()
            self._ring = None
            ring = await self.ring()
            active = ring.active
            assert active is not None
        key = self._opened.get(active.kid)
        if key is None:
            async with self._lock:
                doc = await self.keys.find_one({"_id": active.kid})
                assert doc is not None
                secret = self.sealer.open(Sealed.from_document(doc["sealed"]), f"signing-key:{active.kid}")
                key = SigningKey.from_secret_multibase(active.kid, secret.decode())
                self._opened[active.kid] = key
        return key, ring.verification_method_id(active.kid)

    def describe(self, ring: KeyRing) -> list[KeyInfo]:
        return [KeyInfo(k.kid, ring.verification_method_id(k.kid), k.state.value, k.public.multikey,
                        k.created_at, k.retired_at) for k in ring.keys]


@dataclass(frozen=True)
class IssuedSecret:
    secret_id: str
    secret: str  # shown once, to the provider's staff who asked for it
    created_at: datetime
    previous_valid_until: datetime | None


class ProviderSecrets:
    """Each provider's current event-signing secrets, cached briefly (a miss reloads)."""

    CACHE_SECONDS = 30.0

    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], sealer: Sealer,
                 overlap: timedelta) -> None:
        self.client, self.sealer, self.overlap = client, sealer, overlap
        self.secrets = db["provider_secrets"]
        self._cache: dict[str, tuple[float, list[str]]] = {}

    async def ensure_indexes(self) -> None:
        await self.secrets.create_index([("provider_id", ASCENDING), ("created_at", ASCENDING)])

    async def rotate(self, provider_id: str, now: datetime | None = None) -> IssuedSecret:
        now = now or datetime.now(UTC)
        secret, secret_id = new_provider_secret(), f"ps-{uuid.uuid4().hex[:16]}"
        until = now + self.overlap

        async def work(session: AsyncClientSession) -> bool:
            changed = await self.secrets.update_many(
                {"provider_id": provider_id, "$or": [{"expires_at": None}, {"expires_at": {"$gt": until}}]},
                {"$set": {"expires_at": until}}, session=session)
            sealed = self.sealer.seal(secret.encode(), f"provider-secret:{provider_id}:{secret_id}")
            await self.secrets.insert_one({"_id": secret_id, "provider_id": provider_id, "created_at": now,
                                           "expires_at": None, "sealed": sealed.as_document()}, session=session)
            return changed.modified_count > 0

        had_previous = await in_transaction(self.client, work)
        self._cache.pop(provider_id, None)
        return IssuedSecret(secret_id, secret, now, until if had_previous else None)

    async def current(self, provider_id: str, *, fresh: bool = False) -> list[str]:
        cached = self._cache.get(provider_id)
        if cached is not None and not fresh and time.monotonic() - cached[0] < self.CACHE_SECONDS:
            return cached[1]
        now = datetime.now(UTC)
        found: list[str] = []
        async for doc in self.secrets.find({"provider_id": provider_id}):
            expires = utc(doc.get("expires_at"))
            if expires is not None and expires <= now:
                continue
            found.append(self.sealer.open(Sealed.from_document(doc["sealed"]),
                                          f"provider-secret:{provider_id}:{doc['_id']}").decode())
        self._cache[provider_id] = (time.monotonic(), found)
        return found

    async def status(self, provider_id: str) -> list[dict[str, Any]]:
        return [{"secret_id": d["_id"], "created_at": utc(d["created_at"]), "expires_at": utc(d.get("expires_at"))}
                async for d in self.secrets.find({"provider_id": provider_id}, {"sealed": 0}).sort("created_at", 1)]
