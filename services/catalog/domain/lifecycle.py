"""Versions and lifecycle of a micro-credential: pure functions from a version and a command
to the next version and the events it raises.

    draft -> submitted -> in-review -> changes-requested -> (edit) draft -> submitted -> ...
                                   -> rejected
                                   -> approved -> published -> retired
                                                           -> superseded (a newer version was published)

A published version never changes: editing it means a new draft version (n + 1); issued
credentials point at the exact version. Review states move only on the quality service's
events, never by a provider's hand. Approval publishes at once (one step fewer for providers;
the quality board's approval is the gate).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from services.catalog.domain.model import MicroCredentialContent


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in-review"
    CHANGES_REQUESTED = "changes-requested"
    REJECTED = "rejected"
    APPROVED = "approved"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"
    RETIRED = "retired"


EDITABLE = frozenset({Status.DRAFT, Status.CHANGES_REQUESTED})
OPEN = frozenset({Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.CHANGES_REQUESTED})


class Decision(StrEnum):
    APPROVE = "approve"
    REQUEST_CHANGES = "request-changes"
    REJECT = "reject"


class LifecycleError(Exception):
    """A command that the version's status does not allow; the message says what to do instead."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class StatusChange:
    status: Status
    at: datetime
    by: str  # a person's subject id, or "quality" for the quality service's decisions


@dataclass(frozen=True)
class ReviewOutcome:
    review_id: str
    decision: Decision | None = None
    comments: tuple[str, ...] = ()
    reason: str | None = None
    criteria_version: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True)
class MicroCredentialVersion:
    micro_credential_id: str
    version: int
    provider_id: str
    content: MicroCredentialContent
    status: Status
    created_at: datetime
    updated_at: datetime
    history: tuple[StatusChange, ...] = ()
    review: ReviewOutcome | None = None
    published_at: datetime | None = None

    def moved(self, status: Status, at: datetime, by: str, **changes: Any) -> MicroCredentialVersion:
        return replace(
            self, status=status, updated_at=at, history=(*self.history, StatusChange(status, at, by)), **changes
        )


# --- events (past tense, plain data) ----------------------------------------------------------


@dataclass(frozen=True)
class CredentialDrafted:
    version: MicroCredentialVersion


@dataclass(frozen=True)
class CredentialSubmitted:
    version: MicroCredentialVersion


@dataclass(frozen=True)
class CredentialStatusChanged:
    version: MicroCredentialVersion
    previous: Status
    comments: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class CredentialPublished:
    version: MicroCredentialVersion
    supersedes: int | None = None


CatalogEvent = CredentialDrafted | CredentialSubmitted | CredentialStatusChanged | CredentialPublished


@dataclass(frozen=True)
class Outcome:
    """The versions a command changed (to be saved together) and the events it raised."""

    changed: list[MicroCredentialVersion] = field(default_factory=list)
    events: list[CatalogEvent] = field(default_factory=list)


# --- commands -------------------------------------------------------------------------------


def start(
    micro_credential_id: str, provider_id: str, content: MicroCredentialContent, *, now: datetime, by: str
) -> Outcome:
    version = MicroCredentialVersion(
        micro_credential_id, 1, provider_id, content, Status.DRAFT, now, now, (StatusChange(Status.DRAFT, now, by),)
    )
    return Outcome([version], [CredentialDrafted(version)])


def new_version(
    latest: MicroCredentialVersion, content: MicroCredentialContent | None, *, now: datetime, by: str
) -> Outcome:
    """A new draft after the latest version, which must be closed (published, retired, rejected...)."""
    if latest.status in OPEN:
        raise LifecycleError(
            "open-version-exists",
            f"version {latest.version} is still {latest.status}; edit that version instead of starting a new one",
        )
    version = MicroCredentialVersion(
        latest.micro_credential_id,
        latest.version + 1,
        latest.provider_id,
        content or latest.content,
        Status.DRAFT,
        now,
        now,
        (StatusChange(Status.DRAFT, now, by),),
    )
    return Outcome([version], [CredentialDrafted(version)])


def edit(version: MicroCredentialVersion, content: MicroCredentialContent, *, now: datetime, by: str) -> Outcome:
    if version.status not in EDITABLE:
        hint = (
            "a published version never changes: start a new version to edit it"
            if version.status in (Status.PUBLISHED, Status.SUPERSEDED, Status.RETIRED)
            else "it can be edited again if the quality board asks for changes"
        )
        raise LifecycleError("not-editable", f"version {version.version} is {version.status}; {hint}")
    if version.status is Status.CHANGES_REQUESTED:
        return Outcome([version.moved(Status.DRAFT, now, by, content=content)], [])
    return Outcome([replace(version, content=content, updated_at=now)], [])


def submit(version: MicroCredentialVersion, *, now: datetime, by: str) -> Outcome:
    if version.status not in EDITABLE:
        raise LifecycleError(
            "not-submittable", f"version {version.version} is {version.status}; only a draft can be submitted"
        )
    submitted = version.moved(Status.SUBMITTED, now, by)
    return Outcome([submitted], [CredentialSubmitted(submitted)])


def start_review(version: MicroCredentialVersion, review_id: str, *, now: datetime) -> Outcome:
    """The quality service opened a review of this version."""
    if version.status is Status.IN_REVIEW and version.review and version.review.review_id == review_id:
        return Outcome()  # the same news twice
    if version.status is not Status.SUBMITTED:
        raise LifecycleError("not-under-review", f"version {version.version} is {version.status}, not submitted")
    in_review = version.moved(Status.IN_REVIEW, now, "quality", review=ReviewOutcome(review_id))
    return Outcome([in_review], [CredentialStatusChanged(in_review, Status.SUBMITTED)])


def decide(
    version: MicroCredentialVersion, review: ReviewOutcome, *, now: datetime, published: MicroCredentialVersion | None
) -> Outcome:
    """The quality service decided. ``published`` is the version currently published, if any,
    which an approval supersedes."""
    if version.status not in (Status.SUBMITTED, Status.IN_REVIEW):
        raise LifecycleError("not-under-review", f"version {version.version} is {version.status}, not under review")
    previous = version.status
    if review.decision is Decision.REQUEST_CHANGES:
        moved = version.moved(Status.CHANGES_REQUESTED, now, "quality", review=review)
        return Outcome([moved], [CredentialStatusChanged(moved, previous, review.comments, review.reason)])
    if review.decision is Decision.REJECT:
        moved = version.moved(Status.REJECTED, now, "quality", review=review)
        return Outcome([moved], [CredentialStatusChanged(moved, previous, review.comments, review.reason)])
    if review.decision is not Decision.APPROVE:
        raise LifecycleError("unknown-decision", f"unknown review decision {review.decision!r}")
    approved = version.moved(Status.APPROVED, now, "quality", review=review)
    live = approved.moved(Status.PUBLISHED, now, "quality", published_at=now)
    outcome = Outcome(
        [live],
        [
            CredentialStatusChanged(approved, previous, review.comments),
            CredentialPublished(live, published.version if published else None),
        ],
    )
    if published is not None and published.version != version.version:
        old = published.moved(Status.SUPERSEDED, now, "quality")
        outcome.changed.append(old)
        outcome.events.append(CredentialStatusChanged(old, Status.PUBLISHED))
    return outcome


def retire(version: MicroCredentialVersion, *, now: datetime, by: str, reason: str | None) -> Outcome:
    if version.status is not Status.PUBLISHED:
        raise LifecycleError(
            "not-retirable", f"version {version.version} is {version.status}; only a published version can be retired"
        )
    retired = version.moved(Status.RETIRED, now, by)
    return Outcome([retired], [CredentialStatusChanged(retired, Status.PUBLISHED, reason=reason)])
