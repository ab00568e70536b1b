"""The public review summary and the board's statistics, on the real database. The statistics
test writes its reviews through the store at chosen moments (the clock is a parameter of every
command), so time to decision and overdue reviews are exact without waiting."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from pymongo.asynchronous.client_session import AsyncClientSession

from mimis_platform.outbox import in_transaction
from services.quality.documents import now_as_stored
from services.quality.domain import review as rv
from services.quality.domain.criteria import V2026_1
from services.quality.domain.decision import Decision
from services.quality.events import submission_of
from services.quality.tests.conftest import QualityUnderTest
from services.quality.tests.factories import POLICY, all_marked, reviewer, submitted_data


async def test_the_public_summary_says_who_reviewed_when_and_against_what_but_never_who(
    quality: QualityUnderTest,
) -> None:
    await quality.register("eva.lind", "region-skane")
    await quality.register("omar.haddad", "lunds-universitet")
    review = await quality.open_review(eqf=6)
    mc_id = review["micro_credential_id"]
    assert (await quality.http.get(f"/summaries/{mc_id}")).status_code == 404  # not approved (yet)
    for subject in ("eva.lind", "omar.haddad"):
        await quality.assign(review["id"], subject)
    await quality.checklist(review["id"], "eva.lind", portability=("not-applicable", None))
    await quality.verdict(review["id"], "eva.lind", "approve")
    decided = await quality.judge(review["id"], "omar.haddad", "approve")
    assert decided.json()["status"] == "decided"

    answer = await quality.http.get(f"/summaries/{mc_id}")  # public: no token
    assert answer.status_code == 200
    [version] = answer.json()["reviewed_versions"]
    assert version["version"] == 1 and version["outcome"] == "approve" and version["rounds"] == 1
    assert version["reviewing_body"] == "Kvalitetsrådet för mikromeriter i Skåne"
    assert version["criteria_version"] == "2026.1" and version["approvals"] == 2
    by_code = {c["code"]: c for c in version["criteria"]}
    assert list(by_code) == list(V2026_1.codes)
    assert (by_code["portability"]["met"], by_code["portability"]["not_applicable"]) == (1, 1)
    assert by_code["quality"]["title"] == {"sv": "Kvalitetssäkring", "en": "Quality assurance"}
    text = answer.text.lower()
    for personal in ("eva.lind", "eva lind", "omar.haddad", "omar haddad", "haddad", "kerstin"):
        assert personal not in text


async def test_statistics_for_the_board(quality: QualityUnderTest) -> None:
    kind, branch = f"kind-{uuid.uuid4().hex[:6]}", f"branch-{uuid.uuid4().hex[:6]}"
    store, eva = quality.store, reviewer("eva.lind", "region-skane")
    await store.register_reviewer(eva, by="kerstin")
    long_ago = now_as_stored() - timedelta(days=40)

    async def open_at(opened: datetime) -> rv.Review:
        submission = submission_of(submitted_data(provider_kind=kind, branches=(branch,)))

        async def work(session: AsyncClientSession) -> rv.Change | None:
            return await store.open_review(submission, POLICY, now=opened, cause="test", session=session)

        change = await in_transaction(store.client, work)
        assert change is not None
        return (await store.change(change.review.id, lambda r: rv.assign(r, eva, by="kerstin", now=opened))).review

    async def decide_at(review: rv.Review, decision: Decision, moment: datetime) -> None:
        who = rv.Actor("eva.lind", frozenset({"region-skane"}))
        await store.change(review.id, lambda r: rv.record_checklist(r, V2026_1, who, all_marked(), now=moment))
        await store.change(review.id, lambda r: rv.give_verdict(
            r, V2026_1, who, decision, ["Mer om bedömningen."], "Nej." if decision is Decision.REJECT else None,
            reviewing_body="b", now=moment))

    overdue = await open_at(long_ago)  # due 19 days ago, still open
    for hours, decision in ((10, Decision.APPROVE), (20, Decision.REQUEST_CHANGES), (60, Decision.APPROVE)):
        await decide_at(await open_at(long_ago), decision, long_ago + timedelta(hours=hours))

    answer = await quality.http.get("/statistics", headers=quality.admin)
    assert answer.status_code == 200, answer.text
    stats = answer.json()
    assert stats["overdue"] >= 1 and stats["open"] >= 1  # other tests' submissions may be open too
    [mine] = [r for r in stats["by_provider_kind"] if r["key"] == kind]
    assert mine == {"key": kind, "decided": 3, "approved": 2, "changes_requested": 1, "rejected": 0,
                    "approval_rate": 0.6667}
    assert next(r for r in stats["by_branch"] if r["key"] == branch)["decided"] == 3
    assert stats["time_to_decision"]["median_hours"] == 20.0 and stats["decided"] == 3
    assert stats["time_to_decision"]["mean_hours"] == 30.0

    since = (long_ago + timedelta(hours=30)).astimezone(UTC).isoformat()
    later = (await quality.http.get("/statistics", params={"since": since}, headers=quality.admin)).json()
    assert [r["decided"] for r in later["by_provider_kind"] if r["key"] == kind] == [1]

    listed = await quality.http.get("/reviews", params={"overdue": "true"}, headers=quality.admin)
    assert [(r["id"], r["overdue"]) for r in listed.json()["items"]] == [(overdue.id, True)]
    assert (await quality.http.get("/statistics", headers=quality.reviewer("eva.lind"))).status_code == 403
