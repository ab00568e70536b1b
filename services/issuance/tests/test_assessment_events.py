"""Providers' assessment events over the real broker into the real database: exactly one
credential per provider event id, and every rejection class dead-lettered with its reason."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.consumer import DLQ_REASON
from mimis_platform.localstack import LocalStack
from services.issuance.tests.conftest import (
    ASSESSMENTS,
    IssuanceUnderTest,
    eventually,
    header,
    read_topic,
    running_issuance,
)
from services.issuance.tests.service_factories import new_ref, status_changed


@pytest.mark.parametrize("batch_size", [1, 200], ids=["one-at-a-time", "batched"])
async def test_an_assessment_delivered_three_times_and_resent_under_a_new_id_is_one_credential(
        stack: LocalStack, mongo_client: Any, unique_name: str, dev_issuer: DevelopmentIssuer, batch_size: int) -> None:
    async with running_issuance(stack, mongo_client, unique_name, dev_issuer,
                                assessment_batch_size=batch_size) as issuance:
        await delivered_three_times_and_resent(issuance)


async def delivered_three_times_and_resent(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    secret = await issuance.new_secret()
    data = await issuance.assessment()
    record = issuance.assessment_record(secret, data)
    resent = issuance.assessment_record(secret, data)  # the provider's system resends: new CloudEvents id
    await issuance.send_assessments([record, record, record, resent])
    resent_id = resent[2][[k for k, _ in resent[2]].index("ce_id")][1].decode()
    inbox = issuance.app.state.runtime.db["inbox"]

    async def all_seen() -> bool | None:  # same key, same partition: the resend comes after the three
        return True if await inbox.find_one({"event_id": resent_id}) else None

    await eventually(all_seen, what="the resent event to be handled")
    store = issuance.service.store
    assert await store.credentials.count_documents({"source_event_id": data["provider_event_id"]}) == 1
    credential = await issuance.credential_for(data["provider_event_id"])
    outbox = issuance.app.state.runtime.db["outbox"]
    assert await outbox.count_documents({"data.source_event_id": data["provider_event_id"]}) == 1
    await issuance.relay_drained()
    issued = [r for r in await read_topic(issuance.stack.kafka_bootstrap_servers, "issuance.credentials")
              if header(r, "ce_subject") == f"credentials/{credential['_id']}"]
    assert len(issued) == 1
    assert header(issued[0], "ce_type") == "issuance.credential.issued.v1"
    # No personal data in the event: the learner is the pseudonym the provider registered.
    person = issuance.people[data["learner_ref"]]
    assert person["email"].encode() not in issued[0].value
    assert person["name"].encode() not in issued[0].value
    assert credential["learner_ref"] == data["learner_ref"]
    assert credential["learner_ref"].encode() in issued[0].value


async def test_each_rejection_class_is_dead_lettered_with_its_reason_and_the_consumer_keeps_going(
        issuance: IssuanceUnderTest) -> None:
    other_provider, other_mc = f"{issuance.provider_id}-x", f"{issuance.micro_credential_id}-x"
    await issuance.publish()
    await issuance.publish(other_mc, 1, other_provider)
    await issuance.publish(version=2)
    await issuance.send_catalog([("catalog.micro-credentials",
                                  status_changed(issuance.micro_credential_id, 2, issuance.provider_id, "retired"))])
    versions = issuance.service.catalogue.versions

    async def retired() -> bool | None:
        doc = await versions.find_one({"_id": f"{issuance.micro_credential_id}@2"})
        return True if doc and doc["status"] == "retired" else None

    await eventually(retired, what="version 2 retired in the read model")
    secret, other_secret = await issuance.new_secret(), await issuance.new_secret(other_provider)

    cases: dict[str, tuple[Any, str]] = {}

    def case(name: str, record: Any, reason: str) -> Any:
        cases[name] = (record, reason)
        return record

    no_learner = await issuance.assessment()
    del no_learner["learner_ref"]
    case("schema", issuance.assessment_record(secret, no_learner), "contract violation")
    case("not owner", issuance.assessment_record(other_secret, await issuance.assessment(provider_id=other_provider)),
         f"refused: provider {other_provider} does not own micro-credential {issuance.micro_credential_id}")
    case("retired version", issuance.assessment_record(secret, await issuance.assessment(version=2)),
         "is not published (retired)")
    case("unknown version", issuance.assessment_record(secret, await issuance.assessment(version=7)),
         "retries exhausted after 3 attempts")
    case("wrong secret", issuance.assessment_record(other_secret, await issuance.assessment()),
         "bad signature: no signature matches")
    case("unsigned", issuance.assessment_record(None, await issuance.assessment()), "bad signature: missing Standard")
    forged = issuance.assessment_record(secret, await issuance.assessment())
    tampered_value = forged[1].replace(b'"passed"', b'"failed"')
    assert tampered_value != forged[1]
    case("tampered", (forged[0], tampered_value, forged[2]), "bad signature: no signature matches")
    case("grade off the scale", issuance.assessment_record(secret, await issuance.assessment(grade="MVG")), "refused:")
    case("unregistered learner", issuance.assessment_record(secret, await issuance.assessment(learner_ref=new_ref())),
         "refused: unknown learner_ref")
    erased = await issuance.assessment()
    await issuance.service.store.erase_learner(erased["learner_ref"], datetime.now(UTC))
    case("erased learner", issuance.assessment_record(secret, erased), "was erased on request")
    v1 = {**(await issuance.assessment()), "learner": {"name": "Vera Ettan", "email": "vera.ettan@example.se",
                                                       "personal_identity_number": "19900517-1237"}}
    del v1["learner_ref"]
    case("retired v1", issuance.assessment_record(secret, v1, event_type="provider.assessment.recorded.v1"),
         "retired event type: provider.assessment.recorded.v1 is retired")
    good = await issuance.assessment()
    await issuance.send_assessments([record for record, _ in cases.values()]
                                    + [issuance.assessment_record(secret, good)])
    await issuance.credential_for(good["provider_event_id"])  # the consumer kept going

    def event_id(record: Any) -> str:
        return str(dict(record[2])["ce_id"].decode())

    wanted = {event_id(record): name for name, (record, _) in cases.items()}

    async def dead_letters() -> dict[str, str] | None:
        found = {header(r, "ce_id"): header(r, DLQ_REASON) or ""
                 for r in await read_topic(issuance.stack.kafka_bootstrap_servers, f"{ASSESSMENTS}.dlq")}
        mine = {wanted[i]: reason for i, reason in found.items() if i in wanted}
        return mine if len(mine) == len(wanted) else None

    reasons = await eventually(dead_letters, what="every rejected event in the DLQ")
    # The retired v1's dead letter keeps the reason, not the learner's personal data.
    letters = await read_topic(issuance.stack.kafka_bootstrap_servers, f"{ASSESSMENTS}.dlq")
    v1_letter = next(r for r in letters if header(r, "ce_id") == event_id(cases["retired v1"][0]))
    for secret_text in (b"Vera Ettan", b"vera.ettan@example.se", b"19900517-1237", b"9005171237"):
        assert secret_text not in v1_letter.value
    for name, (_, expected) in cases.items():
        assert expected in reasons[name], (name, reasons[name])
    assert await issuance.service.store.credentials.count_documents({}) == 1


async def test_a_failed_assessment_is_acknowledged_and_issues_nothing(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    secret = await issuance.new_secret()
    failed, passed = await issuance.assessment(result="failed"), await issuance.assessment()
    key = f"k-{uuid.uuid4().hex}"  # one partition, so the passed one is handled after the failed one
    await issuance.send_assessments([issuance.assessment_record(secret, failed, key=key),
                                     issuance.assessment_record(secret, passed, key=key)])
    await issuance.credential_for(passed["provider_event_id"])
    assert await issuance.service.store.credentials.count_documents(
        {"source_event_id": failed["provider_event_id"]}) == 0


async def test_a_rotated_event_secret_keeps_the_previous_one_for_the_overlap(issuance: IssuanceUnderTest) -> None:
    await issuance.publish()
    old = await issuance.new_secret()
    new = await issuance.new_secret()
    assert old != new
    first, second = await issuance.assessment(), await issuance.assessment()
    await issuance.send_assessments([issuance.assessment_record(old, first), issuance.assessment_record(new, second)])
    await issuance.credential_for(first["provider_event_id"])
    await issuance.credential_for(second["provider_event_id"])


@pytest.mark.parametrize("batch_size", [1, 200], ids=["one-at-a-time", "batched"])
async def test_the_issued_event_continues_the_providers_trace(
        stack: LocalStack, mongo_client: Any, unique_name: str, dev_issuer: DevelopmentIssuer,
        span_exporter: Any, batch_size: int) -> None:
    async with running_issuance(stack, mongo_client, unique_name, dev_issuer,
                                assessment_batch_size=batch_size) as issuance:
        await issuance.publish()
        secret = await issuance.new_secret()
        trace_id = uuid.uuid4().hex
        traced, other = await issuance.assessment(), await issuance.assessment()
        key = f"k-{uuid.uuid4().hex}"  # one partition: both in one batch when batched
        await issuance.send_assessments([
            issuance.assessment_record(secret, traced, key=key, trace=f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"),
            issuance.assessment_record(secret, other, key=key)])
        credential = await issuance.credential_for(traced["provider_event_id"])
        await issuance.credential_for(other["provider_event_id"])
        outbox = issuance.app.state.runtime.db["outbox"]
        issued = await outbox.find_one({"data.credential_id": credential["_id"]})
        assert issued is not None
        assert issued["trace_context"]["traceparent"].split("-")[1] == trace_id
