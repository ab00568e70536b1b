"""Reviews opened by the catalog's submissions (over the real broker), rounds, the queue and who
sees what."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from mimis_platform.envelope import Event
from services.quality.tests.conftest import QualityUnderTest, send


async def outbox_events(quality: QualityUnderTest, mc_id: str) -> list[dict]:
    cursor = quality.store.outbox.collection.find({"partition_key": mc_id}).sort("seq", 1)
    return [d async for d in cursor]


async def test_a_submission_opens_one_review_and_emits_review_opened(quality: QualityUnderTest) -> None:
    event = await quality.submit(eqf=5)
    mc_id = event.data["micro_credential_id"]
    review = await quality.wait_for_review(mc_id)
    assert review["status"] == "open" and review["round"] == 1 and review["criteria_version"] == "2026.1"
    assert review["required_approvals"] == 2 and review["eqf"] == 5 and review["branches"] == ["vard-och-omsorg"]
    assert review["provider_kind"] == "university" and review["title"]["sv"].startswith("Basala")
    opened_at = datetime.fromisoformat(review["opened_at"])
    assert datetime.fromisoformat(review["due_at"]) - opened_at == timedelta(days=21)
    assert review["overdue"] is False

    [opened] = await outbox_events(quality, mc_id)
    assert opened["type"] == "quality.review.opened.v1" and opened["data"]["review_id"] == review["id"]
    assert opened["data"]["criteria_version"] == "2026.1"

    # The same event again, and the same submission under a new event id: still one review.
    again = Event(type=event.type, source=event.source, partition_key=mc_id, data=event.data)
    consumer = quality.app.state.runtime.consumer
    duplicates = consumer.counters.duplicates
    await send(quality.stack.kafka_bootstrap_servers, [event, again])
    # One key, one partition: once the second is in the inbox, the first copy was handled too.
    deadline = asyncio.get_running_loop().time() + 30
    while not await consumer.inbox.find_one({"event_id": again.id}):
        assert asyncio.get_running_loop().time() < deadline, consumer.counters.snapshot()
        await asyncio.sleep(0.1)  # poll interval while the consumer works
    assert consumer.counters.duplicates >= duplicates + 1
    listed = await quality.http.get("/reviews", params={"micro_credential_id": mc_id}, headers=quality.admin)
    assert [r["id"] for r in listed.json()["items"]] == [review["id"]]
    assert len(await outbox_events(quality, mc_id)) == 1


async def test_a_resubmission_after_changes_opens_round_two_showing_round_ones_comments(
    quality: QualityUnderTest,
) -> None:
    await quality.register("eva.lind", "region-skane")
    first = await quality.open_review()
    mc_id = first["micro_credential_id"]
    assert (await quality.assign(first["id"], "eva.lind")).status_code == 200
    answer = await quality.checklist(first["id"], "eva.lind",
                                     valid_assessment=("not-met", "Bedömningsmall saknas."))
    assert answer.status_code == 200, answer.text
    answer = await quality.verdict(first["id"], "eva.lind", "request-changes", comments=["Beskriv bedömningen."])
    assert answer.status_code == 200, answer.text
    decided = answer.json()
    assert decided["status"] == "decided" and decided["decision"] == "request-changes"
    assert decided["comments"] == ["Beskriv bedömningen.", "Valid bedömning (valid-assessment): Bedömningsmall saknas."]
    assert decided["reviewing_body"] == "Kvalitetsrådet för mikromeriter i Skåne"

    events = await outbox_events(quality, mc_id)
    assert [e["type"] for e in events] == ["quality.review.opened.v1", "quality.review.decided.v1"]
    assert events[1]["data"]["comments"] == decided["comments"]
    assert "lind" not in str(events[1]["data"]).lower()  # the board decides: no reviewer's name

    await quality.submit(mc_id=mc_id)  # the provider edited and submitted the same version again
    second = await quality.wait_for_review(mc_id, round_=2)
    assert second["id"] != first["id"] and second["status"] == "open"
    detail = (await quality.http.get(f"/reviews/{second['id']}", headers=quality.admin)).json()
    assert detail["previous_round"]["review_id"] == first["id"]
    assert detail["previous_round"]["comments"] == decided["comments"]
    assert detail["assignments"] == [] and detail["checklists"] == []


async def test_who_sees_which_reviews(quality: QualityUnderTest) -> None:
    await quality.register("eva.lind", "region-skane")
    await quality.register("omar.haddad", "lunds-universitet")
    hkr = await quality.open_review(provider_id="hkr")
    other = await quality.open_review(provider_id="ljungbackens-folkhogskola")
    assert (await quality.assign(hkr["id"], "eva.lind")).status_code == 200
    assert (await quality.assign(other["id"], "omar.haddad")).status_code == 200

    async def ids(headers: dict[str, str], **params: str) -> set[str]:
        answer = await quality.http.get("/reviews", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return {r["id"] for r in answer.json()["items"]} & {hkr["id"], other["id"]}

    assert await ids(quality.admin) == {hkr["id"], other["id"]}
    assert await ids(quality.reviewer("eva.lind")) == {hkr["id"]}
    assert await ids(quality.reviewer("eva.lind"), assigned_to_me="true") == {hkr["id"]}
    anna = quality.auth("anna", "provider-member", org=["hkr"])
    assert await ids(anna) == {hkr["id"]}
    assert (await quality.http.get("/reviews", headers=quality.auth("emil", "employer"))).status_code == 403
    assert (await quality.http.get("/reviews")).status_code == 401

    # One review: the provider's members see outcome and comments only, never reviewers or content.
    mine = (await quality.http.get(f"/reviews/{hkr['id']}", headers=anna)).json()
    assert mine["status"] == "open" and mine["assignments"] is None and mine["content"] is None
    assert mine["checklists"] is None and mine["verdicts"] is None and "eva.lind" not in str(mine)
    assert (await quality.http.get(f"/reviews/{other['id']}", headers=anna)).status_code == 403
    assert (await quality.http.get(f"/reviews/{other['id']}", headers=quality.reviewer("eva.lind"))).status_code == 403
    staff = (await quality.http.get(f"/reviews/{hkr['id']}", headers=quality.reviewer("eva.lind"))).json()
    assert staff["assignments"][0]["reviewer"] == "eva.lind" and staff["content"]["level"] == {"eqf": 4}
    assert (await quality.http.get("/reviews/rv-nope", headers=quality.admin)).status_code == 404


async def test_the_queue_pages_with_a_cursor_most_urgent_first(quality: QualityUnderTest) -> None:
    opened = [await quality.open_review(provider_id="hkr") for _ in range(3)]
    mine = {r["id"] for r in opened}
    anna = quality.auth("anna", "provider-member", org=["hkr"])
    seen: list[dict] = []
    cursor = None
    while True:
        params = {"limit": "2", "status": "open", **({"cursor": cursor} if cursor else {})}
        page = (await quality.http.get("/reviews", params=params, headers=anna)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert mine <= {r["id"] for r in seen} and len(seen) == len({r["id"] for r in seen})
    dues = [r["due_at"] for r in seen]
    assert dues == sorted(dues)
    bad = await quality.http.get("/reviews", params={"cursor": "not-a-cursor"}, headers=anna)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    wrong = await quality.http.get("/reviews", params={"status": "pending"}, headers=anna)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "status"
