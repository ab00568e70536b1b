"""The catalog's API on the real database and broker: lifecycle driven by the quality board's
events, the version rules, authorisation, search, the ELM export and every error class."""

from __future__ import annotations

import pytest

from services.catalog.tests.conftest import CatalogUnderTest
from services.catalog.tests.factories import content_payload, provider_payload


async def test_the_full_lifecycle_is_driven_by_review_events(catalog: CatalogUnderTest) -> None:
    await catalog.register_provider("hkr")
    mc = await catalog.draft("hkr")
    mc_id = mc["micro_credential_id"]
    assert (await catalog.http.get(f"/micro-credentials/{mc_id}")).status_code == 404  # a draft is not public

    await catalog.submit(mc_id, 1)
    await catalog.review(mc_id, 1, "request-changes", comments=["Beskriv bedömningen tydligare."])
    asked = await catalog.wait_for_status(mc_id, 1, "changes-requested")
    assert asked["review"]["comments"] == ["Beskriv bedömningen tydligare."]

    edited = await catalog.http.put(
        f"/micro-credentials/{mc_id}/versions/1",
        headers=catalog.auth("anna"),
        json=content_payload(
            assessment={"type": "practical-demonstration", "description": {"sv": "Praktiskt prov med bedömningsmall."}}
        ),
    )
    assert edited.status_code == 200 and edited.json()["status"] == "draft"
    await catalog.submit(mc_id, 1)
    await catalog.review(mc_id, 1, "approve")
    published = await catalog.wait_for_status(mc_id, 1, "published")
    assert [h["status"] for h in published["history"]] == [
        "draft",
        "submitted",
        "in-review",
        "changes-requested",
        "draft",
        "submitted",
        "in-review",
        "approved",
        "published",
    ]

    public = await catalog.http.get(f"/micro-credentials/{mc_id}")
    assert public.status_code == 200 and public.json()["review"] is None  # review comments are the provider's
    found = await catalog.http.get("/micro-credentials", params={"q": "hygienrutiner"})
    assert [i["micro_credential_id"] if "micro_credential_id" in i else i["id"] for i in found.json()["items"]] == [
        mc_id
    ]


async def test_a_published_version_never_changes_and_a_new_version_supersedes_it(catalog: CatalogUnderTest) -> None:
    await catalog.register_provider("hkr")
    mc_id = (await catalog.draft("hkr"))["micro_credential_id"]
    await catalog.submit(mc_id, 1)
    await catalog.review(mc_id, 1, "approve")
    await catalog.wait_for_status(mc_id, 1, "published")

    refused = await catalog.http.put(
        f"/micro-credentials/{mc_id}/versions/1", json=content_payload(), headers=catalog.auth("anna")
    )
    assert refused.status_code == 409 and "never changes" in refused.json()["message"]

    v2 = await catalog.http.post(
        f"/micro-credentials/{mc_id}/versions",
        headers=catalog.auth("anna"),
        json={"content": content_payload(title={"sv": "Basala hygienrutiner, fördjupning"})},
    )
    assert v2.status_code == 201 and v2.json()["version"] == 2
    again = await catalog.http.post(f"/micro-credentials/{mc_id}/versions", headers=catalog.auth("anna"), json={})
    assert again.status_code == 409  # one open version at a time

    # v1 stays the public one until v2 is approved
    assert (await catalog.http.get(f"/micro-credentials/{mc_id}")).json()["version"] == 1
    await catalog.submit(mc_id, 2)
    await catalog.review(mc_id, 2, "approve")
    await catalog.wait_for_status(mc_id, 2, "published")
    v1 = await catalog.http.get(f"/micro-credentials/{mc_id}/versions/1")
    assert v1.json()["status"] == "superseded"
    assert v1.json()["content"]["title"]["sv"] == "Basala hygienrutiner i vård och omsorg"  # exactly as issued against


async def test_rejection_and_retirement(catalog: CatalogUnderTest) -> None:
    await catalog.register_provider("hkr")
    rejected_id = (await catalog.draft("hkr"))["micro_credential_id"]
    await catalog.submit(rejected_id, 1)
    await catalog.review(rejected_id, 1, "reject", reason="Ingen bedömning av lärandemålen.")
    rejected = await catalog.wait_for_status(rejected_id, 1, "rejected")
    assert rejected["review"]["reason"] == "Ingen bedömning av lärandemålen."

    mc_id = (await catalog.draft("hkr"))["micro_credential_id"]
    await catalog.submit(mc_id, 1)
    await catalog.review(mc_id, 1, "approve")
    await catalog.wait_for_status(mc_id, 1, "published")
    retired = await catalog.http.post(
        f"/micro-credentials/{mc_id}/versions/1/retire", json={"reason": "Ersatt"}, headers=catalog.auth("anna")
    )
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    assert (await catalog.http.get("/micro-credentials", params={"q": "hygienrutiner"})).json()["items"] == []
    assert (await catalog.http.get(f"/micro-credentials/{mc_id}/versions/1")).json()["status"] == "retired"


async def test_review_states_cannot_be_set_by_hand(catalog: CatalogUnderTest) -> None:
    await catalog.register_provider("hkr")
    mc_id = (await catalog.draft("hkr"))["micro_credential_id"]
    await catalog.submit(mc_id, 1)
    twice = await catalog.http.post(f"/micro-credentials/{mc_id}/versions/1/submit", headers=catalog.auth("anna"))
    assert twice.status_code == 409 and twice.json()["errors"][0]["type"] == "not-submittable"
    for path in ("approve", "publish"):
        assert (
            await catalog.http.post(f"/micro-credentials/{mc_id}/versions/1/{path}", headers=catalog.auth("anna"))
        ).status_code in (404, 405)


async def test_only_members_act_for_a_provider(catalog: CatalogUnderTest) -> None:
    await catalog.register_provider("hkr", member="anna")
    await catalog.register_provider(
        "folkhogskolan", member="bo", organisation_number="556036-0793", kind="adult-education", name="Folkhögskolan"
    )
    mc_id = (await catalog.draft("hkr"))["micro_credential_id"]

    assert (
        await catalog.http.post(
            "/micro-credentials", json={"provider_id": "hkr", "content": content_payload()}, headers=catalog.auth("bo")
        )
    ).status_code == 403
    assert (
        await catalog.http.post(f"/micro-credentials/{mc_id}/versions/1/submit", headers=catalog.auth("bo"))
    ).status_code == 403
    assert (await catalog.http.get(f"/micro-credentials/{mc_id}", headers=catalog.auth("bo"))).status_code == 404
    assert (await catalog.http.get("/providers/hkr/micro-credentials", headers=catalog.auth("bo"))).status_code == 403
    own = await catalog.http.get("/providers/hkr/micro-credentials", headers=catalog.auth("anna"))
    assert [v["micro_credential_id"] for v in own.json()["items"]] == [mc_id]  # providers see their own drafts

    # a member lets a colleague in; the colleague may then act
    added = await catalog.http.post("/providers/hkr/members", json={"subject": "cecilia"}, headers=catalog.auth("anna"))
    assert added.status_code == 200 and "cecilia" in added.json()["members"]
    assert (
        await catalog.http.post(f"/micro-credentials/{mc_id}/versions/1/submit", headers=catalog.auth("cecilia"))
    ).status_code == 200
    # the public never sees who the members are
    assert (await catalog.http.get("/providers/hkr")).json()["members"] is None
    # registering needs a role; vocabulary changes need the region's administrators
    assert (
        await catalog.http.post(
            "/providers", json={"id": "x1", **provider_payload()}, headers=catalog.auth("eve", "learner")
        )
    ).status_code == 403
    assert (
        await catalog.http.post(
            "/vocabularies/branch",
            json={"code": "sjofart", "sv": "Sjöfart", "en": "Shipping"},
            headers=catalog.auth("anna"),
        )
    ).status_code == 403


async def test_authentication_errors_are_clear(catalog: CatalogUnderTest) -> None:
    body = {"provider_id": "hkr", "content": content_payload()}
    missing = await catalog.http.post("/micro-credentials", json=body)
    assert missing.status_code == 401 and missing.json()["error"] == "unauthenticated"
    forged = await catalog.http.post("/micro-credentials", json=body, headers={"authorization": "Bearer abc.def.ghi"})
    assert forged.status_code == 401 and "not valid" in forged.json()["message"]
    wrong_scheme = await catalog.http.post("/micro-credentials", json=body, headers={"authorization": "Basic eA=="})
    assert wrong_scheme.status_code == 401


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"content": content_payload(level={"eqf": 5, "seqf": 4})}, "content.level"),
        ({"content": content_payload(workload={})}, "content.workload"),
        ({"content": content_payload(branches=["rymdfart"])}, "content.branches.0"),
        ({"content": content_payload(pilots=["okand-pilot"])}, "content.pilots.0"),
        ({"content": {**content_payload(), "title": {"en": "x"}}}, "content.title.sv"),
        ({}, "content"),
    ],
)
async def test_validation_errors_name_the_field(catalog: CatalogUnderTest, payload: dict, field: str) -> None:
    await catalog.register_provider("hkr")
    answer = await catalog.http.post(
        "/micro-credentials", json={"provider_id": "hkr", **payload}, headers=catalog.auth("anna")
    )
    assert answer.status_code == 422, answer.text
    assert field in [e["field"] for e in answer.json()["errors"]], answer.json()


async def test_provider_validation_and_conflicts(catalog: CatalogUnderTest) -> None:
    bad = await catalog.http.post(
        "/providers",
        json={"id": "hkr", **provider_payload(organisation_number="556016-0681")},
        headers=catalog.auth("anna", "provider-member"),
    )
    assert bad.status_code == 422
    assert (
        bad.json()["errors"][0]["field"] == "organisation_number"
        and "check digit" in bad.json()["errors"][0]["message"]
    )
    await catalog.register_provider("hkr")
    twice = await catalog.http.post(
        "/providers", json={"id": "hkr", **provider_payload()}, headers=catalog.auth("anna", "provider-member")
    )
    assert twice.status_code == 409
    assert (await catalog.http.get("/providers/nobody")).status_code == 404
    assert (await catalog.http.get("/micro-credentials", params={"cursor": "garbage"})).status_code == 422


async def test_vocabularies_extend_and_elm_exports(catalog: CatalogUnderTest) -> None:
    admin = catalog.auth("region", "region-admin")
    added = await catalog.http.post(
        "/vocabularies/branch", json={"code": "sjofart", "sv": "Sjöfart", "en": "Shipping"}, headers=admin
    )
    assert added.status_code == 201
    codes = [t["code"] for t in (await catalog.http.get("/vocabularies/branch")).json()]
    assert "vard-och-omsorg" in codes and "sjofart" in codes
    assert (
        await catalog.http.post("/vocabularies/branch", json={"code": "sjofart", "sv": "S", "en": "S"}, headers=admin)
    ).status_code == 409

    await catalog.register_provider("hkr")
    mc_id = (await catalog.draft("hkr", branches=["sjofart"]))["micro_credential_id"]
    assert (await catalog.http.get(f"/micro-credentials/{mc_id}/versions/1/elm")).status_code == 404  # not published
    await catalog.submit(mc_id, 1)
    await catalog.review(mc_id, 1, "approve")
    await catalog.wait_for_status(mc_id, 1, "published")
    elm = await catalog.http.get(f"/micro-credentials/{mc_id}/versions/1/elm")
    assert elm.status_code == 200 and "edc-ap" in str(elm.json()["@context"])


async def test_pathways_need_published_members(catalog: CatalogUnderTest) -> None:
    await catalog.register_provider("hkr")
    ids = []
    for n in range(2):
        mc_id = (await catalog.draft("hkr", title={"sv": f"Del {n + 1}"}))["micro_credential_id"]
        ids.append(mc_id)
    pathway = {
        "id": "vag-till-underskoterska",
        "content": {
            "title": {"sv": "Väg till undersköterska"},
            "description": {"sv": "Två delar."},
            "leads_to": {"sv": "Undersköterska"},
            "branches": ["vard-och-omsorg"],
            "micro_credential_ids": ids,
        },
    }
    admin = catalog.auth("region", "region-admin")
    refused = await catalog.http.post("/pathways", json=pathway, headers=admin)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "content.micro_credential_ids.0"
    for mc_id in ids:
        await catalog.submit(mc_id, 1)
        await catalog.review(mc_id, 1, "approve")
        await catalog.wait_for_status(mc_id, 1, "published")
    assert (await catalog.http.post("/pathways", json=pathway, headers=admin)).status_code == 201
    progress = await catalog.http.post(
        "/pathways/vag-till-underskoterska/progress", json={"micro_credential_ids": [ids[0]]}
    )
    assert progress.json() == {"earned": [ids[0]], "missing_required": [ids[1]], "still_needed": 1, "complete": False}


async def test_a_review_for_an_unknown_micro_credential_is_dead_lettered(catalog: CatalogUnderTest) -> None:
    await catalog.review("mc-nonexistent", 1, "approve")
    await catalog.register_provider("hkr")
    mc_id = (await catalog.draft("hkr"))["micro_credential_id"]
    await catalog.submit(mc_id, 1)
    await catalog.review(mc_id, 1, "approve")
    await catalog.wait_for_status(mc_id, 1, "published")  # the consumer kept going
