"""The ELM v3 export of a published version: every mapping, the refusal of unpublished
versions, and the documented JSON-LD shape (which must itself reject broken documents)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from services.catalog.domain import lifecycle as lc
from services.catalog.domain.elm import ELM_SHAPE_PATH, ElmExportError, ects_point, to_elm
from services.catalog.domain.lifecycle import Decision, ReviewOutcome
from services.catalog.domain.model import MicroCredentialContent
from services.catalog.tests.factories import ESCO_COMMUNICATION, ESCO_HYGIENE, content, provider

T0 = datetime(2026, 11, 23, 9, tzinfo=UTC)
BASE = "https://mimis.skane.se"
SPEC = f"{BASE}/catalog/micro-credentials/mc-1/versions/1"

# The facts below are written out from STANDARDS.md, not imported from the module under test,
# so a wrong constant there fails here.
SEQF = {
    1: "http://data.europa.eu/snb/qdr/c_20b8cbc9", 2: "http://data.europa.eu/snb/qdr/c_e1f75f79",
    3: "http://data.europa.eu/snb/qdr/c_4ec9e6c0", 4: "http://data.europa.eu/snb/qdr/c_6477e349",
    5: "http://data.europa.eu/snb/qdr/c_b44f7367", 6: "http://data.europa.eu/snb/qdr/c_185bb246",
    7: "http://data.europa.eu/snb/qdr/c_1ab773a2", 8: "http://data.europa.eu/snb/qdr/c_055b6cf8",
}
ECTS = "http://data.europa.eu/snb/education-credit/6fcec5c5af"


@cache
def shape_validator() -> Draft202012Validator:
    schema = json.loads(ELM_SHAPE_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def shape_errors(document: dict[str, Any]) -> list[str]:
    errors = shape_validator().iter_errors(document)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def published(entry: MicroCredentialContent, micro_credential_id: str = "mc-1",
              provider_id: str = "hkr") -> lc.MicroCredentialVersion:
    """A version taken through the real lifecycle to published."""
    draft = lc.start(micro_credential_id, provider_id, entry, now=T0, by="anna").changed[0]
    submitted = lc.submit(draft, now=T0, by="anna").changed[0]
    in_review = lc.start_review(submitted, "rv-1", now=T0).changed[0]
    return lc.decide(in_review, ReviewOutcome("rv-1", Decision.APPROVE), now=T0, published=None).changed[0]


def full_content() -> MicroCredentialContent:
    return content(
        assessment={"type": "practical-demonstration",
                    "description": {"sv": "Praktiskt prov på avdelningen.",
                                    "en": "Practical test on the ward."}},
        prerequisites={"sv": "Grundläggande svenska.", "en": "Basic Swedish."},
        supervision={"supervised_assessment": True, "identity_verified": True},
        grading={"scheme": "pass-fail"},
        integration={"stackability": "stackable",
                     "towards": [{"sv": "Undersköterska", "en": "Assistant nurse"}]},
        further_information={"sv": "Ges varje termin.", "en": "Runs every term."},
        further_information_url="https://www.hkr.se/mikromeriter/hygien",
        co_awarding_bodies=[{"name": "Kristianstads kommun", "organisation_number": "212000-0142"}],
        languages=["sv", "en", "ar"],
    )


def export(entry: MicroCredentialContent | None = None, **details: Any) -> dict[str, Any]:
    return to_elm(published(entry or full_content()), provider(**details), "hkr")


def notes_by_element(document: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {n["subject"]["id"].rsplit("/", 1)[1]: n["noteLiteral"] for n in document["additionalNote"]}


# --- the shape ------------------------------------------------------------------------------


def test_the_shape_says_where_it_comes_from() -> None:
    schema = json.loads(ELM_SHAPE_PATH.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "STANDARDS.md" in schema["description"] and "micro-credential sample" in schema["description"]


@pytest.mark.parametrize("entry", [full_content(), content()], ids=["every-element", "factory-default"])
def test_the_export_validates_against_the_documented_shape(entry: MicroCredentialContent) -> None:
    assert shape_errors(to_elm(published(entry), provider(), "hkr")) == []


def test_the_export_is_plain_json() -> None:
    document = export()
    assert json.loads(json.dumps(document)) == document


def broken(change: Any) -> dict[str, Any]:
    document = copy.deepcopy(export())
    change(document)
    return document


def _set(path: list[Any], value: Any) -> Any:
    def apply(document: dict[str, Any]) -> None:
        node: Any = document
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return apply


def _delete(path: list[Any]) -> Any:
    def apply(document: dict[str, Any]) -> None:
        node: Any = document
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return apply


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (_set(["creditPoint", 0, "point"], 1.5), "creditPoint/0/point"),
        (_set(["creditPoint", 0, "framework", "id"], "http://data.europa.eu/snb/education-credit/other"),
         "creditPoint/0/framework/id"),
        (_set(["eqfLevel", "id"], "http://data.europa.eu/snb/eqf/9"), "eqfLevel/id"),
        (_set(["eqfLevel", "id"], "http://data.europa.eu/snb/eqf/level-4"), "eqfLevel/id"),
        (_set(["nqfLevel", 0, "id"], "http://data.europa.eu/snb/qdr/c_00000000"), "nqfLevel/0/id"),
        (_set(["mode", 0, "id"], "http://data.europa.eu/snb/learning-assessment/by-post"), "mode/0/id"),
        (_set(["language", 0, "id"], "http://publications.europa.eu/resource/authority/language/sv"),
         "language/0/id"),
        (_set(["learningOutcome", 0, "relatedESCOSkill", 0, "id"],
              "http://data.europa.eu/esco/skill/hygiene"),
         "learningOutcome/0/relatedESCOSkill/0/id"),
        (_set(["volumeOfLearning"], "40 hours"), "volumeOfLearning"),
        (_set(["volumeOfLearning"], "P"), "volumeOfLearning"),
        (_set(["dateModified"], "23 November 2026"), "dateModified"),
        (_set(["@context"], "https://www.w3.org/ns/credentials/v2"), "@context"),
        (_set(["id"], "urn:uuid:1"), "id"),
        (_set(["titel"], {"sv": "stavfel"}), ""),
        (_set(["awardingOpportunity", 0, "awardingBody", 0, "registration", "notation"], "2021005489"),
         "awardingOpportunity/0/awardingBody/0/registration/notation"),
        (_delete(["awardingOpportunity", 0, "awardingBody", 0, "registration"]),
         "awardingOpportunity/0/awardingBody/0"),
        (_delete(["awardingOpportunity", 0, "awardingBody", 0, "location", 0, "address", 0, "countryCode"]),
         "awardingOpportunity/0/awardingBody/0/location/0/address/0"),
        (_delete(["provenBy", 0, "dcType"]), "provenBy/0"),
        (_delete(["learningOutcome"]), ""),
        (_set(["additionalNote"], []), "additionalNote"),
        (_set(["title"], {}), "title"),
    ],
)
def test_the_shape_rejects_broken_documents(change: Any, where: str) -> None:
    errors = shape_errors(broken(change))
    assert errors, "the shape accepted a broken document"
    assert any(e.startswith(f"{where}:") for e in errors), errors


def test_the_shape_needs_a_workload_in_ects_or_hours() -> None:
    def neither(document: dict[str, Any]) -> None:
        del document["volumeOfLearning"], document["creditPoint"]
    assert shape_errors(broken(neither))


# --- the mappings -----------------------------------------------------------------------------


@pytest.mark.parametrize("level", range(1, 9))
def test_eqf_and_seqf_levels(level: int) -> None:
    document = export(content(level={"eqf": level, "seqf": level}))
    assert document["eqfLevel"]["id"] == f"http://data.europa.eu/snb/eqf/{level}"
    assert [n["id"] for n in document["nqfLevel"]] == [SEQF[level]]
    assert document["nqfLevel"][0]["inScheme"]["id"] == "http://data.europa.eu/snb/qdr/c_d932c882"
    assert shape_errors(document) == []


def test_no_seqf_level_is_invented_from_the_eqf_level() -> None:
    document = export(content(level={"eqf": 4}))
    assert "nqfLevel" not in document and shape_errors(document) == []


@pytest.mark.parametrize(
    ("mode", "uri"),
    [
        ("online", "http://data.europa.eu/snb/learning-assessment/920fbb3cbe"),
        ("blended", "http://data.europa.eu/snb/learning-assessment/e92d221e4d"),
        ("onsite", "http://data.europa.eu/snb/learning-assessment/9191af2ed9"),
        ("work-based", "http://data.europa.eu/snb/learning-assessment/729f3bed4b"),
    ],
)
def test_modes_of_learning(mode: str, uri: str) -> None:
    document = export(content(participation={"mode": mode, "pacing": "self-paced"}))
    assert [m["id"] for m in document["mode"]] == [uri]
    assert "self-paced" in notes_by_element(document)["form-of-participation"]["en"]
    assert shape_errors(document) == []


@pytest.mark.parametrize(("ects", "point"), [("1.5", "1.5"), ("2", "2"), ("2.0", "2"), ("7.5", "7.5"),
                                             ("0.5", "0.5"), ("60", "60")])
def test_ects_credit_points_are_strings(ects: str, point: str) -> None:
    document = export(content(workload={"ects": ects}))
    assert document["creditPoint"] == [{"id": f"{SPEC}#credit-ects", "type": "CreditPoint",
                                        "framework": document["creditPoint"][0]["framework"], "point": point}]
    assert document["creditPoint"][0]["framework"]["id"] == ECTS
    assert "volumeOfLearning" not in document and shape_errors(document) == []


def test_ects_point_never_uses_an_exponent() -> None:
    from decimal import Decimal
    assert ects_point(Decimal("10")) == "10" and ects_point(Decimal("1.50")) == "1.5"


@pytest.mark.parametrize(("hours", "duration"), [(40, "PT40H"), (1, "PT1H"), (1800, "PT1800H")])
def test_hours_become_an_xsd_duration(hours: int, duration: str) -> None:
    document = export(content(workload={"hours": hours}))
    assert document["volumeOfLearning"] == duration
    assert "creditPoint" not in document and shape_errors(document) == []


@pytest.mark.parametrize(("code", "authority"), [("sv", "SWE"), ("en", "ENG"), ("ar", "ARA"), ("fa", "FAS"),
                                                 ("so", "SOM"), ("uk", "UKR")])
def test_languages_map_to_the_eu_language_authority(code: str, authority: str) -> None:
    document = export(content(languages=[code]))
    assert [x["id"] for x in document["language"]] == [
        f"http://publications.europa.eu/resource/authority/language/{authority}"]


def test_an_unknown_language_is_a_clear_error() -> None:
    with pytest.raises(ElmExportError, match=r"language 'xx'.*add it to"):
        export(content(languages=["sv", "xx"]))


def test_learning_outcomes_carry_their_esco_skills() -> None:
    outcomes = export()["learningOutcome"]
    assert [o["id"] for o in outcomes] == [f"{SPEC}#learning-outcome-1", f"{SPEC}#learning-outcome-2"]
    assert outcomes[0]["title"] == {"sv": "Tillämpa basala hygienrutiner i omsorgsarbete.",
                                    "en": "Apply basic hygiene routines."}
    assert [s["id"] for s in outcomes[0]["relatedESCOSkill"]] == [ESCO_HYGIENE]
    assert [s["id"] for s in outcomes[1]["relatedESCOSkill"]] == [ESCO_COMMUNICATION]
    without = export(content(learning_outcomes=[{"text": {"sv": "Utan ESCO-koppling."}}]))
    assert "relatedESCOSkill" not in without["learningOutcome"][0] and shape_errors(without) == []


def test_the_awarding_body_is_a_registered_organisation_in_skane() -> None:
    bodies = export(website="https://www.hkr.se")["awardingOpportunity"][0]["awardingBody"]
    hkr = bodies[0]
    assert hkr["id"] == f"{BASE}/catalog/providers/hkr" and hkr["type"] == "Organisation"
    assert hkr["legalName"] == {"sv": "Högskolan Kristianstad"}
    assert hkr["registration"]["type"] == "LegalIdentifier"
    assert hkr["registration"]["notation"] == "202100-5489"
    assert hkr["registration"]["spatial"]["id"] == "http://publications.europa.eu/resource/authority/country/SWE"
    location = hkr["location"][0]
    assert location["address"][0]["countryCode"]["id"] == "http://publications.europa.eu/resource/authority/country/SWE"
    assert [c["id"] for c in location["spatialCode"]] == ["http://data.europa.eu/nuts/code/SE224"]
    assert hkr["homepage"][0]["contentURL"] == "https://www.hkr.se/"
    assert bodies[1]["legalName"] == {"sv": "Kristianstads kommun"}
    assert bodies[1]["registration"]["notation"] == "212000-0142"


def test_assessment_grading_and_supervision() -> None:
    (assessment,) = export()["provenBy"]
    assert assessment["type"] == "LearningAssessmentSpecification"
    assert assessment["dcType"]["id"] == f"{BASE}/vocabulary/assessment-type/practical-demonstration"
    assert assessment["description"] == {"sv": "Praktiskt prov på avdelningen.",
                                         "en": "Practical test on the ward."}
    assert assessment["gradingScheme"]["title"]["en"] == "Pass/fail"
    (supervision,) = assessment["additionalNote"]
    assert supervision["subject"]["id"].endswith("/eu-element/supervision-identity-verification")
    assert supervision["noteLiteral"]["en"] == ("The assessment is supervised; "
                                                "the learner's identity is verified.")


def test_the_optional_eu_elements_and_the_catalogue_reference() -> None:
    document = export()
    assert document["id"] == SPEC and document["type"] == "LearningAchievementSpecification"
    assert document["@context"] == "http://data.europa.eu/snb/model/context/edc-ap"
    assert document["identifier"][0]["notation"] == "mc-1/versions/1"
    assert document["dateModified"] == T0.isoformat()
    assert document["entryRequirement"]["noteLiteral"] == {"sv": "Grundläggande svenska.",
                                                           "en": "Basic Swedish."}
    assert document["homepage"][0]["contentURL"] == "https://www.hkr.se/mikromeriter/hygien"
    assert [t["id"] for t in document["targetGroup"]] == [
        f"{BASE}/vocabulary/target-group/utanfor-arbetsmarknaden"]
    notes = notes_by_element(document)
    assert notes["quality-assurance"]["en"] == ("The provider's internal quality assurance; "
                                                "external review by the MIMIS quality board.")
    assert notes["integration-stackability"] == {"sv": "Kan staplas mot Undersköterska.",
                                                 "en": "Stackable towards Assistant nurse."}
    assert notes["further-information"] == {"sv": "Ges varje termin.", "en": "Runs every term."}


def test_ids_are_stable_urls_under_the_base_url() -> None:
    version = published(content(), micro_credential_id="mc-7")
    first = to_elm(version, provider(), "hkr", base_url="https://katalog.example/")
    assert first["id"] == "https://katalog.example/catalog/micro-credentials/mc-7/versions/1"
    assert first == to_elm(version, provider(), "hkr", base_url="https://katalog.example")
    assert shape_errors(first) == []


def unpublished(status: str) -> lc.MicroCredentialVersion:
    draft = lc.start("mc-1", "hkr", content(), now=T0, by="anna").changed[0]
    if status == "draft":
        return draft
    submitted = lc.submit(draft, now=T0, by="anna").changed[0]
    if status == "submitted":
        return submitted
    in_review = lc.start_review(submitted, "rv-1", now=T0).changed[0]
    if status == "in-review":
        return in_review
    decision = {"changes-requested": Decision.REQUEST_CHANGES, "rejected": Decision.REJECT}[status]
    return lc.decide(in_review, ReviewOutcome("rv-1", decision), now=T0, published=None).changed[0]


@pytest.mark.parametrize("status", ["draft", "submitted", "in-review", "changes-requested", "rejected"])
def test_a_version_never_published_is_refused(status: str) -> None:
    version = unpublished(status)
    assert version.status == status
    with pytest.raises(ValueError, match=f"only a published version can be exported.*is {status}"):
        to_elm(version, provider(), "hkr")


def test_superseded_and_retired_versions_stay_exportable() -> None:
    """Credentials issued against an old version still point at it, and it never changed."""
    v1 = published(content())
    v2 = lc.new_version(v1, content(title={"sv": "Version två"}), now=T0, by="anna").changed[0]
    in_review = lc.start_review(lc.submit(v2, now=T0, by="anna").changed[0], "rv-2", now=T0).changed[0]
    superseded = next(v for v in lc.decide(in_review, ReviewOutcome("rv-2", Decision.APPROVE), now=T0,
                                           published=v1).changed if v.version == 1)
    retired = lc.retire(v1, now=T0, by="anna", reason=None).changed[0]
    for version in (superseded, retired):
        document = to_elm(version, provider(), "hkr")
        assert document["id"] == SPEC and document["title"]["sv"] == "Basala hygienrutiner i vård och omsorg"
        assert shape_errors(document) == []


def test_the_awarding_body_must_be_the_versions_provider() -> None:
    with pytest.raises(ElmExportError, match="belongs to provider 'hkr', not 'other'"):
        to_elm(published(content()), provider(), "other")
