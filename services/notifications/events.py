"""The events this service consumes and what each one causes, inside the consumer's transaction
(so the inbox entry and the deliveries it creates are saved together or not at all):

* every event type a partner can subscribe to: one delivery per matching enabled subscription;
* ``catalog.provider.registered.v1`` / ``updated.v1``: the provider's contact, for its e-mails;
* ``quality.review.decided.v1``: an e-mail with the outcome to the provider's contact;
* ``issuance.credential.issued.v1``: an e-mail to the learner (address asked from issuance when sent);
* ``privacy.learner.erasure-requested.v1``: erase what this service holds about the learner and
  confirm with ``privacy.learner.erasure-confirmed.v1`` (outbox, same transaction).

An event naming a learner who was erased here before (it may arrive late: the erasure request and
the credential events travel on different topics) causes no e-mail, and its webhook body names the
learner as ``erased``.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from mimis_platform.consumer import Handler
from mimis_platform.contracts import ContractRegistry
from mimis_platform.envelope import Event
from mimis_platform.outbox import Outbox
from services.notifications.clock import Clock
from services.notifications.domain.privacy import ERASED
from services.notifications.domain.subscriptions import SERVICE, Subscription, subscribable_event_types
from services.notifications.storage import (
    EMAIL,
    WEBHOOK,
    DeliveryStatus,
    NotificationsStore,
    delivery_id,
    event_key,
    sort_key,
)

PROVIDER_REGISTERED = "catalog.provider.registered.v1"
PROVIDER_UPDATED = "catalog.provider.updated.v1"
REVIEW_DECIDED = "quality.review.decided.v1"
CREDENTIAL_ISSUED = "issuance.credential.issued.v1"
ERASURE_REQUESTED = "privacy.learner.erasure-requested.v1"
ERASURE_CONFIRMED = "privacy.learner.erasure-confirmed.v1"
SOURCE = f"/mimis/{SERVICE}"

LEARNER_CREDENTIAL = "learner-credential"
REVIEW_OUTCOME = "review-outcome"
WEBHOOK_DISABLED = "webhook-disabled"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def webhook_body(event: Event) -> str:
    """Standard Webhooks' recommended payload (``type``, ``timestamp``, ``data``) plus the
    CloudEvent's ``id`` and ``source``, which together identify the event."""
    return json.dumps({"id": event.id, "source": event.source, "type": event.type, "timestamp": iso(event.time),
                       "data": event.data}, ensure_ascii=False, separators=(",", ":"))


def delivery_doc(key: str, target: str, now: datetime, **fields: Any) -> dict[str, Any]:
    did = delivery_id(key, target)
    return {
        "_id": did, "event_key": key, "target": target, "status": DeliveryStatus.PENDING, "attempts": 0,
        "round_failures": 0, "next_attempt_at": now, "lease_owner": None, "created_at": now, "updated_at": now,
        "sort_key": sort_key(now, did), "last_status": None, "last_error": None, "delivered_at": None, **fields,
    }


def webhook_delivery(event: Event, subscription: Subscription, now: datetime) -> dict[str, Any]:
    return delivery_doc(event_key(event.source, event.id), subscription.id, now, channel=WEBHOOK,
                        event_id=event.id, event_source=event.source, event_type=event.type,
                        subscription_id=subscription.id, organisation_id=subscription.organisation_id)


def email_delivery(key: str, kind: str, now: datetime, params: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return delivery_doc(key, f"email:{kind}", now, channel=EMAIL, kind=kind, params=params,
                        subscription_id=None, **fields)


def erasure_confirmed(requested: Event, records_erased: int, now: datetime) -> Event:
    """The confirmation of one erasure request. Its id follows from the request's ``erasure_id``,
    so a request that issuance publishes again is confirmed with the same event id."""
    d = requested.data
    return Event(type=ERASURE_CONFIRMED, source=SOURCE, partition_key=d["learner_ref"],
                 id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SOURCE}/erasures/{d['erasure_id']}")), data={
                     "erasure_id": d["erasure_id"], "learner_ref": d["learner_ref"], "service": SERVICE,
                     "confirmed_at": iso(now), "records_erased": records_erased})


def routes(store: NotificationsStore, contracts: ContractRegistry, clock: Clock,
           outbox: Outbox) -> dict[str, Handler]:
    async def on_erasure(event: Event, session: AsyncClientSession) -> None:
        now = clock.now()
        erased = await store.erase_learner(event.data["learner_ref"], now, session)
        await outbox.add(erasure_confirmed(event, erased, now), session)

    async def on_event(event: Event, session: AsyncClientSession) -> None:
        now = clock.now()
        key = event_key(event.source, event.id)
        learner_ref = event.data.get("learner_ref")
        if learner_ref and await store.is_erased(learner_ref, session):
            event = dataclasses.replace(event, data={**event.data, "learner_ref": ERASED})
            learner_ref = None
        wanted = [s for s in await store.matching(event.type, session) if s.wants(event.type, event.data)]
        docs = [webhook_delivery(event, s, now) for s in wanted]
        d = event.data
        if event.type in (PROVIDER_REGISTERED, PROVIDER_UPDATED):
            await store.save_provider(d["provider_id"], d["details"]["name"], d["details"]["contact"]["email"],
                                      parse_time(d["at"]), session)
        elif event.type == REVIEW_DECIDED:
            docs.append(email_delivery(key, REVIEW_OUTCOME, now, {
                k: d.get(k) for k in ("review_id", "provider_id", "micro_credential_id", "version", "decision",
                                      "comments", "reason", "reviewing_body")}, event_id=event.id,
                event_type=event.type))
        elif event.type == CREDENTIAL_ISSUED and learner_ref:
            # The learner_ref and the credential id only: the address is asked for at send time.
            docs.append(email_delivery(key, LEARNER_CREDENTIAL, now, {
                k: d.get(k) for k in ("credential_id", "learner_ref", "provider_id", "title", "issued_at")},
                event_id=event.id, event_type=event.type))
        payload = {"_id": key, "body": webhook_body(event), "created_at": now, "learner_ref": learner_ref or None,
                   "delivery_ids": [d["_id"] for d in docs if d["channel"] == WEBHOOK]} if wanted else None
        await store.add_deliveries(docs, payload, session)

    return {**dict.fromkeys(subscribable_event_types(contracts), on_event), ERASURE_REQUESTED: on_erasure}
