"""The reviewer registry and the published criteria through the API."""

from __future__ import annotations

from services.quality.tests.conftest import QualityUnderTest


async def test_the_published_criteria_are_public_and_versioned(quality: QualityUnderTest) -> None:
    current = await quality.http.get("/criteria")
    assert current.status_code == 200
    body = current.json()
    assert body["version"] == "2026.1" and body["current"] is True and len(body["criteria"]) == 10
    assert "2022/C 243/02" in body["source"]
    first = body["criteria"][0]
    assert first["code"] == "quality" and first["title"]["sv"] and first["guidance"]["en"]
    assert (await quality.http.get("/criteria/2026.1")).json() == body
    missing = await quality.http.get("/criteria/1999.1")
    assert missing.status_code == 404 and "2026.1" in missing.json()["message"]


async def test_the_registry_is_kept_by_the_board(quality: QualityUnderTest) -> None:
    payload = {"subject": "eva.lind", "display_name": "Eva Lind", "organisations": ["region-skane"]}
    denied = await quality.http.post("/reviewers", json=payload, headers=quality.reviewer("eva.lind"))
    assert denied.status_code == 403
    created = await quality.http.post("/reviewers", json=payload, headers=quality.admin)
    assert created.status_code == 201 and created.json()["active"] is True
    again = await quality.http.post("/reviewers", json=payload, headers=quality.admin)
    assert again.status_code == 409
    bad = await quality.http.post("/reviewers", headers=quality.admin,
                                  json={"subject": "x", "display_name": "", "organisations": ["Not An Id"]})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"display_name", "organisations.0"}

    for subject in ("omar.haddad", "lena.berg"):
        await quality.register(subject, "lunds-universitet")
    first = (await quality.http.get("/reviewers", params={"limit": 2}, headers=quality.admin)).json()
    rest = (await quality.http.get("/reviewers", params={"cursor": first["next_cursor"]}, headers=quality.admin)).json()
    assert [r["subject"] for r in first["items"] + rest["items"]] == ["eva.lind", "lena.berg", "omar.haddad"]

    retired = await quality.http.put("/reviewers/lena.berg", headers=quality.admin,
                                     json={"display_name": "Lena Berg", "organisations": [], "active": False})
    assert retired.status_code == 200 and retired.json()["active"] is False
    assert (await quality.http.get("/reviewers/lena.berg", headers=quality.reviewer("lena.berg"))).status_code == 200
    assert (await quality.http.get("/reviewers/lena.berg", headers=quality.reviewer("eva.lind"))).status_code == 403
    assert (await quality.http.put("/reviewers/nobody", headers=quality.admin,
                                   json={"display_name": "N"})).status_code == 404
    review = await quality.open_review()
    inactive = await quality.assign(review["id"], "lena.berg")
    assert inactive.status_code == 422 and inactive.json()["errors"][0]["type"] == "inactive"
