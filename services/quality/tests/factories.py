"""Factories for the quality service's tests, in one place: submissions as the catalog sends
them (checked against the shared contract), domain objects for the pure tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from mimis_platform.contracts import CONTRACTS
from mimis_platform.envelope import Event
from services.quality.domain import review as rv
from services.quality.domain.checklist import ChecklistItem, Mark
from services.quality.domain.criteria import V2026_1
from services.quality.domain.reviewers import Reviewer

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)
POLICY = rv.ReviewPolicy("2026.1", rv.ApprovalRule(1, 2, 5), due_days=21,
                         reviewing_body="Kvalitetsrådet för mikromeriter i Skåne")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def content_payload(eqf: int = 4, branches: tuple[str, ...] = ("vard-och-omsorg",), **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": {"sv": "Basala hygienrutiner i vård och omsorg", "en": "Basic hygiene routines in care"},
        "description": {"sv": "Hygien som skyddar brukare och personal.", "en": "Hygiene that protects clients."},
        "learning_outcomes": [{"text": {"sv": "Tillämpa basala hygienrutiner i omsorgsarbete."}}],
        "workload": {"hours": 40},
        "level": {"eqf": eqf},
        "assessment": {"type": "practical-demonstration"},
        "participation": {"mode": "blended", "pacing": "supervised"},
        "quality_assurance": {"types": ["internal"]},
        "branches": list(branches),
        "languages": ["sv"],
    }
    payload.update(overrides)
    return payload


def submitted_data(mc_id: str | None = None, version: int = 1, provider_id: str = "hkr", eqf: int = 4,
                   provider_kind: str = "university", branches: tuple[str, ...] = ("vard-och-omsorg",),
                   provider_name: str = "Högskolan Kristianstad") -> dict[str, Any]:
    data = {
        "micro_credential_id": mc_id or f"mc-{uuid.uuid4().hex[:16]}", "version": version,
        "provider_id": provider_id, "provider_kind": provider_kind, "provider_name": provider_name,
        "content": content_payload(eqf, branches), "submitted_at": "2026-11-23T09:00:00Z",
    }
    CONTRACTS.validate("catalog.credential.submitted.v1", data)
    return data


def submitted_event(**options: Any) -> Event:
    data = submitted_data(**options)
    return Event(type="catalog.credential.submitted.v1", source="/mimis/catalog",
                 partition_key=data["micro_credential_id"],
                 subject=f"micro-credentials/{data['micro_credential_id']}/versions/{data['version']}", data=data)


def submission(eqf: int = 4, provider_id: str = "hkr", **options: Any) -> rv.Submission:
    d = submitted_data(mc_id="mc-1", eqf=eqf, provider_id=provider_id, **options)
    return rv.Submission(d["micro_credential_id"], d["version"], d["provider_id"], d["provider_kind"],
                         d["provider_name"], d["content"], T0)


def reviewer(subject: str, *organisations: str, active: bool = True) -> Reviewer:
    return Reviewer(subject, subject.title(), organisations, active, T0, T0)


def all_marked(mark: Mark = Mark.MET, **exceptions: tuple[Mark, str | None]) -> list[ChecklistItem]:
    """A complete checklist: every criterion ``mark``, except the named ones (code with '_' for '-')."""
    items = []
    for code in V2026_1.codes:
        special = exceptions.get(code.replace("-", "_"))
        items.append(ChecklistItem(code, *special) if special else ChecklistItem(code, mark))
    return items


def checklist_payload(mark: str = "met", **exceptions: tuple[str, str | None]) -> dict[str, Any]:
    items = []
    for code in V2026_1.codes:
        special = exceptions.get(code.replace("-", "_"))
        items.append({"criterion": code, "mark": special[0], "comment": special[1]} if special
                     else {"criterion": code, "mark": mark})
    return {"items": items}
