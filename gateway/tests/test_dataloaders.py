"""A page of micro-credentials with their providers costs a constant number of service calls,
counted on the wire (every request the gateway sends passes the counting transport)."""

from __future__ import annotations

from gateway.tests.region import Region, gql_execute

PAGE = """query Page($first: Int!, $providers: [String!]) {
  microCredentials(first: $first, filter: {providers: $providers}) {
    nodes { id title { sv } provider { id name kind contact { email } } } } }"""


async def _calls_for_page(region: Region, first: int) -> tuple[int, list[tuple[str, str, str]]]:
    region.transport.calls.clear()
    data, errors = await gql_execute(region.gateway_url, PAGE, {"first": first, "providers": region.providers})
    assert errors == []
    assert data is not None
    nodes = data["microCredentials"]["nodes"]
    assert all(n["provider"]["name"].startswith("Utbildare") for n in nodes)
    return len(nodes), region.service_calls()


async def test_a_page_of_50_with_providers_is_two_calls(region: Region) -> None:
    count, calls = await _calls_for_page(region, 50)
    assert count == 50
    assert [c[2] for c in calls] == ["/micro-credentials", "/providers"]


async def test_the_number_of_calls_does_not_grow_with_the_page(region: Region) -> None:
    _, small = await _calls_for_page(region, 3)
    _, large = await _calls_for_page(region, 50)
    assert len(small) == len(large) == 2


async def test_the_same_provider_asked_twice_in_one_query_is_fetched_once(region: Region) -> None:
    region.transport.calls.clear()
    data, errors = await gql_execute(region.gateway_url, """query($id: ID!) {
        a: provider(id: $id) { name } b: provider(id: $id) { kind }
        microCredentials(first: 5, filter: {providers: [$id]}) { nodes { provider { id } } } }""".replace(
        "[$id]", "[\"" + region.providers[1] + "\"]"), {"id": region.providers[1]})
    assert errors == []
    assert data is not None
    assert [c[2] for c in region.service_calls()].count("/providers") == 1


async def test_nested_provider_pages_are_one_search_per_provider(region: Region) -> None:
    region.transport.calls.clear()
    data, errors = await gql_execute(region.gateway_url, """query($p: [String!]) {
        microCredentials(first: 50, filter: {providers: $p}) { nodes { provider {
          microCredentials(first: 3) { nodes { id } } } } } }""", {"p": region.providers})
    assert errors == []
    assert data is not None
    paths = [c[2] for c in region.service_calls()]
    # the page, and one search per distinct provider (not one per entry); the providers come with the search
    assert paths.count("/micro-credentials") == 1 + len(region.providers)
    assert len(paths) == 1 + len(region.providers)


async def test_names_and_kinds_of_providers_come_with_the_search(region: Region) -> None:
    region.transport.calls.clear()
    data, errors = await gql_execute(region.gateway_url, """query($p: [String!]) {
        microCredentials(first: 50, filter: {providers: $p}) { nodes { provider { id name kind } } } }""",
                                     {"p": region.providers})
    assert errors == []
    assert data is not None and len(data["microCredentials"]["nodes"]) == 50
    assert [c[2] for c in region.service_calls()] == ["/micro-credentials"]
