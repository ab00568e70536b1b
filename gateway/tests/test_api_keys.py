"""API keys for partner systems: created by a region administrator, stored hashed in the gateway's
own database, exchanged for a short-lived gateway-signed token that the services verify."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

from gateway.tests.region import Region, codes, gql_execute
from mimis_platform.mongo import Document

CREATE = """mutation($name: String!, $org: String!, $roles: [PartnerRole!]!) {
  createApiKey(name: $name, organisation: $org, roles: $roles) { secret key { id subject organisation roles } } }"""


async def _create_key(region: Region, org: str, roles: list[str]) -> dict[str, Any]:
    data, errors = await gql_execute(region.gateway_url, CREATE, {"name": f"{org} system", "org": org, "roles": roles},
                                     region.bearer("rita", "region-admin"))
    assert errors == []
    assert data is not None
    return dict(data["createApiKey"])


async def test_a_partner_system_acts_for_its_organisation_through_the_services(
        region: Region, mongo_client: AsyncMongoClient[Document]) -> None:
    pid = region.providers[3]
    created = await _create_key(region, pid, ["PROVIDER_MEMBER"])
    key = {"x-api-key": created["secret"]}
    data, errors = await gql_execute(region.gateway_url, "{ viewer { subject roles organisations viaApiKey } }",
                                     headers=key)
    assert errors == []
    assert data == {"viewer": {"subject": created["key"]["subject"], "roles": ["provider-member"],
                               "organisations": [pid], "viaApiKey": True}}

    drafts = "query($p: ID!) { providerDrafts(providerId: $p) { nodes { id } } }"
    _, errors = await gql_execute(region.gateway_url, drafts, {"p": pid}, key)
    assert codes(errors) == ["FORBIDDEN"]  # the catalog verified the gateway's token, and knows no such member
    assert errors[0]["extensions"]["service"] == "catalog"

    # The provider lets its system act for it, as it would a colleague ...
    import httpx
    async with httpx.AsyncClient(base_url=region.catalog_url) as catalog:
        answer = await catalog.post(f"/providers/{pid}/members", json={"subject": created["key"]["subject"]},
                                    headers=region.bearer(f"anna-{pid}", "provider-member", org=(pid,)))
        assert answer.status_code == 200, answer.text
    data, errors = await gql_execute(region.gateway_url, drafts, {"p": pid}, key)
    assert errors == []
    assert data is not None
    assert region.drafts[pid] in {n["id"] for n in data["providerDrafts"]["nodes"]}

    # ... and only for its own organisation.
    _, errors = await gql_execute(region.gateway_url, drafts, {"p": region.providers[0]}, key)
    assert codes(errors) == ["FORBIDDEN"]

    # Only a digest of the secret is stored.
    stored = await mongo_client[region.gateway.state.settings.mongo_database]["api_keys"].find_one(
        {"_id": created["key"]["id"]})
    assert stored is not None
    secret_part = created["secret"].rsplit("_", 1)[1]
    assert secret_part not in str(stored)
    assert len(stored["digest"]) == 64


async def test_revoked_wrong_and_doubled_credentials_are_refused(region: Region) -> None:
    created = await _create_key(region, "malmo-stad", ["MUNICIPALITY"])
    key = {"x-api-key": created["secret"]}
    data, errors = await gql_execute(region.gateway_url, "{ viewer { subject } }", headers=key)
    assert errors == []

    wrong = created["secret"][:-2] + ("AA" if not created["secret"].endswith("AA") else "BB")
    for headers in ({"x-api-key": wrong}, {"x-api-key": "mimis_nope_nope"}, {"x-api-key": "garbage"},
                    {**key, **region.bearer("rita", "region-admin")}):
        _, errors = await gql_execute(region.gateway_url, "{ viewer { subject } }", headers=headers)
        assert codes(errors) == ["UNAUTHENTICATED"], headers

    data, errors = await gql_execute(region.gateway_url, "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }",
                                     {"id": created["key"]["id"]}, region.bearer("rita", "region-admin"))
    assert errors == []
    assert data is not None and data["revokeApiKey"]["revokedAt"]
    _, errors = await gql_execute(region.gateway_url, "{ viewer { subject } }", headers=key)
    assert codes(errors) == ["UNAUTHENTICATED"]


async def test_keys_never_carry_peoples_roles_and_only_admins_create_them(region: Region) -> None:
    _, errors = await gql_execute(region.gateway_url, CREATE, {"name": "x", "org": "malmo-stad",
                                                               "roles": ["QUALITY_ADMIN"]},
                                  region.bearer("rita", "region-admin"))
    assert codes(errors) == ["GRAPHQL_VALIDATION_FAILED"]  # not a PartnerRole
    _, errors = await gql_execute(region.gateway_url, CREATE, {"name": "x", "org": "malmo-stad",
                                                               "roles": ["EMPLOYER"]},
                                  region.bearer("olle", "ops"))
    assert codes(errors) == ["FORBIDDEN"]
    _, errors = await gql_execute(region.gateway_url, CREATE,
                                  {"name": "x", "org": "Not An Org!", "roles": ["EMPLOYER"]},
                                  region.bearer("rita", "region-admin"))
    assert codes(errors) == ["BAD_USER_INPUT"]


async def test_the_gateway_publishes_the_key_the_services_trust(region: Region) -> None:
    import httpx
    async with httpx.AsyncClient() as http:
        jwks = (await http.get(f"{region.gateway_url}/.well-known/jwks.json")).json()
    assert [k["kty"] for k in jwks["keys"]] == ["OKP"]
    assert "d" not in jwks["keys"][0]  # the private part stays in the gateway
