"""Dependencies and the access rules every quality route shares.

Who sees a review: the quality board's administrators, and the reviewers assigned to it, see
everything (content, assignments, checklists, verdicts, audit); the provider's members (role
``provider-member`` with the provider in their token's ``org`` claim) see its outcome and
comments only. Everybody sees the public summary of approved reviews.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request

from mimis_platform.api_errors import ApiError, Conflict, FieldError, Forbidden, NotFound
from mimis_platform.auth import Principal, Role
from services.quality.documents import now_as_stored
from services.quality.domain import review as rv
from services.quality.domain.problems import ConflictOfInterest, InvalidInput, NotAllowed, ReviewRefused
from services.quality.settings import QualitySettings
from services.quality.storage import QualityStore, UnknownReview


def get_store(request: Request) -> QualityStore:
    store: QualityStore = request.app.state.quality_store
    return store


def get_settings(request: Request) -> QualitySettings:
    settings: QualitySettings = request.app.state.runtime.settings
    return settings


StoreDep = Annotated[QualityStore, Depends(get_store)]
SettingsDep = Annotated[QualitySettings, Depends(get_settings)]


def now() -> datetime:
    return now_as_stored()


class Unprocessable(ApiError):
    status, code = 422, "validation_failed"


class ConflictOfInterestRefused(ApiError):
    status, code = 409, "conflict_of_interest"


def require_role(principal: Principal, *roles: Role) -> None:
    if not principal.has_role(*roles):
        raise Forbidden(f"this needs one of the roles: {', '.join(r.value for r in roles)}")


class View(StrEnum):
    STAFF = "staff"  # a quality-board administrator or an assigned reviewer
    PROVIDER = "provider"  # a member of the reviewed provider: outcome and comments only


def view_of(review: rv.Review, party: Principal) -> View | None:
    if party.has_role(Role.QUALITY_ADMIN):
        return View.STAFF
    if party.has_role(Role.REVIEWER) and review.assignment_of(party.subject) is not None:
        return View.STAFF
    if party.has_role(Role.PROVIDER_MEMBER) and review.submission.provider_id in party.organisations:
        return View.PROVIDER
    return None


def require_view(review: rv.Review, party: Principal) -> View:
    view = view_of(review, party)
    if view is None:
        raise Forbidden(f"review {review.id} is for the quality board, its assigned reviewers and the members "
                        f"of provider {review.submission.provider_id!r}")
    return view


async def review_or_404(store: QualityStore, review_id: str) -> rv.Review:
    review = await store.review(review_id)
    if review is None:
        raise NotFound(f"no review with id {review_id!r}")
    return review


def refused(exc: ReviewRefused) -> ApiError:
    """The domain's refusal in the shared error shape."""
    errors = [FieldError(field=p.field, message=p.message, type=p.type) for p in exc.problems]
    if isinstance(exc, InvalidInput):
        return Unprocessable(exc.message, errors)
    if isinstance(exc, ConflictOfInterest):
        return ConflictOfInterestRefused(exc.message, errors)
    if isinstance(exc, NotAllowed):
        return Forbidden(exc.message, errors)
    return Conflict(exc.message, errors or [FieldError(field="status", message=exc.message, type=exc.code)])


async def run_change(store: QualityStore, review_id: str, decide: Callable[[rv.Review], rv.Change]) -> rv.Change:
    try:
        return await store.change(review_id, decide)
    except UnknownReview as exc:
        raise NotFound(f"no review with id {review_id!r}") from exc
    except ReviewRefused as exc:
        raise refused(exc) from exc


def encode_cursor(position: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": position}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(value, dict) or not isinstance(value.get("after"), str):
            raise ValueError
        return str(value["after"])
    except ValueError as exc:
        raise Unprocessable(
            "the cursor is not valid; start again without it",
            [FieldError(field="cursor", message="not a cursor this list gave out", type="invalid_cursor")],
        ) from exc
