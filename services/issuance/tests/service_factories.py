"""Events the issuance service consumes, as their producers send them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from mimis_platform.envelope import Event
from services.catalog.tests.factories import content_payload, provider_payload


def iso_now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def provider_registered(provider_id: str, **details: Any) -> Event:
    return Event(type="catalog.provider.registered.v1", source="/mimis/catalog", partition_key=provider_id,
                 data={"provider_id": provider_id, "details": provider_payload(**details), "at": iso_now()})


def published(micro_credential_id: str, version: int, provider_id: str, supersedes: int | None = None,
              **content: Any) -> Event:
    return Event(type="catalog.credential.published.v1", source="/mimis/catalog", partition_key=micro_credential_id,
                 data={"micro_credential_id": micro_credential_id, "version": version, "provider_id": provider_id,
                       "provider_kind": "university", "provider_name": "Högskolan Kristianstad",
                       "content": content_payload(**content), "published_at": iso_now(),
                       "supersedes_version": supersedes})


def status_changed(micro_credential_id: str, version: int, provider_id: str, status: str) -> Event:
    return Event(type="catalog.credential.status-changed.v1", source="/mimis/catalog",
                 partition_key=micro_credential_id,
                 data={"micro_credential_id": micro_credential_id, "version": version, "provider_id": provider_id,
                       "status": status, "previous_status": "published", "changed_at": iso_now()})


def person(**overrides: Any) -> dict[str, Any]:
    """A learner as a provider registers them (``POST /v1/providers/{id}/learners``)."""
    return {"name": "Sara Nilsson", "email": f"sara.{uuid.uuid4().hex[:10]}@example.se",
            "date_of_birth": "1990-05-17", "language": "sv", **overrides}


def new_ref() -> str:
    """A well-formed learner_ref nobody registered."""
    return f"lr-{uuid.uuid4().hex}"


def assessment(provider_id: str, micro_credential_id: str, learner_ref: str | None = None,
               **overrides: Any) -> dict[str, Any]:
    """``provider.assessment.recorded.v2`` data (the learner only as learner_ref)."""
    data: dict[str, Any] = {
        "provider_event_id": f"lms-{uuid.uuid4().hex[:12]}",
        "provider_id": provider_id,
        "micro_credential_id": micro_credential_id,
        "version": 1,
        "learner_ref": learner_ref or new_ref(),
        "result": "passed",
        "grade": None,
        "assessed_on": "2026-11-20",
        "evidence_url": None,
    }
    data.update(overrides)
    return data
