"""The catalogue through the gateway: search with filters, facets and cursor pages; one entry with
its provider, learning outcomes and review summary; page-size caps."""

from __future__ import annotations

from gateway.tests.region import Region, codes, gql_execute

SEARCH = """
query Search($filter: CatalogueFilter, $first: Int, $after: String) {
  microCredentials(filter: $filter, first: $first, after: $after) {
    totalCount
    facets { name values { value count } }
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id title { sv } eqfLevel provider { id name kind } } }
  }
}"""


async def test_search_pages_through_every_entry_once_with_facets(region: Region) -> None:
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        data, errors = await gql_execute(region.gateway_url, SEARCH, {
            "filter": {"providers": region.providers}, "first": 20, "after": after})
        assert errors == []
        assert data is not None
        connection = data["microCredentials"]
        assert connection["totalCount"] == 55
        seen += [e["node"]["id"] for e in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        assert connection["edges"][-1]["cursor"] == after
    assert pages == 3
    assert sorted(seen) == sorted(region.published)
    facets = {f["name"]: {v["value"]: v["count"] for v in f["values"]} for f in connection["facets"]}
    assert facets["levels"] == {"2": 20, "3": 20, "4": 15}
    assert sum(facets["providerKinds"].values()) == 55


async def test_filters_are_and_between_fields_and_or_within_one(region: Region) -> None:
    data, errors = await gql_execute(region.gateway_url, SEARCH, {
        "filter": {"providers": region.providers[:2], "levels": [2, 4], "text": "omsorg"}, "first": 50})
    assert errors == []
    assert data is not None
    nodes = [e["node"] for e in data["microCredentials"]["edges"]]
    assert data["microCredentials"]["totalCount"] == len(nodes) == 2 * (4 + 3)
    assert {n["provider"]["id"] for n in nodes} == set(region.providers[:2])
    assert {n["eqfLevel"] for n in nodes} == {2, 4}


async def test_one_micro_credential_with_its_elements_and_review_summary(region: Region) -> None:
    data, errors = await gql_execute(region.gateway_url, """
      query One($id: ID!) { microCredential(id: $id) {
        id status version title { sv en } learningOutcomes { text { sv } escoSkills }
        content provider { name members }
        reviewSummary { reviewedVersions { version outcome reviewingBody criteria { code met } } } } }""",
        {"id": region.published[0]})
    assert errors == []
    assert data is not None
    mc = data["microCredential"]
    assert mc["status"] == "PUBLISHED"
    assert mc["learningOutcomes"][0]["escoSkills"]
    assert mc["content"]["level"]["eqf"] == 2
    assert mc["provider"]["members"] is None  # an anonymous caller is not a member
    reviewed = mc["reviewSummary"]["reviewedVersions"]
    assert [v["outcome"] for v in reviewed] == ["approve"]
    assert reviewed[0]["criteria"] and all(c["met"] == 1 for c in reviewed[0]["criteria"])


async def test_unknown_micro_credential_is_null_without_error(region: Region) -> None:
    data, errors = await gql_execute(region.gateway_url, "{ microCredential(id: \"mc-none\") { id } }")
    assert errors == []
    assert data == {"microCredential": None}


async def test_page_size_is_capped(region: Region) -> None:
    data, errors = await gql_execute(region.gateway_url, "{ microCredentials(first: 51) { totalCount } }")
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["extensions"]["fieldErrors"][0]["field"] == "first"
    assert data == {"microCredentials": None}


async def test_invalid_cursor_names_the_field(region: Region) -> None:
    _, errors = await gql_execute(region.gateway_url, "{ microCredentials(after: \"not-a-cursor\") { totalCount } }")
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert errors[0]["extensions"]["service"] == "catalog"
    assert errors[0]["extensions"]["fieldErrors"][0]["field"] == "cursor"


async def test_catalogue_statistics_count_published_entries(region: Region) -> None:
    data, errors = await gql_execute(
        region.gateway_url, "{ catalogueStatistics { published byLevel { key count } byBranch { key count } } }")
    assert errors == []
    assert data is not None
    stats = data["catalogueStatistics"]
    assert stats["published"] >= 55
    assert {"key": "vard-och-omsorg", "count": stats["published"]} in stats["byBranch"]
