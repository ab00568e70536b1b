"""Catalogue search, pure parts: the query's validation, the projection document, the plan and
the cursor. The database half is in test_search_index.py."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from services.catalog.domain import lifecycle as lc
from services.catalog.domain.model import Pacing
from services.catalog.domain.search import (
    InvalidCursor,
    SearchQuery,
    catalogue_entry,
    decode_cursor,
    encode_cursor,
    facet_counts,
    facet_pipeline,
    plan,
)
from services.catalog.tests.factories import ESCO_HYGIENE, content

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def publish(draft: lc.MicroCredentialVersion, *, at: datetime = NOW,
            replacing: lc.MicroCredentialVersion | None = None) -> lc.MicroCredentialVersion:
    """Take a draft through the real lifecycle (submit, review, approve) to published."""
    version = lc.submit(draft, now=at, by="anna").changed[0]
    version = lc.start_review(version, "review-1", now=at).changed[0]
    approval = lc.ReviewOutcome("review-1", lc.Decision.APPROVE)
    outcome = lc.decide(version, approval, now=at, published=replacing)
    return outcome.changed[0]


def published_version(micro_credential_id: str = "mc-1", provider_id: str = "p-1", *,
                      at: datetime = NOW, **overrides: Any) -> lc.MicroCredentialVersion:
    """Version 1 of a micro-credential, published (content from the factories)."""
    draft = lc.start(micro_credential_id, provider_id, content(**overrides), now=at, by="anna").changed[0]
    return publish(draft, at=at)


def errors_of(**fields: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        SearchQuery(**fields)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in caught.value.errors()}


# --- the query ----------------------------------------------------------------------------------


def test_defaults_and_normalised_text() -> None:
    query = SearchQuery(q="  Vård   HYGIEN ")
    assert (query.sort, query.limit, query.facets, query.cursor) == ("title", 20, True, None)
    assert query.q == "Vård   HYGIEN"
    assert query.text_terms() == ["vård", "hygien"]
    assert SearchQuery(q="   ").q is None  # a blank box is no text filter


@pytest.mark.parametrize(
    ("fields", "where", "why"),
    [
        ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
        ({"q": "x" * 201}, "q", "at most 200 characters"),
        ({"q": "?! --"}, "q", "no words to search for"),
        ({"skills": ["http://example.com/skill"]}, "skills.0", "should match pattern"),
        ({"branches": ["Vård"]}, "branches.0", "should match pattern"),
        ({"levels": [9]}, "levels.0", "less than or equal to 8"),
        ({"levels": [0]}, "levels.0", "greater than or equal to 1"),
        ({"ects_min": -1}, "ects_min", "greater than or equal to 0"),
        ({"hours_max": 5000}, "hours_max", "less than or equal to 1800"),
        ({"provider_kinds": ["school"]}, "provider_kinds.0", "'university'"),
        ({"modes": ["remote"]}, "modes.0", "'online'"),
        ({"languages": ["Svenska"]}, "languages.0", "should match pattern"),
        ({"sort": "price"}, "sort", "'title', '-published', 'level' or 'workload'"),
        ({"limit": 0}, "limit", "greater than or equal to 1"),
        ({"limit": 51}, "limit", "less than or equal to 50"),
        ({"branches": ["service"] * 21}, "branches", "at most 20 items"),
    ],
)
def test_invalid_queries_name_the_field_and_the_reason(fields: dict[str, Any], where: str, why: str) -> None:
    errors = errors_of(**fields)
    assert where in errors, errors
    assert why in errors[where]


def test_a_range_must_not_be_upside_down() -> None:
    assert errors_of(ects_min=5, ects_max=2) == {
        "ects_max": "Value error, must be at least ects_min (5), not 2"}
    assert errors_of(hours_min=100, hours_max=40) == {
        "hours_max": "Value error, must be at least hours_min (100), not 40"}
    assert SearchQuery(ects_min=2, ects_max=2).ects_max == 2  # an empty-width range is fine


# --- the projection document -------------------------------------------------------------------


def test_the_catalogue_entry_of_a_published_version() -> None:
    entry = catalogue_entry(published_version("mc-7", "p-3"), "Skånes stadsmission", "civil-society")
    assert entry["_id"] == "mc-7" and entry["version"] == 1 and entry["provider_id"] == "p-3"
    assert (entry["provider_name"], entry["provider_kind"]) == ("Skånes stadsmission", "civil-society")
    assert entry["title"] == {"sv": "Basala hygienrutiner i vård och omsorg",
                              "en": "Basic hygiene routines in care"}
    assert (entry["ects"], entry["hours"], entry["notional_hours"]) == (1.5, 40, 40.0)
    assert (entry["eqf"], entry["seqf"], entry["mode"], entry["pacing"]) == (4, 4, "blended", "supervised")
    assert entry["branches"] == ["vard-och-omsorg"] and entry["pilots"] == ["vard-och-omsorg"]
    assert entry["esco_skills"][0] == ESCO_HYGIENE and len(entry["esco_skills"]) == 2
    assert entry["price_sek"] == Decimal("0") and entry["published_at"] == NOW
    assert entry["sort_title"] == "basala hygienrutiner i v{rd och omsorg"
    terms = set(entry["terms"])
    # Title, description, outcomes (both languages) and the provider's name, each word with its
    # prefixes, and the spelling without å/ä/ö a foreign keyboard gives.
    assert {"hygien", "vård", "vard", "omsorg", "hygiene", "staff", "smittvägar", "smittvagar",
            "anhöriga", "stadsmission", "skånes", "skanes"} <= terms
    assert "och" not in terms


def test_an_entry_stating_only_ects_gets_notional_hours() -> None:
    entry = catalogue_entry(published_version(workload={"ects": "3"}), "HKR", "university")
    assert (entry["ects"], entry["hours"], entry["notional_hours"]) == (3.0, None, 80.0)


def test_only_published_versions_become_entries() -> None:
    draft = lc.start("mc-1", "p-1", content(), now=NOW, by="anna").changed[0]
    with pytest.raises(ValueError, match=r"only a published version belongs in the catalogue; .* is draft"):
        catalogue_entry(draft, "HKR", "university")
    retired = lc.retire(published_version(), now=NOW, by="anna", reason=None).changed[0]
    with pytest.raises(ValueError, match="is retired"):
        catalogue_entry(retired, "HKR", "university")


# --- the plan -----------------------------------------------------------------------------------


def test_the_first_stage_is_one_index_servable_clause_per_field() -> None:
    query = SearchQuery(q="vård hygienrutiner", branches=["service"], levels=[4, 5],
                        pacings=[Pacing.SUPERVISED], hours_min=10)
    search_plan = plan(query)
    # The longest term leads (rarest as a rule); the others follow in the second stage.
    assert search_plan.match == {
        "terms": "hygienrutiner", "notional_hours": {"$gte": 10.0}, "pacing": "supervised",
        "branches": "service", "eqf": {"$in": [4, 5]},
    }
    # Rarest first: the local server rides the first clause it has an index for.
    assert list(search_plan.match) == ["terms", "branches", "eqf", "notional_hours", "pacing"]
    assert search_plan.refine == [{"terms": {"$all": ["vård"]}}]
    assert search_plan.sort == [("sort_title", 1), ("_id", 1)] and search_plan.limit == 21
    assert search_plan.find_filter() == {"$and": [search_plan.match, {"terms": {"$all": ["vård"]}}]}


def test_facets_are_counted_without_their_own_filter() -> None:
    query = SearchQuery(skills=[ESCO_HYGIENE], branches=["service", "teknik"], levels=[4])
    match, facet = facet_pipeline(query)
    assert match == {"$match": {"esco_skills": ESCO_HYGIENE}}  # only the filters that are not facets
    sub = facet["$facet"]
    assert sub["branches"][0] == {"$match": {"eqf": 4}}
    assert sub["levels"][0] == {"$match": {"branches": {"$in": ["service", "teknik"]}}}
    assert sub["modes"][0] == {"$match": {"branches": {"$in": ["service", "teknik"]}, "eqf": 4}}
    assert sub["total"] == [{"$match": {"branches": {"$in": ["service", "teknik"]}, "eqf": 4}},
                            {"$count": "n"}]


def test_facet_counts_list_most_common_first_and_keep_ticked_values() -> None:
    query = SearchQuery(levels=[8], branches=["teknik"])
    counts, total = facet_counts(query, {
        "levels": [{"_id": 4, "count": 2}, {"_id": 5, "count": 7}],
        "branches": [{"_id": "service", "count": 3}, {"_id": "handel", "count": 3}],
        "total": [],
    })
    assert [(c.value, c.count) for c in counts["levels"]] == [(5, 7), (4, 2), (8, 0)]
    assert [(c.value, c.count) for c in counts["branches"]] == [("handel", 3), ("service", 3), ("teknik", 0)]
    assert counts["pilots"] == [] and total == 0


# --- the cursor ---------------------------------------------------------------------------------

LAST = {"_id": "mc-9", "sort_title": "åtgärd", "eqf": 4, "notional_hours": 26.7,
        "published_at": datetime(2026, 3, 2, 9, 30, 0, 123000, tzinfo=UTC)}


@pytest.mark.parametrize(
    ("sort", "values"),
    [("title", ["åtgärd", "mc-9"]), ("level", [4, "åtgärd", "mc-9"]), ("workload", [26.7, "åtgärd", "mc-9"]),
     ("-published", [LAST["published_at"], "mc-9"])],
)
def test_a_cursor_carries_the_sort_values_exactly(sort: str, values: list[Any]) -> None:
    query = SearchQuery(sort=sort, branches=["service", "teknik"])
    cursor = encode_cursor(query, LAST)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")  # URL-safe
    assert decode_cursor(cursor, sort, query.fingerprint()) == values
    # The next query carries it and seeks past it; the order of a filter's values does not matter.
    following = SearchQuery(sort=sort, branches=["teknik", "service"], cursor=cursor)
    assert following.after() == values
    field, op = {"title": ("sort_title", "$gt"), "level": ("eqf", "$gt"),
                 "workload": ("notional_hours", "$gt"), "-published": ("published_at", "$lt")}[sort]
    seek = plan(following).refine[-1]["$or"]
    assert seek[0] == {field: {op: values[0]}} and len(seek) == len(values)
    assert seek[-1] == {**dict(zip([field, *(["sort_title"] if len(values) == 3 else [])], values[:-1],
                                   strict=True)), "_id": {op: "mc-9"}}


def _reencode(cursor: str, change: Any) -> str:
    body = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    change(body)
    return base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()


def test_a_tampered_or_foreign_cursor_is_refused_with_a_reason() -> None:
    query = SearchQuery(levels=[4])
    cursor = encode_cursor(query, LAST)
    fingerprint = query.fingerprint()

    def refused(bad: str, why: str) -> None:
        with pytest.raises(InvalidCursor, match=why):
            decode_cursor(bad, "title", fingerprint)
        errors = errors_of(levels=[4], cursor=bad)
        assert list(errors) == ["cursor"] and why.split(" ")[-1] in errors["cursor"]

    refused("not a cursor!", "does not decode")
    refused(base64.urlsafe_b64encode(b"[1, 2]").decode(), "unexpected content")
    refused(_reencode(cursor, lambda b: b["k"].__setitem__(0, "zzz")), "altered")
    refused(_reencode(cursor, lambda b: b.__setitem__("v", 2)), "altered")
    refused(cursor[:-3], "altered|does not decode")
    with pytest.raises(InvalidCursor, match="sorted by 'title', not 'level'"):
        decode_cursor(cursor, "level", fingerprint)
    assert "sorted by 'title', not 'level'" in errors_of(levels=[4], sort="level", cursor=cursor)["cursor"]
    assert "other filters" in errors_of(levels=[5], cursor=cursor)["cursor"]


def test_a_forged_cursor_cannot_smuggle_an_operator() -> None:
    # Someone who recomputes the digest still gets only typed values through.
    from services.catalog.domain.search import _digest

    query = SearchQuery()
    body = {"v": 1, "s": "title", "f": query.fingerprint(), "k": [{"$gt": ""}, "mc-1"]}
    body["d"] = _digest(body)
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode()
    with pytest.raises(InvalidCursor, match="value for 'sort_title' is not a str"):
        decode_cursor(forged, "title", query.fingerprint())


def test_an_unvalidated_query_with_a_bad_cursor_fails_when_planned() -> None:
    query = SearchQuery().model_copy(update={"cursor": "junk"})
    with pytest.raises(ValueError, match="does not decode"):
        plan(query)
