from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.catalog.domain.pathways import PathwayContent, progress
from services.catalog.domain.search_text import index_terms, swedish_sort_key, terms_of_query

BASE = {
    "title": {"sv": "Väg till undersköterska"},
    "description": {"sv": "Fyra mikromeriter."},
    "leads_to": {"sv": "Undersköterska", "en": "Assistant nurse"},
    "branches": ["vard-och-omsorg"],
    "micro_credential_ids": ["a", "b", "c", "d"],
}


def test_all_rule_progress() -> None:
    pathway = PathwayContent.model_validate(BASE)
    p = progress(pathway, ["a", "c", "x"])
    assert (p.earned, p.still_needed, p.complete) == (["a", "c"], 2, False)
    assert progress(pathway, ["a", "b", "c", "d"]).complete


def test_at_least_rule_progress_counts_required_first() -> None:
    pathway = PathwayContent.model_validate({**BASE, "rule": "at-least", "required": ["a"], "minimum": 3})
    assert progress(pathway, ["b", "c", "d"]).still_needed == 1  # three held, but not the required one
    assert progress(pathway, ["a", "b", "c"]).complete


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"rule": "at-least"}, "needs 'minimum'"),
        ({"rule": "at-least", "minimum": 9}, "between"),
        ({"rule": "at-least", "minimum": 2, "required": ["z"]}, "must be part"),
        ({"micro_credential_ids": ["a", "a"]}, "twice"),
        ({"minimum": 2}, "neither"),
    ],
)
def test_inconsistent_rules_are_refused(change: dict, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        PathwayContent.model_validate({**BASE, **change})


def test_terms_find_words_prefixes_and_loose_spellings() -> None:
    terms = set(index_terms(["Basala hygienrutiner i vård och omsorg", "Café-kunskap"]))
    assert {"hygienrutiner", "hyg", "vård", "vard", "omsorg", "cafe", "kunskap"} <= terms
    assert "och" not in terms
    assert terms_of_query("Vård HYGIEN") == ["vård", "hygien"]
    assert terms_of_query("och i") == []  # stop words are not indexed, so they filter nothing


def test_swedish_sort_order() -> None:
    titles = ["Örter", "Zon", "Ärende", "Åtgärd", "avtal", "Épée"]
    assert sorted(titles, key=swedish_sort_key) == ["avtal", "Épée", "Zon", "Åtgärd", "Ärende", "Örter"]
