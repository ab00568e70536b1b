"""Assignment, conflict of interest, checklists, verdicts and the approval count rule through the
API, on the real database; decisions leave through the outbox."""

from __future__ import annotations

import asyncio

from services.quality.tests.conftest import QualityUnderTest


async def decided_events(quality: QualityUnderTest, review_id: str) -> list[dict]:
    found = quality.store.outbox.collection.find({"type": "quality.review.decided.v1", "data.review_id": review_id})
    return [d["data"] async for d in found]


async def test_no_reviewer_reviews_their_own_organisations_work(quality: QualityUnderTest) -> None:
    await quality.register("stina.insider", "region-skane", "hkr")
    await quality.register("eva.lind", "region-skane")
    review = await quality.open_review(provider_id="hkr")

    refused = await quality.assign(review["id"], "stina.insider")
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["error"] == "conflict_of_interest" and "'hkr'" in body["message"]
    assert "own organisation" in body["message"]

    unknown = await quality.assign(review["id"], "nobody")
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "reviewer"

    # Eva's registry entry is clean, but her token says she now acts for the provider too.
    assert (await quality.assign(review["id"], "eva.lind")).status_code == 200
    blocked = await quality.checklist(review["id"], "eva.lind", "hkr")
    assert blocked.status_code == 409 and blocked.json()["error"] == "conflict_of_interest"
    assert (await quality.checklist(review["id"], "eva.lind")).status_code == 200
    blocked = await quality.verdict(review["id"], "eva.lind", "approve", "hkr")
    assert blocked.status_code == 409 and blocked.json()["error"] == "conflict_of_interest"
    assert await decided_events(quality, review["id"]) == []

    # The registry learns it later: refused at verdict time as well.
    updated = await quality.http.put("/reviewers/eva.lind", headers=quality.admin, json={
        "display_name": "Eva Lind", "organisations": ["region-skane", "hkr"]})
    assert updated.status_code == 200
    assert (await quality.verdict(review["id"], "eva.lind", "approve")).status_code == 409


async def test_one_approval_is_not_enough_at_eqf_5_two_decide(quality: QualityUnderTest) -> None:
    for subject, org in (("eva.lind", "region-skane"), ("omar.haddad", "lunds-universitet"),
                         ("lena.berg", "folkbildningsforbundet")):
        await quality.register(subject, org)
    review = await quality.open_review(eqf=5)
    assert review["required_approvals"] == 2
    for subject in ("eva.lind", "omar.haddad", "lena.berg"):
        assert (await quality.assign(review["id"], subject)).status_code == 200

    first = await quality.judge(review["id"], "eva.lind", "approve")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "open" and first.json()["approvals"] == 1
    assert await decided_events(quality, review["id"]) == []

    second = await quality.judge(review["id"], "omar.haddad", "approve", comments=["Föredömligt tydlig."])
    assert second.status_code == 200 and second.json()["status"] == "decided"
    assert second.json()["decision"] == "approve" and second.json()["approvals"] == 2
    [event] = await decided_events(quality, review["id"])
    assert event["decision"] == "approve" and event["reviewing_body"] == "Kvalitetsrådet för mikromeriter i Skåne"
    assert event["criteria_version"] == "2026.1" and event["comments"] == ["Föredömligt tydlig."]
    text = str(event).lower()
    assert "lind" not in text and "haddad" not in text  # no reviewer's personal data

    assert (await quality.checklist(review["id"], "lena.berg")).status_code == 409
    late = await quality.verdict(review["id"], "lena.berg", "reject", reason="För sent.")
    assert late.status_code == 409 and "final" in late.json()["message"]

    # Below EQF 5 one approval decides.
    low = await quality.open_review(eqf=4)
    await quality.assign(low["id"], "eva.lind")
    assert (await quality.judge(low["id"], "eva.lind", "approve")).json()["decision"] == "approve"


async def test_checklist_and_verdict_errors_are_precise(quality: QualityUnderTest) -> None:
    await quality.register("eva.lind", "region-skane")
    review = await quality.open_review()
    rid = review["id"]
    assert (await quality.checklist(rid, "eva.lind")).status_code == 403  # not assigned yet
    await quality.assign(rid, "eva.lind")

    answer = await quality.checklist(rid, "eva.lind", relevance=("not-met", None))
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "items.2.comment" and error["type"] == "comment_required"
    assert "'relevance'" in error["message"]

    answer = await quality.http.put(f"/reviews/{rid}/checklist", headers=quality.reviewer("eva.lind"),
                                    json={"items": [{"criterion": "beauty", "mark": "met"},
                                                    {"criterion": "quality", "mark": "great"}]})
    assert answer.status_code == 422
    assert {e["field"] for e in answer.json()["errors"]} == {"items.1.mark"}  # the shape first
    answer = await quality.http.put(f"/reviews/{rid}/checklist", headers=quality.reviewer("eva.lind"),
                                    json={"items": [{"criterion": "beauty", "mark": "met"}]})
    assert [e["type"] for e in answer.json()["errors"]] == ["unknown_criterion"]

    partial = await quality.http.put(f"/reviews/{rid}/checklist", headers=quality.reviewer("eva.lind"),
                                     json={"items": [{"criterion": "quality", "mark": "met"}]})
    assert partial.status_code == 200
    mine = partial.json()["checklists"][0]
    assert mine["complete"] is False and len(mine["unmarked"]) == 9

    answer = await quality.verdict(rid, "eva.lind", "approve")
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]][:2] == ["checklist.transparency", "checklist.relevance"]

    assert (await quality.checklist(rid, "eva.lind", relevance=("not-met", "Vilket behov?"))).status_code == 200
    answer = await quality.verdict(rid, "eva.lind", "approve")
    assert answer.status_code == 422 and answer.json()["errors"] == [{
        "field": "checklist.relevance", "type": "not_met",
        "message": "criterion 'relevance' is marked not-met; an approval needs every criterion met or not applicable"}]
    answer = await quality.verdict(rid, "eva.lind", "request-changes")
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "comments"
    answer = await quality.verdict(rid, "eva.lind", "reject", reason=" ")
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "reason"
    answer = await quality.verdict(rid, "eva.lind", "maybe")
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "decision"
    answer = await quality.http.post(f"/reviews/{rid}/verdicts", headers=quality.admin, json={"decision": "approve"})
    assert answer.status_code == 403  # an administrator is not a reviewer

    rejected = await quality.verdict(rid, "eva.lind", "reject", reason="Inte en mikromerit: ingen bedömning.")
    assert rejected.status_code == 200 and rejected.json()["decision"] == "reject"
    [event] = await decided_events(quality, rid)
    assert event["reason"] == "Inte en mikromerit: ingen bedömning."
    assert event["comments"] == ["Relevans (relevance): Vilket behov?"]


async def test_withdrawing_a_reviewer(quality: QualityUnderTest) -> None:
    await quality.register("eva.lind", "region-skane")
    review = await quality.open_review()
    await quality.assign(review["id"], "eva.lind")
    again = await quality.assign(review["id"], "eva.lind")
    assert again.status_code == 409 and again.json()["errors"][0]["type"] == "already-assigned"
    withdrawn = await quality.http.delete(f"/reviews/{review['id']}/assignments/eva.lind", headers=quality.admin)
    assert withdrawn.status_code == 200 and withdrawn.json()["assignments"] == []
    gone = await quality.http.delete(f"/reviews/{review['id']}/assignments/eva.lind", headers=quality.admin)
    assert gone.status_code == 409
    denied = await quality.http.post(f"/reviews/{review['id']}/assignments", json={"reviewer": "eva.lind"},
                                     headers=quality.reviewer("eva.lind"))
    assert denied.status_code == 403
    assert (await quality.assign("rv-missing", "eva.lind")).status_code == 404


async def test_two_verdicts_at_once_decide_exactly_once(quality: QualityUnderTest) -> None:
    for subject, org in (("eva.lind", "region-skane"), ("omar.haddad", "lunds-universitet")):
        await quality.register(subject, org)
    review = await quality.open_review(eqf=6)
    for subject in ("eva.lind", "omar.haddad"):
        await quality.assign(review["id"], subject)
        assert (await quality.checklist(review["id"], subject)).status_code == 200

    answers = await asyncio.gather(quality.verdict(review["id"], "eva.lind", "approve"),
                                   quality.verdict(review["id"], "omar.haddad", "approve"))
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert sorted(a.json()["approvals"] for a in answers) == [1, 2]  # one saw the other's verdict
    final = (await quality.http.get(f"/reviews/{review['id']}", headers=quality.admin)).json()
    assert final["status"] == "decided" and final["approvals"] == 2 and len(final["verdicts"]) == 2
    assert len(await decided_events(quality, review["id"])) == 1
