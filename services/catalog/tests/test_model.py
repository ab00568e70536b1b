"""The EU elements and the region's additions validate, and say precisely what is wrong."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from services.catalog.domain.model import MicroCredentialContent, ProviderDetails
from services.catalog.tests.factories import content_payload, provider_payload


def errors_of(model: type[BaseModel], payload: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(payload)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in caught.value.errors()}


def test_a_complete_entry_is_accepted() -> None:
    entry = MicroCredentialContent.model_validate(content_payload())
    assert entry.level.eqf == 4 and str(entry.workload.ects) == "1.5"
    assert len(entry.esco_skills()) == 2


@pytest.mark.parametrize(
    ("change", "field", "why"),
    [
        ({"title": {"en": "No Swedish"}}, "title.sv", "Field required"),
        ({"learning_outcomes": []}, "learning_outcomes", "at least 1"),
        ({"workload": {}}, "workload", "ECTS credits, in hours, or both"),
        ({"workload": {"ects": "0"}}, "workload.ects", "greater than 0"),
        ({"level": {"eqf": 9}}, "level.eqf", "less than or equal to 8"),
        ({"level": {"eqf": 5, "seqf": 4}}, "level", "SeQF level 4 sits at EQF level 4"),
        ({"assessment": {"type": "other"}}, "assessment", "describe the assessment"),
        ({"participation": {"mode": "by-post", "pacing": "supervised"}}, "participation.mode", "Input should be"),
        ({"quality_assurance": {"types": []}}, "quality_assurance.types", "at least 1"),
        ({"branches": []}, "branches", "at least 1"),
        ({"branches": ["vard-och-omsorg", "vard-och-omsorg"]}, "branches", "only once"),
        ({"languages": ["Swedish"]}, "languages.0", "pattern"),
        ({"unknown": 1}, "unknown", "Extra inputs"),
    ],
)
def test_each_rule_names_its_field(change: dict[str, Any], field: str, why: str) -> None:
    errors = errors_of(MicroCredentialContent, content_payload(**change))
    assert field in errors, errors
    assert why in errors[field]


def test_esco_skills_must_be_esco_uris() -> None:
    outcome = {"text": {"sv": "x"}, "esco_skills": ["https://example.com/skill/1"]}
    errors = errors_of(MicroCredentialContent, content_payload(learning_outcomes=[outcome]))
    assert "learning_outcomes.0.esco_skills.0" in errors


def test_providers_need_a_valid_organisation_number() -> None:
    assert (
        ProviderDetails.model_validate(provider_payload(organisation_number="5560360793")).organisation_number
        == "556036-0793"
    )
    errors = errors_of(ProviderDetails, provider_payload(organisation_number="556016-0681"))
    assert "check digit" in errors["organisation_number"]
    errors = errors_of(ProviderDetails, provider_payload(organisation_number="811218-9876"))
    assert "sole traders" in errors["organisation_number"]
    errors = errors_of(ProviderDetails, provider_payload(kind="bank"))
    assert "kind" in errors
