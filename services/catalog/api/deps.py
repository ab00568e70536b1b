"""Dependencies and the access rules every catalog route shares."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request

from mimis_platform.api_errors import ApiError, FieldError, Forbidden, NotFound
from mimis_platform.auth import Principal, Role
from services.catalog.domain.model import MicroCredentialContent
from services.catalog.domain.vocabulary import VocabularyKind
from services.catalog.storage import CatalogStore, Provider


def get_store(request: Request) -> CatalogStore:
    store: CatalogStore = request.app.state.catalog_store
    return store


StoreDep = Annotated[CatalogStore, Depends(get_store)]


def now() -> datetime:
    return datetime.now(UTC)


def is_member(principal: Principal | None, provider: Provider) -> bool:
    return principal is not None and principal.subject in provider.members


def require_member(principal: Principal, provider: Provider) -> None:
    if not is_member(principal, provider):
        raise Forbidden(f"only members of provider {provider.id!r} may do this")


def require_role(principal: Principal, *roles: Role) -> None:
    if not principal.has_role(*roles):
        raise Forbidden(f"this needs one of the roles: {', '.join(r.value for r in roles)}")


async def provider_or_404(store: CatalogStore, provider_id: str) -> Provider:
    provider = await store.provider(provider_id)
    if provider is None:
        raise NotFound(f"no provider with id {provider_id!r}")
    return provider


class UnprocessableContent(ApiError):
    status, code = 422, "validation_failed"


async def check_vocabulary(store: CatalogStore, content: MicroCredentialContent, prefix: str = "content") -> None:
    """Codes must come from the region's lists (built-in plus what administrators added)."""
    problems: list[FieldError] = []
    for kind, field, values in (
        (VocabularyKind.BRANCH, "branches", content.branches),
        (VocabularyKind.TARGET_GROUP, "target_groups", content.target_groups),
        (VocabularyKind.PILOT, "pilots", content.pilots),
    ):
        known = {t.code for t in await store.terms(kind)}
        for i, code in enumerate(values):
            if code not in known:
                problems.append(
                    FieldError(
                        field=f"{prefix}.{field}.{i}",
                        type="unknown_code",
                        message=f"unknown {kind.value} {code!r}; see GET /vocabularies/{kind.value}",
                    )
                )
    if problems:
        raise UnprocessableContent("; ".join(f"{p.field}: {p.message}" for p in problems), problems)


def encode_cursor(values: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, *fields: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, dict) or set(values) != set(fields):
            raise ValueError
        return values
    except ValueError as exc:
        raise UnprocessableContent(
            "the cursor is not valid; start again without it",
            [FieldError(field="cursor", message="not a cursor this list gave out", type="invalid_cursor")],
        ) from exc
