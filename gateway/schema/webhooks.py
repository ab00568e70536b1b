"""Partners' webhook subscriptions and their delivery log (the notifications service).

An organisation's members (employer, municipality, provider-member) manage its subscriptions;
region administrators any; ops read them. The service applies the same rule and answers 404 for a
subscription the caller may not know of.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.schema.common import PageInfo, ctx, page_size, parse_time
from gateway.services import seg
from mimis_platform.auth import Role

PARTNER_ROLES = (Role.EMPLOYER, Role.MUNICIPALITY, Role.PROVIDER_MEMBER, Role.REGION_ADMIN, Role.OPS)


@strawberry.type
class WebhookEventType:
    type: str
    topic: str
    scope: str = strawberry.field(description="public | own-provider")


@strawberry.type
class WebhookFilters:
    branches: list[str]
    providers: list[str]
    micro_credentials: list[str]


@strawberry.input
class WebhookFiltersInput:
    branches: list[str] = strawberry.field(default_factory=list)
    providers: list[str] = strawberry.field(default_factory=list)
    micro_credentials: list[str] = strawberry.field(default_factory=list)


@strawberry.type
class DeliveryAttempt:
    number: int
    at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    outcome: str | None


@strawberry.type(description="One event delivered (or being delivered) to one endpoint.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="The webhook-id the receiver saw; the same on every attempt.")
    event_id: str
    event_source: str
    event_type: str
    status: str = strawberry.field(description="pending | delivered | failed | skipped | held")
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[DeliveryAttempt]

    @classmethod
    def of(cls, d: dict[str, Any]) -> WebhookDelivery:
        return cls(id=strawberry.ID(d["id"]), event_id=d["event_id"], event_source=d["event_source"],
                   event_type=d["event_type"], status=d["status"], attempts=d["attempts"],
                   next_attempt_at=parse_time(d.get("next_attempt_at")), last_status=d.get("last_status"),
                   last_error=d.get("last_error"), created_at=parse_time(d["created_at"]) or datetime.min,
                   delivered_at=parse_time(d.get("delivered_at")),
                   attempt_log=[DeliveryAttempt(number=a["number"], at=parse_time(a["at"]) or datetime.min,
                                                status_code=a.get("status_code"), latency_ms=a["latency_ms"],
                                                error=a.get("error"), outcome=a.get("outcome"))
                                for a in d.get("attempt_log") or []])


@strawberry.type
class WebhookDeliveryConnection:
    nodes: list[WebhookDelivery]
    page_info: PageInfo


@strawberry.type(description="A partner's webhook endpoint and the events it wants.")
class WebhookSubscription:
    id: strawberry.ID
    organisation_id: str
    url: str
    event_types: list[str]
    filters: WebhookFilters
    owner_email: str
    language: str
    description: str
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime | None

    @classmethod
    def of(cls, s: dict[str, Any]) -> WebhookSubscription:
        f = s.get("filters") or {}
        return cls(id=strawberry.ID(s["id"]), organisation_id=s["organisation_id"], url=s["url"],
                   event_types=s["event_types"],
                   filters=WebhookFilters(branches=f.get("branches", []), providers=f.get("providers", []),
                                          micro_credentials=f.get("micro_credentials", [])),
                   owner_email=s["owner_email"], language=s["language"], description=s["description"],
                   enabled=s["enabled"], disabled_reason=s.get("disabled_reason"),
                   consecutive_failures=s["consecutive_failures"],
                   created_at=parse_time(s["created_at"]) or datetime.min,
                   updated_at=parse_time(s["updated_at"]) or datetime.min,
                   secret_rotated_at=parse_time(s.get("secret_rotated_at")))

    @strawberry.field(description="The delivery log, newest first, each delivery with its attempts.")
    async def deliveries(self, info: Info, status: str | None = None, first: int | None = 20,
                         after: str | None = None) -> WebhookDeliveryConnection | None:
        c = ctx(info)
        params: dict[str, Any] = {"limit": page_size(info, first)}
        if status:
            params["status"] = status
        if after:
            params["cursor"] = after
        page = await c.services.get("notifications", f"/subscriptions/{seg(str(self.id))}/deliveries",
                                    token=c.token, params=params)
        end = page.get("next_cursor")
        return WebhookDeliveryConnection(nodes=[WebhookDelivery.of(d) for d in page["items"]],
                                         page_info=PageInfo(has_next_page=end is not None, end_cursor=end))


@strawberry.type
class WebhookSubscriptionConnection:
    nodes: list[WebhookSubscription]
    page_info: PageInfo


@strawberry.type
class CreatedWebhookSubscription:
    subscription: WebhookSubscription
    secret: str = strawberry.field(description="The signing secret (whsec_...), shown only now.")


@strawberry.type
class RotatedWebhookSecret:
    secret: str = strawberry.field(description="The new signing secret, shown only now.")
    previous_valid_until: datetime = strawberry.field(
        description="Until then every message carries both signatures.")


@strawberry.input
class WebhookSubscriptionInput:
    organisation_id: str
    url: str
    event_types: list[str]
    owner_email: str = strawberry.field(description="Who is told when the endpoint is disabled.")
    filters: WebhookFiltersInput | None = None
    language: str = "sv"
    description: str = ""
    enabled: bool = True


@strawberry.input
class WebhookSubscriptionChange:
    url: str | None = None
    event_types: list[str] | None = None
    filters: WebhookFiltersInput | None = None
    owner_email: str | None = None
    language: str | None = None
    description: str | None = None
    enabled: bool | None = None


def _filters(f: WebhookFiltersInput | None) -> dict[str, list[str]] | None:
    if f is None:
        return None
    return {"branches": f.branches, "providers": f.providers, "micro_credentials": f.micro_credentials}


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="Event types a partner can subscribe to (public).")
    async def webhook_event_types(self, info: Info) -> list[WebhookEventType] | None:
        found = await ctx(info).services.get("notifications", "/event-types")
        return [WebhookEventType(type=t["type"], topic=t["topic"], scope=t["scope"]) for t in found]

    @strawberry.field(description="Your organisations' webhook subscriptions.")
    async def webhook_subscriptions(self, info: Info, organisation_id: str | None = None, first: int | None = 20,
                                    after: str | None = None) -> WebhookSubscriptionConnection | None:
        c = ctx(info)
        c.identity.require(*PARTNER_ROLES)
        params: dict[str, Any] = {"limit": page_size(info, first)}
        if organisation_id:
            params["organisation_id"] = organisation_id
        if after:
            params["cursor"] = after
        page = await c.services.get("notifications", "/subscriptions", token=c.token, params=params)
        end = page.get("next_cursor")
        return WebhookSubscriptionConnection(nodes=[WebhookSubscription.of(s) for s in page["items"]],
                                             page_info=PageInfo(has_next_page=end is not None, end_cursor=end))

    @strawberry.field(description="One webhook subscription (never its secret).")
    async def webhook_subscription(self, info: Info, id: strawberry.ID) -> WebhookSubscription | None:
        c = ctx(info)
        c.identity.require(*PARTNER_ROLES)
        s = await c.services.get("notifications", f"/subscriptions/{seg(str(id))}", token=c.token,
                                 missing_is_none=True)
        return WebhookSubscription.of(s) if s else None


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Subscribe a webhook endpoint (Standard Webhooks signatures); the secret is "
                                     "shown only in this answer.")
    async def create_webhook_subscription(self, info: Info, input: WebhookSubscriptionInput
                                          ) -> CreatedWebhookSubscription | None:
        c = ctx(info)
        c.identity.require(*PARTNER_ROLES)
        body: dict[str, Any] = {"organisation_id": input.organisation_id, "url": input.url,
                                "event_types": input.event_types, "owner_email": input.owner_email,
                                "language": input.language, "description": input.description,
                                "enabled": input.enabled}
        if input.filters is not None:
            body["filters"] = _filters(input.filters)
        s = await c.services.call("notifications", "POST", "/subscriptions", token=c.token, json=body)
        return CreatedWebhookSubscription(subscription=WebhookSubscription.of(s), secret=s["secret"])

    @strawberry.mutation(description="Change a subscription; enabling it again sends the deliveries that were held.")
    async def update_webhook_subscription(self, info: Info, id: strawberry.ID, change: WebhookSubscriptionChange
                                          ) -> WebhookSubscription | None:
        c = ctx(info)
        c.identity.require(*PARTNER_ROLES)
        body = {k: v for k, v in {
            "url": change.url, "event_types": change.event_types, "filters": _filters(change.filters),
            "owner_email": change.owner_email, "language": change.language, "description": change.description,
            "enabled": change.enabled}.items() if v is not None}
        s = await c.services.call("notifications", "PATCH", f"/subscriptions/{seg(str(id))}",
                                  token=c.token, json=body)
        return WebhookSubscription.of(s)

    @strawberry.mutation(description="Delete a subscription; its waiting deliveries are dropped.")
    async def delete_webhook_subscription(self, info: Info, id: strawberry.ID) -> bool | None:
        c = ctx(info)
        c.identity.require(*PARTNER_ROLES)
        await c.services.call("notifications", "DELETE", f"/subscriptions/{seg(str(id))}", token=c.token)
        return True

    @strawberry.mutation(description="Rotate the signing secret (the old one stays valid for an overlap).")
    async def rotate_webhook_secret(self, info: Info, id: strawberry.ID) -> RotatedWebhookSecret | None:
        c = ctx(info)
        c.identity.require(*PARTNER_ROLES)
        b = await c.services.call("notifications", "POST", f"/subscriptions/{seg(str(id))}/secret",
                                  token=c.token)
        return RotatedWebhookSecret(secret=b["secret"],
                                    previous_valid_until=parse_time(b["previous_valid_until"]) or datetime.min)

    @strawberry.mutation(description="Send a delivery again (same webhook-id, a fresh round of retries).")
    async def redeliver_webhook(self, info: Info, subscription_id: strawberry.ID, delivery_id: strawberry.ID
                                ) -> WebhookDelivery | None:
        c = ctx(info)
        c.identity.require(*PARTNER_ROLES)
        d = await c.services.call("notifications", "POST",
                                  f"/subscriptions/{seg(str(subscription_id))}/deliveries/"
                                  f"{seg(str(delivery_id))}/redeliver", token=c.token)
        return WebhookDelivery.of(d)
