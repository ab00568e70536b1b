"""Issued-credential statistics through the gateway (public), against the real issuance service: a
credential issued through the gateway is counted under its branch, provider kind, level and month."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from gateway.tests.conftest import KINDS, PER_PROVIDER
from gateway.tests.region import Region, gql_execute

STATISTICS = """{ issuedCredentialStatistics { generatedAt issued revoked byBranch { key count }
  byProviderKind { key count } byLevel { key count } byMonth { key count } } }"""
ISSUE = """mutation($p: ID!, $in: IssueCredentialInput!) { issueCredential(providerId: $p, input: $in) { id } }"""


async def _statistics(region: Region) -> dict[str, Any]:
    data, errors = await gql_execute(region.gateway_url, STATISTICS)  # anonymous: it is public
    assert errors == [], errors
    assert data is not None
    return dict(data["issuedCredentialStatistics"])


def _counts(values: list[dict[str, Any]]) -> dict[str, int]:
    return {v["key"]: v["count"] for v in values}


async def test_an_issued_credential_is_counted_by_branch_provider_kind_level_and_month(region: Region) -> None:
    n, i = 3, 1  # the fourth seeded provider (an employer) and its second entry (EQF 2 + 1 % 3 = 3)
    provider, mc_id = region.providers[n], region.published[n * PER_PROVIDER + i]
    member = region.bearer(f"anna-{provider}", "provider-member", org=(provider,))
    variables = {"p": provider, "in": {"microCredentialId": mc_id, "version": 1, "learner": {
        "name": "Stina Statistik", "email": f"stina.{uuid.uuid4().hex[:8]}@example.se"}}}
    deadline = time.monotonic() + 60
    while True:
        before = await _statistics(region)
        _, errors = await gql_execute(region.gateway_url, ISSUE, variables, member)
        if not errors or time.monotonic() > deadline:
            break
        assert errors[0]["extensions"].get("reason") == "not_issuable", errors
        await asyncio.sleep(0.3)  # poll while the catalog's events reach the issuance service
    assert errors == [], errors
    after = await _statistics(region)
    # the region is shared by the session's tests, which run one after another: exactly one more
    month = datetime.now(UTC).strftime("%Y-%m")
    assert after["issued"] == before["issued"] + 1
    for field, key in (("byBranch", "vard-och-omsorg"), ("byProviderKind", KINDS[n]), ("byLevel", "3"),
                       ("byMonth", month)):
        assert _counts(after[field]).get(key, 0) == _counts(before[field]).get(key, 0) + 1, (field, key)
    assert sum(_counts(after["byMonth"]).values()) == after["issued"]
    assert 0 <= after["revoked"] <= after["issued"]
    assert "Stina" not in str(after)
