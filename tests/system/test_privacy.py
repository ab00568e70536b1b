"""Issue 11 as one system: every service a separate process on its own broker and database,
logging as JSON and printing every span (console exporter) into the logs the test captures.

A provider registers two learners over HTTPS (one with a personal identity number), sends signed
``provider.assessment.recorded.v2`` events that carry only their learner_refs, and issues one
more credential through the API; notifications mails the learners. Then:

* the export of one learner holds her records from every service and nothing of the other;
* she asks for erasure; every service confirms;
* a scan of every collection of every database, every topic (dead-letter topics included) and
  every service's captured log and spans finds none of her name, e-mail address or personal
  identity number; the same scan does find the other learner's name (so it can see data), and
  never finds his personal identity number in clear;
* her credential, downloaded before the erasure, still verifies (valid, and after a revocation
  made before the erasure, revoked, with the reason).

The development mail drop folder (``.eml`` files standing in for the learners' mailboxes) is not
part of MIMIS and is not scanned.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from bson import json_util
from pymongo import AsyncMongoClient

from mimis_platform.auth import DevelopmentIssuer, Role
from mimis_platform.dead_letters import end_offsets
from mimis_platform.devstack import load_demo_data, start_services, wait_ready
from mimis_platform.envelope import Event, to_kafka
from mimis_platform.kafka import new_producer
from mimis_platform.localstack import HOST, LocalStack, free_port
from services.issuance.domain.assessment import sign_record
from tests.running_services import eventually

ERASED = {"name": "Astrid Raderasson", "email": f"astrid.raderas.{uuid.uuid4().hex[:8]}@example.se",
          "personal_identity_number": "19121212-1212", "date_of_birth": "1912-12-12", "language": "sv"}
KEPT = {"name": "Bertil Behallsson", "email": f"bertil.behalls.{uuid.uuid4().hex[:8]}@example.se",
        "personal_identity_number": "19900517-1237", "language": "en"}


def pin_forms(pin: str) -> list[str]:
    digits = re.sub(r"\D", "", pin)
    return [digits, digits[2:], f"{digits[:8]}-{digits[8:]}", f"{digits[2:8]}-{digits[8:]}"]


def personal_texts(person: dict[str, str]) -> list[str]:
    return [person["name"], person["email"], *pin_forms(person["personal_identity_number"])]


@dataclass
class System:
    urls: dict[str, str]
    issuer: DevelopmentIssuer
    stack: LocalStack

    def auth(self, subject: str, role: Role, *organisations: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.issuer.token(subject, [role], list(organisations))}"}


@pytest.fixture(scope="module")
async def system(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    stack = LocalStack(root=Path(tmp_path_factory.mktemp("privacy")))
    await stack.start()
    issuer = DevelopmentIssuer.load_or_create(stack.root / "dev-issuer-key.json")
    names = ("gateway", "catalog", "quality", "issuance", "notifications")
    urls = {name: f"http://{HOST}:{free_port()}" for name in names}
    services = []
    try:
        services = start_services(stack, issuer, urls, {
            # Everything a developer might turn on while debugging: it must not leak either.
            "LOG_LEVEL": "DEBUG", "LOG_JSON": "true", "TRACE_EXPORTER": "console",
            "RELAY_IDLE_SECONDS": "0.05", "DELIVERY_IDLE_SECONDS": "0.1", "MAIL_DROP_DIR": str(stack.root / "mail"),
        })
        await wait_ready(services)
        await load_demo_data(stack, urls)
        yield System(urls, issuer, stack)
    finally:
        for service in services:
            await asyncio.to_thread(service.server.stop, 25.0)
        await stack.stop()


async def _published_entry(http: httpx.AsyncClient, urls: dict[str, str]) -> dict[str, Any]:
    page = (await http.get(f"{urls['catalog']}/micro-credentials", params={"limit": 50})).raise_for_status().json()
    item = page["items"][0]
    detail = (await http.get(f"{urls['catalog']}/micro-credentials/{item['id']}")).raise_for_status().json()
    scheme = str(((detail.get("content") or {}).get("grading") or {}).get("scheme"))
    return {"id": item["id"], "version": item["version"], "provider_id": item["provider_id"],
            "grade": {"pass-fail": "G", "pass-distinction": "VG", "a-f": "B"}.get(scheme)}


async def _scan_databases(mongo_url: str, needles: list[str]) -> dict[str, list[str]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    found: dict[str, list[str]] = {}
    try:
        for db_name in await client.list_database_names():
            if db_name in ("admin", "local", "config"):
                continue
            db = client[db_name]
            for collection in await db.list_collection_names():
                async for doc in db[collection].find({}):
                    text = json_util.dumps(doc, ensure_ascii=False)
                    for needle in needles:
                        if needle.lower() in text.lower():
                            found.setdefault(needle, []).append(f"{db_name}.{collection}")
    finally:
        await client.close()
    return found


async def _scan_topics(bootstrap_servers: str, needles: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    found: dict[str, list[str]] = {}
    try:
        topics = sorted(t for t in await consumer.topics() if not t.startswith("__"))
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or set())]
        consumer.assign(partitions)
        ends = await end_offsets(consumer, partitions)  # (it moves the positions: ask first, then rewind)
        await consumer.seek_to_beginning(*partitions)
        records_read = 0
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                records_read += len(records)
                for r in records:
                    raw = b"".join([r.key or b"", r.value or b"", *((k.encode() + (v or b"")) for k, v in r.headers)])
                    text = raw.decode("utf-8", "replace").lower()
                    for needle in needles:
                        if needle.lower() in text:
                            found.setdefault(needle, []).append(tp.topic)
        assert records_read >= sum(ends.values()) > 0, "the topic scan did not read every record"
        return found, topics
    finally:
        await consumer.stop()


def _scan_logs(folder: Path, needles: list[str]) -> tuple[dict[str, list[str]], int]:
    found: dict[str, list[str]] = {}
    spans = 0
    for log in sorted(folder.glob("*.log")):
        text = log.read_text(encoding="utf-8", errors="replace")
        spans += text.count('"trace_id"')
        for needle in needles:
            if needle.lower() in text.lower():
                found.setdefault(needle, []).append(log.name)
    return found, spans


async def test_an_erased_learner_leaves_nothing_readable_anywhere_and_her_credential_still_verifies(
        system: System) -> None:
    urls = system.urls
    async with httpx.AsyncClient(timeout=30) as http:
        entry = await _published_entry(http, urls)
        provider = entry["provider_id"]
        staff = system.auth(f"staff-{provider}", Role.PROVIDER_MEMBER, provider)
        issuance = urls["issuance"]

        # 1. The provider's system registers its learners over HTTPS (twice: the same refs).
        people = [ERASED, KEPT]
        answer = await http.post(f"{issuance}/v1/providers/{provider}/learners", json={"learners": people},
                                 headers=staff)
        assert answer.status_code == 200, answer.text
        refs = [row["learner_ref"] for row in answer.json()["learners"]]
        again = await http.post(f"{issuance}/v1/providers/{provider}/learners", json={"learners": people},
                                headers=staff)
        assert [row["learner_ref"] for row in again.json()["learners"]] == refs
        erased_ref, kept_ref = refs

        # 2. ... and sends signed v2 events carrying only the learner_refs.
        secret = (await http.post(f"{issuance}/v1/providers/{provider}/event-secrets", headers=staff)).json()["secret"]
        producer = new_producer(system.stack.kafka_bootstrap_servers)
        await producer.start()
        event_ids = []
        try:
            for ref in refs:
                data = {"provider_event_id": f"lms-{uuid.uuid4().hex[:12]}", "provider_id": provider,
                        "micro_credential_id": entry["id"], "version": entry["version"], "learner_ref": ref,
                        "result": "passed", "grade": entry["grade"], "assessed_on": date.today().isoformat(),
                        "evidence_url": None}
                event = Event(type="provider.assessment.recorded.v2", source=f"/providers/{provider}/lms",
                              partition_key=data["provider_event_id"], data=data)
                record = to_kafka(event)
                headers = [*record.headers, *((k, v.encode()) for k, v in sign_record(
                    secret, event.id, datetime.now(UTC), record.value).items())]
                await producer.send_and_wait("provider.assessments", record.value, key=record.key, headers=headers)
                event_ids.append(data["provider_event_id"])
        finally:
            await producer.stop()

        # 3. One more credential for her through the API (personal data over HTTPS, never on a topic).
        body = {"micro_credential_id": entry["id"], "version": entry["version"],
                "learner": {k: ERASED[k] for k in ("name", "email", "personal_identity_number", "language")},
                "assessed_on": date.today().isoformat(), **({"grade": entry["grade"]} if entry["grade"] else {})}
        api_issued = await http.post(f"{issuance}/v1/providers/{provider}/credentials", json=body, headers=staff)
        assert api_issued.status_code == 201, api_issued.text
        assert api_issued.json()["learner_ref"] == erased_ref  # the same person, recognised

        her = system.auth(ERASED["email"], Role.LEARNER)
        him = system.auth(KEPT["email"], Role.LEARNER)

        async def credentials_of(headers: dict[str, str], count: int) -> list[dict[str, Any]] | None:
            items = (await http.get(f"{issuance}/v1/me/credentials", headers=headers)).json()["items"]
            return items if len(items) >= count else None

        hers = await eventually(lambda: credentials_of(her, 2), timeout=90)
        assert hers is not None, "her two credentials were not issued"
        assert await eventually(lambda: credentials_of(him, 1), timeout=90) is not None

        # Her learner e-mails reach notifications' delivery log (the address asked at send time).
        mail_dir = system.stack.root / "mail"

        async def mailed() -> bool | None:
            texts = [p.read_text(errors="replace") for p in mail_dir.glob("*.eml")] if mail_dir.exists() else []
            return True if sum(ERASED["email"] in t for t in texts) >= 2 else None

        assert await eventually(mailed, timeout=90), "her credential e-mails were not sent"

        # Before the erasure: she downloads one credential (JWS) and the provider revokes the other.
        kept_copy, revoked_copy = hers[0]["credential_id"], hers[1]["credential_id"]
        jws = (await http.get(f"{issuance}/v1/me/credentials/{kept_copy}/download", params={"format": "jws"},
                              headers=her)).text
        revoked_jws = (await http.get(f"{issuance}/v1/me/credentials/{revoked_copy}/download",
                                      params={"format": "jws"}, headers=her)).text
        revoked = await http.post(f"{issuance}/v1/credentials/{revoked_copy}/revocation",
                                  json={"reason": "bedömningen gjordes om"}, headers=staff)
        assert revoked.status_code == 200, revoked.text

        # 4. Export: everything about her from every service, nothing about him.
        export = await http.get(f"{issuance}/v1/me/personal-data", headers=her)
        assert export.status_code == 200, export.text
        document = export.json()
        text = json.dumps(document, ensure_ascii=False)
        assert document["learner_ref"] == erased_ref
        assert document["services"]["issuance"]["learner"]["email"] == ERASED["email"].lower()
        assert {c["credential_id"] for c in document["services"]["issuance"]["credentials"]} == {
            c["credential_id"] for c in hers}
        mails = document["services"]["notifications"]["email_deliveries"]
        assert {m["credential_id"] for m in mails} == {c["credential_id"] for c in hers}
        for other in (kept_ref, KEPT["name"], KEPT["email"].lower()):
            assert other not in text, f"the export holds {other}, which is about someone else"
        for pin in pin_forms(ERASED["personal_identity_number"]):
            assert pin not in text  # not even in her own export: it was never kept

        # The scan below sees her before the erasure (so its silence afterwards means something).
        before = await _scan_databases(system.stack.mongo_url, [ERASED["name"], ERASED["email"]])
        assert any(p.endswith(".learners") for p in before.get(ERASED["name"], [])), before
        assert any(p.endswith(".credentials") for p in before.get(ERASED["email"], [])) or ERASED["email"] in before

        # 5. She asks for erasure; every service confirms.
        asked = await http.post(f"{issuance}/v1/me/erasure", headers=her)
        assert asked.status_code == 202, asked.text
        status_url = f"{issuance}{asked.headers['location']}"

        async def complete() -> dict[str, Any] | None:
            state = (await http.get(status_url, headers=her)).json()
            return state if state["status"] == "complete" else None

        state = await eventually(complete, timeout=90)
        assert state is not None, (await http.get(status_url, headers=her)).text
        assert {c["service"] for c in state["confirmed"]} == {"issuance", "notifications"}
        assert (await http.get(f"{issuance}/v1/me/credentials", headers=her)).json()["items"] == []

        # 6. Her copies still verify honestly.
        valid = (await http.post(f"{issuance}/v1/verify", json={"credential": jws})).json()
        assert valid["verified"] is True, valid
        gone = (await http.post(f"{issuance}/v1/verify", json={"credential": revoked_jws})).json()
        assert gone["verified"] is False, gone
        status = next(c for c in gone["checks"] if c["check"] == "status")
        assert not status["ok"] and "revoked" in status["reason"], gone
        assert "bedömningen gjordes om" in json.dumps(gone, ensure_ascii=False)

    # Let the relays and consumers settle, then scan everything.
    await asyncio.sleep(2)  # the last confirmations' offsets and log lines reach disk
    hers_texts, his_pins = personal_texts(ERASED), pin_forms(KEPT["personal_identity_number"])
    needles = [*hers_texts, *his_pins, KEPT["name"], erased_ref]
    in_db = await _scan_databases(system.stack.mongo_url, needles)
    in_topics, topics = await _scan_topics(system.stack.kafka_bootstrap_servers, needles)
    in_logs, spans = _scan_logs(system.stack.root / "logs", needles)
    assert {"provider.assessments", "provider.assessments.dlq", "privacy.erasures",
            "privacy.erasure-confirmations", "issuance.credentials"} <= set(topics)
    assert spans > 100, "the services' spans were not captured in their logs"
    for needle in [*hers_texts, *his_pins]:
        assert needle not in in_db, f"{needle!r} found in the databases: {in_db[needle]}"
        assert needle not in in_topics, f"{needle!r} found on topics: {in_topics[needle]}"
        assert needle not in in_logs, f"{needle!r} found in logs or spans: {in_logs[needle]}"
    # The scan sees data: her pseudonym is on the topics that carry it (and names nobody now) ...
    assert {"provider.assessments", "issuance.credentials", "privacy.erasures"} <= set(in_topics.get(erased_ref, [])), \
        in_topics.get(erased_ref)
    # ... and the learner who was not erased is still in issuance's learner record.
    assert any(place.endswith(".learners") for place in in_db.get(KEPT["name"], [])), in_db
