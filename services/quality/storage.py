"""The quality service's own database (it never reads the catalog's).

Collections: ``reviews`` (one document per review round, ``_id`` = review id), ``reviewers``
(the registry, ``_id`` = the person's subject) and ``audit_trail`` (append-only). Every change
is one transaction holding the review, its outgoing events (outbox) and its audit entries, so
none of them can exist without the others.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from mimis_platform.mongo import Document
from mimis_platform.outbox import Outbox, in_transaction
from services.quality import events
from services.quality.documents import (
    audit_doc,
    audit_of,
    review_doc,
    review_of,
    reviewer_doc,
    reviewer_of,
    time_key,
    utc,
)
from services.quality.domain import review as rv
from services.quality.domain.decision import Decision
from services.quality.domain.reviewers import Reviewer
from services.quality.domain.statistics import DecidedFacts, Statistics, summarise

#: How often a change is re-run after another writer changed the same review first.
MAX_ATTEMPTS = 8


class UnknownReview(Exception):
    pass


class UnknownReviewer(Exception):
    pass


class AlreadyExists(Exception):
    pass


class StaleReview(Exception):
    """Another change of the same review was saved between our read and our write."""


def new_review_id() -> str:
    return f"rv-{uuid.uuid4().hex[:16]}"


@dataclass(frozen=True)
class QueueFilter:
    """Which reviews a list shows. ``provider_ids`` None means any provider."""

    status: rv.ReviewStatus | None = None
    overdue_at: datetime | None = None  # only open reviews due before this moment
    assigned_to: str | None = None
    provider_ids: frozenset[str] | None = None
    micro_credential_id: str | None = None


class AuditTrail:
    """Append-only: this class can add entries and read them, nothing else (no update, no delete),
    and no API route reaches past it. In production the service's database user should hold only
    ``insert`` and ``find`` on this collection, so not even a bug could rewrite history."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("review_id", ASCENDING), ("position", ASCENDING)])

    async def append(self, entries: Iterable[rv.AuditEntry], session: AsyncClientSession) -> None:
        # Position: time, then the entry's place in its transaction, then a tie-breaker, so one
        # action's entries keep their order and a cursor is one plain field.
        token = uuid.uuid4().hex[:12]
        docs = [audit_doc(e, f"{time_key(e.at)}|{i:03d}|{token}") for i, e in enumerate(entries)]
        if docs:
            await self._collection.insert_many(docs, ordered=True, session=session)

    async def for_review(self, review_id: str, after: str | None, limit: int) -> list[tuple[str, rv.AuditEntry]]:
        query: Document = {"review_id": review_id}
        if after:
            query["position"] = {"$gt": after}
        cursor = self._collection.find(query).sort("position", ASCENDING).limit(limit)
        return [(d["position"], audit_of(d)) async for d in cursor]


class QualityStore:
    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], outbox: Outbox) -> None:
        self.client, self.outbox = client, outbox
        self.reviews = db["reviews"]
        self.reviewers = db["reviewers"]
        self.audit = AuditTrail(db["audit_trail"])

    async def ensure_indexes(self) -> None:
        r = self.reviews
        await r.create_index([("micro_credential_id", ASCENDING), ("version", ASCENDING), ("round", ASCENDING)],
                             unique=True)
        await r.create_index([("sort_key", ASCENDING)])
        await r.create_index([("status", ASCENDING), ("sort_key", ASCENDING)])
        await r.create_index([("assigned_reviewers", ASCENDING), ("status", ASCENDING), ("sort_key", ASCENDING)])
        await r.create_index([("provider_id", ASCENDING), ("status", ASCENDING), ("sort_key", ASCENDING)])
        await r.create_index([("status", ASCENDING), ("decided_at", ASCENDING)])
        await self.audit.ensure_indexes()

    # --- reviews ----------------------------------------------------------------------------
    async def open_review(self, submission: rv.Submission, policy: rv.ReviewPolicy, *, now: datetime,
                          cause: str | None, session: AsyncClientSession) -> rv.Change | None:
        """Open the next round for a submission, in the caller's transaction (the consumer's)."""
        latest = await self.reviews.find_one(
            {"micro_credential_id": submission.micro_credential_id, "version": submission.version},
            sort=[("round", DESCENDING)], session=session)
        change = rv.open_review(submission, review_of(latest) if latest else None, policy, new_review_id(),
                                now=now, cause=cause)
        if change is not None:
            await self._save(change, session)
        return change

    async def change(self, review_id: str, decide: Callable[[rv.Review], rv.Change]) -> rv.Change:
        """Read the review, let ``decide`` (pure) say what changes, and save review, events and
        audit entries in one transaction; re-run when another change won the race."""

        async def work(session: AsyncClientSession) -> rv.Change:
            doc = await self.reviews.find_one({"_id": review_id}, session=session)
            if doc is None:
                raise UnknownReview(review_id)
            change = decide(review_of(doc))
            return await self._save(change, session)

        for _ in range(MAX_ATTEMPTS - 1):
            try:
                return await in_transaction(self.client, work)
            except StaleReview:
                continue
        return await in_transaction(self.client, work)

    async def _save(self, change: rv.Change, session: AsyncClientSession) -> rv.Change:
        if change.created:
            await self.reviews.insert_one(review_doc(change.review), session=session)
        else:
            saved = replace(change.review, revision=change.review.revision + 1)
            result = await self.reviews.replace_one({"_id": saved.id, "revision": change.review.revision},
                                                    review_doc(saved), session=session)
            if result.matched_count != 1:
                raise StaleReview(saved.id)
            change = replace(change, review=saved)
        await self.outbox.add_many([events.review_event(e) for e in change.events], session)
        await self.audit.append(change.audit, session)
        return change

    async def review(self, review_id: str) -> rv.Review | None:
        doc = await self.reviews.find_one({"_id": review_id})
        return review_of(doc) if doc else None

    async def queue(self, f: QueueFilter, after: str | None, limit: int) -> list[rv.Review]:
        query: Document = {}
        key: Document = {}
        if f.status is not None:
            query["status"] = f.status.value
        if f.overdue_at is not None:
            if f.status is rv.ReviewStatus.DECIDED:
                return []
            query["status"] = rv.ReviewStatus.OPEN.value
            key["$lt"] = time_key(f.overdue_at)  # the key starts with the due date
        if f.assigned_to is not None:
            query["assigned_reviewers"] = f.assigned_to
        if f.provider_ids is not None:
            query["provider_id"] = {"$in": sorted(f.provider_ids)}
        if f.micro_credential_id is not None:
            query["micro_credential_id"] = f.micro_credential_id
        if after:
            key["$gt"] = after
        if key:
            query["sort_key"] = key
        cursor = self.reviews.find(query).sort("sort_key", ASCENDING).limit(limit)
        return [review_of(d) async for d in cursor]

    async def reviews_of(self, micro_credential_id: str) -> list[rv.Review]:
        cursor = self.reviews.find({"micro_credential_id": micro_credential_id}).sort(
            [("version", ASCENDING), ("round", ASCENDING)])
        return [review_of(d) async for d in cursor]

    async def statistics(self, now: datetime, since: datetime | None) -> Statistics:
        open_count = await self.reviews.count_documents({"status": rv.ReviewStatus.OPEN.value})
        overdue = await self.reviews.count_documents(
            {"status": rv.ReviewStatus.OPEN.value, "sort_key": {"$lt": time_key(now)}})
        query: Document = {"status": rv.ReviewStatus.DECIDED.value}
        if since is not None:
            query["decided_at"] = {"$gte": since}
        fields = {"provider_kind": 1, "branches": 1, "opened_at": 1, "decided_at": 1, "outcome.decision": 1}
        decided = [
            DecidedFacts(d["provider_kind"], tuple(d.get("branches") or ()), utc(d["opened_at"]),
                         utc(d["decided_at"]), Decision(d["outcome"]["decision"]))
            async for d in self.reviews.find(query, fields)
        ]
        return summarise(open_count, overdue, decided)

    # --- the reviewer registry --------------------------------------------------------------
    async def register_reviewer(self, reviewer: Reviewer, by: str) -> Reviewer:
        async def work(session: AsyncClientSession) -> None:
            await self.reviewers.insert_one(reviewer_doc(reviewer), session=session)
            await self.audit.append([_registry_entry("reviewer.registered", by, reviewer)], session)

        try:
            await in_transaction(self.client, work)
        except DuplicateKeyError as exc:
            raise AlreadyExists(f"reviewer {reviewer.subject!r} is already registered") from exc
        return reviewer

    async def update_reviewer(self, subject: str, display_name: str, organisations: tuple[str, ...], active: bool,
                              by: str, now: datetime) -> Reviewer:
        async def work(session: AsyncClientSession) -> Reviewer:
            doc = await self.reviewers.find_one_and_update(
                {"_id": subject},
                {"$set": {"display_name": display_name, "organisations": list(organisations), "active": active,
                          "updated_at": now}},
                session=session, return_document=True)
            if doc is None:
                raise UnknownReviewer(subject)
            reviewer = reviewer_of(doc)
            await self.audit.append([_registry_entry("reviewer.updated", by, reviewer)], session)
            return reviewer

        result: Reviewer = await in_transaction(self.client, work)
        return result

    async def reviewer(self, subject: str) -> Reviewer | None:
        doc = await self.reviewers.find_one({"_id": subject})
        return reviewer_of(doc) if doc else None

    async def list_reviewers(self, after: str | None, limit: int) -> list[Reviewer]:
        query = {"_id": {"$gt": after}} if after else {}
        return [reviewer_of(d) async for d in self.reviewers.find(query).sort("_id", ASCENDING).limit(limit)]


def _registry_entry(action: str, by: str, reviewer: Reviewer) -> rv.AuditEntry:
    return rv.AuditEntry(action, by, reviewer.updated_at, details={
        "reviewer": reviewer.subject, "display_name": reviewer.display_name,
        "organisations": list(reviewer.organisations), "active": reviewer.active})
