from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from mimis_platform.settings import ServiceSettings
from services.quality.domain.criteria import CURRENT_VERSION, PUBLISHED
from services.quality.domain.review import ApprovalRule, ReviewPolicy


class QualitySettings(ServiceSettings):
    """Environment variables prefixed ``QUALITY_`` (e.g. ``QUALITY_REVIEW_DUE_DAYS``)."""

    model_config = SettingsConfigDict(env_prefix="QUALITY_", extra="ignore", frozen=True)

    service_name: str = "quality"
    mongo_database: str = "quality"
    http_port: int = 8102

    # The criteria new reviews use; older reviews keep the version they were opened with.
    criteria_version: str = CURRENT_VERSION
    # Approvals that decide approve: ``approvals_required`` below EQF ``high_level_from_eqf``,
    # ``approvals_required_high_level`` from it up.
    approvals_required: int = Field(1, ge=1, le=10)
    approvals_required_high_level: int = Field(2, ge=1, le=10)
    high_level_from_eqf: int = Field(5, ge=1, le=9)
    review_due_days: int = Field(21, ge=1, le=365)
    # Named in every decision and public summary; the board, never a person.
    reviewing_body: str = Field("Kvalitetsrådet för mikromeriter i Skåne", min_length=1)

    @field_validator("criteria_version")
    @classmethod
    def _published(cls, version: str) -> str:
        if version not in PUBLISHED:
            raise ValueError(f"criteria version {version!r} is not published (known: {', '.join(PUBLISHED)})")
        return version

    def review_policy(self) -> ReviewPolicy:
        return ReviewPolicy(
            criteria_version=self.criteria_version,
            approvals=ApprovalRule(self.approvals_required, self.approvals_required_high_level,
                                   self.high_level_from_eqf),
            due_days=self.review_due_days,
            reviewing_body=self.reviewing_body,
        )
