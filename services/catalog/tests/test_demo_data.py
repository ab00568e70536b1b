"""The demo data is valid catalogue data, covers the region's pilots and provider kinds, and every
entry exports to ELM in the documented shape."""

from __future__ import annotations

from collections import Counter

import pytest

from mimis_platform.swedish_ids import normalise_organisation_number
from services.catalog.demo_data import DEMO_MICRO_CREDENTIALS, DEMO_PATHWAYS, DEMO_PROVIDERS
from services.catalog.domain.elm import to_elm
from services.catalog.domain.model import MicroCredentialContent, ProviderDetails
from services.catalog.domain.pathways import PathwayContent
from services.catalog.domain.vocabulary import VocabularyKind, built_in_codes
from services.catalog.tests.test_elm import published, shape_errors

PROVIDERS = {p["id"]: ProviderDetails.model_validate(p["details"]) for p in DEMO_PROVIDERS}
KEYS = [m["key"] for m in DEMO_MICRO_CREDENTIALS]


def contents() -> list[MicroCredentialContent]:
    return [MicroCredentialContent.model_validate(m["content"]) for m in DEMO_MICRO_CREDENTIALS]


def test_providers_are_valid_and_of_at_least_four_kinds() -> None:
    assert len(PROVIDERS) == len(DEMO_PROVIDERS), "provider ids must be unique"
    assert len({p.kind for p in PROVIDERS.values()}) >= 4
    numbers = [p.organisation_number for p in PROVIDERS.values()]
    assert len(set(numbers)) == len(numbers)
    for provider in DEMO_PROVIDERS:
        assert normalise_organisation_number(provider["details"]["organisation_number"])
        assert provider["members"] and all(isinstance(m, str) and m for m in provider["members"])
        assert provider["details"]["region"] == "SE224"


def test_at_least_fifteen_micro_credentials_with_unique_keys_and_known_providers() -> None:
    assert len(DEMO_MICRO_CREDENTIALS) >= 15
    assert len(set(KEYS)) == len(KEYS)
    assert {m["provider_id"] for m in DEMO_MICRO_CREDENTIALS} <= set(PROVIDERS)
    assert len(contents()) == len(DEMO_MICRO_CREDENTIALS)


def test_every_pilot_has_at_least_three_micro_credentials() -> None:
    per_pilot = Counter(p for c in contents() for p in c.pilots)
    assert set(per_pilot) == built_in_codes(VocabularyKind.PILOT)
    assert min(per_pilot.values()) >= 3, per_pilot


def test_codes_are_built_in_vocabulary() -> None:
    for entry in contents():
        assert set(entry.branches) <= built_in_codes(VocabularyKind.BRANCH), entry.branches
        assert set(entry.target_groups) <= built_in_codes(VocabularyKind.TARGET_GROUP), entry.target_groups
        assert set(entry.pilots) <= built_in_codes(VocabularyKind.PILOT), entry.pilots
    for pathway in DEMO_PATHWAYS:
        assert set(pathway["content"]["branches"]) <= built_in_codes(VocabularyKind.BRANCH)


def test_the_entries_vary_as_the_region_does() -> None:
    entries = contents()
    assert {e.level.eqf for e in entries} >= {2, 3, 4, 5, 6}
    assert {e.participation.mode.value for e in entries} == {"online", "onsite", "blended", "work-based"}
    languages = {code for e in entries for code in e.languages}
    assert {"sv", "en", "ar"} <= languages
    assert any(e.workload.ects for e in entries) and any(e.workload.ects is None for e in entries)
    assert any(e.price and e.price.amount_sek > 0 for e in entries)
    assert any(e.price and e.price.amount_sek == 0 for e in entries)
    assert all(e.title.en and all(o.text.en for o in e.learning_outcomes) for e in entries)
    assert all(e.esco_skills() for e in entries)


def test_pathways_refer_to_demo_micro_credentials() -> None:
    assert DEMO_PATHWAYS
    for pathway in DEMO_PATHWAYS:
        content = PathwayContent.model_validate(pathway["content"])
        assert set(content.micro_credential_ids) <= set(KEYS), content.micro_credential_ids
        assert pathway["owner_provider_id"] in PROVIDERS
    assert any("undersköterska" in p["content"]["leads_to"]["sv"].lower() for p in DEMO_PATHWAYS)


@pytest.mark.parametrize("entry", DEMO_MICRO_CREDENTIALS, ids=KEYS)
def test_every_demo_entry_exports_to_elm_in_the_documented_shape(entry: dict) -> None:
    version = published(MicroCredentialContent.model_validate(entry["content"]),
                        micro_credential_id=entry["key"],
                        provider_id=entry["provider_id"])
    document = to_elm(version, PROVIDERS[entry["provider_id"]], entry["provider_id"])
    assert shape_errors(document) == []
    awarding_body = document["awardingOpportunity"][0]["awardingBody"][0]
    assert awarding_body["registration"]["notation"] == PROVIDERS[entry["provider_id"]].organisation_number
