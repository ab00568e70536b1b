"""The quality board's round trip across services, on the real database and broker: a provider
drafts and submits in the catalog; the quality service opens a review; the board assigns
reviewers, who ask for changes; the provider reads the comments in the catalog, edits and
resubmits; round two shows round one's comments; two approvals decide an EQF 5 entry; the
catalog publishes it and search finds it. And: a decision delivered twice has one effect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.envelope import Event, to_kafka
from mimis_platform.kafka import new_producer
from mimis_platform.localstack import LocalStack
from services.catalog.bootstrap import bootstrap as catalog_app
from services.catalog.tests.factories import content_payload, provider_payload
from services.quality.bootstrap import bootstrap as quality_app
from services.quality.tests.factories import checklist_payload
from tests.running_services import eventually, running, settings_for

BOARD = "Kvalitetsrådet för mikromeriter i Skåne"


@dataclass
class Region:
    """Both services running, and the people who use them."""

    catalog: httpx.AsyncClient
    quality: httpx.AsyncClient
    catalog_app: FastAPI
    quality_app: FastAPI
    issuer: DevelopmentIssuer

    def token(self, subject: str, role: str, *org: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.issuer.token(subject, [role], org)}"}

    @property
    def anna(self) -> dict[str, str]:  # a member of the provider, in both services' terms
        return self.token("anna", "provider-member", "hkr")

    @property
    def admin(self) -> dict[str, str]:
        return self.token("kerstin", "quality-admin")

    async def version(self, mc_id: str, number: int = 1) -> dict[str, Any]:
        answer = await self.catalog.get(f"/micro-credentials/{mc_id}/versions/{number}", headers=self.anna)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def catalog_status(self, mc_id: str, status: str) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            version = await self.version(mc_id)
            return version if version["status"] == status else None

        found = await eventually(probe)
        assert found is not None, f"the catalog never showed {status}; it shows {(await self.version(mc_id))['status']}"
        return found

    async def review_round(self, mc_id: str, round_: int) -> dict[str, Any]:
        async def probe() -> dict[str, Any] | None:
            answer = await self.quality.get("/reviews", params={"micro_credential_id": mc_id}, headers=self.admin)
            return next((r for r in answer.json()["items"] if r["round"] == round_), None)

        found = await eventually(probe)
        assert found is not None, f"the quality service never opened round {round_} for {mc_id}"
        return found

    async def draft_and_submit(self, **content: Any) -> str:
        answer = await self.catalog.post("/providers", json={"id": "hkr", **provider_payload()}, headers=self.anna)
        assert answer.status_code == 201, answer.text
        answer = await self.catalog.post("/micro-credentials", headers=self.anna,
                                         json={"provider_id": "hkr", "content": content_payload(**content)})
        assert answer.status_code == 201, answer.text
        mc_id = str(answer.json()["micro_credential_id"])
        answer = await self.catalog.post(f"/micro-credentials/{mc_id}/versions/1/submit", headers=self.anna)
        assert answer.status_code == 200, answer.text
        return mc_id

    async def register(self, subject: str, *organisations: str) -> None:
        answer = await self.quality.post("/reviewers", headers=self.admin, json={
            "subject": subject, "display_name": subject.replace(".", " ").title(), "organisations": organisations})
        assert answer.status_code == 201, answer.text

    async def assign(self, review_id: str, *subjects: str) -> None:
        for subject in subjects:
            answer = await self.quality.post(f"/reviews/{review_id}/assignments", headers=self.admin,
                                             json={"reviewer": subject})
            assert answer.status_code == 200, answer.text

    async def judge(self, review_id: str, subject: str, org: str, decision: str, checklist: dict[str, Any],
                    **verdict: Any) -> dict[str, Any]:
        me = self.token(subject, "reviewer", org)
        answer = await self.quality.put(f"/reviews/{review_id}/checklist", headers=me, json=checklist)
        assert answer.status_code == 200, answer.text
        answer = await self.quality.post(f"/reviews/{review_id}/verdicts", headers=me,
                                         json={"decision": decision, **verdict})
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


@asynccontextmanager
async def region(stack: LocalStack, mongo_client: Any, unique_name: str,
                 issuer: DevelopmentIssuer) -> AsyncIterator[Region]:
    catalog_settings, quality_settings = settings_for(stack, unique_name, issuer)
    catalog, quality = catalog_app(catalog_settings), quality_app(quality_settings)
    try:
        async with running(catalog, "http://catalog") as c, running(quality, "http://quality") as q:
            yield Region(c, q, catalog, quality, issuer)
    finally:
        await mongo_client.drop_database(catalog_settings.mongo_database)
        await mongo_client.drop_database(quality_settings.mongo_database)


async def test_submitted_changes_requested_resubmitted_approved_published(
    stack: LocalStack, mongo_client, unique_name: str, dev_issuer: DevelopmentIssuer
) -> None:
    async with region(stack, mongo_client, unique_name, dev_issuer) as r:
        mc_id = await r.draft_and_submit(level={"eqf": 5})
        first = await r.review_round(mc_id, 1)
        assert first["required_approvals"] == 2 and first["criteria_version"] == "2026.1"
        in_review = await r.catalog_status(mc_id, "in-review")
        assert in_review["review"]["review_id"] == first["id"]

        await r.register("eva.lind", "region-skane")
        await r.register("omar.haddad", "lunds-universitet")
        await r.assign(first["id"], "eva.lind", "omar.haddad")
        asked = await r.judge(first["id"], "eva.lind", "region-skane", "request-changes",
                              checklist_payload(valid_assessment=("not-met", "Bedömningsmallen saknas.")),
                              comments=["Beskriv hur det praktiska provet bedöms."])
        assert asked["status"] == "decided" and asked["decision"] == "request-changes"

        # The provider reads the board's comments in the catalog: the board's, not a person's.
        sent_back = await r.catalog_status(mc_id, "changes-requested")
        assert sent_back["review"]["comments"] == [
            "Beskriv hur det praktiska provet bedöms.", "Valid bedömning (valid-assessment): Bedömningsmallen saknas."]
        assert sent_back["review"]["decision"] == "request-changes"
        assert sent_back["review"]["criteria_version"] == "2026.1"
        # ...and in the quality service, its own review's outcome and comments only.
        mine = (await r.quality.get(f"/reviews/{first['id']}", headers=r.anna)).json()
        assert mine["comments"] == sent_back["review"]["comments"] and mine["verdicts"] is None

        edited = await r.catalog.put(f"/micro-credentials/{mc_id}/versions/1", headers=r.anna, json=content_payload(
            level={"eqf": 5},
            assessment={"type": "practical-demonstration",
                        "description": {"sv": "Praktiskt prov som bedöms med en publicerad bedömningsmall."}}))
        assert edited.status_code == 200 and edited.json()["status"] == "draft", edited.text
        resubmitted = await r.catalog.post(f"/micro-credentials/{mc_id}/versions/1/submit", headers=r.anna)
        assert resubmitted.status_code == 200, resubmitted.text

        second = await r.review_round(mc_id, 2)
        assert second["id"] != first["id"] and second["version"] == 1
        shown = (await r.quality.get(f"/reviews/{second['id']}", headers=r.token("eva.lind", "reviewer"))).status_code
        assert shown == 403  # not assigned to round two yet
        await r.assign(second["id"], "eva.lind", "omar.haddad")
        detail = (await r.quality.get(f"/reviews/{second['id']}", headers=r.token("eva.lind", "reviewer"))).json()
        assert detail["previous_round"]["comments"] == sent_back["review"]["comments"]
        assert detail["previous_round"]["review_id"] == first["id"]
        assert detail["content"]["assessment"]["description"]["sv"].startswith("Praktiskt prov")
        await r.catalog_status(mc_id, "in-review")

        once = await r.judge(second["id"], "eva.lind", "region-skane", "approve", checklist_payload())
        assert once["status"] == "open" and once["approvals"] == 1  # one approval is not enough at EQF 5
        assert (await r.version(mc_id))["status"] == "in-review"
        twice = await r.judge(second["id"], "omar.haddad", "lunds-universitet", "approve",
                              checklist_payload(portability=("not-applicable", None)))
        assert twice["status"] == "decided" and twice["decision"] == "approve"

        published = await r.catalog_status(mc_id, "published")
        assert [h["status"] for h in published["history"]] == [
            "draft", "submitted", "in-review", "changes-requested", "draft", "submitted", "in-review", "approved",
            "published"]
        assert published["review"]["review_id"] == second["id"]
        found = await r.catalog.get("/micro-credentials", params={"q": "hygienrutiner"})
        assert [i["id"] for i in found.json()["items"]] == [mc_id]

        summary = (await r.quality.get(f"/summaries/{mc_id}")).json()
        [reviewed] = summary["reviewed_versions"]
        assert (reviewed["reviewing_body"], reviewed["rounds"], reviewed["approvals"]) == (BOARD, 2, 2)
        assert "lind" not in str(summary).lower() and "haddad" not in str(summary).lower()

        audit = (await r.quality.get(f"/reviews/{second['id']}/audit", headers=r.admin)).json()["items"]
        assert [e["action"] for e in audit] == [
            "review.opened", "reviewer.assigned", "reviewer.assigned", "checklist.recorded", "verdict.given",
            "checklist.recorded", "verdict.given", "review.decided"]


async def test_a_decision_delivered_twice_has_one_effect_in_the_catalog(
    stack: LocalStack, mongo_client, unique_name: str, dev_issuer: DevelopmentIssuer
) -> None:
    async with region(stack, mongo_client, unique_name, dev_issuer) as r:
        mc_id = await r.draft_and_submit()
        review = await r.review_round(mc_id, 1)
        await r.register("eva.lind", "region-skane")
        await r.assign(review["id"], "eva.lind")
        await r.judge(review["id"], "eva.lind", "region-skane", "approve", checklist_payload())
        before = await r.catalog_status(mc_id, "published")

        quality_outbox = r.quality_app.state.runtime.outbox.collection
        decided = await quality_outbox.find_one({"type": "quality.review.decided.v1", "data.review_id": review["id"]})
        record = to_kafka(Event.from_document(decided))
        catalog_runtime = r.catalog_app.state.runtime
        catalog_outbox = catalog_runtime.outbox.collection
        events_before = await catalog_outbox.count_documents({})
        counters = catalog_runtime.consumer.counters
        # The relay delivered it once; the decision may still be counted as handled just now.
        duplicates = counters.duplicates

        producer = new_producer(stack.kafka_bootstrap_servers)
        await producer.start()
        try:
            for _ in range(2):  # the same record, as an ambiguous retry would send it again
                await producer.send_and_wait("quality.reviews", record.value, key=record.key, headers=record.headers)
        finally:
            await producer.stop()

        deadline = asyncio.get_running_loop().time() + 45
        while counters.duplicates < duplicates + 2:
            assert asyncio.get_running_loop().time() < deadline, counters.snapshot()
            await asyncio.sleep(0.1)  # poll interval while the catalog consumes the copies
        after = await r.version(mc_id)
        assert after["history"] == before["history"] and after["status"] == "published"
        assert await catalog_outbox.count_documents({}) == events_before  # no second publication event
