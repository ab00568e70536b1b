"""A property-based fuzz run of the GraphQL schema (hypothesis-graphql, the generator schemathesis
uses for GraphQL): generated queries and mutations, valid and invalid, against the running gateway
and the real services. No answer may be a server error: every error carries a code a client can
act on, and none is INTERNAL_SERVER_ERROR."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from gateway.export_schema import SCHEMA_FILE
from gateway.tests.region import Region

SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "JSON": st.one_of(st.text(max_size=30).map(nodes.String), st.integers(-5, 5).map(nodes.Int),
                      st.booleans().map(nodes.Boolean)),
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat())),
    "Date": st.dates().map(lambda d: nodes.String(d.isoformat())),
}
KNOWN_CODES = {"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT", "CONFLICT", "SERVICE_UNAVAILABLE",
               "QUERY_TOO_DEEP", "QUERY_TOO_COMPLEX", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"}


def _documents(mode: Mode, count: int) -> list[str]:
    """``count`` generated documents (hypothesis drives the generation; the requests run afterwards,
    on the test's event loop)."""
    found: list[str] = []

    @settings(max_examples=count, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(from_schema(SCHEMA_FILE.read_text(), custom_scalars=SCALARS, allow_x00=False, mode=mode))
    def collect(document: str) -> None:
        found.append(document)

    collect()
    return found


async def _run(region: Region, documents: list[str], headers: dict[str, str]) -> list[str]:
    problems: list[str] = []
    async with httpx.AsyncClient(timeout=60) as http:
        for document in documents:
            answer = await http.post(f"{region.gateway_url}/graphql", json={"query": document}, headers=headers)
            if answer.status_code not in (200, 400):
                problems.append(f"HTTP {answer.status_code}: {document}")
                continue
            for error in answer.json().get("errors") or []:
                code = (error.get("extensions") or {}).get("code")
                if code not in KNOWN_CODES:
                    problems.append(f"{code}: {error.get('message')}\n{document}")
    return problems


async def test_generated_queries_and_mutations_never_cause_a_server_error(region: Region) -> None:
    everyone = region.bearer("fuzz", "provider-member", "reviewer", "quality-admin", "employer", "municipality",
                             "learner", "ops", "region-admin", org=(region.providers[0],))
    problems = await _run(region, _documents(Mode.POSITIVE, 120), {})
    problems += await _run(region, _documents(Mode.POSITIVE, 120), everyone)
    problems += await _run(region, _documents(Mode.NEGATIVE, 60), everyone)
    assert not problems, "\n\n".join(problems[:5])
