"""A provider's member and the quality board, both only through the gateway: draft, edit, submit;
the board assigns, the reviewer checks and approves; the catalogue publishes and shows the summary."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from gateway.tests.region import Region, codes, gql_execute
from services.catalog.tests.factories import content_payload
from services.quality.demo import DEMO_REVIEWERS

FIELDS = "id version status title { sv } reviewFeedback { decision comments }"


async def _until(probe: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = await probe()
        if found is not None or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)  # poll while events cross the broker


async def test_draft_submit_review_and_publish_through_the_gateway(region: Region) -> None:
    pid = region.providers[4]
    member = region.bearer(f"anna-{pid}", "provider-member", org=(pid,))
    admin = region.bearer("kerstin", "quality-admin")
    karin = DEMO_REVIEWERS[0]
    reviewer = region.bearer(karin["subject"], "reviewer", org=tuple(karin["organisations"]))
    url = region.gateway_url

    data, errors = await gql_execute(url, f"mutation($p: ID!, $c: JSON!) {{ createMicroCredential(providerId: $p, "
                                          f"content: $c) {{ {FIELDS} }} }}",
                                     {"p": pid, "c": content_payload(level={"eqf": 3})}, member)
    assert errors == [] and data is not None
    mc = data["createMicroCredential"]
    assert (mc["status"], mc["version"]) == ("DRAFT", 1)

    bad = content_payload(level={"eqf": 3}, languages=[])
    _, errors = await gql_execute(url, "mutation($id: ID!, $c: JSON!) { editMicroCredential(id: $id, version: 1, "
                                       "content: $c) { id } }", {"id": mc["id"], "c": bad}, member)
    assert codes(errors) == ["BAD_USER_INPUT"]
    assert [f["field"] for f in errors[0]["extensions"]["fieldErrors"]] == ["languages"]

    renamed = content_payload(level={"eqf": 3}, title={"sv": "Munvård för omsorgspersonal", "en": "Oral care"})
    data, errors = await gql_execute(url, f"mutation($id: ID!, $c: JSON!) {{ editMicroCredential(id: $id, version: 1, "
                                          f"content: $c) {{ {FIELDS} }} }}", {"id": mc["id"], "c": renamed}, member)
    assert errors == [] and data is not None
    assert data["editMicroCredential"]["title"]["sv"] == "Munvård för omsorgspersonal"

    submit = f"mutation($id: ID!) {{ submitMicroCredential(id: $id, version: 1) {{ {FIELDS} }} }}"
    data, errors = await gql_execute(url, submit, {"id": mc["id"]}, member)
    assert errors == [] and data is not None and data["submitMicroCredential"]["status"] == "SUBMITTED"
    _, errors = await gql_execute(url, submit, {"id": mc["id"]}, member)
    assert codes(errors) == ["CONFLICT"]

    async def opened() -> dict[str, Any] | None:
        data, errors = await gql_execute(url, "query($id: ID!) { reviewQueue(microCredentialId: $id) { nodes { id "
                                              "status round title { sv } provider { id } } } }", {"id": mc["id"]},
                                         admin)
        assert errors == [] and data is not None
        nodes = data["reviewQueue"]["nodes"]
        return nodes[0] if nodes else None

    review = await _until(opened)
    assert review is not None, "the quality service never opened the review"
    assert review["provider"]["id"] == pid and review["title"]["sv"] == "Munvård för omsorgspersonal"

    data, errors = await gql_execute(url, "mutation($r: ID!, $who: String!) { assignReviewer(reviewId: $r, "
                                          "reviewer: $who) { assignments { reviewer } } }",
                                     {"r": review["id"], "who": karin["subject"]}, admin)
    assert errors == [] and data is not None
    assert data["assignReviewer"]["assignments"] == [{"reviewer": karin["subject"]}]

    data, errors = await gql_execute(url, "{ reviewCriteria { version criteria { code } } }")
    assert errors == [] and data is not None
    marks = [{"criterion": c["code"], "mark": "MET"} for c in data["reviewCriteria"]["criteria"]]
    data, errors = await gql_execute(url, "mutation($r: ID!, $m: [ChecklistMarkInput!]!) { recordChecklist("
                                          "reviewId: $r, marks: $m) { checklists { complete } } }",
                                     {"r": review["id"], "m": marks}, reviewer)
    assert errors == [] and data is not None
    assert data["recordChecklist"]["checklists"] == [{"complete": True}]

    data, errors = await gql_execute(url, "mutation($r: ID!) { giveVerdict(reviewId: $r, decision: APPROVE) "
                                          "{ decision status } }", {"r": review["id"]}, reviewer)
    assert errors == [] and data is not None
    assert data["giveVerdict"] == {"decision": "APPROVE", "status": "decided"}

    async def published() -> dict[str, Any] | None:
        data, errors = await gql_execute(url, "query($id: ID!) { microCredential(id: $id) { status reviewSummary { "
                                              "reviewedVersions { outcome reviewingBody } } } }", {"id": mc["id"]})
        assert errors == [] and data is not None
        return data["microCredential"]

    found = await _until(published)
    assert found is not None, "the catalog never published the approved entry"
    assert found["status"] == "PUBLISHED"
    assert found["reviewSummary"]["reviewedVersions"][0]["outcome"] == "approve"
