"""The notifications service's own database.

Collections: ``subscriptions`` (``_id`` = subscription id; the signing secret sealed),
``payloads`` (one webhook body per event, shared by its deliveries, so a retry sends the very
same bytes), ``deliveries`` (one per (event, target): a webhook subscription or an e-mail; the
``_id`` is the ``webhook-id`` the partner sees; its ``attempt_log`` holds every try, so the log
costs no write of its own), and ``providers`` (a projection of the catalog's provider events: where a provider's
review outcome goes). A learner's e-mail address is never stored here: it is asked from issuance
when the message is sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from mimis_platform.mongo import Document
from mimis_platform.outbox import in_transaction
from services.notifications.domain.subscriptions import Filters, Subscription


class DeliveryStatus:
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"  # attempts used up, or a failure that repeating cannot fix
    SKIPPED = "skipped"  # nothing to send (e.g. the learner was erased)
    HELD = "held"  # its endpoint is disabled; sent when it is enabled again


WEBHOOK, EMAIL = "webhook", "email"
EPOCH_MS = timedelta(milliseconds=1)
MAX_LOGGED_ATTEMPTS = 50  # the newest attempts a delivery keeps (manual redeliveries can add more)


def delivery_id(event_key: str, target: str) -> str:
    """Deterministic, so the same (event, target) can only ever be one delivery: the ``webhook-id``."""
    return "msg_" + hashlib.sha256(f"{event_key}\n{target}".encode()).hexdigest()[:32]


def event_key(source: str, event_id: str) -> str:
    return f"{source}|{event_id}"


def sort_key(at: datetime, doc_id: str) -> str:
    return f"{at.strftime('%Y%m%dT%H%M%S.%f')}|{doc_id}"


def subscription_doc(s: Subscription, sealed_secret: str) -> Document:
    return {
        "_id": s.id, "organisation_id": s.organisation_id, "url": s.url, "event_types": list(s.event_types),
        "filters": {"branches": sorted(s.filters.branches), "providers": sorted(s.filters.providers),
                    "micro_credentials": sorted(s.filters.micro_credentials)},
        "owner_email": s.owner_email, "language": s.language, "description": s.description,
        "enabled": s.enabled, "disabled_reason": s.disabled_reason, "created_by": s.created_by,
        "created_at": s.created_at, "updated_at": s.updated_at, "consecutive_failures": s.consecutive_failures,
        "secret": sealed_secret, "previous_secret": None, "previous_secret_until": None,
        "secret_rotated_at": s.secret_rotated_at, "metadata": dict(s.metadata),
    }


def subscription_of(d: Mapping[str, Any]) -> Subscription:
    f = d.get("filters") or {}
    return Subscription(
        id=d["_id"], organisation_id=d["organisation_id"], url=d["url"], event_types=tuple(d["event_types"]),
        filters=Filters(frozenset(f.get("branches") or ()), frozenset(f.get("providers") or ()),
                        frozenset(f.get("micro_credentials") or ())),
        owner_email=d["owner_email"], language=d.get("language", "sv"), description=d.get("description", ""),
        enabled=d["enabled"], disabled_reason=d.get("disabled_reason"), created_by=d["created_by"],
        created_at=d["created_at"], updated_at=d["updated_at"],
        consecutive_failures=d.get("consecutive_failures", 0), secret_rotated_at=d.get("secret_rotated_at"),
        metadata=dict(d.get("metadata") or {}),
    )


@dataclass(frozen=True)
class ProviderContact:
    provider_id: str
    name: str
    email: str


class NotificationsStore:
    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document],
                 retention: timedelta = timedelta(days=30)) -> None:
        self.client, self.retention = client, retention
        self.subscriptions = db["subscriptions"]
        self.payloads = db["payloads"]
        self.deliveries = db["deliveries"]
        self.providers = db["providers"]

    async def ensure_indexes(self) -> None:
        await self.subscriptions.create_index([("organisation_id", ASCENDING), ("_id", ASCENDING)])
        await self.subscriptions.create_index([("event_types", ASCENDING), ("enabled", ASCENDING)])
        # One delivery per (event, target) is the ``_id`` itself (derived from the pair, see
        # ``delivery_id``): its unique index refuses a second one, and a separate compound unique
        # index would cost every write again (each index is rewritten on every update on the
        # local database). The other indexes serve the worker's claim and the delivery log.
        d = self.deliveries
        await d.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
        await d.create_index([("subscription_id", ASCENDING), ("sort_key", DESCENDING)])
        # Retention: a delivery gets ``expires_at`` when it is final (delivered, failed, skipped);
        # waiting ones never expire. A payload outlives the retention of its deliveries' log.
        await d.create_index([("expires_at", ASCENDING)], expireAfterSeconds=0)
        await self.payloads.create_index([("created_at", ASCENDING)],
                                         expireAfterSeconds=int(self.retention.total_seconds()) * 2)

    # --- subscriptions ----------------------------------------------------------------------
    async def add_subscription(self, s: Subscription, sealed_secret: str) -> None:
        await self.subscriptions.insert_one(subscription_doc(s, sealed_secret))

    async def subscription(self, subscription_id: str) -> Subscription | None:
        doc = await self.subscriptions.find_one({"_id": subscription_id})
        return subscription_of(doc) if doc else None

    async def subscriptions_of(self, organisations: Sequence[str] | None, after: str | None,
                               limit: int) -> list[Subscription]:
        query: Document = {}
        if organisations is not None:
            query["organisation_id"] = {"$in": sorted(organisations)}
        if after:
            query["_id"] = {"$gt": after}
        cursor = self.subscriptions.find(query).sort("_id", ASCENDING).limit(limit)
        return [subscription_of(d) async for d in cursor]

    async def update_subscription(self, subscription_id: str, changes: Document, now: datetime) -> Subscription | None:
        """Apply changes; enabling again resets the failure count and releases held deliveries."""

        async def work(session: AsyncClientSession) -> Subscription | None:
            before = await self.subscriptions.find_one({"_id": subscription_id}, session=session)
            if before is None:
                return None
            update = {**changes, "updated_at": now}
            if changes.get("enabled") is True and not before["enabled"]:
                update.update(consecutive_failures=0, disabled_reason=None)
                await self.deliveries.update_many(
                    {"subscription_id": subscription_id, "status": DeliveryStatus.HELD},
                    {"$set": {"status": DeliveryStatus.PENDING, "next_attempt_at": now, "round_failures": 0}},
                    session=session)
            elif changes.get("enabled") is False and before["enabled"]:
                update.setdefault("disabled_reason", "disabled by its owner")
            doc = await self.subscriptions.find_one_and_update(
                {"_id": subscription_id}, {"$set": update}, return_document=True, session=session)
            return subscription_of(doc) if doc else None

        result: Subscription | None = await in_transaction(self.client, work)
        return result

    async def rotate_secret(self, subscription_id: str, sealed_new: str, now: datetime,
                            overlap: timedelta) -> bool:
        doc = await self.subscriptions.find_one({"_id": subscription_id}, {"secret": 1})
        if doc is None:
            return False
        result = await self.subscriptions.update_one(
            {"_id": subscription_id, "secret": doc["secret"]},
            {"$set": {"secret": sealed_new, "previous_secret": doc["secret"], "previous_secret_until": now + overlap,
                      "secret_rotated_at": now, "updated_at": now}})
        return result.modified_count == 1

    async def delete_subscription(self, subscription_id: str) -> bool:
        async def work(session: AsyncClientSession) -> bool:
            result = await self.subscriptions.delete_one({"_id": subscription_id}, session=session)
            await self.deliveries.update_many(
                {"subscription_id": subscription_id, "status": {"$in": [DeliveryStatus.PENDING, DeliveryStatus.HELD]}},
                {"$set": {"status": DeliveryStatus.FAILED, "last_error": "subscription deleted"}}, session=session)
            return result.deleted_count == 1

        deleted: bool = await in_transaction(self.client, work)
        return deleted

    async def subscription_docs(self, subscription_ids: Sequence[str]) -> dict[str, Document]:
        """Whole documents, sealed secrets included (the worker's one read per batch)."""
        return {d["_id"]: d async for d in self.subscriptions.find({"_id": {"$in": list(subscription_ids)}})}

    async def matching(self, event_type: str, session: AsyncClientSession) -> list[Subscription]:
        cursor = self.subscriptions.find({"event_types": event_type, "enabled": True}, session=session)
        return [subscription_of(d) async for d in cursor]

    # --- deliveries: created in the consumer's transaction ----------------------------------
    async def add_deliveries(self, docs: Sequence[Document], payload: Document | None,
                             session: AsyncClientSession) -> None:
        if payload is not None:
            await self.payloads.update_one({"_id": payload["_id"]}, {"$setOnInsert": payload}, upsert=True,
                                           session=session)
        if docs:
            await self.deliveries.insert_many(list(docs), ordered=True, session=session)

    async def payloads_by_key(self, keys: Sequence[str]) -> dict[str, str]:
        return {d["_id"]: d["body"] async for d in self.payloads.find({"_id": {"$in": list(keys)}})}

    # --- the worker's lease -------------------------------------------------------------------
    async def claim(self, now: datetime, limit: int, lease: timedelta, token: str) -> list[Document]:
        """Take up to ``limit`` due deliveries. The lease is the due time itself, moved past the
        lease: a worker that dies holding them leaves them due again once it expires."""
        due = {"status": DeliveryStatus.PENDING, "next_attempt_at": {"$lt": now + EPOCH_MS}}
        ids = [d["_id"] async for d in self.deliveries.find(due, {"_id": 1}).sort("next_attempt_at", ASCENDING)
               .limit(limit)]
        if not ids:
            return []
        await self.deliveries.update_many(
            {"_id": {"$in": ids}, **due}, {"$set": {"next_attempt_at": now + lease, "lease_owner": token}})
        return [d async for d in self.deliveries.find({"_id": {"$in": ids}, "lease_owner": token})]

    async def record(self, updates: Sequence[tuple[str, str, Document]]) -> None:
        """Save outcomes and their attempts (only where our lease still holds), in one bulk write."""
        if updates:
            await self.deliveries.bulk_write(
                [UpdateOne({"_id": did, "lease_owner": token}, update) for did, token, update in updates],
                ordered=False)

    async def reset_failures(self, subscription_ids: Sequence[str]) -> None:
        if subscription_ids:
            await self.subscriptions.update_many(
                {"_id": {"$in": list(subscription_ids)}, "consecutive_failures": {"$gt": 0}},
                {"$set": {"consecutive_failures": 0}})

    async def count_failure(self, subscription_id: str) -> Document | None:
        doc: Document | None = await self.subscriptions.find_one_and_update(
            {"_id": subscription_id}, {"$inc": {"consecutive_failures": 1}}, return_document=True)
        return doc

    async def disable(self, subscription_id: str, reason: str, now: datetime, notice: Document | None) -> bool:
        """Disable an endpoint, hold its pending deliveries and queue its owner's notice: all or none."""

        async def work(session: AsyncClientSession) -> bool:
            result = await self.subscriptions.update_one(
                {"_id": subscription_id, "enabled": True},
                {"$set": {"enabled": False, "disabled_reason": reason, "updated_at": now}}, session=session)
            if result.modified_count != 1:
                return False  # someone else disabled it first: one notice only
            await self.deliveries.update_many(
                {"subscription_id": subscription_id, "status": DeliveryStatus.PENDING},
                {"$set": {"status": DeliveryStatus.HELD}}, session=session)
            if notice is not None:
                await self.deliveries.insert_one(notice, session=session)
            return True

        disabled: bool = await in_transaction(self.client, work)
        return disabled

    # --- the delivery log ---------------------------------------------------------------------
    async def delivery(self, delivery_id_: str) -> Document | None:
        doc: Document | None = await self.deliveries.find_one({"_id": delivery_id_})
        return doc

    async def deliveries_of(self, subscription_id: str, status: str | None, before: str | None,
                            limit: int) -> list[Document]:
        query: Document = {"subscription_id": subscription_id}
        if status:
            query["status"] = status
        if before:
            query["sort_key"] = {"$lt": before}
        return [d async for d in self.deliveries.find(query).sort("sort_key", DESCENDING).limit(limit)]

    async def redeliver(self, delivery_id_: str, now: datetime) -> Document | None:
        doc: Document | None = await self.deliveries.find_one_and_update(
            {"_id": delivery_id_, "status": {"$ne": DeliveryStatus.PENDING}},
            {"$set": {"status": DeliveryStatus.PENDING, "next_attempt_at": now, "round_failures": 0,
                      "updated_at": now}, "$unset": {"expires_at": ""}},
            return_document=True)
        return doc

    # --- providers (projection of catalog.providers) ----------------------------------------
    async def save_provider(self, provider_id: str, name: str, email: str, at: datetime,
                            session: AsyncClientSession) -> None:
        # Events of one provider arrive in order (one key, one partition); the check keeps a
        # replayed older event from overwriting newer details.
        doc = await self.providers.find_one({"_id": provider_id}, {"at": 1}, session=session)
        fields = {"name": name, "email": email, "at": at}
        if doc is None:
            await self.providers.insert_one({"_id": provider_id, **fields}, session=session)
        elif doc["at"] <= at:
            await self.providers.update_one({"_id": provider_id}, {"$set": fields}, session=session)

    async def provider(self, provider_id: str) -> ProviderContact | None:
        doc = await self.providers.find_one({"_id": provider_id})
        return ProviderContact(provider_id, doc["name"], doc["email"]) if doc else None
