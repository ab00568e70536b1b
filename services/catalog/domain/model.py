"""What a micro-credential is in the catalogue: the EU Council Recommendation's (2022/C 243/02)
mandatory and optional elements, plus what Skåne needs (branch, target groups, pilots, price).

Pure data with validation; every message says which rule a value breaks. Codes are stable
lower-case strings (they travel in events and URLs); labels for people live in
:mod:`services.catalog.domain.vocabulary`.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from mimis_platform.swedish_ids import InvalidIdentifier, normalise_organisation_number

ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
EscoSkillUri = Annotated[
    str,
    StringConstraints(
        pattern=r"^http://data\.europa\.eu/esco/skill/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    ),
]


def _organisation_number(value: str) -> str:
    try:
        return normalise_organisation_number(value)
    except InvalidIdentifier as exc:
        raise ValueError(str(exc)) from exc


OrganisationNumber = Annotated[str, AfterValidator(_organisation_number)]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LanguageMap(Strict):
    """Short text in Swedish (required) and English (recommended)."""

    sv: ShortText
    en: ShortText | None = None


class LongLanguageMap(Strict):
    sv: LongText
    en: LongText | None = None


# --- providers -----------------------------------------------------------------------------


class ProviderKind(StrEnum):
    UNIVERSITY = "university"  # universitet / högskola
    ADULT_EDUCATION = "adult-education"  # folkbildning: folkhögskola, studieförbund
    CIVIL_SOCIETY = "civil-society"  # idéburen sektor
    EMPLOYER = "employer"  # employer academy
    MUNICIPALITY = "municipality"
    REGION = "region"


# A provider's contact person is a person: the marking puts them in the personal-data inventory
# (PRIVACY.md) and keeps them out of dead letters (ContractRegistry.redact_personal).
_DIRECT_PERSONAL_DATA: dict[str, Any] = {"x-personal-data": "direct"}


class Contact(Strict):
    name: ShortText = Field(json_schema_extra=_DIRECT_PERSONAL_DATA)
    email: EmailStr = Field(json_schema_extra=_DIRECT_PERSONAL_DATA)
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{6,20}$")] | None = Field(
        None, json_schema_extra=_DIRECT_PERSONAL_DATA)


class ProviderDetails(Strict):
    """What a provider says about itself (the id and the members are managed separately)."""

    name: ShortText
    organisation_number: OrganisationNumber = Field(
        description="Swedish organisation number, NNNNNN-NNNN, with its check digit."
    )
    kind: ProviderKind
    contact: Contact
    website: AnyHttpUrl | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "SE"
    region: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}[0-9A-Z]{1,3}$")] = Field(
        "SE224", description="NUTS code of the provider's region (SE224 = Skåne län)."
    )


# --- the EU elements of a micro-credential ----------------------------------------------------


class LearningOutcome(Strict):
    """One learning outcome, in the learner's terms, tied to ESCO skills where one fits."""

    text: LongLanguageMap
    esco_skills: list[EscoSkillUri] = Field(default_factory=list, max_length=20)


class Workload(Strict):
    """Notional workload: ECTS credits wherever possible, hours otherwise (or both)."""

    ects: Decimal | None = Field(None, gt=0, le=60, decimal_places=1)
    hours: int | None = Field(None, gt=0, le=1800)

    @model_validator(mode="after")
    def _one_of(self) -> Workload:
        if self.ects is None and self.hours is None:
            raise ValueError("give the notional workload in ECTS credits, in hours, or both")
        return self


class Level(Strict):
    """EQF level and, in Sweden, the SeQF level (SeQF level n sits at EQF level n)."""

    eqf: int = Field(ge=1, le=8)
    seqf: int | None = Field(None, ge=1, le=8)

    @model_validator(mode="after")
    def _same_level(self) -> Level:
        if self.seqf is not None and self.seqf != self.eqf:
            raise ValueError(f"SeQF level {self.seqf} sits at EQF level {self.seqf}, not {self.eqf}")
        return self


class AssessmentType(StrEnum):
    WRITTEN_EXAM = "written-exam"
    ORAL_EXAM = "oral-exam"
    PRACTICAL_DEMONSTRATION = "practical-demonstration"
    PROJECT = "project"
    PORTFOLIO = "portfolio"
    WORKPLACE_OBSERVATION = "workplace-observation"
    ONLINE_TEST = "online-test"
    OTHER = "other"


class Assessment(Strict):
    type: AssessmentType
    description: LongLanguageMap | None = None

    @model_validator(mode="after")
    def _describe_other(self) -> Assessment:
        if self.type is AssessmentType.OTHER and self.description is None:
            raise ValueError("describe the assessment when its type is 'other'")
        return self


class Mode(StrEnum):
    ONLINE = "online"
    ONSITE = "onsite"
    BLENDED = "blended"
    WORK_BASED = "work-based"


class Pacing(StrEnum):
    SELF_PACED = "self-paced"
    SUPERVISED = "supervised"


class Participation(Strict):
    """Form of participation: where, and whether at one's own pace or led."""

    mode: Mode
    pacing: Pacing


class QualityAssuranceType(StrEnum):
    INTERNAL = "internal"  # the provider's own quality system
    EXTERNAL_REVIEW = "external-review"  # reviewed by the MIMIS quality board
    ACCREDITED = "accredited"  # under a national accreditation (e.g. UKÄ, Myndigheten för yrkeshögskolan)


class QualityAssurance(Strict):
    types: list[QualityAssuranceType] = Field(min_length=1)
    description: LongLanguageMap | None = None


class CoAwardingBody(Strict):
    name: ShortText
    organisation_number: OrganisationNumber | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "SE"


class Supervision(Strict):
    """Supervision and identity verification during assessment (optional EU element)."""

    supervised_assessment: bool
    identity_verified: bool


class GradingScheme(StrEnum):
    PASS_FAIL = "pass-fail"  # G/U
    PASS_DISTINCTION = "pass-distinction"  # U/G/VG
    A_TO_F = "a-f"  # ECTS grading scale
    NUMERIC = "numeric"


class Grading(Strict):
    scheme: GradingScheme
    description: LongLanguageMap | None = None


class Stackability(StrEnum):
    STAND_ALONE = "stand-alone"
    STACKABLE = "stackable"


class Integration(Strict):
    """Integration and stackability options (optional EU element)."""

    stackability: Stackability
    towards: list[LanguageMap] = Field(
        default_factory=list,
        max_length=10,
        description="What it can be stacked towards (a role, a larger qualification).",
    )


class Price(Strict):
    amount_sek: Decimal = Field(ge=0, le=1_000_000, decimal_places=2)
    funding: LongLanguageMap | None = Field(
        None, description="Who pays, e.g. free for job seekers through the municipality."
    )


class MicroCredentialContent(Strict):
    """Everything a provider writes about one version of a micro-credential."""

    # Mandatory EU elements (the learner's identity and the issue date belong to the credential).
    title: LanguageMap
    description: LongLanguageMap
    co_awarding_bodies: list[CoAwardingBody] = Field(default_factory=list, max_length=10)
    learning_outcomes: list[LearningOutcome] = Field(min_length=1, max_length=30)
    workload: Workload
    level: Level
    assessment: Assessment
    participation: Participation
    quality_assurance: QualityAssurance
    # Optional EU elements.
    prerequisites: LongLanguageMap | None = None
    supervision: Supervision | None = None
    grading: Grading | None = None
    integration: Integration | None = None
    further_information: LongLanguageMap | None = None
    further_information_url: AnyHttpUrl | None = None
    # What the region needs.
    branches: list[Code] = Field(min_length=1, max_length=5)
    target_groups: list[Code] = Field(default_factory=list, max_length=10)
    pilots: list[Code] = Field(default_factory=list, max_length=5)
    languages: list[LanguageCode] = Field(min_length=1, max_length=10, description="ISO 639-1 codes, e.g. sv, en, ar.")
    price: Price | None = None

    @field_validator("branches", "target_groups", "pilots", "languages")
    @classmethod
    def _no_repeats(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("each value may appear only once")
        return values

    def esco_skills(self) -> list[str]:
        seen: dict[str, None] = {}
        for outcome in self.learning_outcomes:
            for uri in outcome.esco_skills:
                seen.setdefault(uri)
        return list(seen)
