"""Subscriptions: a partner organisation's webhook endpoints."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from mimis_platform.api_errors import ERROR_RESPONSES, FieldError, Forbidden, NotFound
from mimis_platform.auth import CurrentParty, Role
from services.notifications.api.deps import (
    NotificationsDep,
    Unprocessable,
    decode_cursor,
    encode_cursor,
    managed_subscription,
    may_read,
    readable_subscription,
    require_manage,
)
from services.notifications.api.models import (
    EventTypeInfo,
    FiltersModel,
    SecretRotated,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPage,
    SubscriptionPublic,
    SubscriptionUpdate,
)
from services.notifications.domain.addresses import UnsafeUrl
from services.notifications.domain.subscriptions import (
    PUBLIC_EVENT_TYPES,
    Filters,
    Subscription,
    new_secret,
    refusals,
    subscribable_event_types,
)
from services.notifications.webhooks import resolve_safely

router = APIRouter(tags=["subscriptions"])


async def _check_url(n: NotificationsDep, url: str) -> None:
    try:
        await resolve_safely(url, n.resolver, n.settings.allow_private_webhook_urls)
    except UnsafeUrl as exc:
        raise Unprocessable(f"url: {exc}", [FieldError(field="url", message=str(exc), type="unsafe_url")]) from exc


def _check_event_types(n: NotificationsDep, event_types: list[str], filters: Filters, organisation_id: str,
                       region_admin: bool) -> None:
    problems = refusals(event_types, filters, organisation_id, subscribable_event_types(n.contracts), region_admin)
    if problems:
        raise Unprocessable("; ".join(m for _, m in problems),
                            [FieldError(field=f, message=m, type="event_type_refused") for f, m in problems])


@router.get("/event-types", response_model=list[EventTypeInfo], summary="Event types one can subscribe to")
async def event_types(n: NotificationsDep) -> list[EventTypeInfo]:
    return [EventTypeInfo(type=t, topic=n.contracts.topic_for(t).name,
                          scope="public" if t in PUBLIC_EVENT_TYPES else "own-provider")
            for t in subscribable_event_types(n.contracts)]


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED, response_model=SubscriptionCreated,
             responses=ERROR_RESPONSES, summary="Subscribe a webhook endpoint (the secret is shown only here)")
async def create(body: SubscriptionCreate, n: NotificationsDep, party: CurrentParty) -> SubscriptionCreated:
    require_manage(party, body.organisation_id)
    filters = body.filters.domain()
    _check_event_types(n, body.event_types, filters, body.organisation_id, party.has_role(Role.REGION_ADMIN))
    await _check_url(n, body.url)
    now = n.clock.now()
    secret = new_secret()
    sub = Subscription(
        id=f"sub_{uuid.uuid4().hex[:20]}", organisation_id=body.organisation_id, url=body.url,
        event_types=tuple(dict.fromkeys(body.event_types)), filters=filters, owner_email=str(body.owner_email),
        language=body.language, description=body.description, enabled=body.enabled,
        disabled_reason=None if body.enabled else "disabled by its owner", created_by=party.subject,
        created_at=now, updated_at=now)
    await n.store.add_subscription(sub, n.box.seal(secret))
    return SubscriptionCreated(**SubscriptionPublic.of(sub).model_dump(), secret=secret)


@router.get("/subscriptions", response_model=SubscriptionPage, responses=ERROR_RESPONSES,
            summary="The subscriptions of the caller's organisations (ops and region administrators: any)")
async def list_subscriptions(n: NotificationsDep, party: CurrentParty, organisation_id: str | None = None,
                             cursor: str | None = None,
                             limit: Annotated[int, Query(ge=1, le=100)] = 50) -> SubscriptionPage:
    sees_all = party.has_role(Role.REGION_ADMIN, Role.OPS)
    if organisation_id is not None:
        if not may_read(party, organisation_id):
            raise Forbidden(f"you do not act for organisation {organisation_id!r}")
        organisations: list[str] | None = [organisation_id]
    else:
        organisations = None if sees_all else sorted(party.organisations)
    found = await n.store.subscriptions_of(organisations, decode_cursor(cursor), limit + 1)
    page = found[:limit]
    return SubscriptionPage(items=[SubscriptionPublic.of(s) for s in page],
                            next_cursor=encode_cursor(page[-1].id) if len(found) > limit else None)


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionPublic, responses={404: {}},
            summary="One subscription (never its secret)")
async def get_subscription(subscription_id: str, n: NotificationsDep, party: CurrentParty) -> SubscriptionPublic:
    return SubscriptionPublic.of(await readable_subscription(n, subscription_id, party))


@router.patch("/subscriptions/{subscription_id}", response_model=SubscriptionPublic, responses=ERROR_RESPONSES,
              summary="Change a subscription; enabling it again sends the deliveries that were held")
async def update(subscription_id: str, body: SubscriptionUpdate, n: NotificationsDep,
                 party: CurrentParty) -> SubscriptionPublic:
    sub = await managed_subscription(n, subscription_id, party)
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude_none=True)
    if "event_types" in changes or "filters" in changes:
        filters = body.filters.domain() if body.filters is not None else sub.filters
        types = body.event_types if body.event_types is not None else list(sub.event_types)
        _check_event_types(n, types, filters, sub.organisation_id, party.has_role(Role.REGION_ADMIN))
        changes["event_types"] = list(dict.fromkeys(types))
        changes["filters"] = FiltersModel.of(filters).model_dump()
    if "url" in changes:
        await _check_url(n, changes["url"])
    if "owner_email" in changes:
        changes["owner_email"] = str(changes["owner_email"])
    updated = await n.store.update_subscription(subscription_id, changes, n.clock.now())
    if updated is None:
        raise NotFound(f"no subscription {subscription_id!r}")
    return SubscriptionPublic.of(updated)


@router.delete("/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}},
               summary="Delete a subscription; its waiting deliveries are dropped")
async def delete(subscription_id: str, n: NotificationsDep, party: CurrentParty) -> Response:
    await managed_subscription(n, subscription_id, party)
    if not await n.store.delete_subscription(subscription_id):
        raise NotFound(f"no subscription {subscription_id!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/subscriptions/{subscription_id}/secret", response_model=SecretRotated, responses={404: {}},
             summary="Rotate the signing secret (the new one is shown only here)")
async def rotate_secret(subscription_id: str, n: NotificationsDep, party: CurrentParty) -> SecretRotated:
    await managed_subscription(n, subscription_id, party)
    now, secret = n.clock.now(), new_secret()
    overlap = timedelta(seconds=n.settings.secret_rotation_overlap_seconds)
    if not await n.store.rotate_secret(subscription_id, n.box.seal(secret), now, overlap):
        raise NotFound(f"no subscription {subscription_id!r}")
    return SecretRotated(secret=secret, previous_valid_until=now + overlap)
