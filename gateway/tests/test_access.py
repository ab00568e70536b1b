"""Who may do what through the gateway: one table of roles and operations, each row a test. The
gateway refuses first (FORBIDDEN / UNAUTHENTICATED without calling a service); where it lets a
caller through, the service checks again."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.tests.region import Region, codes, gql_execute

OK = "ok"
NULL = "null"  # let through by the gateway; the service knows of no such thing, so the field is null
NO_LEARNER = "lr-" + "0" * 32  # well formed; nobody has it
NO_CREDENTIAL = "urn:uuid:00000000-0000-4000-8000-000000000000"  # well formed; never issued

#: person -> (subject, roles, organisations); None is anonymous. "p0"/"p1" are replaced by seeded providers.
PEOPLE: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]] | None] = {
    "anonymous": None,
    "member of p0": ("anna-p0", ("provider-member",), ("p0",)),
    "member of p1": ("anna-p1", ("provider-member",), ("p1",)),
    "reviewer": ("demo-reviewer-karin", ("reviewer",), ("region-skane",)),
    "quality admin": ("kerstin", ("quality-admin",), ()),
    "employer": ("ikea-hr", ("employer",), ("ikea-almhult",)),
    "municipality": ("malmo-af", ("municipality",), ("malmo-stad",)),
    "learner": ("lina", ("learner",), ()),
    "ops": ("olle", ("ops",), ()),
    "region admin": ("rita", ("region-admin",), ()),
}

OPERATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "search": ("{ microCredentials(first: 1) { nodes { id } } }", {}),
    "catalogue statistics": ("{ catalogueStatistics { published } }", {}),
    "issued credential statistics": ("{ issuedCredentialStatistics { issued } }", {}),
    "drafts of p0": ("query($p: ID!) { providerDrafts(providerId: $p) { nodes { id status } } }", {"p": "p0"}),
    "create draft for p0": ("mutation($p: ID!, $c: JSON!) { createMicroCredential(providerId: $p, content: $c) "
                            "{ id status } }", {"p": "p0", "c": "CONTENT"}),
    "review queue": ("{ reviewQueue(first: 5) { nodes { id } } }", {}),
    "verdict": ("mutation { giveVerdict(reviewId: \"rv-none\", decision: APPROVE) { id } }", {}),
    "quality statistics": ("{ qualityStatistics { open decided } }", {}),
    "api keys": ("{ apiKeys { id } }", {}),
    "webhook event types": ("{ webhookEventTypes { type } }", {}),
    "my credentials": ("{ myCredentials { nodes { id } } }", {}),
    "credentials issued by p0": ("query($p: ID!) { issuedCredentials(providerId: $p) { nodes { id } } }",
                                 {"p": "p0"}),
    "webhook subscriptions": ("{ webhookSubscriptions { nodes { id } } }", {}),
    "my personal data": ("{ myPersonalData }", {}),
    "request my erasure": ("mutation { requestMyErasure { erasureId status } }", {}),
    "an erasure": ("query($id: ID!) { erasure(id: $id) { erasureId status } }", {"id": "er-none"}),
    "a learner's personal data": ("query($r: ID!) { learnerPersonalData(learnerRef: $r) }", {"r": NO_LEARNER}),
    "erase a learner": ("mutation($r: ID!) { learnerErasure(learnerRef: $r) { erasureId } }", {"r": NO_LEARNER}),
    "look up a learner": ("mutation { lookUpLearner(email: \"nobody@example.se\") { learnerRef } }", {}),
    "suspend a credential": ("mutation($id: ID!) { suspendCredential(id: $id, reason: \"Under utredning\") { id } }",
                             {"id": NO_CREDENTIAL}),
    "reinstate a credential": ("mutation($id: ID!) { reinstateCredential(id: $id) { id } }", {"id": NO_CREDENTIAL}),
}

U, F, N = "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND"
#: operation -> expected answer per person (same order as PEOPLE).
MATRIX: dict[str, tuple[str, ...]] = {
    #                       anon member0 member1 reviewer admin employer municip. learner ops regionadm
    "search":               (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK),
    "catalogue statistics": (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK),
    "issued credential statistics": (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK),
    "drafts of p0":         (U, OK, F, F, F, F, F, F, F, F),
    "create draft for p0":  (U, OK, F, F, F, F, F, F, F, F),
    "review queue":         (U, OK, OK, OK, OK, F, F, F, F, F),
    "verdict":              (U, F, F, N, F, F, F, F, F, F),  # the reviewer passes the gateway; quality: no such review
    "quality statistics":   (U, F, F, F, OK, F, F, F, F, F),
    "api keys":             (U, F, F, F, F, F, F, F, F, OK),
    "webhook event types":  (OK, OK, OK, OK, OK, OK, OK, OK, OK, OK),
    "my credentials":       (U, F, F, F, F, F, F, OK, F, F),
    "credentials issued by p0": (U, OK, F, F, F, F, F, F, F, F),
    "webhook subscriptions": (U, OK, OK, F, F, OK, OK, F, OK, OK),
    # "lina" passes the gateway; issuance holds no learner record for her.
    "my personal data":     (U, F, F, F, F, F, F, N, F, F),
    "request my erasure":   (U, F, F, F, F, F, F, N, F, F),
    "an erasure":           (U, F, F, F, F, F, F, NULL, NULL, F),  # issuance: ops, or the learner who asked
    "a learner's personal data": (U, F, F, F, F, F, F, F, N, F),
    "erase a learner":      (U, F, F, F, F, F, F, F, N, F),
    "look up a learner":    (U, F, F, F, F, F, F, F, NULL, F),
    # Provider members pass the gateway; issuance: no credential of theirs by that id.
    "suspend a credential": (U, N, N, F, F, F, F, F, F, F),
    "reinstate a credential": (U, N, N, F, F, F, F, F, F, F),
}

ROWS = [(op, person, expected) for op, answers in MATRIX.items()
        for person, expected in zip(PEOPLE, answers, strict=True)]


def _resolve(value: Any, region: Region) -> Any:
    from services.catalog.tests.factories import content_payload

    if value == "CONTENT":
        return content_payload()
    if isinstance(value, str) and value in ("p0", "p1"):
        return region.providers[int(value[1])]
    return value


@pytest.mark.parametrize(("operation", "person", "expected"), ROWS, ids=[f"{o}|{p}" for o, p, _ in ROWS])
async def test_access_matrix(region: Region, operation: str, person: str, expected: str) -> None:
    query, variables = OPERATIONS[operation]
    who = PEOPLE[person]
    headers = {}
    if who is not None:
        subject, roles, orgs = who
        orgs = tuple(_resolve(o, region) for o in orgs)
        subject = subject.replace("p0", region.providers[0]).replace("p1", region.providers[1])
        headers = region.bearer(subject, *roles, org=orgs)
    region.transport.calls.clear()
    data, errors = await gql_execute(region.gateway_url, query, {k: _resolve(v, region) for k, v in variables.items()},
                                     headers)
    if expected == OK:
        assert errors == [], errors
        assert data is not None and all(v is not None for v in data.values())
    elif expected == NULL:
        assert errors == [], errors
        assert data is not None and all(v is None for v in data.values())
        assert region.service_calls(), "the service was asked"
    else:
        assert codes(errors) == [expected], errors
        if expected in (U, F):
            assert region.service_calls() == [], "the gateway refused without asking a service"


async def test_the_service_is_a_second_wall(region: Region) -> None:
    """A token claiming the provider's organisation passes the gateway's check, but the catalog
    knows its members and refuses someone who is not one."""
    pid = region.providers[0]
    data, errors = await gql_execute(
        region.gateway_url, "query($p: ID!) { providerDrafts(providerId: $p) { nodes { id } } }", {"p": pid},
        region.bearer("mallory", "provider-member", org=(pid,)))
    assert codes(errors) == ["FORBIDDEN"]
    assert errors[0]["extensions"]["service"] == "catalog"
    assert data == {"providerDrafts": None}


async def test_a_member_sees_own_drafts_with_review_feedback_field(region: Region) -> None:
    pid = region.providers[2]
    data, errors = await gql_execute(
        region.gateway_url, "query($p: ID!) { providerDrafts(providerId: $p, statuses: [DRAFT]) "
                            "{ nodes { id status reviewFeedback { decision } provider { members } } } }",
        {"p": pid}, region.bearer(f"anna-{pid}", "provider-member", org=(pid,)))
    assert errors == []
    assert data is not None
    nodes = data["providerDrafts"]["nodes"]
    assert region.drafts[pid] in {n["id"] for n in nodes}
    assert {n["status"] for n in nodes} == {"DRAFT"}
    assert nodes[0]["provider"]["members"] == [f"anna-{pid}"]


async def test_an_invalid_token_is_unauthenticated_even_for_public_fields(region: Region) -> None:
    _, errors = await gql_execute(region.gateway_url, "{ microCredentials(first: 1) { totalCount } }",
                                  headers={"authorization": "Bearer not.a.token"})
    assert codes(errors) == ["UNAUTHENTICATED"]


async def test_a_service_token_is_not_accepted_at_the_gateway(region: Region) -> None:
    _, errors = await gql_execute(region.gateway_url, "{ viewer { subject } }",
                                  headers=region.bearer("issuance", "service"))
    assert codes(errors) == ["UNAUTHENTICATED"]


async def test_an_id_never_reaches_another_path_of_a_service(region: Region) -> None:
    """Ids are single, percent-encoded path segments: no climbing to another resource with the
    caller's token, no control characters, no query string smuggled in."""
    member = region.bearer(f"anna-{region.providers[0]}", "provider-member", org=(region.providers[0],))
    region.transport.calls.clear()
    data, errors = await gql_execute(region.gateway_url, "query($id: ID!) { microCredential(id: $id) { id } }",
                                     {"id": f"../providers/{region.providers[0]}/micro-credentials?x=\u0005"}, member)
    assert errors == [] and data == {"microCredential": None}
    assert [c[2] for c in region.service_calls()] == [
        f"/micro-credentials/..%2Fproviders%2F{region.providers[0]}%2Fmicro-credentials%3Fx%3D%05"]
    for weird in ("..", "."):
        _, errors = await gql_execute(region.gateway_url, "query($id: ID!) { review(id: $id) { id } }", {"id": weird},
                                      region.bearer("kerstin", "quality-admin"))
        assert codes(errors) == ["BAD_USER_INPUT"]
