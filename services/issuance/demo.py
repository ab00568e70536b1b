"""The issuance part of ``make run``'s demo, run after the catalog's loader: demo providers'
staff issue a few credentials from the published demo entries through the issuance API, one
provider's system registers two learners over HTTPS for their ``learner_ref`` and sends two
signed ``provider.assessment.recorded.v2`` events over Kafka (the provider contract), and one
credential is revoked, so every state can be seen and verified.

Demo learners log in with their e-mail address as the token subject, e.g.
``.venv/bin/python -m mimis_platform.devstack token demo.maja@example.se --role learner``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from mimis_platform.auth import DevelopmentIssuer, Role
from mimis_platform.envelope import Event, to_kafka
from mimis_platform.kafka import new_producer
from services.issuance.domain.assessment import sign_record

DEMO_LEARNERS = (
    ("Maja Berg", "demo.maja@example.se", "sv"),
    ("Yusuf Ali", "demo.yusuf@example.se", "sv"),
    ("Elin Holm", "demo.elin@example.se", "en"),
)
_PASS_GRADE = {"pass-fail": "G", "pass-distinction": "VG", "a-f": "B"}


def _auth(issuer: DevelopmentIssuer, subject: str, role: Role, org: list[str] | None = None) -> dict[str, str]:
    return {"authorization": f"Bearer {issuer.token(subject, [role], org or [])}"}


async def _published(catalog: httpx.AsyncClient) -> list[dict[str, Any]]:
    page = (await catalog.get("/micro-credentials", params={"limit": 50})).raise_for_status().json()
    entries = []
    for item in page["items"]:
        detail = (await catalog.get(f"/micro-credentials/{item['id']}")).raise_for_status().json()
        entries.append({"id": item["id"], "version": item["version"], "provider_id": item["provider_id"],
                        "grading": ((detail.get("content") or {}).get("grading") or {}).get("scheme")})
    return entries


async def _issue(http: httpx.AsyncClient, staff: dict[str, str], entry: dict[str, Any], learner: tuple[str, str, str],
                 deadline: float) -> dict[str, Any]:
    body: dict[str, Any] = {"micro_credential_id": entry["id"], "version": entry["version"],
                            "learner": {"name": learner[0], "email": learner[1], "language": learner[2]},
                            "assessed_on": date.today().isoformat()}
    if entry["grading"] in _PASS_GRADE:
        body["grade"] = _PASS_GRADE[entry["grading"]]
    while True:
        answer = await http.post(f"/v1/providers/{entry['provider_id']}/credentials", json=body, headers=staff)
        if answer.status_code == 201:
            return dict(answer.json())
        # Issuance learns of published versions from the catalog's events: wait for them to arrive.
        if answer.status_code != 422 or "not known" not in answer.text or time.monotonic() > deadline:
            answer.raise_for_status()
            raise RuntimeError(f"issuing the demo credential failed: {answer.text}")
        await asyncio.sleep(0.5)  # poll interval while issuance consumes the catalog's events


async def load_demo(issuance_url: str, catalog_url: str, kafka: str, issuer: DevelopmentIssuer,
                    say: Callable[[str], None] = print, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=catalog_url, timeout=30) as catalog:
        entries = await _published(catalog)
    if not entries:
        raise RuntimeError("the catalog has no published demo entries to issue credentials for")
    async with httpx.AsyncClient(base_url=issuance_url, timeout=60) as http:
        first = entries[0]
        staff = _auth(issuer, f"demo-staff-{first['provider_id']}", Role.PROVIDER_MEMBER, [first["provider_id"]])
        listed = (await http.get(f"/v1/providers/{first['provider_id']}/credentials", headers=staff)).json()
        if listed.get("items"):
            say("issuance demo already loaded")
            return False
        issued = []
        for i, entry in enumerate(entries[:3]):
            member = _auth(issuer, f"demo-staff-{entry['provider_id']}", Role.PROVIDER_MEMBER, [entry["provider_id"]])
            issued.append(await _issue(http, member, entry, DEMO_LEARNERS[i % len(DEMO_LEARNERS)], deadline))
        # One provider's system: a signing secret; its learners registered over HTTPS (the events
        # name them only by learner_ref); then two signed assessment events over Kafka.
        secret = (await http.post(f"/v1/providers/{first['provider_id']}/event-secrets", headers=staff)
                  ).raise_for_status().json()["secret"]
        event_learners = DEMO_LEARNERS[1:]
        registered = (await http.post(
            f"/v1/providers/{first['provider_id']}/learners", headers=staff,
            json={"learners": [{"name": name, "email": email, "language": language}
                               for name, email, language in event_learners]})).raise_for_status().json()
        refs = [str(row["learner_ref"]) for row in registered["learners"]]
        producer = new_producer(kafka)
        await producer.start()
        event_ids = []
        try:
            for learner_ref in refs:
                event_id = f"demo-lms-{uuid.uuid4().hex[:10]}"
                event_ids.append(event_id)
                data = {"provider_event_id": event_id, "provider_id": first["provider_id"],
                        "micro_credential_id": first["id"], "version": first["version"],
                        "learner_ref": learner_ref, "result": "passed",
                        "grade": _PASS_GRADE.get(first["grading"] or ""), "assessed_on": date.today().isoformat(),
                        "evidence_url": None}
                event = Event(type="provider.assessment.recorded.v2", source=f"/providers/{first['provider_id']}/lms",
                              partition_key=event_id, data=data)
                record = to_kafka(event)
                signed = sign_record(secret, event.id, datetime.now(UTC), record.value)
                await producer.send_and_wait("provider.assessments", record.value, key=record.key,
                                             headers=[*record.headers, *((k, v.encode()) for k, v in signed.items())])
        finally:
            await producer.stop()
        revoked = issued[-1]
        (await http.post(f"/v1/credentials/{revoked['credential_id']}/revocation",
                         json={"reason": "Demo: utfärdad till fel deltagare"},
                         headers=_auth(issuer, f"demo-staff-{revoked['provider_id']}", Role.PROVIDER_MEMBER,
                                       [revoked["provider_id"]]))).raise_for_status()
    say(f"issuance demo: {len(issued)} credentials issued through the API (one revoked), {len(event_ids)} "
        f"signed provider events sent; learners: {', '.join(e for _, e, _ in DEMO_LEARNERS)}")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description="Issue demo credentials in a running system.")
    parser.add_argument("--stack-dir", type=Path, required=True)
    parser.add_argument("--kafka", required=True)
    parser.add_argument("--issuance-url", required=True)
    parser.add_argument("--catalog-url", required=True)
    args, _ = parser.parse_known_args()
    issuer = DevelopmentIssuer.load_or_create(args.stack_dir / "dev-issuer-key.json")
    asyncio.run(load_demo(args.issuance_url, args.catalog_url, args.kafka, issuer))


if __name__ == "__main__":
    main()
