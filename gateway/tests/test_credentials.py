"""Issuing, sharing, verifying and revoking credentials, and partners' webhooks, through the gateway
against the real issuance and notifications services."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from gateway.tests.conftest import PER_PROVIDER
from gateway.tests.region import Region, codes, gql_execute

ISSUE = """mutation($p: ID!, $in: IssueCredentialInput!) { issueCredential(providerId: $p, input: $in) {
  id status version microCredentialId provider { id } microCredential { title { sv } } } }"""


async def _issue(region: Region, provider: str, mc_id: str, email: str) -> dict[str, Any]:
    """Issue once the issuance service has the published version (it learns it from catalog events)."""
    member = region.bearer(f"anna-{provider}", "provider-member", org=(provider,))
    variables = {"p": provider, "in": {"microCredentialId": mc_id, "version": 1,
                                       "learner": {"name": "Lena Larsson", "email": email}}}
    deadline = time.monotonic() + 60
    while True:
        data, errors = await gql_execute(region.gateway_url, ISSUE, variables, member)
        if not errors or time.monotonic() > deadline:
            break
        assert errors[0]["extensions"].get("reason") == "not_issuable", errors
        await asyncio.sleep(0.3)  # poll while the catalog's events reach the issuance service
    assert errors == [], errors
    assert data is not None
    return dict(data["issueCredential"])


async def test_issue_share_verify_suspend_reinstate_and_revoke(region: Region) -> None:
    provider, mc_id = region.providers[0], region.published[0]
    email = "lena.larsson@example.se"
    issued = await _issue(region, provider, mc_id, email)
    assert issued["status"] == "active" and issued["provider"]["id"] == provider
    assert issued["microCredential"]["title"]["sv"].startswith("Mikromerit 0-00")

    learner = region.bearer(email, "learner")
    data, errors = await gql_execute(region.gateway_url, "{ myCredentials { nodes { id status } } }", headers=learner)
    assert errors == [] and data is not None
    assert issued["id"] in [n["id"] for n in data["myCredentials"]["nodes"]]

    data, errors = await gql_execute(region.gateway_url, "mutation($id: ID!) { shareCredential(id: $id, "
                                     "expiresInDays: 7) { token url } }", {"id": issued["id"]}, learner)
    assert errors == [] and data is not None
    token = data["shareCredential"]["token"]

    # An employer opens the link and verifies what it shows, with no account at all.
    data, errors = await gql_execute(region.gateway_url, "query($t: String!) { sharedCredential(token: $t) "
                                     "{ credentialId status jws credential } }", {"t": token})
    assert errors == [] and data is not None
    shared = data["sharedCredential"]
    assert shared["credentialId"] == issued["id"] and shared["status"] == "active"
    verify = "query($c: JSON!) { verifyCredential(credential: $c) { verified verdict checks { check ok } reasons } }"
    for presented in (shared["jws"], shared["credential"]):
        data, errors = await gql_execute(region.gateway_url, verify, {"c": presented})
        assert errors == [] and data is not None
        assert data["verifyCredential"]["verified"] is True, data
    tampered = shared["jws"][:-4] + ("AAAA" if not shared["jws"].endswith("AAAA") else "BBBB")
    data, errors = await gql_execute(region.gateway_url, verify, {"c": tampered})
    assert errors == [] and data is not None and data["verifyCredential"]["verified"] is False

    # Its provider suspends it (verifiers see why), then reinstates it; nobody else may.
    member = region.bearer(f"anna-{provider}", "provider-member", org=(provider,))
    other = region.providers[1]
    suspend = ("mutation($id: ID!) { suspendCredential(id: $id, reason: \"Under review\") "
               "{ status suspendable suspendedAt suspensionReason } }")
    reinstate = "mutation($id: ID!) { reinstateCredential(id: $id, reason: \"Review done\") { status reinstatedAt } }"
    for mutation in (suspend, reinstate):
        _, errors = await gql_execute(region.gateway_url, mutation, {"id": issued["id"]},
                                      region.bearer(f"anna-{other}", "provider-member", org=(other,)))
        assert codes(errors) == ["NOT_FOUND"]
    data, errors = await gql_execute(region.gateway_url, suspend, {"id": issued["id"]}, member)
    assert errors == [] and data is not None
    suspended = data["suspendCredential"]
    assert (suspended["status"], suspended["suspendable"], suspended["suspensionReason"]) == (
        "suspended", True, "Under review") and suspended["suspendedAt"]
    _, errors = await gql_execute(region.gateway_url, suspend, {"id": issued["id"]}, member)
    assert codes(errors) == ["CONFLICT"] and errors[0]["extensions"]["reason"] == "already_suspended"
    data, errors = await gql_execute(region.gateway_url, verify, {"c": shared["jws"]})
    assert errors == [] and data is not None and data["verifyCredential"]["verified"] is False
    assert data["verifyCredential"]["reasons"] == ["status: the credential is suspended: Under review"]
    data, errors = await gql_execute(region.gateway_url, reinstate, {"id": issued["id"]}, member)
    assert errors == [] and data is not None
    assert data["reinstateCredential"]["status"] == "active" and data["reinstateCredential"]["reinstatedAt"]
    _, errors = await gql_execute(region.gateway_url, reinstate, {"id": issued["id"]}, member)
    assert codes(errors) == ["CONFLICT"] and errors[0]["extensions"]["reason"] == "not_suspended"
    data, errors = await gql_execute(region.gateway_url, verify, {"c": shared["jws"]})
    assert errors == [] and data is not None and data["verifyCredential"]["verified"] is True

    # Someone else's provider may not revoke it; its own members may, once.
    revoke = "mutation($id: ID!) { revokeCredential(id: $id, reason: \"Issued by mistake\") { status } }"
    _, errors = await gql_execute(region.gateway_url, revoke, {"id": issued["id"]},
                                  region.bearer(f"anna-{other}", "provider-member", org=(other,)))
    assert codes(errors) == ["NOT_FOUND"]
    data, errors = await gql_execute(region.gateway_url, revoke, {"id": issued["id"]}, member)
    assert errors == [] and data == {"revokeCredential": {"status": "revoked"}}
    _, errors = await gql_execute(region.gateway_url, revoke, {"id": issued["id"]}, member)
    assert codes(errors) == ["CONFLICT"]

    data, errors = await gql_execute(region.gateway_url, "mutation($t: String!) { withdrawShareLink(token: $t) }",
                                     {"t": token}, learner)
    assert errors == [] and data == {"withdrawShareLink": True}


async def test_bulk_issue_reports_each_bad_row_and_issues_nothing(region: Region) -> None:
    provider = region.providers[1]
    first = PER_PROVIDER  # the published entries of providers[1] follow those of providers[0]
    await _issue(region, provider, region.published[first], "first@example.se")  # the projection is there
    csv = ("micro_credential_id,version,learner_name,learner_email\n"
           f"{region.published[first + 1]},1,Ali Ahmed,ali@example.se\n"
           f"{region.published[first + 2]},1,Bo Berg,not-an-email\n")
    member = region.bearer(f"anna-{provider}", "provider-member", org=(provider,))
    bulk = """mutation($p: ID!, $csv: String!, $dry: Boolean!) { bulkIssueCredentials(providerId: $p, csv: $csv,
              dryRun: $dry) { issued failed dryRun rows { row ok errors } } }"""
    data, errors = await gql_execute(region.gateway_url, bulk, {"p": provider, "csv": csv, "dry": False}, member)
    assert errors == [] and data is not None
    result = data["bulkIssueCredentials"]
    assert (result["issued"], result["failed"]) == (0, 1)
    assert [r["ok"] for r in result["rows"]] == [True, False]
    assert result["rows"][1]["errors"]

    good = csv.rsplit("\n", 2)[0] + "\n"
    data, errors = await gql_execute(region.gateway_url, bulk, {"p": provider, "csv": good, "dry": False}, member)
    assert errors == [] and data is not None
    assert (data["bulkIssueCredentials"]["issued"], data["bulkIssueCredentials"]["failed"]) == (1, 0)

    _, errors = await gql_execute(region.gateway_url, bulk, {"p": provider, "csv": good, "dry": True},
                                  region.bearer("lina@example.se", "learner"))
    assert codes(errors) == ["FORBIDDEN"]


async def test_a_partner_manages_its_webhooks_and_reads_the_delivery_log(region: Region) -> None:
    data, errors = await gql_execute(region.gateway_url, "{ webhookEventTypes { type scope } }")
    assert errors == [] and data is not None
    public = [t["type"] for t in data["webhookEventTypes"] if t["scope"] == "public"]
    assert "catalog.credential.published.v1" in public

    employer = region.bearer("hr-system", "employer", org=("ikea-almhult",))
    create = """mutation($in: WebhookSubscriptionInput!) { createWebhookSubscription(input: $in) {
                  secret subscription { id organisationId eventTypes enabled } } }"""
    data, errors = await gql_execute(region.gateway_url, create, {"in": {
        "organisationId": "ikea-almhult", "url": "http://127.0.0.1:9/hooks/mimis", "eventTypes": public[:1],
        "ownerEmail": "it@example.se", "filters": {"branches": ["vard-och-omsorg"]}}}, employer)
    assert errors == [] and data is not None
    created = data["createWebhookSubscription"]
    assert created["secret"].startswith("whsec_")
    sub_id = created["subscription"]["id"]

    read = "query($id: ID!) { webhookSubscription(id: $id) { id filters { branches } deliveries { nodes { id } } } }"
    data, errors = await gql_execute(region.gateway_url, read, {"id": sub_id}, employer)
    assert errors == [] and data is not None
    assert data["webhookSubscription"]["filters"]["branches"] == ["vard-och-omsorg"]
    assert isinstance(data["webhookSubscription"]["deliveries"]["nodes"], list)

    # Another organisation does not learn that it exists.
    data, errors = await gql_execute(region.gateway_url, read, {"id": sub_id},
                                     region.bearer("x", "employer", org=("volvo",)))
    assert errors == [] and data == {"webhookSubscription": None}
    _, errors = await gql_execute(region.gateway_url, create, {"in": {
        "organisationId": "ikea-almhult", "url": "http://127.0.0.1:9/x", "eventTypes": public[:1],
        "ownerEmail": "it@example.se"}}, region.bearer("x", "employer", org=("volvo",)))
    assert codes(errors) == ["FORBIDDEN"] and errors[0]["extensions"]["service"] == "notifications"

    data, errors = await gql_execute(region.gateway_url, "mutation($id: ID!) { updateWebhookSubscription(id: $id, "
                                     "change: {enabled: false}) { enabled } }", {"id": sub_id}, employer)
    assert errors == [] and data == {"updateWebhookSubscription": {"enabled": False}}
    data, errors = await gql_execute(region.gateway_url, "mutation($id: ID!) { deleteWebhookSubscription(id: $id) }",
                                     {"id": sub_id}, employer)
    assert errors == [] and data == {"deleteWebhookSubscription": True}
