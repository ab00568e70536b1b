"""The Open Badges 3.0 AchievementCredential and the EU elements its achievement carries."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.catalog.tests.factories import content
from services.issuance.domain.credential import CredentialBuildError, ects_value
from services.issuance.domain.jsonld import canonicalize
from services.issuance.domain.learner import Learner, LearnerIdentityError, identity_matches
from services.issuance.domain.status_list import status_entry
from services.issuance.tests.factories import (
    DID,
    ESCO_HYGIENE,
    INDEX,
    ISSUED_AT,
    LEARNER_EMAIL,
    LEARNER_ID,
    LIST_URL,
    SUSPENSION_LIST_URL,
    both_entries,
    catalogue,
    credential,
)

VERSION_URL = "https://mimis.skane.se/catalog/micro-credentials/mc-hygien/versions/3"


def achievement(doc: dict[str, Any] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = (doc or credential())["credentialSubject"]["achievement"]
    return found


def test_the_credential_has_what_open_badges_requires() -> None:
    doc = credential()
    assert doc["id"] == "urn:uuid:5a0f3c2e-8d1b-4f6a-9c3e-2b7d1e0f4a55"
    assert doc["type"] == ["VerifiableCredential", "AchievementCredential"]
    assert doc["name"] == "Basala hygienrutiner i vård och omsorg"
    assert doc["description"] == "Hygien som skyddar brukare och personal."
    assert doc["issuer"] == {
        "id": DID,
        "type": ["Profile"],
        "name": "MIMIS – mikromeriter i Skåne",
        "url": "https://mimis.skane.se",
        "address": {"type": ["Address"], "addressCountryCode": "SE", "addressCountry": "Sverige",
                    "nutsRegion": "http://data.europa.eu/nuts/code/SE224"},
    }
    assert doc["validFrom"] == "2026-03-02T09:30:00Z"
    assert "validUntil" not in doc and "proof" not in doc
    subject = doc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"] and subject["id"] == LEARNER_ID
    a = achievement(doc)
    assert a["id"] == VERSION_URL and a["type"] == ["Achievement"]
    assert a["name"] and a["description"] and a["criteria"]["narrative"]


def test_status_is_one_bitstring_status_list_entry() -> None:
    status = credential()["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusListCredential"] == LIST_URL and status["statusListIndex"] == str(INDEX)


def test_status_is_an_array_of_one_entry_per_purpose_when_suspension_is_there_too() -> None:
    status = credential(credential_status=both_entries())["credentialStatus"]
    assert [e["statusPurpose"] for e in status] == ["revocation", "suspension"]
    assert {e["statusListIndex"] for e in status} == {str(INDEX)}
    assert status[1]["statusListCredential"] == SUSPENSION_LIST_URL and status[0]["id"] != status[1]["id"]
    with pytest.raises(CredentialBuildError, match="one credentialStatus entry per purpose"):
        credential(credential_status=[status_entry(LIST_URL, 1), status_entry(LIST_URL, 2)])
    with pytest.raises(CredentialBuildError, match="BitstringStatusListEntry"):
        credential(credential_status=[])
    with pytest.raises(CredentialBuildError, match="BitstringStatusListEntry"):
        credential(credential_status=[status_entry(LIST_URL, 1), {"type": "StatusList2021Entry"}])


def test_learner_is_identified_by_a_salted_email_hash_and_name_never_by_personal_number() -> None:
    identifiers = credential()["credentialSubject"]["identifier"]
    email, name = identifiers
    assert email["type"] == "IdentityObject" and email["identityType"] == "emailAddress"
    assert email["hashed"] is True and email["identityHash"].startswith("sha256$")
    assert email["identityHash"] == "sha256$" + hashlib.sha256(
        ("anna.svensson@example.se" + email["salt"]).encode()).hexdigest()
    assert identity_matches(email, "anna.svensson@example.se ")
    assert not identity_matches(email, "anna.svenson@example.se")
    assert LEARNER_EMAIL.lower() not in json.dumps(credential()).lower()
    assert name == {"type": "IdentityObject", "identityHash": "Anna Svensson", "identityType": "name", "hashed": False}


def test_each_credential_gets_its_own_salt_so_hashes_do_not_link_a_learner() -> None:
    first = credential(email_salt=None)["credentialSubject"]["identifier"][0]
    second = credential(email_salt=None)["credentialSubject"]["identifier"][0]
    assert first["salt"] != second["salt"] and first["identityHash"] != second["identityHash"]


@pytest.mark.parametrize("learner", [
    {"subject_id": "urn:personnummer:19121212-1212"},
    {"email": "191212121212@example.se"},
    {"email": "a@b.se", "name": "Tolvan Tolvansson 121212-1212"},
    {"email": "a@b.se", "subject_id": "did:example:200001012384"},
])
def test_a_personal_identity_number_never_goes_on_a_credential(learner: dict[str, str]) -> None:
    with pytest.raises(LearnerIdentityError, match="personal identity number"):
        Learner(**learner)


def test_learner_needs_an_id_or_an_address_and_hides_itself_in_logs() -> None:
    with pytest.raises(LearnerIdentityError):
        Learner(name="Anna")
    with pytest.raises(LearnerIdentityError):
        Learner(email="not an address")
    with pytest.raises(LearnerIdentityError):
        Learner(subject_id="anna")
    learner = Learner(email=LEARNER_EMAIL, name="Anna Svensson")
    assert "Anna" not in repr(learner) and "Example" not in str(learner)
    assert Learner(email="kontakt+556036-0793@foretag.se").email  # an organisation number is no personnummer


def test_achievement_carries_every_eu_element_of_the_catalogue_version() -> None:
    a = achievement()
    assert a["achievementType"] == "MicroCredential"
    assert a["inLanguage"] == "sv" and a["instructionLanguage"] == ["sv"]
    # Exact catalogue version.
    assert a["version"] == "3"
    assert a["catalogueVersion"] == VERSION_URL
    assert a["microCredential"] == "https://mimis.skane.se/catalog/micro-credentials/mc-hygien"
    # Awarding bodies: the provider (Open Badges creator) and co-awarding bodies, with country/region.
    creator = a["creator"]
    assert creator["id"] == "https://mimis.skane.se/catalog/providers/prov-hkr"
    assert creator["name"] == "Högskolan Kristianstad" and creator["url"] == "https://www.hkr.se/"
    assert creator["otherIdentifier"] == [{"type": ["IdentifierEntry"], "identifier": "202100-5489",
                                           "identifierType": "ext:SwedishOrganisationNumber"}]
    assert creator["address"]["nutsRegion"] == "http://data.europa.eu/nuts/code/SE224"
    assert a["coAwardingBody"][0]["name"] == "Region Skåne"
    assert a["coAwardingBody"][0]["otherIdentifier"][0]["identifier"] == "232100-0255"
    # Workload, level.
    assert a["creditsAvailable"] == 1.5
    assert a["creditFramework"] == "http://data.europa.eu/snb/education-credit/6fcec5c5af"
    assert a["workloadHours"] == 40
    assert a["eqfLevel"] == "http://data.europa.eu/snb/eqf/4"
    assert a["seqfLevel"] == "http://data.europa.eu/snb/qdr/c_6477e349"
    # Learning outcomes and ESCO skills.
    assert [o["description"] for o in a["learningOutcome"]] == [
        "Tillämpa basala hygienrutiner i omsorgsarbete.", "Förklara smittvägar för brukare och anhöriga."]
    assert a["learningOutcome"][0]["relatedSkill"] == [ESCO_HYGIENE]
    assert a["alignment"][0] == {
        "type": ["Alignment"],
        "targetName": "Tillämpa basala hygienrutiner i omsorgsarbete.",
        "targetUrl": ESCO_HYGIENE,
        "targetCode": "4f6fd3a4-52a4-4b8d-8ad6-4d6bea9bd9bc",
        "targetFramework": "European Skills, Competences, Qualifications and Occupations (ESCO)",
        "targetType": "ext:ESCOSkill",
    }
    assert "- Tillämpa basala hygienrutiner i omsorgsarbete." in a["criteria"]["narrative"]
    assert "Bedömning: praktiskt prov." in a["criteria"]["narrative"]
    # Assessment, participation, quality assurance.
    assert a["assessmentType"] == "https://mimis.skane.se/vocabulary/assessment-type/practical-demonstration"
    assert a["assessmentDescription"] == "Praktiskt prov på avdelningen."
    assert a["participationMode"] == "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
    assert a["pacing"] == "https://mimis.skane.se/vocabulary/pacing/supervised"
    assert a["qualityAssurance"] == ["https://mimis.skane.se/vocabulary/quality-assurance/internal",
                                     "https://mimis.skane.se/vocabulary/quality-assurance/external-review"]
    assert a["qualityAssuranceDescription"] == "Granskad av MIMIS kvalitetsråd."
    # Optional elements.
    assert a["prerequisites"] == "Inga förkunskapskrav."
    assert a["supervisedAssessment"] is True and a["identityVerified"] is True
    assert a["stackability"] == "https://mimis.skane.se/vocabulary/stackability/stackable"
    assert a["stackableTowards"] == ["Undersköterska"]
    assert a["furtherInformation"] == "Ges varje termin."
    assert a["furtherInformationUrl"] == "https://www.hkr.se/mikromeriter/hygien"


def test_grade_is_a_result_against_the_achievements_result_description() -> None:
    doc = credential(grade="vg")
    description = achievement(doc)["resultDescription"][0]
    assert description == {"id": f"{VERSION_URL}#grade", "type": ["ResultDescription"], "name": "Betyg",
                           "resultType": "LetterGrade", "allowedValue": ["U", "G", "VG"], "requiredValue": "G"}
    assert doc["credentialSubject"]["result"] == [
        {"type": ["Result"], "resultDescription": f"{VERSION_URL}#grade", "value": "VG"}]
    assert doc["credentialSubject"]["assessmentDate"] == "2026-02-27"
    assert doc["evidence"] == [{"id": "https://lms.hkr.se/evidence/42", "type": ["Evidence"]}]


@pytest.mark.parametrize(("grade", "reason"), [("U", "below the pass mark"), ("MVG", "not on the scale")])
def test_grades_off_the_scale_or_failing_make_no_credential(grade: str, reason: str) -> None:
    with pytest.raises(CredentialBuildError, match=reason):
        credential(grade=grade)


def test_a_grade_for_an_ungraded_micro_credential_is_refused() -> None:
    with pytest.raises(CredentialBuildError, match="not graded"):
        credential(catalogue=catalogue(content=content()), grade="G")
    assert "result" not in credential(catalogue=catalogue(content=content()), grade=None)["credentialSubject"]


def test_english_text_where_the_catalogue_has_it() -> None:
    doc = credential(language="en")
    a = achievement(doc)
    assert doc["name"] == "Basic hygiene routines in care" and a["inLanguage"] == "en"
    assert a["criteria"]["narrative"].startswith("The learner has shown that they can:")
    assert a["learningOutcome"][1]["description"] == "Förklara smittvägar för brukare och anhöriga."  # no English
    assert a["resultDescription"][0]["name"] == "Grade"


def test_whole_ects_are_json_integers_and_sign_as_the_same_literal_either_way() -> None:
    assert ects_value(Decimal("3.0")) == 3 and isinstance(ects_value(Decimal("3.0")), int)
    assert ects_value(Decimal("1.5")) == 1.5
    whole = catalogue(content=content(workload={"ects": "3"}))
    doc = credential(catalogue=whole, grade=None)
    assert json.dumps(achievement(doc)["creditsAvailable"]) == "3"
    as_float = credential(catalogue=whole, grade=None)
    achievement(as_float)["creditsAvailable"] = 3.0
    assert canonicalize(doc) == canonicalize(as_float)
    assert '"3"^^<https://www.w3.org/2001/XMLSchema#float>' in canonicalize(doc)


def test_hours_only_workload_has_no_credits() -> None:
    hours_only = catalogue(content=content(workload={"hours": 24}))
    a = achievement(credential(catalogue=hours_only, grade=None))
    assert "creditsAvailable" not in a and "creditFramework" not in a and a["workloadHours"] == 24


def test_the_credential_is_plain_json() -> None:
    doc = credential(valid_until=datetime(2031, 1, 1, tzinfo=UTC))
    assert json.loads(json.dumps(doc)) == doc
    assert doc["validUntil"] == "2031-01-01T00:00:00Z"


@pytest.mark.parametrize(("overrides", "reason"), [
    ({"language": "de"}, "Swedish"),
    ({"valid_from": datetime(2026, 3, 2)}, "timezone"),
    ({"valid_until": ISSUED_AT}, "after validFrom"),
    ({"credential_id": "https://mimis.skane.se/credentials/1"}, "urn:uuid"),
    ({"credential_status": {"type": "StatusList2021Entry"}}, "BitstringStatusListEntry"),
    ({"evidence_url": "http://insecure.example/e"}, "https"),
])
def test_inputs_that_cannot_make_a_valid_credential_are_refused(overrides: dict[str, Any], reason: str) -> None:
    with pytest.raises(CredentialBuildError, match=reason):
        credential(**overrides)


def test_a_fresh_id_each_time() -> None:
    first, second = credential(credential_id=None), credential(credential_id=None)
    assert first["id"].startswith("urn:uuid:") and first["id"] != second["id"]
