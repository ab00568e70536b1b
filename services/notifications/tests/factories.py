"""Events as their producers send them (checked against the shared contracts), in one place."""

from __future__ import annotations

import uuid
from typing import Any

from mimis_platform.contracts import CONTRACTS
from mimis_platform.envelope import Event


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _event(event_type: str, source: str, key: str, data: dict[str, Any], event_id: str | None = None) -> Event:
    CONTRACTS.validate(event_type, data)
    return Event(type=event_type, source=source, partition_key=key, data=data, id=event_id or str(uuid.uuid4()))


def issued(provider_id: str = "hkr", branches: tuple[str, ...] = ("vard-och-omsorg",), credential_id: str | None = None,
           learner_ref: str | None = None, mc_id: str | None = None, event_id: str | None = None) -> Event:
    credential_id = credential_id or uid("cred")
    return _event("issuance.credential.issued.v1", "/mimis/issuance", credential_id, {
        "credential_id": credential_id, "learner_ref": learner_ref or uid("lr"),
        "micro_credential_id": mc_id or uid("mc"), "version": 1, "provider_id": provider_id,
        "title": {"sv": "Basala hygienrutiner i vård och omsorg", "en": "Basic hygiene routines in care"},
        "branches": list(branches), "source_event_id": None, "issued_at": "2026-11-23T09:00:00Z",
        "valid_until": None,
    }, event_id)


def provider_registered(provider_id: str, email: str, name: str = "Högskolan Kristianstad",
                        at: str = "2026-11-23T08:00:00Z", updated: bool = False) -> Event:
    event_type = "catalog.provider.updated.v1" if updated else "catalog.provider.registered.v1"
    return _event(event_type, "/mimis/catalog", provider_id, {
        "provider_id": provider_id, "at": at,
        "details": {"name": name, "organisation_number": "212000-0142", "kind": "university",
                    "contact": {"name": "Kansliet", "email": email}},
    })


def review_decided(provider_id: str, decision: str = "request-changes", comments: tuple[str, ...] = (),
                   reason: str | None = None, mc_id: str | None = None) -> Event:
    mc_id = mc_id or uid("mc")
    data: dict[str, Any] = {
        "review_id": uid("rv"), "micro_credential_id": mc_id, "version": 2, "provider_id": provider_id,
        "decision": decision, "comments": list(comments), "reason": reason, "criteria_version": "2026.1",
        "reviewing_body": "Kvalitetsrådet för mikromeriter i Skåne", "decided_at": "2026-11-23T10:00:00Z",
    }
    return _event("quality.review.decided.v1", "/mimis/quality", mc_id, data)


def published(provider_id: str = "hkr", branches: tuple[str, ...] = ("vard-och-omsorg",),
              mc_id: str | None = None) -> Event:
    mc_id = mc_id or uid("mc")
    content = {
        "title": {"sv": "Basala hygienrutiner i vård och omsorg", "en": "Basic hygiene routines in care"},
        "description": {"sv": "Hygien som skyddar brukare och personal.", "en": "Hygiene that protects clients."},
        "learning_outcomes": [{"text": {"sv": "Tillämpa basala hygienrutiner i omsorgsarbete."}}],
        "workload": {"hours": 40}, "level": {"eqf": 4}, "assessment": {"type": "practical-demonstration"},
        "participation": {"mode": "blended", "pacing": "supervised"}, "quality_assurance": {"types": ["internal"]},
        "branches": list(branches), "languages": ["sv"],
    }
    return _event("catalog.credential.published.v1", "/mimis/catalog", mc_id, {
        "micro_credential_id": mc_id, "version": 1, "provider_id": provider_id, "provider_kind": "university",
        "provider_name": "Högskolan Kristianstad", "content": content, "published_at": "2026-11-23T09:30:00Z",
        "supersedes_version": None,
    })


def learner_ref() -> str:
    """A learner_ref as issuance makes them (``lr-`` and 32 hex digits)."""
    return f"lr-{uuid.uuid4().hex}"


def revoked(credential_id: str, learner_ref: str, provider_id: str = "hkr",
            branches: tuple[str, ...] = ("vard-och-omsorg",), mc_id: str | None = None) -> Event:
    return _event("issuance.credential.revoked.v1", "/mimis/issuance", credential_id, {
        "credential_id": credential_id, "learner_ref": learner_ref, "micro_credential_id": mc_id or uid("mc"),
        "version": 1, "provider_id": provider_id, "branches": list(branches), "reason": "Fel person registrerad.",
        "revoked_at": "2026-11-23T11:00:00Z",
    })


def erasure_requested(learner_ref: str, erasure_id: str | None = None, event_id: str | None = None) -> Event:
    return _event("privacy.learner.erasure-requested.v1", "/mimis/issuance", learner_ref, {
        "erasure_id": erasure_id or f"er-{uuid.uuid4().hex}", "learner_ref": learner_ref,
        "requested_at": "2026-11-23T12:00:00Z", "requested_by": "learner",
    }, event_id)
