"""GET /v1/statistics: issued credentials by branch, provider kind, EQF level and month, public and
with aggregate counts only (real service, broker and database)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.issuance.tests.conftest import IssuanceUnderTest, eventually
from services.issuance.tests.service_factories import provider_registered, published


async def test_issued_credentials_are_counted_by_branch_provider_kind_level_and_month(
        issuance: IssuanceUnderTest) -> None:
    empty = await issuance.http.get("/v1/statistics")
    assert empty.status_code == 200, empty.text
    assert {k: v for k, v in empty.json().items() if k != "generated_at"} == {
        "issued": 0, "revoked": 0, "by_branch": [], "by_provider_kind": [], "by_level": [], "by_month": []}

    await issuance.publish()  # university, EQF 4, vård och omsorg
    employer, shop = f"{issuance.provider_id}-employer", f"{issuance.micro_credential_id}-shop"
    await issuance.send_catalog([
        ("catalog.providers", provider_registered(employer, kind="employer", name="Skånska Handelsakademin")),
        ("catalog.micro-credentials", published(shop, 1, employer, level={"eqf": 3, "seqf": 3},
                                                branches=["handel", "service"]))])
    catalogue = issuance.service.catalogue

    async def employer_known() -> bool | None:
        provider = await catalogue.providers.find_one({"_id": employer})
        version = await catalogue.versions.find_one({"_id": f"{shop}@1"})
        return True if provider and provider["details"]["kind"] == "employer" and version else None

    await eventually(employer_known, what="the employer and its version in issuance's read model")

    first = await issuance.issue("anna.a@example.se")
    await issuance.issue("bo.b@example.se")
    answer = await issuance.http.post(
        f"/v1/providers/{employer}/credentials", headers=issuance.staff(employer),
        json={"micro_credential_id": shop, "version": 1, "learner": {"name": "Cecilia C", "email": "c@example.se"}})
    assert answer.status_code == 201, answer.text
    revoked = await issuance.http.post(f"/v1/credentials/{first['credential_id']}/revocation",
                                       headers=issuance.staff(), json={"reason": "Fel deltagare"})
    assert revoked.status_code == 200, revoked.text

    answer = await issuance.http.get("/v1/statistics")  # public: no token
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"].startswith("public")
    stats = answer.json()
    month = datetime.now(UTC).strftime("%Y-%m")
    assert (stats["issued"], stats["revoked"]) == (3, 1)
    assert stats["by_branch"] == [{"key": "vard-och-omsorg", "count": 2}, {"key": "handel", "count": 1},
                                  {"key": "service", "count": 1}]
    assert stats["by_provider_kind"] == [{"key": "university", "count": 2}, {"key": "employer", "count": 1}]
    assert stats["by_level"] == [{"key": "3", "count": 1}, {"key": "4", "count": 2}]
    assert stats["by_month"] == [{"key": month, "count": 3}]
    # aggregate counts only: nothing that names or points at a learner or a credential
    text = answer.text
    for private in ("anna.a@example.se", "Lena", "Cecilia", "lr-", first["credential_id"]):
        assert private not in text
    assert set(stats) == {"generated_at", "issued", "revoked", "by_branch", "by_provider_kind", "by_level",
                          "by_month"}
