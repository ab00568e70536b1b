"""Learners' rights through the gateway, against the real issuance and notifications services: a
learner downloads her data and has it erased in every service; an operator looks a learner up,
exports and erases on her behalf; nobody else learns about another learner's erasure; an export
that a service cannot complete is refused with a stable code and reason."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from gateway.app import bootstrap as gateway_app
from gateway.tests.conftest import PER_PROVIDER
from gateway.tests.region import (
    Region,
    codes,
    gateway_key,
    gateway_settings,
    gql_execute,
    partner_service_settings,
    served,
)
from gateway.tests.test_credentials import _issue
from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.localstack import LocalStack, free_port
from mimis_platform.mongo import Document
from mimis_platform.service_tokens import DevelopmentTokenSource
from services.issuance.bootstrap import bootstrap as issuance_app

EXPORT = "{ myPersonalData }"
FIELDS = "erasureId learnerRef requestedAt requestedBy status completedAt waitingFor " \
         "confirmed { service confirmedAt recordsErased }"
ERASE_ME = f"mutation {{ requestMyErasure {{ {FIELDS} }} }}"
ERASURE = f"query($id: ID!) {{ erasure(id: $id) {{ {FIELDS} }} }}"
ERASE_LEARNER = "mutation($r: ID!) { learnerErasure(learnerRef: $r) { erasureId status } }"
LEARNER_DATA = "query($r: ID!) { learnerPersonalData(learnerRef: $r) }"
LOOK_UP = "mutation($e: String) { lookUpLearner(email: $e) { learnerRef erased } }"


async def _ok(region: Region, query: str, variables: dict[str, Any] | None, headers: dict[str, str]
              ) -> dict[str, Any]:
    data, errors = await gql_execute(region.gateway_url, query, variables, headers)
    assert errors == [], errors
    assert data is not None
    return data


async def _complete(region: Region, erasure_id: str, learner: dict[str, str]) -> dict[str, Any]:
    """The erasure once every service has confirmed (notifications acts on the erasure event)."""
    deadline = time.monotonic() + 90
    while True:
        state = (await _ok(region, ERASURE, {"id": erasure_id}, learner))["erasure"]
        if state["status"] == "complete" or time.monotonic() > deadline:
            return dict(state)
        await asyncio.sleep(0.3)  # poll while notifications consumes the request and confirms


async def test_a_learner_exports_and_erases_her_data_through_graphql(region: Region) -> None:
    provider, mc_id = region.providers[4], region.published[4 * PER_PROVIDER]
    tag = uuid.uuid4().hex[:8]
    maja, omar = f"maja.{tag}@example.se", f"omar.{tag}@example.se"
    hers = await _issue(region, provider, mc_id, maja)
    his = await _issue(region, provider, mc_id, omar)
    learner, someone, ops = region.bearer(maja, "learner"), region.bearer(omar, "learner"), region.bearer("olle", "ops")

    # Her export: one JSON document with every service's part, nothing about anyone else.
    export = (await _ok(region, EXPORT, None, learner))["myPersonalData"]
    ref = export["learner_ref"]
    assert ref.startswith("lr-")
    assert set(export["services"]) == {"issuance", "notifications"}
    assert export["services"]["issuance"]["learner"]["email"] == maja
    assert [c["credential_id"] for c in export["services"]["issuance"]["credentials"]] == [hers["id"]]
    assert omar not in json.dumps(export) and his["id"] not in json.dumps(export)

    # An operator finds her by the address she gave and sees the same records.
    assert (await _ok(region, LOOK_UP, {"e": maja}, ops))["lookUpLearner"] == {"learnerRef": ref, "erased": False}
    by_ops = (await _ok(region, LEARNER_DATA, {"r": ref}, ops))["learnerPersonalData"]
    assert by_ops["learner_ref"] == ref and by_ops["services"]["issuance"]["learner"]["email"] == maja
    _, errors = await gql_execute(region.gateway_url, "mutation { lookUpLearner { learnerRef } }", headers=ops)
    assert codes(errors) == ["BAD_USER_INPUT"]  # issuance: exactly one identifier
    assert errors[0]["extensions"]["service"] == "issuance" and errors[0]["extensions"]["fieldErrors"]

    # Another learner may not use the operators' fields: refused before any call.
    region.transport.calls.clear()
    for query, variables in ((LEARNER_DATA, {"r": ref}), (ERASE_LEARNER, {"r": ref}), (LOOK_UP, {"e": maja})):
        _, errors = await gql_execute(region.gateway_url, query, variables, someone)
        assert codes(errors) == ["FORBIDDEN"], query
    assert region.service_calls() == []

    # She asks for erasure: issuance has erased its part; notifications has not confirmed yet.
    erasure = (await _ok(region, ERASE_ME, None, learner))["requestMyErasure"]
    assert erasure["status"] == "in_progress" and erasure["waitingFor"] == ["notifications"]
    assert [c["service"] for c in erasure["confirmed"]] == ["issuance"]
    assert (erasure["learnerRef"], erasure["requestedBy"], erasure["completedAt"]) == (ref, "learner", None)
    erasure_id = erasure["erasureId"]

    # Another learner passes the gateway's role check, but issuance (the second wall) does not tell
    # him that her erasure exists; an employer is refused by the gateway.
    region.transport.calls.clear()
    assert await _ok(region, ERASURE, {"id": erasure_id}, someone) == {"erasure": None}
    assert [c[2] for c in region.service_calls()] == [f"/v1/erasures/{erasure_id}"]
    _, errors = await gql_execute(region.gateway_url, ERASURE, {"id": erasure_id},
                                  region.bearer("ikea-hr", "employer", org=("ikea-almhult",)))
    assert codes(errors) == ["FORBIDDEN"]

    # She follows it until every service has confirmed.
    done = await _complete(region, erasure_id, learner)
    assert done["status"] == "complete", done
    assert done["waitingFor"] == [] and done["completedAt"] is not None
    assert {c["service"] for c in done["confirmed"]} == {"issuance", "notifications"}

    # Ops sees it too; asking again on her behalf answers the same request.
    assert (await _ok(region, ERASURE, {"id": erasure_id}, ops))["erasure"]["erasureId"] == erasure_id
    assert (await _ok(region, ERASE_LEARNER, {"r": ref}, ops))["learnerErasure"] == {
        "erasureId": erasure_id, "status": "complete"}

    # Afterwards MIMIS holds no learner record for her, and nothing names her.
    for query in (EXPORT, ERASE_ME):
        _, errors = await gql_execute(region.gateway_url, query, headers=learner)
        assert codes(errors) == ["NOT_FOUND"], query
    assert await _ok(region, LOOK_UP, {"e": maja}, ops) == {"lookUpLearner": None}
    after = (await _ok(region, LEARNER_DATA, {"r": ref}, ops))["learnerPersonalData"]
    assert after["services"]["issuance"]["learner"]["erased_at"] is not None
    assert maja not in json.dumps(after)


async def test_an_export_missing_a_service_part_is_unavailable_with_its_reason(
        region: Region, stack: LocalStack, dev_issuer: DevelopmentIssuer, mongo_client: AsyncMongoClient[Document],
        unique_name: str) -> None:
    """Issuance refuses an export it cannot complete (here notifications does not answer) rather
    than leave a part out; the gateway keeps its reason: SERVICE_UNAVAILABLE, export_incomplete."""
    key, port = gateway_key(), free_port()
    issuance_url, nobody_listens = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{free_port()}"
    settings, _ = partner_service_settings(stack, unique_name, dev_issuer, key, issuance_url, nobody_listens)
    sara, provider = f"sara.{uuid.uuid4().hex[:8]}@example.se", f"gw-{unique_name}"
    try:
        async with served(issuance_app(settings, tokens=DevelopmentTokenSource(dev_issuer, "service:issuance")),
                          port):
            async with httpx.AsyncClient(base_url=issuance_url, timeout=30) as http:
                answer = await http.post(f"/v1/providers/{provider}/learners", json={"learners": [
                    {"name": "Sara Nilsson", "email": sara, "language": "sv"}]},
                    headers=region.bearer(f"anna-{provider}", "provider-member", org=(provider,)))
            assert answer.status_code == 200, answer.text
            ref = answer.json()["learners"][0]["learner_ref"]
            gateway = gateway_settings(stack, unique_name, dev_issuer, key, region.catalog_url, region.quality_url,
                                       issuance_url, region.notifications_url)
            async with served(gateway_app(gateway)) as gateway_url:
                mine = await gql_execute(gateway_url, EXPORT, headers=region.bearer(sara, "learner"))
                theirs = await gql_execute(gateway_url, LEARNER_DATA, {"r": ref}, region.bearer("olle", "ops"))
    finally:
        await mongo_client.drop_database(settings.mongo_database)
        await mongo_client.drop_database(f"gateway_{unique_name}")
    for (data, errors), field in ((mine, "myPersonalData"), (theirs, "learnerPersonalData")):
        assert data == {field: None}
        assert [e["extensions"] for e in errors] == [
            {"code": "SERVICE_UNAVAILABLE", "service": "issuance", "reason": "export_incomplete"}]
        assert "notifications" in errors[0]["message"]
