"""Factories for catalogue data, in one place for every catalog test."""

from __future__ import annotations

from typing import Any

from services.catalog.domain.model import MicroCredentialContent, ProviderDetails

ESCO_HYGIENE = "http://data.europa.eu/esco/skill/4f6fd3a4-52a4-4b8d-8ad6-4d6bea9bd9bc"
ESCO_COMMUNICATION = "http://data.europa.eu/esco/skill/15d76317-c71a-4fa2-aadc-2ecc34e627b7"


def content_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "title": {"sv": "Basala hygienrutiner i vård och omsorg", "en": "Basic hygiene routines in care"},
        "description": {
            "sv": "Hygien som skyddar brukare och personal.",
            "en": "Hygiene that protects clients and staff.",
        },
        "learning_outcomes": [
            {
                "text": {"sv": "Tillämpa basala hygienrutiner i omsorgsarbete.", "en": "Apply basic hygiene routines."},
                "esco_skills": [ESCO_HYGIENE],
            },
            {"text": {"sv": "Förklara smittvägar för brukare och anhöriga."}, "esco_skills": [ESCO_COMMUNICATION]},
        ],
        "workload": {"ects": "1.5", "hours": 40},
        "level": {"eqf": 4, "seqf": 4},
        "assessment": {"type": "practical-demonstration"},
        "participation": {"mode": "blended", "pacing": "supervised"},
        "quality_assurance": {"types": ["internal", "external-review"]},
        "branches": ["vard-och-omsorg"],
        "target_groups": ["utanfor-arbetsmarknaden"],
        "pilots": ["vard-och-omsorg"],
        "languages": ["sv"],
        "price": {"amount_sek": "0", "funding": {"sv": "Kostnadsfri för arbetssökande."}},
    }
    payload.update(overrides)
    return payload


def content(**overrides: Any) -> MicroCredentialContent:
    return MicroCredentialContent.model_validate(content_payload(**overrides))


def provider_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "name": "Högskolan Kristianstad",
        "organisation_number": "202100-5489",
        "kind": "university",
        "contact": {"name": "Anna Svensson", "email": "mikromeriter@example.se"},
    }
    payload.update(overrides)
    return payload


def provider(**overrides: Any) -> ProviderDetails:
    return ProviderDetails.model_validate(provider_payload(**overrides))
