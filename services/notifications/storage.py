"""The notifications service's own database.

Collections: ``subscriptions`` (``_id`` = subscription id; the signing secret sealed),
``payloads`` (one webhook body per event, shared by its deliveries, so a retry sends the very
same bytes), ``deliveries`` (one per (event, target): a webhook subscription or an e-mail; the
``_id`` is the ``webhook-id`` the partner sees; its ``attempt_log`` holds every try, so the log
costs no write of its own), ``providers`` (a projection of the catalog's provider events: where a provider's
review outcome goes) and ``erased_learners`` (one-way markers of erasures, see below). A learner's
e-mail address is never stored here: it is asked from issuance when the message is sent.

Learners appear only as issuance's pseudonymous ``learner_ref``: in a learner e-mail's
``params.learner_ref`` (and its attempts' ``recipient``), and in the webhook body of an issued or
revoked credential, whose payload document also carries it as ``learner_ref`` (indexed, with the
``delivery_ids`` of its webhook deliveries), so an erasure or an export finds everything by index.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from mimis_platform.mongo import Document
from mimis_platform.outbox import in_transaction
from services.notifications.domain.privacy import erasure_marker, scrub
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


@dataclass(frozen=True)
class LearnerRecords:
    """What this service holds about one learner: their e-mail deliveries, and the webhook
    deliveries whose payload names them (each with the payload's event data)."""

    emails: list[Document]
    webhooks: list[tuple[Document, dict[str, Any]]]


def payload_data(body: str) -> dict[str, Any]:
    data = json.loads(body).get("data")
    return data if isinstance(data, dict) else {}


class NotificationsStore:
    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document],
                 retention: timedelta = timedelta(days=30),
                 erasure_memory: timedelta = timedelta(days=365)) -> None:
        self.client, self.retention, self.erasure_memory = client, retention, erasure_memory
        self.subscriptions = db["subscriptions"]
        self.payloads = db["payloads"]
        self.deliveries = db["deliveries"]
        self.providers = db["providers"]
        self.erased_learners = db["erased_learners"]

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
        # A learner's records, found by index for an erasure or an export. Only learner e-mails
        # have ``params.learner_ref`` (sparse); payloads are written once, so their index costs
        # the worker nothing.
        await d.create_index([("params.learner_ref", ASCENDING)], sparse=True)
        await self.payloads.create_index([("learner_ref", ASCENDING)])
        # An erasure is remembered as long as an event about the learner may still arrive (the
        # longest retention of a topic this service reads, dead letters included).
        await self.erased_learners.create_index([("erased_at", ASCENDING)],
                                                expireAfterSeconds=int(self.erasure_memory.total_seconds()))
        await self.index_payload_learners()

    async def index_payload_learners(self, batch: int = 500) -> int:
        """Give payloads written before ``learner_ref`` was recorded on them their learner_ref
        and webhook delivery ids (once; later starts find none). Returns how many it did."""
        done = 0
        while True:
            legacy = [p async for p in self.payloads.find({"learner_ref": {"$exists": False}}).limit(batch)]
            if not legacy:
                return done
            refs = {p["_id"]: payload_data(p["body"]).get("learner_ref") for p in legacy}
            named = [k for k, ref in refs.items() if ref]
            ids: dict[str, list[str]] = {k: [] for k in named}
            if named:
                query = {"event_key": {"$in": named}, "channel": WEBHOOK}
                async for d in self.deliveries.find(query, {"event_key": 1}):
                    ids[d["event_key"]].append(d["_id"])
            await self.payloads.bulk_write(
                [UpdateOne({"_id": k, "learner_ref": {"$exists": False}},
                           {"$set": {"learner_ref": ref or None, "delivery_ids": ids.get(k, [])}})
                 for k, ref in refs.items()], ordered=False)
            done += len(legacy)

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

    # --- learners' rights: erasure and export ----------------------------------------------
    async def is_erased(self, learner_ref: str, session: AsyncClientSession) -> bool:
        found = await self.erased_learners.find_one({"_id": erasure_marker(learner_ref)}, {"_id": 1},
                                                    session=session)
        return found is not None

    async def erase_learner(self, learner_ref: str, now: datetime, session: AsyncClientSession) -> int:
        """In the caller's transaction: delete the learner's e-mail deliveries (whatever their
        status, so a waiting one is never sent) with their attempts, and replace the reference by
        ``erased`` in the webhook payloads naming the learner and in their deliveries' log. Remember
        the erasure (one-way marker). Returns how many documents were deleted or changed."""
        deleted = await self.deliveries.delete_many({"params.learner_ref": learner_ref}, session=session)
        changed = deleted.deleted_count
        payloads = [p async for p in self.payloads.find({"learner_ref": learner_ref}, session=session)]
        for p in payloads:
            await self.payloads.update_one({"_id": p["_id"]}, {"$set": {
                "body": scrub(p["body"], learner_ref), "learner_ref": None, "erased_at": now}}, session=session)
        changed += len(payloads)
        ids = [i for p in payloads for i in p.get("delivery_ids") or ()]
        # Webhook deliveries do not name the learner themselves; an error or a partner's answer
        # echoing the body might.
        async for d in self.deliveries.find({"_id": {"$in": ids}}, session=session):
            fields = {k: v for k, v in scrub(d, learner_ref).items() if v != d[k]}
            if fields:
                await self.deliveries.update_one({"_id": d["_id"]}, {"$set": fields}, session=session)
                changed += 1
        await self.erased_learners.update_one(
            {"_id": erasure_marker(learner_ref)}, {"$set": {"erased_at": now}}, upsert=True, session=session)
        return changed

    async def learner_records(self, learner_ref: str) -> LearnerRecords:
        emails = [d async for d in self.deliveries.find({"params.learner_ref": learner_ref})
                  .sort("created_at", ASCENDING)]
        payloads = {p["_id"]: p async for p in self.payloads.find({"learner_ref": learner_ref})}
        ids = [i for p in payloads.values() for i in p.get("delivery_ids") or ()]
        hooks = [d async for d in self.deliveries.find({"_id": {"$in": ids}}).sort("created_at", ASCENDING)]
        data = {k: payload_data(p["body"]) for k, p in payloads.items()}
        return LearnerRecords(emails, [(d, data.get(d["event_key"], {})) for d in hooks])

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
