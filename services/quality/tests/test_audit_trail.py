"""The audit trail: every action, in order, written with the action; readable by the board and
the assigned reviewers; nothing can change or delete it."""

from __future__ import annotations

import inspect

from services.quality.storage import AuditTrail
from services.quality.tests.conftest import ADMIN, QualityUnderTest


async def test_every_action_is_recorded_in_order(quality: QualityUnderTest) -> None:
    await quality.register("eva.lind", "region-skane")
    review = await quality.open_review()
    rid, mc_id = review["id"], review["micro_credential_id"]
    await quality.assign(rid, "eva.lind")
    assert (await quality.checklist(rid, "eva.lind", portability=("not-applicable", None))).status_code == 200
    assert (await quality.verdict(rid, "eva.lind", "approve")).status_code == 200
    refused = await quality.verdict(rid, "eva.lind", "approve")  # refused actions change nothing
    assert refused.status_code == 409

    answer = await quality.http.get(f"/reviews/{rid}/audit", headers=quality.reviewer("eva.lind"))
    assert answer.status_code == 200, answer.text
    entries = answer.json()["items"]
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("review.opened", "quality"), ("reviewer.assigned", ADMIN), ("checklist.recorded", "eva.lind"),
        ("verdict.given", "eva.lind"), ("review.decided", "quality")]
    assert all(e["review_id"] == rid and e["micro_credential_id"] == mc_id and e["version"] == 1 for e in entries)
    assert entries[0]["details"]["cause"].startswith("event ")
    assert entries[2]["details"]["items"][6] == {"criterion": "portability", "mark": "not-applicable", "comment": None}
    assert entries[4]["details"]["decision"] == "approve"
    times = [e["at"] for e in entries]
    assert times == sorted(times)

    page = await quality.http.get(f"/reviews/{rid}/audit", params={"limit": 2}, headers=quality.admin)
    rest = await quality.http.get(f"/reviews/{rid}/audit", params={"cursor": page.json()["next_cursor"]},
                                  headers=quality.admin)
    assert [e["action"] for e in page.json()["items"] + rest.json()["items"]] == [e["action"] for e in entries]

    anna = quality.auth("anna", "provider-member", org=["hkr"])
    assert (await quality.http.get(f"/reviews/{rid}/audit", headers=anna)).status_code == 403
    assert (await quality.http.get(f"/reviews/{rid}/audit", headers=quality.reviewer("omar"))).status_code == 403


async def test_nothing_in_the_audit_trail_can_be_changed_or_deleted(quality: QualityUnderTest) -> None:
    review = await quality.open_review()
    path = f"/reviews/{review['id']}/audit"
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        answer = await quality.http.request(method, path, headers=quality.admin, json={"items": []})
        assert answer.status_code == 405, (method, answer.text)
        assert answer.json()["error"] == "method_not_allowed" and "only be read" in answer.json()["message"]
        assert answer.headers["allow"] == "GET"
    # No route writes to it but through the review commands (the OpenAPI document says so too).
    spec = (await quality.http.get("/openapi.json")).json()
    assert list(spec["paths"]["/reviews/{review_id}/audit"]) == ["get"]
    # The storage offers appending and reading, nothing else.
    public = {name for name, _ in inspect.getmembers(AuditTrail, inspect.isfunction) if not name.startswith("_")}
    assert public == {"append", "ensure_indexes", "for_review"}
    assert not hasattr(quality.store.audit, "collection")  # the collection itself is not handed out
    [entry] = (await quality.http.get(path, headers=quality.admin)).json()["items"]
    assert entry["action"] == "review.opened"
