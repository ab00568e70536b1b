"""Issuance's own database: learners, credentials, status lists and share links.

* ``learners`` (``_id`` = ``learner_ref``, a random pseudonym): the one place that holds a
  learner's personal data (name, e-mail, date of birth, the keyed look-up value of a personal
  identity number). Erasure empties it and marks it ``erased_at``.
* ``credentials`` (``_id`` = credential id): the signed credential (JWS, and the JSON document
  that a Data Integrity proof is added to on first download), what it was issued for, its
  status list index, its revocation (``status``: ``active`` or ``revoked``, for good) and its
  suspension (``suspended``, reversible; only where ``suspendable``: credentials issued before
  suspension existed carry no suspension entry). ``source_key`` is unique: one credential per
  provider event id, however often the event comes. Erasure removes the documents (they name the
  learner) and keeps the facts: id, catalogue version, provider, status index, revocation,
  suspension.
* ``status_lists``: one document per list number. Number *n* is two signed lists with the same
  indexes: revocation (``/v1/status-lists/{n}``) and suspension
  (``/v1/status-lists/{n}/suspension``); a credential's index is the same in both, so one
  allocation serves both. ``revision`` is bumped by each revocation and ``suspension_revision``
  by each suspension or reinstatement, which invalidates that cached signed list.
* ``shares``: share links (``_id`` = the link's random token) with expiry and withdrawal; a
  link is deleted 30 days after it expired or was withdrawn (TTL index on ``gone_at``).
* ``erasures``: learners' erasure requests (pseudonymous ids only) and which services confirmed.

A credential, its learner and its issued event (outbox) are written in one transaction.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from mimis_platform.envelope import Event
from mimis_platform.mongo import Document
from mimis_platform.outbox import Outbox, in_transaction
from services.issuance.catalogue import CatalogueReadModel
from services.issuance.domain.assessment import AssessmentRefused, IssueCommand, LearnerData
from services.issuance.domain.credential import CatalogueVersion, IssuerProfile, new_credential_id
from services.issuance.domain.issuing import IssuedCredential, issue, issued_event_data
from services.issuance.domain.statistics import IssuedGroup
from services.issuance.domain.status_list import MIN_LENGTH, IndexAllocator, StatusPurpose, entry_for
from services.issuance.keystore import KeyStore, utc

SOURCE = "/mimis/issuance"
ISSUED = "issuance.credential.issued.v1"
ERASURE_REQUESTED = "privacy.learner.erasure-requested.v1"
SHARE_KEPT_AFTER_END = timedelta(days=30)
REVOKED = "issuance.credential.revoked.v1"
SUSPENDED = "issuance.credential.suspended.v1"
REINSTATED = "issuance.credential.reinstated.v1"
ACTIVE, REVOKED_STATUS = "active", "revoked"
LIST_LENGTH = MIN_LENGTH
LIST_FILL = LIST_LENGTH // 2  # a list takes new credentials until half full (herd privacy, few collisions)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def source_key(command: IssueCommand, credential_id: str) -> str:
    """Unique per provider event (so a re-sent event never issues twice) or per API issuance."""
    if command.source_event_id:
        return f"event:{command.provider_id}:{command.source_event_id}"
    return f"api:{credential_id}"


def new_learner_ref() -> str:
    return f"lr-{uuid.uuid4().hex}"


class UnknownCredential(Exception):
    pass


class AlreadyRevoked(Exception):
    pass


class CredentialRevoked(Exception):
    """The credential is revoked for good: it can no longer be suspended or reinstated."""


class AlreadySuspended(Exception):
    pass


class NotSuspended(Exception):
    pass


class NotSuspendable(Exception):
    """The credential carries no suspension entry (issued before suspension existed, or with
    ``suspension_entry`` off), so no verifier could see a suspension."""


class AlreadyIssued(Exception):
    """A credential for this provider event exists (the provider re-sent it under a new id)."""


class LearnerErased(AssessmentRefused):
    """The learner_ref names a learner erased on request (nothing more is issued to it)."""


class IndexTaken(Exception):
    """Two replicas chose the same status index; the caller retries with a fresh allocation."""


@dataclass(frozen=True)
class Issued:
    credential_id: str
    learner_ref: str
    micro_credential_id: str
    version: int


class StatusAllocator:
    """Status list indexes handed out at random from the current list (kept in memory; another
    replica's pick of the same index is caught by the unique index and retried)."""

    def __init__(self) -> None:
        self.list_number = 0
        self.allocator: IndexAllocator | None = None

    def take(self) -> tuple[int, int]:
        assert self.allocator is not None
        return self.list_number, self.allocator.allocate()

    @property
    def full(self) -> bool:
        return self.allocator is None or self.allocator.length - self.allocator.free >= LIST_FILL


class CredentialStore:
    def __init__(self, client: AsyncMongoClient[Document], db: AsyncDatabase[Document], outbox: Outbox,
                 keys: KeyStore, catalogue: CatalogueReadModel, issuer: IssuerProfile, public_base_url: str,
                 catalogue_base_url: str, share_page_url: str = "", suspension_entry: bool = True) -> None:
        self.client, self.outbox, self.keys, self.catalogue, self.issuer = client, outbox, keys, catalogue, issuer
        # New credentials carry a suspension entry beside the revocation one (see IssuanceSettings).
        self.suspension_entry = suspension_entry
        self.public_base_url = public_base_url.rstrip("/")
        self.share_page_url = share_page_url or f"{self.public_base_url}/verify?share={{token}}"
        self.catalogue_base_url = catalogue_base_url
        self.learners = db["learners"]
        self.credentials = db["credentials"]
        self.lists = db["status_lists"]
        self.shares = db["shares"]
        self.erasures = db["erasures"]
        self.status = StatusAllocator()

    async def ensure_indexes(self) -> None:
        await self.learners.create_index([("email", ASCENDING)], unique=True, sparse=True)
        await self.learners.create_index([("pin_lookup", ASCENDING)], sparse=True)
        c = self.credentials
        await c.create_index([("source_key", ASCENDING)], unique=True)
        await c.create_index([("status_list", ASCENDING), ("status_index", ASCENDING)], unique=True)
        await c.create_index([("status_list", ASCENDING), ("status", ASCENDING)])
        await c.create_index([("status_list", ASCENDING), ("suspended", ASCENDING)])
        await c.create_index([("provider_id", ASCENDING), ("sort_key", DESCENDING)])
        await c.create_index([("learner_ref", ASCENDING), ("sort_key", DESCENDING)])
        await self.shares.create_index([("credential_id", ASCENDING)])
        await self.shares.create_index([("learner_ref", ASCENDING)])
        # Retention: a share link is deleted 30 days after it expired or was withdrawn.
        await self.shares.create_index([("gone_at", ASCENDING)], expireAfterSeconds=0)
        await self.erasures.create_index([("learner_ref", ASCENDING), ("requested_at", DESCENDING)])

    def status_list_url(self, number: int, purpose: StatusPurpose = StatusPurpose.REVOCATION) -> str:
        """Revocation list *n* at ``/v1/status-lists/{n}``, its suspension twin at ``.../{n}/suspension``."""
        url = f"{self.public_base_url}/v1/status-lists/{number}"
        return url if purpose is StatusPurpose.REVOCATION else f"{url}/{purpose.value}"

    def share_link(self, token: str) -> str:
        """What a person opens: the verification page showing the shared credential and its checks."""
        return self.share_page_url.replace("{token}", token)

    # --- statistics ---------------------------------------------------------------------------
    async def issued_groups(self) -> list[IssuedGroup]:
        """Every credential ever issued (erased ones too: erasure keeps these facts), counted by
        catalogue version and issue month (UTC), with how many of them are revoked."""
        pipeline: list[Document] = [{"$group": {
            "_id": {"mc": "$micro_credential_id", "version": "$version",
                    "month": {"$dateToString": {"format": "%Y-%m", "date": "$issued_at"}}},
            "issued": {"$sum": 1},
            "revoked": {"$sum": {"$cond": [{"$eq": ["$status", REVOKED_STATUS]}, 1, 0]}}}}]
        cursor = await self.credentials.aggregate(pipeline)
        return [IssuedGroup(micro_credential_id=str(g["_id"]["mc"]), version=int(g["_id"]["version"]),
                            month=str(g["_id"]["month"]), issued=int(g["issued"]), revoked=int(g["revoked"]))
                async for g in cursor]

    # --- status list indexes ------------------------------------------------------------------
    async def _allocator_ready(self) -> None:
        if not self.status.full:
            return
        latest = await self.lists.find_one({}, sort=[("number", DESCENDING)])
        number = int(latest["number"]) if latest else 0
        taken = [d["status_index"] async for d in self.credentials.find(
            {"status_list": number}, {"status_index": 1, "_id": 0})] if number else []
        if not number or len(taken) >= LIST_FILL:
            number += 1
            taken = []
            try:
                await self.lists.insert_one({"_id": str(number), "number": number, "purpose": "revocation",
                                             "revision": 0, "suspension_revision": 0, "created_at": datetime.now(UTC)})
            except DuplicateKeyError:  # another replica opened it at the same moment
                taken = [d["status_index"] async for d in self.credentials.find(
                    {"status_list": number}, {"status_index": 1, "_id": 0})]
        self.status.list_number = number
        self.status.allocator = IndexAllocator(LIST_LENGTH, taken)

    async def refresh_allocator(self) -> None:
        self.status.allocator = None
        await self._allocator_ready()

    # --- issuing ------------------------------------------------------------------------------
    async def _learner_ref(self, command: IssueCommand, now: datetime, session: AsyncClientSession) -> str:
        """The learner's pseudonym, the record made or brought up to date in one round trip.

        A command naming a registered learner (``learner_ref``) touches the record only if it is
        not erased: a concurrent erasure and this write conflict, so one of them is retried."""
        if command.learner_ref:
            touched = await self.learners.update_one({"_id": command.learner_ref, "erased_at": None},
                                                     {"$set": {"last_issued_at": now}}, session=session)
            if touched.matched_count == 0:
                raise LearnerErased(f"learner {command.learner_ref} is unknown or was erased")
            return command.learner_ref
        refs = await self.learner_refs([command.learner], now, session)
        return refs[command.learner.normalised_email]

    async def learner_refs(self, people: Sequence[LearnerData], now: datetime,
                           session: AsyncClientSession) -> dict[str, str]:
        """Each person's learner_ref by normalised e-mail address: existing records brought up to
        date, new ones made, in a handful of round trips whatever their number.

        A person is recognised by the look-up value of their personal identity number first (the
        same number always gives the same value, so a learner with a new address is still the same
        learner), then by e-mail address."""
        if not people:
            return {}  # (a batch of provider events names registered learners only)
        emails = sorted({p.normalised_email for p in people})
        pins = sorted({p.pin_lookup for p in people if p.pin_lookup})
        known = {d["email"]: d async for d in self.learners.find({"email": {"$in": emails}}, session=session)}
        by_pin = {d["pin_lookup"]: d async for d in self.learners.find(
            {"pin_lookup": {"$in": pins}, "erased_at": None}, session=session)} if pins else {}
        refs: dict[str, str] = {}
        new_learners: dict[str, Document] = {}
        new_by_pin: dict[str, Document] = {}
        updates: list[UpdateOne] = []
        for person in people:
            email = person.normalised_email
            changes: Document = {"name": person.name.strip(), "language": person.language}
            if person.date_of_birth:
                changes["date_of_birth"] = person.date_of_birth.isoformat()
            if person.pin_lookup:
                changes["pin_lookup"] = person.pin_lookup
            existing = (by_pin.get(person.pin_lookup) if person.pin_lookup else None) or known.get(email)
            fresh = (new_by_pin.get(person.pin_lookup) if person.pin_lookup else None) or new_learners.get(email)
            if fresh is not None:
                fresh.update(changes)
                refs[email] = str(fresh["_id"])
                new_learners.setdefault(email, fresh)
            elif existing is not None:
                refs[email] = str(existing["_id"])
                owner = known.get(email)
                if existing.get("email") != email and (owner is None or owner["_id"] == existing["_id"]):
                    changes["email"] = email  # a new address of the same person (no other record has it)
                if any(existing.get(k) != v for k, v in changes.items()):
                    updates.append(UpdateOne({"_id": refs[email]}, {"$set": changes}))
                    existing.update(changes)
            else:
                refs[email] = new_learner_ref()
                new_learners[email] = {"_id": refs[email], "email": email, **changes, "created_at": now,
                                       "erased_at": None}
                if person.pin_lookup:
                    new_by_pin[person.pin_lookup] = new_learners[email]
        created = {id(d): d for d in new_learners.values()}  # one record per person, however many rows
        if created:
            await self.learners.insert_many(list(created.values()), session=session)
        if updates:
            await self.learners.bulk_write(updates, ordered=True, session=session)
        return refs

    async def register_learners(self, people: Sequence[LearnerData], now: datetime) -> list[str]:
        """Register learners a provider will name in its assessment events; the same e-mail address
        always gives the same learner_ref (until the learner is erased)."""
        async def work(session: AsyncClientSession) -> dict[str, str]:
            return await self.learner_refs(people, now, session)

        refs = await in_transaction(self.client, work)
        return [refs[p.normalised_email] for p in people]

    async def learners_by_ref(self, refs: Sequence[str], session: AsyncClientSession | None = None
                              ) -> dict[str, Document]:
        found = self.learners.find({"_id": {"$in": sorted(set(refs))}}, session=session)
        return {str(d["_id"]): d async for d in found}

    async def prepare(self, command: IssueCommand, catalogue: CatalogueVersion, now: datetime) -> IssuedCredential:
        """Build and sign (pure work, no writes): the status index is taken here."""
        await self._allocator_ready()
        list_number, index = self.status.take()
        key, method = await self.keys.signing_key()
        issued = issue(command, catalogue, issuer=self.issuer, key=key, verification_method=method,
                       status_list_url=self.status_list_url(list_number), status_index=index,
                       suspension_list_url=(self.status_list_url(list_number, StatusPurpose.SUSPENSION)
                                            if self.suspension_entry else None),
                       credential_id=new_credential_id(), now=now, catalogue_base_url=self.catalogue_base_url)
        return issued

    def _credential_doc(self, command: IssueCommand, catalogue: CatalogueVersion, issued: IssuedCredential,
                        learner_ref: str, now: datetime) -> Document:
        entry = entry_for(issued.credential, StatusPurpose.REVOCATION)
        assert entry is not None
        return {
            "_id": issued.credential_id, "source_key": source_key(command, issued.credential_id),
            "source_event_id": command.source_event_id,
            "provider_id": command.provider_id, "micro_credential_id": catalogue.micro_credential_id,
            "version": catalogue.version, "learner_ref": learner_ref, "issued_at": now,
            "sort_key": f"{iso(now)}|{issued.credential_id}",
            "status_list": int(entry["statusListCredential"].rsplit("/", 1)[1]),
            "status_index": int(entry["statusListIndex"]), "status": ACTIVE,
            "suspendable": entry_for(issued.credential, StatusPurpose.SUSPENSION) is not None, "suspended": False,
            "kid": issued.kid,
            "jws": issued.jws, "document": issued.credential, "proof": None, "erased": False,
        }

    @staticmethod
    def _issued_event(command: IssueCommand, catalogue: CatalogueVersion, issued: IssuedCredential,
                      learner_ref: str, now: datetime) -> Event:
        return Event(type=ISSUED, source=SOURCE, partition_key=issued.credential_id,
                     subject=f"credentials/{issued.credential_id}", time=now,
                     data=issued_event_data(issued, catalogue, learner_ref, command.source_event_id, iso(now)))

    async def save(self, command: IssueCommand, catalogue: CatalogueVersion, issued: IssuedCredential,
                   now: datetime, session: AsyncClientSession) -> Issued:
        """Learner, credential and issued event in the caller's transaction."""
        learner_ref = await self._learner_ref(command, now, session)
        doc = self._credential_doc(command, catalogue, issued, learner_ref, now)
        try:
            await self.credentials.insert_one(doc, session=session)
        except DuplicateKeyError as exc:
            if "status_index" in str(exc):
                raise IndexTaken(str(exc)) from exc
            if "source_key" in str(exc):
                raise AlreadyIssued(doc["source_key"]) from exc
            raise
        await self.outbox.add(self._issued_event(command, catalogue, issued, learner_ref, now), session)
        return Issued(issued.credential_id, learner_ref, catalogue.micro_credential_id, catalogue.version)

    async def save_many(self, prepared: Sequence[tuple[IssueCommand, CatalogueVersion, IssuedCredential]],
                        now: datetime, session: AsyncClientSession,
                        traces: Sequence[dict[str, str]] | None = None) -> None:
        """Many credentials, their learners and events in the caller's transaction, in a handful of
        round trips whatever their number (the batch path of the assessment consumer)."""
        registered = sorted({c.learner_ref for c, _, _ in prepared if c.learner_ref})
        if registered:  # named by learner_ref: touched only if not erased (see _learner_ref)
            touched = await self.learners.update_many({"_id": {"$in": registered}, "erased_at": None},
                                                      {"$set": {"last_issued_at": now}}, session=session)
            if touched.matched_count != len(registered):
                raise LearnerErased("a learner of the batch is unknown or was erased")
        by_email = await self.learner_refs([c.learner for c, _, _ in prepared if not c.learner_ref], now, session)
        refs = by_email
        docs, events = [], []
        for i, (command, version, issued) in enumerate(prepared):
            ref = command.learner_ref or refs[command.learner.normalised_email]
            docs.append(self._credential_doc(command, version, issued, ref, now))
            event = self._issued_event(command, version, issued, ref, now)
            events.append(replace(event, trace_context=traces[i]) if traces and traces[i] else event)
        await self.credentials.insert_many(docs, ordered=True, session=session)
        await self.outbox.add_many(events, session)

    async def issued_sources(self, keys: Sequence[str], session: AsyncClientSession) -> set[str]:
        found = self.credentials.find({"source_key": {"$in": list(keys)}}, {"source_key": 1}, session=session)
        return {d["source_key"] async for d in found}

    async def already_issued(self, command: IssueCommand, session: AsyncClientSession | None = None) -> bool:
        if not command.source_event_id:
            return False
        key = f"event:{command.provider_id}:{command.source_event_id}"
        return await self.credentials.find_one({"source_key": key}, {"_id": 1}, session=session) is not None

    async def issue_many(self, prepared: Sequence[tuple[IssueCommand, CatalogueVersion, IssuedCredential]],
                         now: datetime) -> list[Issued]:
        """Every prepared credential in one transaction: all are issued or none."""
        async def work(session: AsyncClientSession) -> list[Issued]:
            return [await self.save(c, v, i, now, session) for c, v, i in prepared]

        return await in_transaction(self.client, work)

    # --- revocation and suspension -------------------------------------------------------------
    async def _status_event(self, event_type: str, doc: Document, data: Document, now: datetime,
                            session: AsyncClientSession) -> Event:
        """A status change's event: the credential's facts (no personal data), its branches for
        subscribers' filters, and ``data`` (reason, moment)."""
        credential_id = doc["_id"]
        facts = {"credential_id": credential_id, "learner_ref": doc["learner_ref"],
                 "micro_credential_id": doc["micro_credential_id"], "version": doc["version"],
                 "provider_id": doc["provider_id"], **data}
        version = await self.catalogue.versions.find_one(
            {"micro_credential_id": doc["micro_credential_id"], "version": doc["version"]},
            {"content.branches": 1}, session=session)
        if version is not None:
            facts["branches"] = list(version["content"]["branches"])
        return Event(type=event_type, source=SOURCE, partition_key=credential_id,
                     subject=f"credentials/{credential_id}", time=now, data=facts)

    async def revoke(self, credential_id: str, reason: str, now: datetime) -> Document:
        async def work(session: AsyncClientSession) -> Document:
            doc = await self.credentials.find_one({"_id": credential_id}, session=session)
            if doc is None:
                raise UnknownCredential(credential_id)
            if doc["status"] == REVOKED_STATUS:
                raise AlreadyRevoked(credential_id)
            await self.credentials.update_one(
                {"_id": credential_id, "status": ACTIVE},
                {"$set": {"status": REVOKED_STATUS, "revoked_at": now, "revocation_reason": reason}}, session=session)
            await self.lists.update_one({"_id": str(doc["status_list"])}, {"$inc": {"revision": 1}}, session=session)
            await self.outbox.add(await self._status_event(
                REVOKED, doc, {"reason": reason, "revoked_at": iso(now)}, now, session), session)
            return {**doc, "status": REVOKED_STATUS, "revoked_at": now, "revocation_reason": reason}

        return await in_transaction(self.client, work)

    async def _suspendable(self, credential_id: str, session: AsyncClientSession) -> Document:
        doc = await self.credentials.find_one({"_id": credential_id}, session=session)
        if doc is None:
            raise UnknownCredential(credential_id)
        if doc["status"] == REVOKED_STATUS:
            raise CredentialRevoked(credential_id)
        if not doc.get("suspendable"):
            raise NotSuspendable(credential_id)
        return doc

    async def suspend(self, credential_id: str, reason: str, now: datetime) -> Document:
        """Set the credential's bit in its suspension list, with the reason, and publish
        ``issuance.credential.suspended.v1``, in one transaction. Reversible (:meth:`reinstate`)."""
        async def work(session: AsyncClientSession) -> Document:
            doc = await self._suspendable(credential_id, session)
            if doc.get("suspended"):
                raise AlreadySuspended(credential_id)
            changes = {"suspended": True, "suspended_at": now, "suspension_reason": reason}
            updated = await self.credentials.update_one(
                {"_id": credential_id, "status": ACTIVE, "suspendable": True, "suspended": {"$ne": True}},
                {"$set": changes}, session=session)
            if updated.modified_count != 1:
                raise AlreadySuspended(credential_id)
            await self.lists.update_one({"_id": str(doc["status_list"])}, {"$inc": {"suspension_revision": 1}},
                                        session=session)
            await self.outbox.add(await self._status_event(
                SUSPENDED, doc, {"reason": reason, "suspended_at": iso(now)}, now, session), session)
            return {**doc, **changes}

        return await in_transaction(self.client, work)

    async def reinstate(self, credential_id: str, reason: str | None, now: datetime) -> Document:
        """Clear the credential's suspension bit and publish ``issuance.credential.reinstated.v1``,
        in one transaction: every verifier sees it valid again."""
        async def work(session: AsyncClientSession) -> Document:
            doc = await self._suspendable(credential_id, session)
            if not doc.get("suspended"):
                raise NotSuspended(credential_id)
            changes = {"suspended": False, "suspended_at": None, "suspension_reason": None,
                       "reinstated_at": now, "reinstatement_reason": reason}
            updated = await self.credentials.update_one(
                {"_id": credential_id, "status": ACTIVE, "suspended": True}, {"$set": changes}, session=session)
            if updated.modified_count != 1:
                raise NotSuspended(credential_id)
            await self.lists.update_one({"_id": str(doc["status_list"])}, {"$inc": {"suspension_revision": 1}},
                                        session=session)
            suspended_at = doc.get("suspended_at")
            await self.outbox.add(await self._status_event(REINSTATED, doc, {
                "reason": reason, "suspended_at": iso(suspended_at) if isinstance(suspended_at, datetime) else None,
                "reinstated_at": iso(now)}, now, session), session)
            return {**doc, **changes}

        return await in_transaction(self.client, work)

    async def set_indexes(self, list_number: int, purpose: StatusPurpose) -> tuple[int, list[int]] | None:
        """The list's revision for ``purpose`` and the indexes whose bit is set in it (revoked, or
        suspended now); None if there is no list of that number."""
        meta = await self.lists.find_one({"_id": str(list_number)})
        if meta is None:
            return None
        query: Document
        if purpose is StatusPurpose.REVOCATION:
            query, revision = {"status": REVOKED_STATUS}, int(meta["revision"])
        elif purpose is StatusPurpose.SUSPENSION:
            # Lists opened before suspension existed have no suspension_revision yet: nothing was suspended.
            query, revision = {"suspended": True}, int(meta.get("suspension_revision", 0))
        else:
            return None
        indexes = [d["status_index"] async for d in self.credentials.find(
            {"status_list": list_number, **query}, {"status_index": 1, "_id": 0})]
        return revision, indexes

    # --- reading ------------------------------------------------------------------------------
    async def get(self, credential_id: str) -> Document | None:
        return await self.credentials.find_one({"_id": credential_id})

    async def page(self, query: Document, cursor: str | None, limit: int) -> list[Document]:
        if cursor:
            query = {**query, "sort_key": {"$lt": cursor}}
        found = self.credentials.find(query, {"document": 0, "jws": 0, "proof": 0}).sort("sort_key", DESCENDING)
        return [d async for d in found.limit(limit)]

    async def set_proof(self, credential_id: str, proof: Document) -> None:
        await self.credentials.update_one({"_id": credential_id, "proof": None, "erased": False},
                                          {"$set": {"proof": proof}})

    async def learner(self, learner_ref: str) -> Document | None:
        return await self.learners.find_one({"_id": learner_ref})

    async def learner_for_login(self, *, email: str | None = None, pin_lookup: str | None = None) -> Document | None:
        if pin_lookup:
            return await self.learners.find_one({"pin_lookup": pin_lookup, "erased_at": None})
        if email:
            return await self.learners.find_one({"email": email})
        return None

    # --- share links --------------------------------------------------------------------------
    async def create_share(self, credential_id: str, learner_ref: str, expires_at: datetime, now: datetime,
                           created_by: str) -> Document:
        doc: Document = {"_id": secrets.token_urlsafe(24), "credential_id": credential_id, "learner_ref": learner_ref,
                         "created_at": now, "expires_at": expires_at, "withdrawn_at": None, "created_by": created_by,
                         "gone_at": expires_at + SHARE_KEPT_AFTER_END}
        await self.shares.insert_one(doc)
        return doc

    async def shares_of(self, credential_id: str) -> list[Document]:
        return [d async for d in self.shares.find({"credential_id": credential_id}).sort("created_at", ASCENDING)]

    async def share(self, token: str) -> Document | None:
        return await self.shares.find_one({"_id": token})

    async def withdraw_share(self, token: str, now: datetime) -> bool:
        result = await self.shares.update_one({"_id": token, "withdrawn_at": None},
                                              {"$set": {"withdrawn_at": now, "gone_at": now + SHARE_KEPT_AFTER_END}})
        return result.modified_count == 1

    async def reusable_share(self, credential_id: str, now: datetime, created_by: str) -> Document | None:
        return await self.shares.find_one({"credential_id": credential_id, "created_by": created_by,
                                           "withdrawn_at": None, "expires_at": {"$gt": now + timedelta(days=7)}})

    # --- erasure (GDPR Art. 17) ---------------------------------------------------------------
    async def _erase_learner(self, learner_ref: str, now: datetime, session: AsyncClientSession) -> int:
        """Remove the learner's personal data; keep the fact of issuance and each credential's
        status, so a copy shown later still verifies (or shows its revocation) honestly. Returns
        how many records were erased or scrubbed."""
        learner = await self.learners.replace_one({"_id": learner_ref}, {"_id": learner_ref, "erased_at": now},
                                                  session=session)
        result = await self.credentials.update_many(
            {"learner_ref": learner_ref, "erased": False},
            {"$set": {"erased": True, "erased_at": now}, "$unset": {"jws": "", "document": "", "proof": ""}},
            session=session)
        shares = await self.shares.update_many(
            {"learner_ref": learner_ref, "withdrawn_at": None},
            {"$set": {"withdrawn_at": now, "gone_at": now + SHARE_KEPT_AFTER_END}}, session=session)
        return int(learner.modified_count + result.modified_count + shares.modified_count)

    async def erase_learner(self, learner_ref: str, now: datetime) -> int:
        """Issuance's part of an erasure alone (no request recorded, no event): for tests and tools."""
        async def work(session: AsyncClientSession) -> int:
            return await self._erase_learner(learner_ref, now, session)

        return await in_transaction(self.client, work)

    async def request_erasure(self, learner_ref: str, requested_by: str, requester: str | None,
                              services: Sequence[str], now: datetime) -> tuple[Document, bool]:
        """Erase the learner here, record the request and publish it to the other ``services``, in
        one transaction. A learner already erased by an earlier request gets that request back
        (``False``: nothing new happened)."""
        async def work(session: AsyncClientSession) -> tuple[Document, bool]:
            learner = await self.learners.find_one({"_id": learner_ref}, {"erased_at": 1}, session=session)
            if learner is not None and learner.get("erased_at") is not None:
                earlier = await self.erasures.find_one({"learner_ref": learner_ref}, sort=[("requested_at", -1)],
                                                       session=session)
                if earlier is not None:
                    return earlier, False
            erased = await self._erase_learner(learner_ref, now, session)
            doc: Document = {
                "_id": f"er-{uuid.uuid4().hex}", "learner_ref": learner_ref, "requested_at": now,
                "requested_by": requested_by, "requester": requester, "expected": ["issuance", *services],
                "confirmations": {"issuance": {"confirmed_at": now, "records_erased": erased}},
                "completed_at": None if services else now,
            }
            await self.erasures.insert_one(doc, session=session)
            await self.outbox.add(Event(
                type=ERASURE_REQUESTED, source=SOURCE, partition_key=learner_ref, subject=f"erasures/{doc['_id']}",
                time=now, data={"erasure_id": doc["_id"], "learner_ref": learner_ref, "requested_at": iso(now),
                                "requested_by": requested_by}), session)
            return doc, True

        return await in_transaction(self.client, work)

    async def confirm_erasure(self, erasure_id: str, service: str, confirmed_at: datetime, records: int,
                              session: AsyncClientSession) -> Document | None:
        """Record one service's confirmation; the request is complete once every expected service
        confirmed. Unknown requests are ignored (None)."""
        doc = await self.erasures.find_one_and_update(
            {"_id": erasure_id},
            {"$set": {f"confirmations.{service}": {"confirmed_at": confirmed_at, "records_erased": records}}},
            return_document=ReturnDocument.AFTER, session=session)
        if doc is None:
            return None
        if doc.get("completed_at") is None and all(s in doc["confirmations"] for s in doc["expected"]):
            doc = await self.erasures.find_one_and_update(
                {"_id": erasure_id, "completed_at": None}, {"$set": {"completed_at": confirmed_at}},
                return_document=ReturnDocument.AFTER, session=session) or doc
        return doc

    async def erasure(self, erasure_id: str) -> Document | None:
        return await self.erasures.find_one({"_id": erasure_id})

    async def erasures_of(self, learner_ref: str) -> list[Document]:
        return [d async for d in self.erasures.find({"learner_ref": learner_ref}).sort("requested_at", ASCENDING)]

    # --- export (GDPR Art. 15 and 20) ----------------------------------------------------------
    async def personal_data(self, learner_ref: str) -> Document:
        """Everything issuance holds about one learner (the record, credentials, share links,
        erasure requests), and nothing about anyone else."""
        learner = await self.learners.find_one({"_id": learner_ref})
        credentials = [d async for d in self.credentials.find({"learner_ref": learner_ref}).sort("sort_key", ASCENDING)]
        shares = [d async for d in self.shares.find({"learner_ref": learner_ref}).sort("created_at", ASCENDING)]
        return {"learner": learner, "credentials": credentials, "shares": shares,
                "erasures": await self.erasures_of(learner_ref)}


def when(doc: Document, field: str) -> datetime | None:
    value: Any = doc.get(field)
    return utc(value) if isinstance(value, datetime) else None
