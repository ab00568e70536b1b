"""Regional statistics: what the catalogue offers and the credentials issued (public, aggregate counts
only) and the quality board's figures (the board)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.schema.common import ctx, parse_time
from mimis_platform.auth import Role


@strawberry.type
class Count:
    key: str
    count: int


@strawberry.type(description="Published micro-credentials in the region's catalogue.")
class CatalogueStatistics:
    published: int
    by_branch: list[Count]
    by_provider_kind: list[Count]
    by_level: list[Count] = strawberry.field(description="By EQF level.")
    by_pilot: list[Count]


@strawberry.type(description="Credentials issued in the region (aggregate counts only, nothing about a learner).")
class IssuedCredentialStatistics:
    generated_at: datetime
    issued: int = strawberry.field(description="Every credential issued, revoked ones included.")
    revoked: int
    by_branch: list[Count] = strawberry.field(
        description="A credential counts in each branch of its catalogue version.")
    by_provider_kind: list[Count]
    by_level: list[Count] = strawberry.field(description="By EQF level of the exact catalogue version.")
    by_month: list[Count] = strawberry.field(description="By issue month (YYYY-MM, UTC), oldest first.")


@strawberry.type
class ApprovalRate:
    key: str
    decided: int
    approved: int
    changes_requested: int
    rejected: int
    approval_rate: float


@strawberry.type(description="The quality board's figures.")
class QualityStatistics:
    generated_at: datetime
    open: int
    overdue: int
    decided: int
    median_hours_to_decision: float | None
    mean_hours_to_decision: float | None
    by_provider_kind: list[ApprovalRate]
    by_branch: list[ApprovalRate]


def _counts(values: list[dict[str, Any]]) -> list[Count]:
    return [Count(key=str(v["value"]), count=v["count"]) for v in values if v["count"] > 0]


def _keyed(values: list[dict[str, Any]]) -> list[Count]:
    return [Count(key=str(v["key"]), count=v["count"]) for v in values]


def _rates(values: list[dict[str, Any]]) -> list[ApprovalRate]:
    return [ApprovalRate(key=r["key"], decided=r["decided"], approved=r["approved"],
                         changes_requested=r["changes_requested"], rejected=r["rejected"],
                         approval_rate=r["approval_rate"]) for r in values]


@strawberry.type
class StatisticsQuery:
    @strawberry.field(description="Published micro-credentials by branch, provider kind, level and pilot (public).")
    async def catalogue_statistics(self, info: Info) -> CatalogueStatistics | None:
        page = await ctx(info).services.get("catalog", "/micro-credentials", params={"limit": 1, "facets": "true"})
        f = page.get("facets") or {}
        return CatalogueStatistics(published=page.get("total") or 0, by_branch=_counts(f.get("branches", [])),
                                   by_provider_kind=_counts(f.get("provider_kinds", [])),
                                   by_level=_counts(f.get("levels", [])), by_pilot=_counts(f.get("pilots", [])))

    @strawberry.field(description="Credentials issued by branch, provider kind, EQF level and issue month, with "
                                  "the total and how many are revoked (public).")
    async def issued_credential_statistics(self, info: Info) -> IssuedCredentialStatistics | None:
        s = await ctx(info).services.get("issuance", "/v1/statistics")
        return IssuedCredentialStatistics(
            generated_at=parse_time(s["generated_at"]) or datetime.min, issued=s["issued"], revoked=s["revoked"],
            by_branch=_keyed(s["by_branch"]), by_provider_kind=_keyed(s["by_provider_kind"]),
            by_level=_keyed(s["by_level"]), by_month=_keyed(s["by_month"]))

    @strawberry.field(description="Reviews open and overdue, time to decision, approval rates (the quality board).")
    async def quality_statistics(self, info: Info, since: datetime | None = None) -> QualityStatistics | None:
        c = ctx(info)
        c.identity.require(Role.QUALITY_ADMIN)
        params = {"since": since.isoformat()} if since else None
        s = await c.services.get("quality", "/statistics", token=c.token, params=params)
        t = s["time_to_decision"]
        return QualityStatistics(generated_at=parse_time(s["generated_at"]) or datetime.min, open=s["open"],
                                 overdue=s["overdue"], decided=s["decided"], median_hours_to_decision=t["median_hours"],
                                 mean_hours_to_decision=t["mean_hours"],
                                 by_provider_kind=_rates(s["by_provider_kind"]), by_branch=_rates(s["by_branch"]))
