"""The catalog's events: outgoing domain events as contract-checked envelopes, and the handlers
of the quality service's review events with their routing table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from mimis_platform.consumer import Handler, PermanentError
from mimis_platform.envelope import Event
from services.catalog.domain import lifecycle as lc
from services.catalog.domain.model import ProviderDetails

SOURCE = "/mimis/catalog"
DRAFTED = "catalog.credential.drafted.v1"
SUBMITTED = "catalog.credential.submitted.v1"
STATUS_CHANGED = "catalog.credential.status-changed.v1"
PUBLISHED = "catalog.credential.published.v1"
PROVIDER_REGISTERED = "catalog.provider.registered.v1"
PROVIDER_UPDATED = "catalog.provider.updated.v1"
REVIEW_OPENED = "quality.review.opened.v1"
REVIEW_DECIDED = "quality.review.decided.v1"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _envelope(event_type: str, v: lc.MicroCredentialVersion, data: dict[str, Any], at: datetime) -> Event:
    return Event(
        type=event_type,
        source=SOURCE,
        partition_key=v.micro_credential_id,
        subject=f"micro-credentials/{v.micro_credential_id}/versions/{v.version}",
        time=at,
        data=data,
    )


def lifecycle_event(event: lc.CatalogEvent, provider: ProviderDetails) -> Event:
    v = event.version
    ids = {"micro_credential_id": v.micro_credential_id, "version": v.version, "provider_id": v.provider_id}
    provider_facts = {"provider_kind": provider.kind.value, "provider_name": provider.name}
    content = v.content.model_dump(mode="json", exclude_none=True)
    if isinstance(event, lc.CredentialDrafted):
        return _envelope(
            DRAFTED,
            v,
            {**ids, "title": v.content.title.model_dump(exclude_none=True), "drafted_at": iso(v.created_at)},
            v.created_at,
        )
    if isinstance(event, lc.CredentialSubmitted):
        return _envelope(
            SUBMITTED, v, {**ids, **provider_facts, "content": content, "submitted_at": iso(v.updated_at)}, v.updated_at
        )
    if isinstance(event, lc.CredentialPublished):
        assert v.published_at is not None
        return _envelope(
            PUBLISHED,
            v,
            {
                **ids,
                **provider_facts,
                "content": content,
                "published_at": iso(v.published_at),
                "supersedes_version": event.supersedes,
            },
            v.published_at,
        )
    changed = event.version.history[-1].at if event.version.history else v.updated_at
    data = {
        **ids,
        "status": v.status.value,
        "previous_status": event.previous.value,
        "comments": list(event.comments),
        "reason": event.reason,
        "changed_at": iso(changed),
    }
    return _envelope(STATUS_CHANGED, v, data, changed)


def provider_event(event_type: str, provider_id: str, details: ProviderDetails, at: datetime) -> Event:
    return Event(
        type=event_type,
        source=SOURCE,
        partition_key=provider_id,
        subject=f"providers/{provider_id}",
        time=at,
        data={"provider_id": provider_id, "details": details.model_dump(mode="json", exclude_none=True), "at": iso(at)},
    )


# --- incoming: the quality service's decisions drive the review states ------------------------

ReviewApplier = Callable[[dict[str, Any], AsyncClientSession], Any]


def routes(*, on_review_opened: ReviewApplier, on_review_decided: ReviewApplier) -> dict[str, Handler]:
    async def opened(event: Event, session: AsyncClientSession) -> None:
        try:
            await on_review_opened(event.data, session)
        except lc.LifecycleError as exc:
            raise PermanentError(f"{exc.code}: {exc.message}") from exc

    async def decided(event: Event, session: AsyncClientSession) -> None:
        try:
            await on_review_decided(event.data, session)
        except lc.LifecycleError as exc:
            raise PermanentError(f"{exc.code}: {exc.message}") from exc

    return {REVIEW_OPENED: opened, REVIEW_DECIDED: decided}
