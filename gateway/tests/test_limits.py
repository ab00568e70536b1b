"""Documents that ask too much are refused before anything runs (no service is called), with a
stable code; GraphiQL's introspection query still passes."""

from __future__ import annotations

from graphql import get_introspection_query

from gateway.tests.region import Region, codes, gql_execute


async def _refused(region: Region, query: str) -> list[str]:
    region.transport.calls.clear()
    data, errors = await gql_execute(region.gateway_url, query)
    assert data is None
    assert region.service_calls() == []
    return codes(errors)


async def test_a_depth_bomb_is_refused(region: Region) -> None:
    inner = "id"
    for _ in range(8):
        inner = f"microCredentials(first: 1) {{ nodes {{ provider {{ {inner} }} }} }}"
    query = f"{{ provider(id: \"x\") {{ {inner} }} }}"
    assert "QUERY_TOO_DEEP" in await _refused(region, query)


async def test_a_cost_bomb_within_the_depth_limit_is_refused(region: Region) -> None:
    query = """{ microCredentials(first: 50) { nodes { provider { microCredentials(first: 50) { nodes {
                 provider { microCredentials(first: 50) { nodes { id } } } } } } } } }"""
    assert await _refused(region, query) == ["QUERY_TOO_COMPLEX"]


async def test_page_size_variables_count_at_the_cap(region: Region) -> None:
    query = """query($n: Int) { microCredentials(first: $n) { nodes { provider { microCredentials(first: $n) {
                 nodes { provider { microCredentials(first: $n) { nodes { id } } } } } } } } }"""
    region.transport.calls.clear()
    _, errors = await gql_execute(region.gateway_url, query, {"n": 1})
    assert codes(errors) == ["QUERY_TOO_COMPLEX"]
    assert errors[0]["extensions"]["cost"] > errors[0]["extensions"]["maxCost"]


async def test_an_alias_bomb_is_refused(region: Region) -> None:
    query = "{ " + " ".join(f"a{i}: catalogueStatistics {{ published }}" for i in range(40)) + " }"
    assert await _refused(region, query) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_a_token_bomb_is_refused(region: Region) -> None:
    query = "{ " + "viewer { subject } " * 700 + "}"
    assert await _refused(region, query) == ["GRAPHQL_PARSE_FAILED"]


async def test_a_broken_document_has_a_code(region: Region) -> None:
    assert await _refused(region, "{ microCredentials { nope } }") == ["GRAPHQL_VALIDATION_FAILED"]
    body = await region.graphql("{ microCredentials ")  # not through gql, which parses before sending
    assert codes(body["errors"]) == ["GRAPHQL_PARSE_FAILED"]


async def test_a_normal_page_with_everything_passes_and_introspection_works(region: Region) -> None:
    data, errors = await gql_execute(region.gateway_url, """{ microCredentials(first: 50) {
        totalCount facets { name values { value count } }
        nodes { id title { sv en } provider { name contact { email } }
                reviewSummary { reviewedVersions { version criteria { code met } } } } } }""")
    assert errors == []
    data, errors = await gql_execute(region.gateway_url, get_introspection_query())
    assert errors == []
    assert data is not None and data["__schema"]["queryType"]["name"] == "Query"


async def test_an_introspection_bomb_is_refused(region: Region) -> None:
    query = "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }"
    assert "QUERY_TOO_COMPLEX" in await _refused(region, query)
