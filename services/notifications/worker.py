"""The delivery worker: sends what the consumer queued, webhooks and e-mails alike.

Each round takes a batch of due deliveries under a lease (their due time moves past the lease,
so two replicas never hold the same one, and one that dies holding them leaves them due again),
sends them concurrently, then records every outcome with its attempt in one bulk write. A crash
between sending and recording repeats the send once the lease expires, with the same
``webhook-id``, which a receiver uses to drop the repeat. Time comes from an injectable clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mimis_platform.redaction import redact_text
from services.notifications.clock import Clock
from services.notifications.domain import emails
from services.notifications.domain.retry import RetryPolicy, Verdict, judge, retry_after_seconds
from services.notifications.domain.subscriptions import Subscription
from services.notifications.events import LEARNER_CREDENTIAL, REVIEW_OUTCOME, WEBHOOK_DISABLED, email_delivery, iso
from services.notifications.mailer import Mailer, PermanentMailFailure, TemporaryMailFailure
from services.notifications.recipients import Erased, IssuanceRecipients, RecipientUnavailable, UnknownCredential
from services.notifications.secret_box import SecretBox
from services.notifications.storage import (
    EMAIL,
    MAX_LOGGED_ATTEMPTS,
    DeliveryStatus,
    NotificationsStore,
    subscription_of,
)
from services.notifications.webhooks import WebhookSender

_log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one claimed delivery came to. ``verdict`` None: no attempt was made (held, failed)."""

    delivery: dict[str, Any]
    verdict: Verdict | None
    status: int | None = None
    latency_ms: float = 0.0
    error: str | None = None
    retry_after: str | None = None
    recipient: str | None = None  # e-mail: who it was for, as a reference, never an address
    excerpt: str | None = None
    final_status: str | None = None  # forces a status (held, skipped, failed without attempt)


@dataclass
class WorkerCounters:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    disabled_endpoints: int = 0
    rounds: int = 0
    errors: list[str] = field(default_factory=list)


class DeliveryWorker:
    def __init__(self, store: NotificationsStore, sender: WebhookSender, box: SecretBox, mailer: Mailer,
                 recipients: IssuanceRecipients | None, policy: RetryPolicy, clock: Clock, *, batch_size: int = 50,
                 concurrency: int = 32, lease_seconds: float = 60.0, disable_after: int = 20,
                 rng: random.Random | None = None) -> None:
        self.store, self.sender, self.box, self.mailer, self.recipients = store, sender, box, mailer, recipients
        self.policy, self.clock, self.rng = policy, clock, rng or random.Random()
        self.batch_size, self.lease = batch_size, timedelta(seconds=lease_seconds)
        self.disable_after = disable_after
        self._slots = asyncio.Semaphore(concurrency)
        self.counters = WorkerCounters()

    # --- the loop ---------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, idle_seconds: float) -> None:
        while not stop.is_set():
            try:
                done = await self.run_once()
            except Exception as exc:  # the database away for a moment must not end the worker
                _log.warning("delivery round failed: %s: %s", type(exc).__name__, exc)
                done = 0
            if done == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), idle_seconds)

    async def run_once(self) -> int:
        """One round: claim due deliveries, send them, record the outcomes. Returns how many."""
        token = uuid.uuid4().hex
        claimed = await self.store.claim(self.clock.now(), self.batch_size, self.lease, token)
        if not claimed:
            return 0
        self.counters.rounds += 1
        webhook_ids = sorted({d["subscription_id"] for d in claimed if d.get("channel") != EMAIL})
        sealed = await self.store.subscription_docs(webhook_ids) if webhook_ids else {}
        subscriptions = {i: subscription_of(doc) for i, doc in sealed.items()}
        keys = sorted({d["event_key"] for d in claimed if d.get("channel") != EMAIL})
        bodies = await self.store.payloads_by_key(keys) if keys else {}
        outcomes = await asyncio.gather(*(self._one(d, subscriptions, sealed, bodies) for d in claimed))
        await self._record(token, outcomes)
        await self._endpoint_effects(outcomes, subscriptions)
        return len(claimed)

    async def _one(self, d: dict[str, Any], subscriptions: dict[str, Any], sealed: dict[str, Any],
                   bodies: dict[str, str]) -> Outcome:
        async with self._slots:
            try:
                if d.get("channel") == EMAIL:
                    return await self._email(d)
                return await self._webhook(d, subscriptions, sealed, bodies)
            except Exception as exc:  # a bug in one delivery must not lose the others' outcomes
                _log.exception("delivery %s failed unexpectedly", d["_id"])
                return Outcome(d, Verdict.RETRY, error=f"internal error: {type(exc).__name__}: {exc}"[:500])

    # --- webhooks ---------------------------------------------------------------------------
    async def _webhook(self, d: dict[str, Any], subscriptions: dict[str, Any], sealed: dict[str, Any],
                       bodies: dict[str, str]) -> Outcome:
        sub = subscriptions.get(d["subscription_id"])
        if sub is None:
            return Outcome(d, None, error="subscription deleted", final_status=DeliveryStatus.FAILED)
        if not sub.enabled:
            return Outcome(d, None, error=sub.disabled_reason, final_status=DeliveryStatus.HELD)
        body = bodies.get(d["event_key"])
        if body is None:
            return Outcome(d, None, error="payload missing", final_status=DeliveryStatus.FAILED)
        secrets = self._secrets(sealed[sub.id])
        result = await self.sender.send(sub.url, d["_id"], body, secrets)
        verdict = Verdict.GIVE_UP if result.refused else judge(result.status)
        return Outcome(d, verdict, result.status, result.latency_ms, result.error, result.retry_after,
                       excerpt=result.excerpt)

    def _secrets(self, doc: dict[str, Any]) -> list[str]:
        found = [self.box.open(doc["secret"])]
        until = doc.get("previous_secret_until")
        if doc.get("previous_secret") and until is not None and until > self.clock.now():
            found.append(self.box.open(doc["previous_secret"]))  # both sign while the partner switches
        return found

    # --- e-mail -----------------------------------------------------------------------------
    async def _email(self, d: dict[str, Any]) -> Outcome:
        kind, p = d["kind"], d["params"]
        recipient_ref: str
        if kind == LEARNER_CREDENTIAL:
            recipient_ref = f"learner:{p['learner_ref']}"
            if self.recipients is None:
                return Outcome(d, Verdict.RETRY, error="no issuance client configured", recipient=recipient_ref)
            try:
                who = await self.recipients.recipient(p["credential_id"])
            except Erased:
                return Outcome(d, None, error="erased", recipient=recipient_ref, final_status=DeliveryStatus.SKIPPED)
            except UnknownCredential:
                return Outcome(d, Verdict.RETRY, error="issuance does not know the credential (yet)",
                               recipient=recipient_ref)
            except RecipientUnavailable as exc:
                return Outcome(d, Verdict.RETRY, error=str(exc), recipient=recipient_ref)
            language = emails.language_of(who.language)
            mail = emails.new_credential(language, name=who.name, title=p["title"], share_url=who.share_url,
                                         issued_at=p["issued_at"])
            to = who.email
        elif kind == REVIEW_OUTCOME:
            recipient_ref = f"provider:{p['provider_id']}"
            provider = await self.store.provider(p["provider_id"])
            if provider is None:
                return Outcome(d, Verdict.RETRY, error="the provider's contact is not known yet",
                               recipient=recipient_ref)
            values = {k: p[k] for k in ("micro_credential_id", "version", "decision", "reason", "reviewing_body")}
            comments = p.get("comments") or []
            mail = emails.bilingual(
                emails.review_outcome("sv", provider_name=provider.name, comments=comments, **values),
                emails.review_outcome("en", provider_name=provider.name, comments=comments, **values))
            language, to = "sv", provider.email
        elif kind == WEBHOOK_DISABLED:
            recipient_ref = f"subscription-owner:{p['subscription_id']}"
            language = emails.language_of(p.get("language"))
            mail = emails.webhook_disabled(language, subscription_id=p["subscription_id"], url=p["url"],
                                           failures=p["failures"], reason=p["reason"])
            to = p["to"]
        else:
            return Outcome(d, None, error=f"unknown e-mail kind {kind!r}", final_status=DeliveryStatus.FAILED)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await self.mailer.send(to, mail, language, d["_id"])
        except PermanentMailFailure as exc:
            return Outcome(d, Verdict.GIVE_UP, error=str(exc), recipient=recipient_ref,
                           latency_ms=round((loop.time() - started) * 1000, 2))
        except TemporaryMailFailure as exc:
            return Outcome(d, Verdict.RETRY, error=str(exc), recipient=recipient_ref,
                           latency_ms=round((loop.time() - started) * 1000, 2))
        return Outcome(d, Verdict.DELIVERED, recipient=recipient_ref,
                       latency_ms=round((loop.time() - started) * 1000, 2))

    # --- recording --------------------------------------------------------------------------
    async def _record(self, token: str, outcomes: Sequence[Outcome]) -> None:
        now = self.clock.now()
        expires = now + self.store.retention
        updates: list[tuple[str, str, dict[str, Any]]] = []
        for o in outcomes:
            d = o.delivery
            fields: dict[str, Any] = {"updated_at": now, "last_error": _clean(o.error)}
            number = d["attempts"] + 1
            if o.verdict is None:
                fields["status"] = o.final_status
                if o.final_status == DeliveryStatus.SKIPPED:
                    self.counters.skipped += 1
                    fields.update(attempts=number, attempt_log=self._logged(d, o, now, number))
                if o.final_status != DeliveryStatus.HELD:
                    fields["expires_at"] = expires
                updates.append((d["_id"], token, {"$set": fields}))
                continue
            fields.update(attempts=number, last_status=o.status, last_attempt_at=now,
                          attempt_log=self._logged(d, o, now, number))
            if o.verdict is Verdict.DELIVERED:
                fields.update(status=DeliveryStatus.DELIVERED, delivered_at=now, last_error=None, expires_at=expires)
                self.counters.delivered += 1
            elif o.verdict is Verdict.RETRY:
                failures = d.get("round_failures", 0) + 1
                after = retry_after_seconds(o.retry_after, now)
                when = self.policy.next_attempt(failures, now, after, self.rng)
                fields["round_failures"] = failures
                if when is None:
                    fields.update(status=DeliveryStatus.FAILED, expires_at=expires)
                    self.counters.failed += 1
                else:
                    fields.update(status=DeliveryStatus.PENDING, next_attempt_at=when)
                    self.counters.retried += 1
            else:
                fields.update(status=DeliveryStatus.FAILED, expires_at=expires)
                self.counters.failed += 1
            updates.append((d["_id"], token, {"$set": fields}))
        await self.store.record(updates)

    def _logged(self, d: dict[str, Any], o: Outcome, now: datetime, number: int) -> list[dict[str, Any]]:
        attempt = {"number": number, "at": now, "status_code": o.status, "latency_ms": o.latency_ms,
                   "error": _clean(o.error), "outcome": (o.verdict.value if o.verdict else o.final_status),
                   "recipient": o.recipient, "response_excerpt": _clean(o.excerpt)}
        return [*(d.get("attempt_log") or []), attempt][-MAX_LOGGED_ATTEMPTS:]

    # --- endpoints that keep failing ----------------------------------------------------------
    async def _endpoint_effects(self, outcomes: Sequence[Outcome], subscriptions: dict[str, Subscription]) -> None:
        hooks = [o for o in outcomes if o.delivery.get("channel") != EMAIL and o.verdict is not None]
        # A success ends a run of failures; only endpoints that had one need the write.
        await self.store.reset_failures(sorted({
            o.delivery["subscription_id"] for o in hooks if o.verdict is Verdict.DELIVERED
            and subscriptions[o.delivery["subscription_id"]].consecutive_failures > 0}))
        for o in hooks:
            if o.verdict is Verdict.DELIVERED:
                continue
            sub_id = o.delivery["subscription_id"]
            doc = await self.store.count_failure(sub_id)
            if doc is None or not doc.get("enabled"):
                continue
            if o.verdict is Verdict.DISABLE:
                await self._disable(doc, f"the endpoint answered 410 Gone ({o.error})")
            elif doc["consecutive_failures"] >= self.disable_after:
                await self._disable(doc, f"{doc['consecutive_failures']} failed attempts in a row; last: {o.error}")

    async def _disable(self, sub: dict[str, Any], reason: str) -> None:
        now = self.clock.now()
        notice = email_delivery(
            f"disabled|{sub['_id']}|{iso(now)}", WEBHOOK_DISABLED, now,
            {"subscription_id": sub["_id"], "url": sub["url"], "failures": sub["consecutive_failures"],
             "reason": reason, "to": sub["owner_email"], "language": sub.get("language", "sv")},
            about_subscription=sub["_id"], organisation_id=sub["organisation_id"])
        if await self.store.disable(sub["_id"], reason, now, notice):
            self.counters.disabled_endpoints += 1
            _log.warning("webhook %s to %s disabled: %s", sub["_id"], sub["url"], reason)


def _clean(text: str | None) -> str | None:
    """An error or a receiver's answer as the delivery log keeps it: an SMTP server's refusal
    quotes the learner's address ("550 <anna@...>: no such user"), which this service never
    stores; addresses and personal identity numbers are replaced wherever they appear."""
    return redact_text(text) if text else text
