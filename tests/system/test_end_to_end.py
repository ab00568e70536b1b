"""The whole ecosystem as one system: every service and the gateway as separate processes on the
local broker and database, driven through the GraphQL gateway and Kafka.

A provider drafts and submits a micro-credential (EQF 5, so two approvals are needed); the quality
board assigns two reviewers, who fill in their checklists and approve; it is published and
searchable, and a municipality's webhook receives the publication, signed; the provider's system
registers its learners over HTTPS (plain httpx) for their learner_refs, then publishes assessment
results (`provider.assessment.recorded.v2`, the learner only as learner_ref) with confluent-kafka
(librdkafka), signing them with the `standardwebhooks` library (no MIMIS code on the provider's
side); credentials are issued and the
provider's own webhook hears of them; a learner shares a credential; an employer verifies it
(valid), the provider revokes it, the employer verifies again (revoked, with the reason)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from confluent_kafka import Producer
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.devstack import load_demo_data, start_services, wait_ready
from mimis_platform.localstack import HOST, LocalStack, free_port
from services.catalog.tests.factories import content_payload
from services.quality.demo import DEMO_REVIEWERS
from tests.running_services import eventually

pytestmark = pytest.mark.slow

PROVIDER, MEMBER = "hkr", "demo-anna-hkr"  # a demo provider and its member (services/catalog/demo_data.py)
LEARNERS = ("lisa.e2e@example.se", "omar.e2e@example.se", "britt.e2e@example.se")


@dataclass
class Receiver:
    """A partner's webhook endpoint: records every request as it arrived."""

    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.received.append(({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@dataclass
class Ecosystem:
    urls: dict[str, str]
    issuer: DevelopmentIssuer
    stack: LocalStack
    receiver: Receiver
    receiver_url: str

    async def gql(self, token: str | None, query: str, **variables: Any) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        async with httpx.AsyncClient(timeout=60) as http:
            answer = await http.post(f"{self.urls['gateway']}/graphql", json={"query": query, "variables": variables},
                                     headers=headers)
        body = answer.json()
        assert answer.status_code == 200 and not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data

    def token(self, subject: str, role: str, *organisations: str) -> str:
        return self.issuer.token(subject, [role], organisations)


@pytest.fixture(scope="module")
async def ecosystem(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Ecosystem]:
    stack = LocalStack(root=Path(tmp_path_factory.mktemp("e2e")))
    await stack.start()
    issuer = DevelopmentIssuer.load_or_create(stack.root / "dev-issuer-key.json")
    receiver = Receiver()
    receiver_port = free_port()
    server = uvicorn.Server(uvicorn.Config(receiver, host=HOST, port=receiver_port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    names = ("gateway", "catalog", "quality", "issuance", "notifications")
    urls = {name: f"http://{HOST}:{free_port()}" for name in names}
    services = []
    try:
        services = start_services(stack, issuer, urls, {
            "LOG_LEVEL": "WARNING", "RELAY_IDLE_SECONDS": "0.05",
            "ALLOW_PRIVATE_WEBHOOK_URLS": "true",  # the partner's endpoint is on this machine
            "DELIVERY_IDLE_SECONDS": "0.1", "MAIL_DROP_DIR": str(stack.root / "mail"),
        })
        await wait_ready(services)
        await load_demo_data(stack, urls)  # demo providers, reviewers and catalogue
        yield Ecosystem(urls, issuer, stack, receiver, f"http://{HOST}:{receiver_port}/hooks")
    finally:
        for service in services:
            await asyncio.to_thread(service.server.stop, 25.0)
        server.should_exit = True
        await serving
        await stack.stop()


def _provider_event(data: dict[str, Any], secret: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """What a provider's integrator writes, from the contract in the README: a CloudEvent in
    binary mode, signed with the Standard Webhooks scheme over the record value."""
    event_id = str(uuid.uuid4())
    value = json.dumps(data).encode()
    now = datetime.now(UTC)
    signature = Webhook(secret).sign(event_id, now, value.decode())
    headers = {
        "ce_specversion": "1.0", "ce_id": event_id, "ce_source": f"/providers/{PROVIDER}/ladok",
        "ce_type": "provider.assessment.recorded.v2", "ce_time": now.isoformat(), "content-type": "application/json",
        "webhook-id": event_id, "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature,
    }
    return data["provider_event_id"].encode(), value, [(k, v.encode()) for k, v in headers.items()]


def _publish_with_librdkafka(bootstrap: str, records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": False})
    failures: list[str] = []
    for key, value, headers in records:
        producer.produce("provider.assessments", value=value, key=key, headers=[(k, v) for k, v in headers],
                         on_delivery=lambda err, _msg: failures.append(str(err)) if err else None)
    assert producer.flush(60) == 0, "records left unsent"
    assert not failures, failures


async def test_from_a_draft_to_a_revoked_credential_through_the_gateway_and_kafka(ecosystem: Ecosystem) -> None:
    e = ecosystem
    member = e.token(MEMBER, "provider-member", PROVIDER)
    admin = e.token("kerstin-board", "quality-admin")
    municipality = e.token("malin-malmo", "municipality", "malmo-stad")
    employer = e.token("erik-hr", "employer", "verkstad-ab")

    # A municipality subscribes to publications; the provider to its own credentials.
    sub = await e.gql(municipality, """mutation($i: WebhookSubscriptionInput!) {
        createWebhookSubscription(input: $i) { secret subscription { id } } }""",
                      i={"organisationId": "malmo-stad", "url": e.receiver_url, "ownerEmail": "it@malmo.example.se",
                         "eventTypes": ["catalog.credential.published.v1"]})
    municipality_secret = sub["createWebhookSubscription"]["secret"]
    sub = await e.gql(member, """mutation($i: WebhookSubscriptionInput!) {
        createWebhookSubscription(input: $i) { secret } }""",
                      i={"organisationId": PROVIDER, "url": e.receiver_url, "ownerEmail": "it@hkr.example.se",
                         "eventTypes": ["issuance.credential.issued.v1", "issuance.credential.revoked.v1"],
                         "filters": {"providers": [PROVIDER]}})
    provider_secret = sub["createWebhookSubscription"]["secret"]

    # The provider drafts and submits.
    title = f"Hygienombud i äldreomsorgen {uuid.uuid4().hex[:6]}"
    content = content_payload(title={"sv": title, "en": "Hygiene representative in elderly care"},
                              level={"eqf": 5, "seqf": 5})
    created = await e.gql(member, """mutation($p: ID!, $c: JSON!) {
        createMicroCredential(providerId: $p, content: $c) { id version status } }""", p=PROVIDER, c=content)
    mc = created["createMicroCredential"]["id"]
    submitted = await e.gql(member, "mutation($id: ID!) { submitMicroCredential(id: $id, version: 1) { status } }",
                            id=mc)
    assert submitted["submitMicroCredential"]["status"] == "SUBMITTED"

    # The board: two reviewers assigned, checklists, two approvals.
    async def review() -> dict[str, Any] | None:
        queue = await e.gql(admin, """query($mc: ID) { reviewQueue(microCredentialId: $mc) {
            nodes { id requiredApprovals status } } }""", mc=mc)
        nodes = queue["reviewQueue"]["nodes"]
        return nodes[0] if nodes else None

    opened = await eventually(review, timeout=90)
    assert opened is not None and opened["requiredApprovals"] == 2
    criteria = (await e.gql(None, "{ reviewCriteria { criteria { code } } }"))["reviewCriteria"]["criteria"]
    for reviewer in DEMO_REVIEWERS[:2]:
        await e.gql(admin, "mutation($r: ID!, $who: String!) { assignReviewer(reviewId: $r, reviewer: $who) { id } }",
                    r=opened["id"], who=reviewer["subject"])
        me = e.issuer.token(reviewer["subject"], ["reviewer"], reviewer["organisations"])
        await e.gql(me, """mutation($r: ID!, $m: [ChecklistMarkInput!]!) {
            recordChecklist(reviewId: $r, marks: $m) { id } }""",
                    r=opened["id"], m=[{"criterion": c["code"], "mark": "MET"} for c in criteria])
        await e.gql(me, "mutation($r: ID!) { giveVerdict(reviewId: $r, decision: APPROVE) { status } }", r=opened["id"])

    # Published and searchable.
    async def published() -> bool | None:
        found = await e.gql(None, """query($t: String) { microCredentials(filter: {text: $t}) {
            nodes { id status reviewSummary { reviewedVersions { approvals } } } } }""", t=title)
        nodes = [n for n in found["microCredentials"]["nodes"] if n["id"] == mc]
        return True if nodes and nodes[0]["status"] == "PUBLISHED" and nodes[0]["reviewSummary"] else None

    assert await eventually(published, timeout=120), "never published and searchable"

    async def municipality_heard() -> list[dict[str, Any]] | None:
        events = [ev for ev in _verified(e.receiver, municipality_secret)
                  if ev["type"] == "catalog.credential.published.v1" and ev["data"]["micro_credential_id"] == mc]
        return events or None

    assert await eventually(municipality_heard, timeout=120), "the municipality's webhook heard nothing signed"

    # The provider's system: a signing secret (REST, once), its learners registered over HTTPS for
    # their learner_refs (issuance's REST API: the gateway does not expose these paths), then its
    # own Kafka client, the events naming each learner only by learner_ref.
    async with httpx.AsyncClient(base_url=e.urls["issuance"], timeout=30,
                                 headers={"authorization": f"Bearer {member}"}) as http:
        answer = await http.post(f"/v1/providers/{PROVIDER}/event-secrets")
        assert answer.status_code == 201, answer.text
        signing_secret = answer.json()["secret"]
        answer = await http.post(f"/v1/providers/{PROVIDER}/learners", json={"learners": [
            {"name": f"E2E Learner {n}", "email": email, "language": "sv"} for n, email in enumerate(LEARNERS)]})
        assert answer.status_code == 200, answer.text
        registered = answer.json()
        assert registered["registered"] == len(LEARNERS) and registered["failed"] == 0, registered
        refs = [row["learner_ref"] for row in registered["learners"]]
        assert len(set(refs)) == len(LEARNERS)
    records = [_provider_event({
        "provider_event_id": f"ladok-{uuid.uuid4().hex[:10]}", "provider_id": PROVIDER, "micro_credential_id": mc,
        "version": 1, "learner_ref": ref,
        "result": "passed", "grade": None, "assessed_on": "2026-11-20", "evidence_url": None,
    }, signing_secret) for ref in refs]
    assert not any(email.encode() in value for _, value, _ in records for email in LEARNERS)
    records.append(records[0])  # the provider's system sends one twice: one credential all the same
    await asyncio.to_thread(_publish_with_librdkafka, e.stack.kafka_bootstrap_servers, records)

    async def issued() -> list[dict[str, Any]] | None:
        page = await e.gql(member, """query($p: ID!, $mc: ID) {
            issuedCredentials(providerId: $p, microCredentialId: $mc) { nodes { id status } } }""", p=PROVIDER, mc=mc)
        nodes = page["issuedCredentials"]["nodes"]
        return nodes if len(nodes) >= len(LEARNERS) else None

    credentials = await eventually(issued, timeout=120)
    assert credentials is not None and len(credentials) == len(LEARNERS)

    async def provider_heard() -> bool | None:
        events = [ev for ev in _verified(e.receiver, provider_secret) if ev["type"] == "issuance.credential.issued.v1"
                  and ev["data"]["micro_credential_id"] == mc]
        return True if len(events) >= len(LEARNERS) else None

    assert await eventually(provider_heard, timeout=120), "the provider's webhook did not hear of every credential"

    # A learner shares; an employer verifies.
    lisa = e.token(LEARNERS[0], "learner")
    mine = await e.gql(lisa, "{ myCredentials { nodes { id microCredentialId status } } }")
    [credential] = [c for c in mine["myCredentials"]["nodes"] if c["microCredentialId"] == mc]
    link = (await e.gql(lisa, "mutation($id: ID!) { shareCredential(id: $id, expiresInDays: 7) { token url } }",
                        id=credential["id"]))["shareCredential"]
    shared = (await e.gql(employer, "query($t: String!) { sharedCredential(token: $t) { jws status } }",
                          t=link["token"]))["sharedCredential"]
    verify = "query($c: JSON!) { verifyCredential(credential: $c) { verified verdict checks { check ok reason } } }"
    first = (await e.gql(employer, verify, c=shared["jws"]))["verifyCredential"]
    assert first["verified"] and first["verdict"] == "valid", first

    # The provider revokes; the employer's second check says so, with the reason.
    reason = "Bedömningen gjordes om: underlaget räckte inte"
    revoked = await e.gql(member, """mutation($id: ID!, $r: String!) {
        revokeCredential(id: $id, reason: $r) { status } }""", id=credential["id"], r=reason)
    assert revoked["revokeCredential"]["status"] == "revoked"
    second = (await e.gql(employer, verify, c=shared["jws"]))["verifyCredential"]
    assert not second["verified"] and second["verdict"] == "invalid"
    # One status check per status entry: revocation fails with the reason, suspension passes.
    statuses = [c for c in second["checks"] if c["check"] == "status"]
    assert [c["ok"] for c in statuses] == [False, True], statuses
    assert reason in statuses[0]["reason"] and statuses[1]["reason"] == "not suspended", statuses

    async def revocation_heard() -> bool | None:
        return True if any(ev["type"] == "issuance.credential.revoked.v1"
                           and ev["data"]["credential_id"] == credential["id"]
                           for ev in _verified(e.receiver, provider_secret)) else None

    assert await eventually(revocation_heard, timeout=120)


def _verified(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Deliveries signed with ``secret``; a delivery meant for another subscription fails to verify."""
    hook = Webhook(secret)
    events = []
    for headers, body in receiver.received:
        try:
            events.append(hook.verify(body, headers))
        except WebhookVerificationError:
            continue
    return events
