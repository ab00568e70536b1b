"""Export of a published micro-credential version to the European Learning Model (ELM v3), the
model behind Europass Digital Credentials, as JSON-LD.

The export is the *specification* of the micro-credential (a ``LearningAchievementSpecification``),
not an issued credential: in the EU's micro-credential sample an issued credential's
``LearningAchievement`` is ``specifiedBy`` exactly such a node, so the issuance service can point
at (or embed) what this module returns. The mapping follows STANDARDS.md's summary of ELM v3 and
of the EU's official micro-credential sample; ``services/catalog/elm_shape.json`` is the JSON
Schema of the shape produced here, and the tests check every export against it.

Controlled values are ELM ``Concept`` nodes whose ``id`` is the EU vocabulary URI, as the EU's
JSON-LD samples write them. The EU elements ELM has no dedicated term for here (quality
assurance, form of participation, stackability, supervision and identity verification, further
information) travel as ``additionalNote`` nodes whose ``subject`` is a concept of MIMIS's own
vocabulary (``{base_url}/vocabulary/eu-element/<element>``), so a reader can still tell which
Annex I element each note carries. Price and funding are left out: ELM puts prices on learning
opportunities (one course round), not on the specification.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from services.catalog.domain.lifecycle import MicroCredentialVersion, Status
from services.catalog.domain.model import (
    AssessmentType,
    CoAwardingBody,
    GradingScheme,
    LanguageMap,
    LongLanguageMap,
    Mode,
    Pacing,
    ProviderDetails,
    QualityAssuranceType,
    Stackability,
)
from services.catalog.domain.vocabulary import BUILT_IN, VocabularyKind

JsonLd = dict[str, Any]

# The JSON Schema of what :func:`to_elm` produces; its description says where the shape comes from.
ELM_SHAPE_PATH = Path(__file__).resolve().parents[1] / "elm_shape.json"

CONTEXT = "http://data.europa.eu/snb/model/context/edc-ap"
ELM_NAMESPACE = "http://data.europa.eu/snb/model/elm/"

EQF_LEVEL_BASE = "http://data.europa.eu/snb/eqf/"
SEQF_FRAMEWORK = "http://data.europa.eu/snb/qdr/c_d932c882"
SEQF_LEVELS: dict[int, str] = {
    1: "http://data.europa.eu/snb/qdr/c_20b8cbc9",
    2: "http://data.europa.eu/snb/qdr/c_e1f75f79",
    3: "http://data.europa.eu/snb/qdr/c_4ec9e6c0",
    4: "http://data.europa.eu/snb/qdr/c_6477e349",
    5: "http://data.europa.eu/snb/qdr/c_b44f7367",
    6: "http://data.europa.eu/snb/qdr/c_185bb246",
    7: "http://data.europa.eu/snb/qdr/c_1ab773a2",
    8: "http://data.europa.eu/snb/qdr/c_055b6cf8",
}
ECTS_FRAMEWORK = "http://data.europa.eu/snb/education-credit/6fcec5c5af"

MODE_ONLINE = "http://data.europa.eu/snb/learning-assessment/920fbb3cbe"
MODE_BLENDED = "http://data.europa.eu/snb/learning-assessment/e92d221e4d"
MODE_PRESENTIAL = "http://data.europa.eu/snb/learning-assessment/9191af2ed9"
MODE_WORK_BASED = "http://data.europa.eu/snb/learning-assessment/729f3bed4b"
MODES: dict[Mode, tuple[str, str, str]] = {
    Mode.ONLINE: (MODE_ONLINE, "Distans (online)", "Online"),
    Mode.BLENDED: (MODE_BLENDED, "Kombinerad (blended)", "Blended"),
    Mode.ONSITE: (MODE_PRESENTIAL, "På plats", "Presential"),
    Mode.WORK_BASED: (MODE_WORK_BASED, "Arbetsplatsförlagd", "Work-based"),
}

LANGUAGE_AUTHORITY = "http://publications.europa.eu/resource/authority/language/"
# ISO 639-1 code -> the EU language authority's code. The list holds the languages Skåne's
# providers teach in today; a code missing here fails loudly rather than exporting a guess.
LANGUAGES: dict[str, tuple[str, str, str]] = {
    "sv": ("SWE", "svenska", "Swedish"),
    "en": ("ENG", "engelska", "English"),
    "ar": ("ARA", "arabiska", "Arabic"),
    "da": ("DAN", "danska", "Danish"),
    "no": ("NOR", "norska", "Norwegian"),
    "fi": ("FIN", "finska", "Finnish"),
    "de": ("DEU", "tyska", "German"),
    "fr": ("FRA", "franska", "French"),
    "es": ("SPA", "spanska", "Spanish"),
    "pl": ("POL", "polska", "Polish"),
    "uk": ("UKR", "ukrainska", "Ukrainian"),
    "so": ("SOM", "somaliska", "Somali"),
    "fa": ("FAS", "persiska", "Persian"),
    "ti": ("TIR", "tigrinja", "Tigrinya"),
    "tr": ("TUR", "turkiska", "Turkish"),
    "bs": ("BOS", "bosniska", "Bosnian"),
}

COUNTRY_AUTHORITY = "http://publications.europa.eu/resource/authority/country/"
# ISO 3166-1 alpha-2 (as the catalogue stores it) -> the EU country authority's alpha-3 code;
# the Nordic and neighbouring countries co-awarding bodies come from.
COUNTRIES: dict[str, tuple[str, str, str]] = {
    "SE": ("SWE", "Sverige", "Sweden"),
    "DK": ("DNK", "Danmark", "Denmark"),
    "NO": ("NOR", "Norge", "Norway"),
    "FI": ("FIN", "Finland", "Finland"),
    "DE": ("DEU", "Tyskland", "Germany"),
    "PL": ("POL", "Polen", "Poland"),
}
NUTS_BASE = "http://data.europa.eu/nuts/code/"

_ASSESSMENT_LABELS: dict[AssessmentType, tuple[str, str]] = {
    AssessmentType.WRITTEN_EXAM: ("skriftligt prov", "written exam"),
    AssessmentType.ORAL_EXAM: ("muntligt prov", "oral exam"),
    AssessmentType.PRACTICAL_DEMONSTRATION: ("praktiskt prov", "practical demonstration"),
    AssessmentType.PROJECT: ("projektarbete", "project"),
    AssessmentType.PORTFOLIO: ("portfolio", "portfolio"),
    AssessmentType.WORKPLACE_OBSERVATION: ("observation på arbetsplatsen", "workplace observation"),
    AssessmentType.ONLINE_TEST: ("digitalt prov", "online test"),
    AssessmentType.OTHER: ("annan bedömningsform", "other form of assessment"),
}
_QUALITY_LABELS: dict[QualityAssuranceType, tuple[str, str]] = {
    QualityAssuranceType.INTERNAL: ("anordnarens interna kvalitetssäkring",
                                    "the provider's internal quality assurance"),
    QualityAssuranceType.EXTERNAL_REVIEW: ("extern granskning av MIMIS kvalitetsråd",
                                           "external review by the MIMIS quality board"),
    QualityAssuranceType.ACCREDITED: ("nationell ackreditering", "national accreditation"),
}
_GRADING_LABELS: dict[GradingScheme, tuple[str, str]] = {
    GradingScheme.PASS_FAIL: ("Godkänd/Underkänd (G/U)", "Pass/fail"),
    GradingScheme.PASS_DISTINCTION: ("Underkänd/Godkänd/Väl godkänd (U/G/VG)",
                                     "Fail/pass/pass with distinction"),
    GradingScheme.A_TO_F: ("ECTS-skala A–F", "ECTS grading scale A–F"),
    GradingScheme.NUMERIC: ("Numerisk skala", "Numeric scale"),
}
_PACING_LABELS: dict[Pacing, tuple[str, str]] = {
    Pacing.SELF_PACED: ("i egen takt", "self-paced"),
    Pacing.SUPERVISED: ("lärarledd", "supervised"),
}
_ELEMENT_LABELS: dict[str, tuple[str, str]] = {
    "quality-assurance": ("Typ av kvalitetssäkring", "Type of quality assurance"),
    "form-of-participation": ("Deltagandeform", "Form of participation"),
    "integration-stackability": ("Integrering och stapelbarhet", "Integration and stackability"),
    "supervision-identity-verification": ("Övervakning och identitetskontroll vid bedömning",
                                          "Supervision and identity verification during assessment"),
    "further-information": ("Ytterligare information", "Further information"),
}


# Versions that went through publication. A superseded or retired version stays exportable because
# it never changed after publication and credentials issued against it still point at it; drafts
# and versions under review have not passed the quality board and are never public.
EXPORTABLE = frozenset({Status.PUBLISHED, Status.SUPERSEDED, Status.RETIRED})


class ElmExportError(ValueError):
    """The version cannot be exported to ELM; the message says why and what to do."""


def micro_credential_version_url(base_url: str, micro_credential_id: str, version: int) -> str:
    return f"{base_url.rstrip('/')}/catalog/micro-credentials/{micro_credential_id}/versions/{version}"


def provider_url(base_url: str, provider_id: str) -> str:
    return f"{base_url.rstrip('/')}/catalog/providers/{provider_id}"


def to_elm(version: MicroCredentialVersion, provider: ProviderDetails, provider_id: str,
           base_url: str = "https://mimis.skane.se") -> JsonLd:
    """The ELM v3 JSON-LD of a published version (or one published and since superseded or
    retired). Raises :class:`ElmExportError` (a ValueError) for a version never published, for a
    provider that is not the version's, and for a language or country the EU authority tables here
    do not cover."""
    if version.status not in EXPORTABLE:
        raise ElmExportError(
            f"only a published version can be exported to ELM; version {version.version} of "
            f"{version.micro_credential_id!r} is {version.status}"
        )
    if version.provider_id != provider_id:
        raise ElmExportError(
            f"version {version.version} of {version.micro_credential_id!r} belongs to provider "
            f"{version.provider_id!r}, not {provider_id!r}"
        )
    base = base_url.rstrip("/")
    spec_id = micro_credential_version_url(base, version.micro_credential_id, version.version)
    c = version.content

    doc: JsonLd = {
        "@context": CONTEXT,
        "id": spec_id,
        "type": "LearningAchievementSpecification",
        "title": _lang(c.title),
        "description": _lang(c.description),
        "identifier": [{
            "id": f"{spec_id}#catalogue-version",
            "type": "Identifier",
            "notation": f"{version.micro_credential_id}/versions/{version.version}",
            "schemeName": "MIMIS catalogue version",
        }],
    }
    if version.published_at is not None:
        doc["dateModified"] = version.published_at.isoformat()
    if c.workload.hours is not None:
        doc["volumeOfLearning"] = hours_duration(c.workload.hours)
    if c.workload.ects is not None:
        doc["creditPoint"] = [{
            "id": f"{spec_id}#credit-ects",
            "type": "CreditPoint",
            "framework": _concept(ECTS_FRAMEWORK, "European Credit Transfer and Accumulation System (ECTS)",
                                  "European Credit Transfer and Accumulation System (ECTS)"),
            "point": ects_point(c.workload.ects),
        }]
    doc["eqfLevel"] = eqf_level(c.level.eqf)
    # A SeQF level is a formal placement decision, so it is exported only when the provider
    # claims one, never derived from the EQF level.
    if c.level.seqf is not None:
        doc["nqfLevel"] = [seqf_level(c.level.seqf)]
    doc["learningOutcome"] = [
        {
            "id": f"{spec_id}#learning-outcome-{i}",
            "type": "LearningOutcome",
            "title": _lang(outcome.text),
            **({"relatedESCOSkill": [{"id": uri, "type": "Concept"} for uri in outcome.esco_skills]}
               if outcome.esco_skills else {}),
        }
        for i, outcome in enumerate(c.learning_outcomes, start=1)
    ]
    doc["language"] = [language(code) for code in c.languages]
    doc["mode"] = [mode(c.participation.mode)]
    if c.prerequisites is not None:
        doc["entryRequirement"] = _note(f"{spec_id}#entry-requirement", _lang(c.prerequisites))
    if c.target_groups:
        doc["targetGroup"] = [_vocabulary_concept(base, VocabularyKind.TARGET_GROUP,
                                                  code) for code in c.target_groups]
    doc["provenBy"] = [_assessment(spec_id, base, version)]
    doc["awardingOpportunity"] = [{
        "id": f"{spec_id}#awarding",
        "type": "AwardingOpportunity",
        "awardingBody": [organisation(provider, provider_url(base, provider_id)),
                         *(_co_awarding_body(body, f"{spec_id}#co-awarding-body-{i}")
                           for i, body in enumerate(c.co_awarding_bodies, start=1))],
    }]
    if c.further_information_url is not None:
        doc["homepage"] = [{"id": f"{spec_id}#homepage", "type": "WebResource",
                            "contentURL": str(c.further_information_url)}]
    doc["additionalNote"] = _additional_notes(spec_id, base, version)
    return doc


# --- the mappings, one function each so the tests can pin every one ---------------------------


def ects_point(ects: Decimal) -> str:
    """ELM writes credit points as a string; "2" rather than "2.0", as in the EU's sample."""
    return format(ects.normalize(), "f")


def hours_duration(hours: int) -> str:
    return f"PT{hours}H"


def eqf_level(level: int) -> JsonLd:
    if not 1 <= level <= 8:
        raise ElmExportError(f"EQF levels run from 1 to 8, not {level}")
    return _concept(f"{EQF_LEVEL_BASE}{level}", f"EQF-nivå {level}", f"EQF level {level}")


def seqf_level(level: int) -> JsonLd:
    if level not in SEQF_LEVELS:
        raise ElmExportError(f"SeQF levels run from 1 to 8, not {level}")
    return {**_concept(SEQF_LEVELS[level], f"SeQF-nivå {level}", f"SeQF level {level}"),
            "inScheme": {"id": SEQF_FRAMEWORK, "type": "ConceptScheme"}}


def mode(value: Mode) -> JsonLd:
    uri, sv, en = MODES[value]
    return _concept(uri, sv, en)


def language(code: str) -> JsonLd:
    if code not in LANGUAGES:
        raise ElmExportError(
            f"no EU language authority code is known here for language {code!r}; add it to "
            f"services.catalog.domain.elm.LANGUAGES (known: {', '.join(sorted(LANGUAGES))})"
        )
    authority, sv, en = LANGUAGES[code]
    return _concept(f"{LANGUAGE_AUTHORITY}{authority}", sv, en)


def country(code: str) -> JsonLd:
    if code not in COUNTRIES:
        raise ElmExportError(
            f"no EU country authority code is known here for country {code!r}; add it to "
            f"services.catalog.domain.elm.COUNTRIES (known: {', '.join(sorted(COUNTRIES))})"
        )
    authority, sv, en = COUNTRIES[code]
    return _concept(f"{COUNTRY_AUTHORITY}{authority}", sv, en)


def organisation(details: ProviderDetails, org_id: str) -> JsonLd:
    """The awarding body: legal name, its registration (organisation number) and where it is."""
    return {
        "id": org_id,
        "type": "Organisation",
        "legalName": {"sv": details.name},
        "registration": {
            "id": f"{org_id}#registration",
            "type": "LegalIdentifier",
            "notation": details.organisation_number,
            "spatial": country(details.country),
        },
        "location": [{
            "id": f"{org_id}#location",
            "type": "Location",
            "spatialCode": [{"id": f"{NUTS_BASE}{details.region}", "type": "Concept"}],
            "address": [{"id": f"{org_id}#address", "type": "Address",
                         "countryCode": country(details.country)}],
        }],
        **({"homepage": [{"id": f"{org_id}#homepage", "type": "WebResource",
                          "contentURL": str(details.website)}]}
           if details.website is not None else {}),
    }


# --- helpers ----------------------------------------------------------------------------------


def _lang(value: LanguageMap | LongLanguageMap) -> dict[str, str]:
    return value.model_dump(exclude_none=True)


def _concept(uri: str, sv: str, en: str) -> JsonLd:
    return {"id": uri, "type": "Concept", "prefLabel": {"sv": sv, "en": en}}


def _note(note_id: str, text: dict[str, str], subject: JsonLd | None = None) -> JsonLd:
    note: JsonLd = {"id": note_id, "type": "Note", "noteLiteral": text}
    if subject is not None:
        note["subject"] = subject
    return note


def _element(base: str, element: str) -> JsonLd:
    sv, en = _ELEMENT_LABELS[element]
    return _concept(f"{base}/vocabulary/eu-element/{element}", sv, en)


def _vocabulary_concept(base: str, kind: VocabularyKind, code: str) -> JsonLd:
    term = next((t for t in BUILT_IN if t.kind is kind and t.code == code), None)
    # Codes the region added through the API have no built-in label; the code stands in.
    sv, en = (term.sv, term.en) if term else (code, code)
    return _concept(f"{base}/vocabulary/{kind.value}/{code}", sv, en)


def _joined(parts: list[str], extra: str | None) -> str:
    text = "; ".join(parts)
    text = text[:1].upper() + text[1:]
    return f"{text}. {extra}" if extra else f"{text}."


def _texts(pairs: list[tuple[str, str]], extra: LongLanguageMap | None) -> dict[str, str]:
    return {"sv": _joined([sv for sv, _ in pairs], extra.sv if extra else None),
            "en": _joined([en for _, en in pairs], extra.en if extra else None)}


def _assessment(spec_id: str, base: str, version: MicroCredentialVersion) -> JsonLd:
    assessment = version.content.assessment
    sv, en = _ASSESSMENT_LABELS[assessment.type]
    node: JsonLd = {
        "id": f"{spec_id}#assessment",
        "type": "LearningAssessmentSpecification",
        "title": {"sv": f"Bedömning: {sv}", "en": f"Assessment: {en}"},
        # The EU sample's assessment-type vocabulary is not among the facts this project ships,
        # so the type is a concept of MIMIS's own scheme, labelled for people.
        "dcType": _concept(f"{base}/vocabulary/assessment-type/{assessment.type.value}", sv, en),
    }
    if assessment.description is not None:
        node["description"] = _lang(assessment.description)
    grading = version.content.grading
    if grading is not None:
        gsv, gen = _GRADING_LABELS[grading.scheme]
        node["gradingScheme"] = {
            "id": f"{spec_id}#grading-scheme",
            "type": "GradingScheme",
            "title": {"sv": gsv, "en": gen},
            **({"description": _lang(grading.description)} if grading.description is not None else {}),
        }
    supervision = version.content.supervision
    if supervision is not None:
        said = [
            ("bedömningen sker under övervakning" if supervision.supervised_assessment
             else "bedömningen sker utan övervakning",
             "the assessment is supervised" if supervision.supervised_assessment
             else "the assessment is not supervised"),
            ("deltagarens identitet kontrolleras" if supervision.identity_verified
             else "deltagarens identitet kontrolleras inte",
             "the learner's identity is verified" if supervision.identity_verified
             else "the learner's identity is not verified"),
        ]
        node["additionalNote"] = [_note(f"{spec_id}#supervision-identity-verification", _texts(said, None),
                                        _element(base, "supervision-identity-verification"))]
    return node


def _co_awarding_body(body: CoAwardingBody, org_id: str) -> JsonLd:
    node: JsonLd = {
        "id": org_id,
        "type": "Organisation",
        "legalName": {"sv": body.name},
        "location": [{"id": f"{org_id}-location", "type": "Location",
                      "address": [{"id": f"{org_id}-address", "type": "Address",
                                   "countryCode": country(body.country)}]}],
    }
    if body.organisation_number is not None:
        node["registration"] = {"id": f"{org_id}-registration", "type": "LegalIdentifier",
                                "notation": body.organisation_number, "spatial": country(body.country)}
    return node


def _additional_notes(spec_id: str, base: str, version: MicroCredentialVersion) -> list[JsonLd]:
    c = version.content
    qa = c.quality_assurance
    notes = [_note(f"{spec_id}#quality-assurance",
                   _texts([_QUALITY_LABELS[t] for t in qa.types], qa.description),
                   _element(base, "quality-assurance"))]
    mode_sv, mode_en = MODES[c.participation.mode][1:]
    pace_sv, pace_en = _PACING_LABELS[c.participation.pacing]
    notes.append(_note(f"{spec_id}#form-of-participation",
                       {"sv": f"{mode_sv}, {pace_sv}.", "en": f"{mode_en}, {pace_en}."},
                       _element(base, "form-of-participation")))
    if c.integration is not None:
        stackable = c.integration.stackability is Stackability.STACKABLE
        said = [("kan staplas" if stackable else "fristående", "stackable" if stackable else "stand-alone")]
        towards_sv = ", ".join(t.sv for t in c.integration.towards)
        towards_en = ", ".join(t.en or t.sv for t in c.integration.towards)
        if towards_sv:
            said.append((f"mot {towards_sv}", f"towards {towards_en}"))
        notes.append(_note(f"{spec_id}#integration-stackability",
                           {"sv": _joined([" ".join(sv for sv, _ in said)], None),
                            "en": _joined([" ".join(en for _, en in said)], None)},
                           _element(base, "integration-stackability")))
    if c.further_information is not None:
        notes.append(_note(f"{spec_id}#further-information", _lang(c.further_information),
                           _element(base, "further-information")))
    return notes
