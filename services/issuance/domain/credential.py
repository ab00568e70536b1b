"""The issued credential: an Open Badges 3.0 ``AchievementCredential`` (W3C VC 2.0) whose
achievement carries the EU micro-credential elements of the exact catalogue version.

Where Open Badges has a property for an element it is used (name, description, criteria,
``creditsAvailable`` for ECTS, ``alignment`` to ESCO skills, ``resultDescription`` for grades,
``creator`` for the awarding body, ``inLanguage``, ``version``); every other element is a term
of MIMIS's own context (``contexts/mimis-v1.jsonld``), so that eddsa-rdfc-2022 signs it too.
Controlled values are IRIs: EU authority IRIs where the EU has one (EQF, SeQF, mode of learning,
ECTS, NUTS), the same MIMIS vocabulary IRIs the catalogue's ELM export uses otherwise.

The result is unsigned; :mod:`data_integrity` and :mod:`vc_jose` secure it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.catalog.domain.elm import (
    COUNTRIES,
    ECTS_FRAMEWORK,
    EQF_LEVEL_BASE,
    MODES,
    NUTS_BASE,
    SEQF_LEVELS,
    micro_credential_version_url,
    provider_url,
)
from services.catalog.domain.model import (
    AssessmentType,
    CoAwardingBody,
    GradingScheme,
    LanguageMap,
    LongLanguageMap,
    MicroCredentialContent,
    ProviderDetails,
)
from services.issuance.domain.data_integrity import xsd_datetime
from services.issuance.domain.jsonld import MIMIS_V1, OB_V3P0, VC_V2
from services.issuance.domain.learner import Learner, hashed_email_identity, name_identity

JsonObject = dict[str, Any]

CONTEXTS = [VC_V2, OB_V3P0, MIMIS_V1]
CREDENTIAL_TYPE = ["VerifiableCredential", "AchievementCredential"]
ACHIEVEMENT_TYPE = "MicroCredential"  # Open Badges' AchievementType enumeration has it
ESCO_FRAMEWORK = "European Skills, Competences, Qualifications and Occupations (ESCO)"
ESCO_TARGET_TYPE = "ext:ESCOSkill"  # ESCO has no Open Badges alignment type; "ext:" is the extension form
ORGANISATION_NUMBER_TYPE = "ext:SwedishOrganisationNumber"

# Lowest to highest, as Open Badges' allowedValue orders them; the second item is the pass mark.
GRADE_SCALES: dict[GradingScheme, tuple[list[str], str]] = {
    GradingScheme.PASS_FAIL: (["U", "G"], "G"),
    GradingScheme.PASS_DISTINCTION: (["U", "G", "VG"], "G"),
    GradingScheme.A_TO_F: (["F", "FX", "E", "D", "C", "B", "A"], "E"),
}
_GRADE_NAMES = {"sv": "Betyg", "en": "Grade"}

_ASSESSMENT_PHRASES: dict[AssessmentType, tuple[str, str]] = {
    AssessmentType.WRITTEN_EXAM: ("skriftligt prov", "a written exam"),
    AssessmentType.ORAL_EXAM: ("muntligt prov", "an oral exam"),
    AssessmentType.PRACTICAL_DEMONSTRATION: ("praktiskt prov", "a practical demonstration"),
    AssessmentType.PROJECT: ("projektarbete", "a project"),
    AssessmentType.PORTFOLIO: ("portfolio", "a portfolio"),
    AssessmentType.WORKPLACE_OBSERVATION: ("observation på arbetsplatsen", "observation at the workplace"),
    AssessmentType.ONLINE_TEST: ("digitalt prov", "an online test"),
    AssessmentType.OTHER: ("annan bedömningsform", "another form of assessment"),
}
_NARRATIVE = {
    "sv": ("Deltagaren har visat att hen kan:", "Bedömning: {}."),
    "en": ("The learner has shown that they can:", "Assessed by {}."),
}


class CredentialBuildError(ValueError):
    """The inputs cannot make a valid credential (the message says which and why)."""


@dataclass(frozen=True)
class IssuerProfile:
    """Who signs: its ``did:web`` and the name shown to people; country and NUTS region are the
    EU element "country/region of the issuer"."""

    did: str
    name: str
    url: str | None = None
    country: str = "SE"
    region: str | None = "SE224"  # NUTS code; SE224 = Skåne län


@dataclass(frozen=True)
class CatalogueVersion:
    """The exact published catalogue version a credential is issued against, with its provider
    (the awarding body) as the catalogue describes them."""

    micro_credential_id: str
    version: int
    provider_id: str
    provider: ProviderDetails
    content: MicroCredentialContent


def new_credential_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def build_credential(
    *,
    issuer: IssuerProfile,
    catalogue: CatalogueVersion,
    learner: Learner,
    credential_status: JsonObject | list[JsonObject],
    valid_from: datetime,
    credential_id: str | None = None,
    valid_until: datetime | None = None,
    grade: str | None = None,
    assessed_on: date | None = None,
    evidence_url: str | None = None,
    language: str = "sv",
    skill_labels: Mapping[str, str] | None = None,
    email_salt: str | None = None,
    base_url: str = "https://mimis.skane.se",
) -> JsonObject:
    """An unsigned Open Badges 3.0 AchievementCredential for one learner's achievement.

    ``credential_status`` is one ``BitstringStatusListEntry`` or a list of them, one per purpose
    (MIMIS issues revocation and suspension). ``language`` picks the text shown (``sv`` or
    ``en``; a text the catalogue has only in Swedish stays Swedish). ``skill_labels`` names ESCO
    skills (URI -> preferred label); without a label an alignment is named by the learning
    outcome it belongs to.
    """
    if language not in ("sv", "en"):
        raise CredentialBuildError(f"credentials are written in Swedish (sv) or English (en), not {language!r}")
    if valid_from.tzinfo is None or (valid_until is not None and valid_until.tzinfo is None):
        raise CredentialBuildError("validFrom and validUntil are timezone-aware")
    if valid_until is not None and valid_until <= valid_from:
        raise CredentialBuildError("validUntil comes after validFrom")
    credential_id = credential_id or new_credential_id()
    if not re.match(r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", credential_id):
        raise CredentialBuildError(f"a credential id is a lower-case urn:uuid, not {credential_id!r}")
    entries = credential_status if isinstance(credential_status, list) else [credential_status]
    if not entries or any(not isinstance(e, dict) or e.get("type") != "BitstringStatusListEntry" for e in entries):
        raise CredentialBuildError("credentialStatus is a BitstringStatusListEntry, or a list of them")
    purposes = [e.get("statusPurpose") for e in entries]
    if len(set(purposes)) != len(purposes):
        raise CredentialBuildError(f"one credentialStatus entry per purpose, not {purposes}")

    base = base_url.rstrip("/")
    achievement = _achievement(catalogue, base, language, skill_labels or {})
    subject: JsonObject = {"type": ["AchievementSubject"]}
    if learner.subject_id:
        subject["id"] = learner.subject_id
    identifiers = []
    if learner.email:
        identifiers.append(hashed_email_identity(learner.email, email_salt))
    if learner.name:
        identifiers.append(name_identity(learner.name))
    if identifiers:
        subject["identifier"] = identifiers
    subject["achievement"] = achievement
    if grade is not None:
        subject["result"] = [_result(catalogue, achievement, grade)]
    if assessed_on is not None:
        subject["assessmentDate"] = assessed_on.isoformat()

    content = catalogue.content
    credential: JsonObject = {
        "@context": list(CONTEXTS),
        "id": credential_id,
        "type": list(CREDENTIAL_TYPE),
        "name": _text(content.title, language),
        "description": _text(content.description, language),
        "issuer": _issuer(issuer),
        "validFrom": xsd_datetime(valid_from),
        "credentialSubject": subject,
        # One entry is written as an object (credentials issued before suspension existed, and
        # the shape Open Badges 3.0's schema describes); several as an array (VC 2.0).
        "credentialStatus": dict(entries[0]) if len(entries) == 1 else [dict(e) for e in entries],
    }
    if valid_until is not None:
        credential["validUntil"] = xsd_datetime(valid_until)
    if evidence_url is not None:
        if not re.match(r"^https://\S+$", evidence_url):
            raise CredentialBuildError("an evidence link is an https URL")
        credential["evidence"] = [{"id": evidence_url, "type": ["Evidence"]}]
    return credential


# --- the parts -------------------------------------------------------------------------------


def _text(value: LanguageMap | LongLanguageMap, language: str) -> str:
    return (value.en if language == "en" else None) or value.sv


def _address(country: str, region: str | None) -> JsonObject:
    address: JsonObject = {"type": ["Address"], "addressCountryCode": country}
    if country in COUNTRIES:
        address["addressCountry"] = COUNTRIES[country][1]
    if region:
        address["nutsRegion"] = f"{NUTS_BASE}{region}"
    return address


def _issuer(issuer: IssuerProfile) -> JsonObject:
    if not issuer.did.startswith("did:"):
        raise CredentialBuildError(f"the issuer is identified by a DID, not {issuer.did!r}")
    profile: JsonObject = {"id": issuer.did, "type": ["Profile"], "name": issuer.name}
    if issuer.url:
        profile["url"] = issuer.url
    profile["address"] = _address(issuer.country, issuer.region)
    return profile


def _provider_profile(catalogue: CatalogueVersion, base: str) -> JsonObject:
    provider = catalogue.provider
    profile: JsonObject = {
        "id": provider_url(base, catalogue.provider_id),
        "type": ["Profile"],
        "name": provider.name,
        "otherIdentifier": [_organisation_number(provider.organisation_number)],
        "address": _address(provider.country, provider.region),
    }
    if provider.website is not None:
        profile["url"] = str(provider.website)
    return profile


def _organisation_number(number: str) -> JsonObject:
    return {"type": ["IdentifierEntry"], "identifier": number, "identifierType": ORGANISATION_NUMBER_TYPE}


def _co_awarding_body(body: CoAwardingBody, node_id: str) -> JsonObject:
    profile: JsonObject = {"id": node_id, "type": ["Profile"], "name": body.name}
    if body.organisation_number:
        profile["otherIdentifier"] = [_organisation_number(body.organisation_number)]
    profile["address"] = _address(body.country, None)
    return profile


def ects_value(ects: Decimal) -> int | float:
    """A whole number of credits as a JSON integer (``3``, not ``3.0``), as JavaScript and most JSON
    writers would print it; pyld and jsonld.js canonicalize both to ``"3"^^xsd:float`` anyway,
    and JCS to ``3``, so the choice only keeps the JSON the same wherever it is re-serialized."""
    return int(ects) if ects == ects.to_integral_value() else float(ects)


def _achievement(catalogue: CatalogueVersion, base: str, language: str, labels: Mapping[str, str]) -> JsonObject:
    c = catalogue.content
    version_url = micro_credential_version_url(base, catalogue.micro_credential_id, catalogue.version)
    outcomes = [_text(o.text, language) for o in c.learning_outcomes]
    heading, assessed = _NARRATIVE[language]
    phrase = _ASSESSMENT_PHRASES[c.assessment.type][0 if language == "sv" else 1]
    narrative = "\n".join([heading, *(f"- {text}" for text in outcomes), "", assessed.format(phrase)])

    achievement: JsonObject = {
        "id": version_url,
        "type": ["Achievement"],
        "achievementType": ACHIEVEMENT_TYPE,
        "name": _text(c.title, language),
        "description": _text(c.description, language),
        "criteria": {"narrative": narrative},
        "inLanguage": language,
        "version": str(catalogue.version),
        "catalogueVersion": version_url,
        "microCredential": version_url.rsplit("/versions/", 1)[0],
        "creator": _provider_profile(catalogue, base),
    }
    if c.co_awarding_bodies:
        achievement["coAwardingBody"] = [
            _co_awarding_body(body, f"{version_url}#co-awarding-body-{i}")
            for i, body in enumerate(c.co_awarding_bodies, start=1)
        ]
    # Notional workload: ECTS in Open Badges' creditsAvailable (the framework named beside it),
    # hours in MIMIS's term.
    if c.workload.ects is not None:
        achievement["creditsAvailable"] = ects_value(c.workload.ects)
        achievement["creditFramework"] = ECTS_FRAMEWORK
    if c.workload.hours is not None:
        achievement["workloadHours"] = c.workload.hours
    achievement["eqfLevel"] = f"{EQF_LEVEL_BASE}{c.level.eqf}"
    if c.level.seqf is not None:
        achievement["seqfLevel"] = SEQF_LEVELS[c.level.seqf]
    achievement["learningOutcome"] = [
        {
            "type": ["LearningOutcome"],
            "description": text,
            **({"relatedSkill": list(outcome.esco_skills)} if outcome.esco_skills else {}),
        }
        for outcome, text in zip(c.learning_outcomes, outcomes, strict=True)
    ]
    alignments = []
    for uri in c.esco_skills():
        outcome_text = next(t for o, t in zip(c.learning_outcomes, outcomes, strict=True) if uri in o.esco_skills)
        alignments.append({
            "type": ["Alignment"],
            "targetName": labels.get(uri) or outcome_text,
            "targetUrl": uri,
            "targetCode": uri.rsplit("/", 1)[-1],
            "targetFramework": ESCO_FRAMEWORK,
            "targetType": ESCO_TARGET_TYPE,
        })
    if alignments:
        achievement["alignment"] = alignments
    achievement["instructionLanguage"] = list(c.languages)
    achievement["assessmentType"] = f"{base}/vocabulary/assessment-type/{c.assessment.type.value}"
    if c.assessment.description is not None:
        achievement["assessmentDescription"] = _text(c.assessment.description, language)
    achievement["participationMode"] = MODES[c.participation.mode][0]
    achievement["pacing"] = f"{base}/vocabulary/pacing/{c.participation.pacing.value}"
    achievement["qualityAssurance"] = [f"{base}/vocabulary/quality-assurance/{t.value}"
                                       for t in c.quality_assurance.types]
    if c.quality_assurance.description is not None:
        achievement["qualityAssuranceDescription"] = _text(c.quality_assurance.description, language)
    if c.prerequisites is not None:
        achievement["prerequisites"] = _text(c.prerequisites, language)
    if c.supervision is not None:
        achievement["supervisedAssessment"] = c.supervision.supervised_assessment
        achievement["identityVerified"] = c.supervision.identity_verified
    if c.integration is not None:
        achievement["stackability"] = f"{base}/vocabulary/stackability/{c.integration.stackability.value}"
        if c.integration.towards:
            achievement["stackableTowards"] = [_text(t, language) for t in c.integration.towards]
    if c.further_information is not None:
        achievement["furtherInformation"] = _text(c.further_information, language)
    if c.further_information_url is not None:
        achievement["furtherInformationUrl"] = str(c.further_information_url)
    if c.grading is not None:
        achievement["resultDescription"] = [_result_description(c.grading.scheme, version_url, language)]
    return achievement


def _result_description(scheme: GradingScheme, version_url: str, language: str) -> JsonObject:
    node: JsonObject = {
        "id": f"{version_url}#grade",
        "type": ["ResultDescription"],
        "name": _GRADE_NAMES[language],
    }
    if scheme in GRADE_SCALES:
        allowed, pass_mark = GRADE_SCALES[scheme]
        node.update({"resultType": "LetterGrade", "allowedValue": allowed, "requiredValue": pass_mark})
    else:
        node["resultType"] = "ScaledScore"
    return node


def _result(catalogue: CatalogueVersion, achievement: JsonObject, grade: str) -> JsonObject:
    grading = catalogue.content.grading
    if grading is None:
        raise CredentialBuildError(
            f"a grade was given, but version {catalogue.version} of {catalogue.micro_credential_id!r} is not graded"
        )
    value = grade.strip()
    if grading.scheme in GRADE_SCALES:
        allowed, pass_mark = GRADE_SCALES[grading.scheme]
        value = value.upper()
        if value not in allowed:
            raise CredentialBuildError(f"grade {grade!r} is not on the scale {'/'.join(allowed)}")
        if allowed.index(value) < allowed.index(pass_mark):
            raise CredentialBuildError(f"grade {value!r} is below the pass mark {pass_mark!r}; no credential is issued")
    elif not re.match(r"^-?\d+(\.\d+)?$", value):
        raise CredentialBuildError(f"grade {grade!r} is not a number on a numeric scale")
    return {"type": ["Result"], "resultDescription": achievement["resultDescription"][0]["id"], "value": value}
