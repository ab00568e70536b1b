"""Dependencies and the access rule every route shares.

A subscription belongs to one organisation. Its members (a token whose ``org`` claim names the
organisation, with a partner role: employer, municipality or provider-member) manage it; a
region administrator manages any; ops may read any (delivery logs when helping a partner).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from mimis_platform.api_errors import ApiError, FieldError, Forbidden, NotFound
from mimis_platform.auth import Principal, Role
from mimis_platform.contracts import ContractRegistry
from services.notifications.clock import Clock
from services.notifications.domain.subscriptions import Subscription
from services.notifications.secret_box import SecretBox
from services.notifications.settings import NotificationsSettings
from services.notifications.storage import NotificationsStore
from services.notifications.webhooks import Resolver

PARTNER_ROLES = (Role.EMPLOYER, Role.MUNICIPALITY, Role.PROVIDER_MEMBER)


@dataclass
class Notifications:
    """What the routes need, built once by ``bootstrap``."""

    store: NotificationsStore
    settings: NotificationsSettings
    clock: Clock
    box: SecretBox
    resolver: Resolver
    contracts: ContractRegistry


def get_notifications(request: Request) -> Notifications:
    found: Notifications = request.app.state.notifications
    return found


NotificationsDep = Annotated[Notifications, Depends(get_notifications)]


class Unprocessable(ApiError):
    status, code = 422, "validation_failed"


def may_manage(party: Principal, organisation_id: str) -> bool:
    if party.has_role(Role.REGION_ADMIN):
        return True
    return party.has_role(*PARTNER_ROLES) and organisation_id in party.organisations


def may_read(party: Principal, organisation_id: str) -> bool:
    return may_manage(party, organisation_id) or party.has_role(Role.OPS)


def require_manage(party: Principal, organisation_id: str) -> None:
    if not may_manage(party, organisation_id):
        raise Forbidden(f"only members of organisation {organisation_id!r} (employer, municipality or "
                        "provider-member) and region administrators manage its subscriptions")


async def readable_subscription(n: Notifications, subscription_id: str, party: Principal) -> Subscription:
    sub = await n.store.subscription(subscription_id)
    # Someone else's subscription answers 404, not 403: its existence is not theirs to learn.
    if sub is None or not may_read(party, sub.organisation_id):
        raise NotFound(f"no subscription {subscription_id!r}")
    return sub


async def managed_subscription(n: Notifications, subscription_id: str, party: Principal) -> Subscription:
    sub = await readable_subscription(n, subscription_id, party)
    require_manage(party, sub.organisation_id)
    return sub


def encode_cursor(position: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"p": position}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(value, dict) or not isinstance(value.get("p"), str):
            raise ValueError
        return str(value["p"])
    except ValueError as exc:
        raise Unprocessable("the cursor is not valid; start again without it",
                            [FieldError(field="cursor", message="not a cursor this list gave out",
                                        type="invalid_cursor")]) from exc
