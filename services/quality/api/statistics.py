"""The quality board's figures (quality-admin)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from mimis_platform.api_errors import ERROR_RESPONSES
from mimis_platform.auth import CurrentParty, Role
from services.quality.api.deps import StoreDep, now, require_role
from services.quality.domain.statistics import Rate

router = APIRouter(prefix="/statistics", tags=["statistics"])


class RatePublic(BaseModel):
    key: str
    decided: int
    approved: int
    changes_requested: int
    rejected: int
    approval_rate: float = Field(description="approved / decided, per review round.")

    @classmethod
    def of(cls, r: Rate) -> RatePublic:
        return cls(key=r.key, decided=r.decided, approved=r.approved, changes_requested=r.changes_requested,
                   rejected=r.rejected, approval_rate=round(r.approval_rate, 4))


class TimeToDecision(BaseModel):
    median_hours: float | None
    mean_hours: float | None


class StatisticsPublic(BaseModel):
    generated_at: datetime
    since: datetime | None = Field(description="Decided reviews counted from this moment (all when null).")
    open: int
    overdue: int
    decided: int
    time_to_decision: TimeToDecision
    by_provider_kind: list[RatePublic]
    by_branch: list[RatePublic]


@router.get("", response_model=StatisticsPublic, responses=ERROR_RESPONSES,
            summary="Reviews open and overdue, time to decision, approval rates per provider kind and branch")
async def statistics(store: StoreDep, party: CurrentParty, since: datetime | None = None) -> StatisticsPublic:
    require_role(party, Role.QUALITY_ADMIN)
    at = now()
    s = await store.statistics(at, since)

    def hours(value: float | None) -> float | None:
        return round(value, 2) if value is not None else None

    return StatisticsPublic(
        generated_at=at, since=since, open=s.open, overdue=s.overdue, decided=s.decided,
        time_to_decision=TimeToDecision(median_hours=hours(s.median_hours_to_decision),
                                        mean_hours=hours(s.mean_hours_to_decision)),
        by_provider_kind=[RatePublic.of(r) for r in s.by_provider_kind],
        by_branch=[RatePublic.of(r) for r in s.by_branch],
    )
