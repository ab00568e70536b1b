"""The public review summary of a micro-credential: for each approved version, which body
reviewed it, when, against which criteria and with what outcome; never who reviewed it."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from mimis_platform.api_errors import NotFound
from services.quality.api.deps import StoreDep
from services.quality.api.models import TextPublic
from services.quality.domain.criteria import criteria_set
from services.quality.domain.transparency import PublishedReview, published_reviews

router = APIRouter(prefix="/summaries", tags=["transparency"])


class CriterionChecked(BaseModel):
    code: str
    title: TextPublic | None
    met: int = Field(description="How many approving reviewers found the criterion met.")
    not_applicable: int = Field(description="How many approving reviewers found it not applicable.")


class ReviewedVersion(BaseModel):
    version: int
    outcome: str
    reviewing_body: str
    decided_at: datetime
    criteria_version: str
    rounds: int = Field(description="Review rounds until the decision (more than one: changes were asked for).")
    approvals: int
    criteria: list[CriterionChecked]

    @classmethod
    def of(cls, p: PublishedReview) -> ReviewedVersion:
        criteria = criteria_set(p.criteria_version)

        def title(code: str) -> TextPublic | None:
            found = criteria.get(code) if criteria else None
            return TextPublic(sv=found.title.sv, en=found.title.en) if found else None

        return cls(version=p.version, outcome=p.outcome.value, reviewing_body=p.reviewing_body,
                   decided_at=p.decided_at, criteria_version=p.criteria_version, rounds=p.rounds,
                   approvals=p.approvals,
                   criteria=[CriterionChecked(code=t.code, title=title(t.code), met=t.met,
                                              not_applicable=t.not_applicable) for t in p.criteria])


class ReviewSummaryPublic(BaseModel):
    micro_credential_id: str
    reviewed_versions: list[ReviewedVersion]


@router.get("/{micro_credential_id}", response_model=ReviewSummaryPublic, responses={404: {}},
            summary="How the quality board reviewed a published micro-credential (public; no reviewer data)")
async def summary(micro_credential_id: str, store: StoreDep) -> ReviewSummaryPublic:
    approved = published_reviews(await store.reviews_of(micro_credential_id))
    if not approved:
        raise NotFound(f"no approved review of micro-credential {micro_credential_id!r}")
    return ReviewSummaryPublic(micro_credential_id=micro_credential_id,
                               reviewed_versions=[ReviewedVersion.of(p) for p in approved])
