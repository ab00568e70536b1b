"""How the quality board reviewed a published micro-credential (public; never who reviewed it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from gateway.schema.common import ctx, parse_time


@strawberry.type(description="One criterion of the published review criteria, as the approving reviewers found it.")
class CriterionFinding:
    code: str
    title: str | None = strawberry.field(description="The criterion's Swedish title.")
    met: int
    not_applicable: int


@strawberry.type(description="The board's decision on one approved version.")
class ReviewedVersion:
    version: int
    outcome: str
    reviewing_body: str
    decided_at: datetime
    criteria_version: str
    rounds: int = strawberry.field(description="Review rounds until the decision (more than one: changes were asked).")
    approvals: int
    criteria: list[CriterionFinding]


@strawberry.type(description="The public record of how a micro-credential was quality-assured.")
class ReviewSummary:
    micro_credential_id: strawberry.ID
    reviewed_versions: list[ReviewedVersion]

    @classmethod
    def of(cls, body: dict[str, Any]) -> ReviewSummary:
        return cls(
            micro_credential_id=strawberry.ID(body["micro_credential_id"]),
            reviewed_versions=[
                ReviewedVersion(
                    version=v["version"], outcome=v["outcome"], reviewing_body=v["reviewing_body"],
                    decided_at=parse_time(v["decided_at"]) or datetime.min, criteria_version=v["criteria_version"],
                    rounds=v["rounds"], approvals=v["approvals"],
                    criteria=[CriterionFinding(code=c["code"], title=(c.get("title") or {}).get("sv"), met=c["met"],
                                               not_applicable=c["not_applicable"]) for c in v["criteria"]],
                )
                for v in body["reviewed_versions"]
            ],
        )


async def summary_of(info: Info, micro_credential_id: str) -> ReviewSummary | None:
    body = await ctx(info).review_summaries.load(micro_credential_id)
    return ReviewSummary.of(body) if body else None
