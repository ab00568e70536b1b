"""Request and response models (one family per resource: Create, Update, Public)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, EmailStr, Field, StringConstraints

from services.notifications.domain.subscriptions import Filters, Subscription

Code = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class FiltersModel(BaseModel):
    """Empty lists mean any. An event lacking the attribute a non-empty filter looks at does not match
    (e.g. a branch filter never matches provider events, which have no branches)."""

    branches: list[Code] = Field(default_factory=list, max_length=100)
    providers: list[Code] = Field(default_factory=list, max_length=100)
    micro_credentials: list[Code] = Field(default_factory=list, max_length=1000)

    def domain(self) -> Filters:
        return Filters(frozenset(self.branches), frozenset(self.providers), frozenset(self.micro_credentials))

    @classmethod
    def of(cls, f: Filters) -> FiltersModel:
        return cls(branches=sorted(f.branches), providers=sorted(f.providers),
                   micro_credentials=sorted(f.micro_credentials))


class SubscriptionCreate(BaseModel):
    organisation_id: Code
    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)]
    event_types: list[Code] = Field(min_length=1, max_length=50)
    filters: FiltersModel = Field(default_factory=FiltersModel)
    owner_email: EmailStr = Field(description="Who is told when the endpoint is disabled.")
    language: Literal["sv", "en"] = "sv"
    description: Annotated[str, StringConstraints(max_length=500)] = ""
    enabled: bool = True


class SubscriptionUpdate(BaseModel):
    url: Annotated[str, StringConstraints(min_length=8, max_length=2000)] | None = None
    event_types: list[Code] | None = Field(None, min_length=1, max_length=50)
    filters: FiltersModel | None = None
    owner_email: EmailStr | None = None
    language: Literal["sv", "en"] | None = None
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    enabled: bool | None = None


class SubscriptionPublic(BaseModel):
    id: str
    organisation_id: str
    url: str
    event_types: list[str]
    filters: FiltersModel
    owner_email: str
    language: str
    description: str
    enabled: bool
    disabled_reason: str | None
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime
    secret_rotated_at: datetime | None

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionPublic:
        return cls(id=s.id, organisation_id=s.organisation_id, url=s.url, event_types=list(s.event_types),
                   filters=FiltersModel.of(s.filters), owner_email=s.owner_email, language=s.language,
                   description=s.description, enabled=s.enabled, disabled_reason=s.disabled_reason,
                   consecutive_failures=s.consecutive_failures, created_at=s.created_at, updated_at=s.updated_at,
                   secret_rotated_at=s.secret_rotated_at)


class SubscriptionCreated(SubscriptionPublic):
    secret: str = Field(description="The signing secret (whsec_...). Shown only now: store it.")


class SecretRotated(BaseModel):
    secret: str = Field(description="The new signing secret, shown only now.")
    previous_valid_until: datetime = Field(description="Until then every message carries two signatures, "
                                                       "one per secret, so receivers can switch without a gap.")


class SubscriptionPage(BaseModel):
    items: list[SubscriptionPublic]
    next_cursor: str | None


class EventTypeInfo(BaseModel):
    type: str
    topic: str
    scope: Literal["public", "own-provider"]


class AttemptPublic(BaseModel):
    number: int
    at: datetime
    status_code: int | None
    latency_ms: float
    error: str | None
    outcome: str | None

    @classmethod
    def of(cls, a: dict[str, Any]) -> AttemptPublic:
        return cls(number=a["number"], at=a["at"], status_code=a.get("status_code"),
                   latency_ms=a.get("latency_ms") or 0.0, error=a.get("error"), outcome=a.get("outcome"))


class DeliveryPublic(BaseModel):
    id: str = Field(description="The webhook-id the receiver saw; the same on every attempt.")
    event_id: str
    event_source: str
    event_type: str
    status: Literal["pending", "delivered", "failed", "skipped", "held"]
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[AttemptPublic]

    @classmethod
    def of(cls, d: dict[str, Any]) -> DeliveryPublic:
        return cls(id=d["_id"], event_id=d["event_id"], event_source=d["event_source"], event_type=d["event_type"],
                   status=d["status"], attempts=d["attempts"],
                   next_attempt_at=d["next_attempt_at"] if d["status"] == "pending" else None,
                   last_status=d.get("last_status"), last_error=d.get("last_error"), created_at=d["created_at"],
                   delivered_at=d.get("delivered_at"),
                   attempt_log=[AttemptPublic.of(a) for a in d.get("attempt_log") or ()])


class DeliveryPage(BaseModel):
    items: list[DeliveryPublic]
    next_cursor: str | None


class LearnerAttempt(BaseModel):
    number: int
    at: datetime
    outcome: str | None
    error: str | None


class LearnerEmailDelivery(BaseModel):
    id: str = Field(description="The delivery's id (also the e-mail's Message-ID part).")
    kind: str = Field(description="Which e-mail: `learner-credential` (a new credential).")
    credential_id: str | None
    provider_id: str | None
    title: dict[str, str] | None = Field(description="The micro-credential's title the e-mail named.")
    status: Literal["pending", "delivered", "failed", "skipped", "held"]
    attempts: int
    created_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    attempt_log: list[LearnerAttempt]

    @classmethod
    def of(cls, d: dict[str, Any]) -> LearnerEmailDelivery:
        p = d.get("params") or {}
        return cls(id=d["_id"], kind=d["kind"], credential_id=p.get("credential_id"), provider_id=p.get("provider_id"),
                   title=p.get("title"), status=d["status"], attempts=d["attempts"], created_at=d["created_at"],
                   delivered_at=d.get("delivered_at"), last_error=d.get("last_error"),
                   attempt_log=[LearnerAttempt(number=a["number"], at=a["at"], outcome=a.get("outcome"),
                                               error=a.get("error")) for a in d.get("attempt_log") or ()])


class LearnerWebhookDelivery(BaseModel):
    id: str = Field(description="The webhook-id the partner saw.")
    event_type: str
    credential_id: str | None
    organisation_id: str = Field(description="The partner organisation that was (or is to be) told.")
    status: Literal["pending", "delivered", "failed", "skipped", "held"]
    attempts: int
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, d: dict[str, Any], data: dict[str, Any]) -> LearnerWebhookDelivery:
        return cls(id=d["_id"], event_type=d["event_type"], credential_id=data.get("credential_id"),
                   organisation_id=d["organisation_id"], status=d["status"], attempts=d["attempts"],
                   created_at=d["created_at"], delivered_at=d.get("delivered_at"))


class LearnerPersonalData(BaseModel):
    """This service's part of a learner's data export (GDPR Art. 15 and 20)."""

    service: Literal["notifications"] = "notifications"
    learner_ref: str
    email_deliveries: list[LearnerEmailDelivery] = Field(
        description="E-mails to the learner (the address is never kept here: it was asked from issuance to send).")
    webhook_deliveries: list[LearnerWebhookDelivery] = Field(
        description="Webhooks to partner organisations whose body named the learner (by learner_ref).")
