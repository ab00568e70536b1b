"""The delivery log: every delivery of a subscription, newest first, each with its attempts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from mimis_platform.api_errors import ERROR_RESPONSES, NotFound
from mimis_platform.auth import CurrentParty
from services.notifications.api.deps import (
    NotificationsDep,
    decode_cursor,
    encode_cursor,
    managed_subscription,
    readable_subscription,
)
from services.notifications.api.models import DeliveryPage, DeliveryPublic

router = APIRouter(tags=["delivery log"])

Status = Literal["pending", "delivered", "failed", "skipped", "held"]


@router.get("/subscriptions/{subscription_id}/deliveries", response_model=DeliveryPage, responses=ERROR_RESPONSES,
            summary="A subscription's deliveries, newest first, with every attempt")
async def list_deliveries(subscription_id: str, n: NotificationsDep, party: CurrentParty,
                          status_: Annotated[Status | None, Query(alias="status")] = None,
                          cursor: str | None = None,
                          limit: Annotated[int, Query(ge=1, le=100)] = 50) -> DeliveryPage:
    await readable_subscription(n, subscription_id, party)
    found = await n.store.deliveries_of(subscription_id, status_, decode_cursor(cursor), limit + 1)
    page = found[:limit]
    return DeliveryPage(items=[DeliveryPublic.of(d) for d in page],
                        next_cursor=encode_cursor(page[-1]["sort_key"]) if len(found) > limit else None)


@router.get("/subscriptions/{subscription_id}/deliveries/{delivery_id}", response_model=DeliveryPublic,
            responses={404: {}}, summary="One delivery and its attempts")
async def get_delivery(subscription_id: str, delivery_id: str, n: NotificationsDep,
                       party: CurrentParty) -> DeliveryPublic:
    await readable_subscription(n, subscription_id, party)
    d = await n.store.delivery(delivery_id)
    if d is None or d.get("subscription_id") != subscription_id:
        raise NotFound(f"no delivery {delivery_id!r} for subscription {subscription_id!r}")
    return DeliveryPublic.of(d)


@router.post("/subscriptions/{subscription_id}/deliveries/{delivery_id}/redeliver", response_model=DeliveryPublic,
             status_code=status.HTTP_202_ACCEPTED, responses={404: {}, 409: {}},
             summary="Send a delivery again (same webhook-id, a fresh round of retries)")
async def redeliver(subscription_id: str, delivery_id: str, n: NotificationsDep,
                    party: CurrentParty) -> DeliveryPublic:
    await managed_subscription(n, subscription_id, party)
    d = await n.store.delivery(delivery_id)
    if d is None or d.get("subscription_id") != subscription_id:
        raise NotFound(f"no delivery {delivery_id!r} for subscription {subscription_id!r}")
    again = await n.store.redeliver(delivery_id, n.clock.now())
    if again is None:  # already waiting to be sent
        again = d
    return DeliveryPublic.of(again)
