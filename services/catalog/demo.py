"""Loads the demo data (``demo_data.py``) into a running catalog, through its public API, as the
demo providers' members would. Used by ``make run``.

The demo entries are approved by the quality service, through its API, as the board would do
it (:mod:`services.quality.demo`: demo reviewers are registered, assigned, fill in their
checklists and approve); its decisions reach the catalog as ``quality.review.decided.v1`` events
and the catalog publishes through its ordinary consumer, never by hand.

``review_events`` and ``send_events`` stand in for the quality service where the catalog is
tested on its own (its tests send the board's events directly).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.envelope import Event, to_kafka
from mimis_platform.kafka import new_producer
from services.catalog.demo_data import DEMO_MICRO_CREDENTIALS, DEMO_PATHWAYS, DEMO_PROVIDERS
from services.quality.demo import approve_through_quality

REVIEWING_BODY = "Kvalitetsrådet för mikromeriter i Skåne"


def review_events(micro_credential_id: str, version: int, provider_id: str, decision: str,
                  **decided: Any) -> list[Event]:
    """The two events the quality board sends for one review (opened, then decided)."""
    review_id = f"rv-{uuid.uuid4().hex[:12]}"
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    base = {"review_id": review_id, "micro_credential_id": micro_credential_id, "version": version,
            "provider_id": provider_id, "criteria_version": "2026.1"}
    return [
        Event(type="quality.review.opened.v1", source="/mimis/quality", partition_key=micro_credential_id,
              data={**base, "opened_at": now}),
        Event(type="quality.review.decided.v1", source="/mimis/quality", partition_key=micro_credential_id,
              data={**base, "decision": decision, "reviewing_body": REVIEWING_BODY, "decided_at": now, **decided}),
    ]


async def send_events(bootstrap_servers: str, events: list[Event], topic: str = "quality.reviews") -> None:
    producer = new_producer(bootstrap_servers)
    await producer.start()
    try:
        for event in events:
            record = to_kafka(event)
            await producer.send_and_wait(topic, record.value, key=record.key, headers=record.headers)
    finally:
        await producer.stop()


async def load_demo(catalog_url: str, issuer: DevelopmentIssuer, quality_url: str,
                    say: Callable[[str], None] = print, timeout: float = 120.0) -> bool:
    """Load the demo; returns False (and changes nothing) when it is already there."""

    def auth(subject: str, *roles: str) -> dict[str, str]:
        return {"authorization": f"Bearer {issuer.token(subject, roles)}"}

    first_member = {p["id"]: p["members"][0] for p in DEMO_PROVIDERS}
    async with httpx.AsyncClient(base_url=catalog_url, timeout=30) as http:
        if (await http.get(f"/providers/{DEMO_PROVIDERS[0]['id']}")).status_code == 200:
            say("demo data already loaded")
            return False
        for provider in DEMO_PROVIDERS:
            member = provider["members"][0]
            answer = await http.post("/providers", json={"id": provider["id"], **provider["details"]},
                                     headers=auth(member, "provider-member"))
            answer.raise_for_status()
            for colleague in provider["members"][1:]:
                (await http.post(f"/providers/{provider['id']}/members", json={"subject": colleague},
                                 headers=auth(member))).raise_for_status()
        ids: dict[str, str] = {}
        for entry in DEMO_MICRO_CREDENTIALS:
            member = first_member[entry["provider_id"]]
            answer = await http.post("/micro-credentials", json={"provider_id": entry["provider_id"],
                                                                 "content": entry["content"]}, headers=auth(member))
            answer.raise_for_status()
            mc_id = answer.json()["micro_credential_id"]
            ids[entry["key"]] = mc_id
            (await http.post(f"/micro-credentials/{mc_id}/versions/1/submit", headers=auth(member))).raise_for_status()
        await approve_through_quality(quality_url, issuer, ids.values(), say=say, timeout=timeout)
        deadline = time.monotonic() + timeout
        pending = set(ids.values())
        while pending and time.monotonic() < deadline:
            for mc_id in list(pending):
                if (await http.get(f"/micro-credentials/{mc_id}")).status_code == 200:
                    pending.discard(mc_id)
            if pending:
                await asyncio.sleep(0.2)  # poll interval while the catalog consumes the decisions
        if pending:
            raise RuntimeError(f"{len(pending)} demo micro-credentials were not published in {timeout:.0f}s")
        for pathway in DEMO_PATHWAYS:
            content = dict(pathway["content"])
            content["micro_credential_ids"] = [ids[k] for k in content["micro_credential_ids"]]
            content["required"] = [ids[k] for k in content.get("required", [])]
            owner = pathway["owner_provider_id"]
            (await http.post("/pathways", json={"id": pathway["key"], "owner_provider_id": owner, "content": content},
                             headers=auth(first_member[owner]))).raise_for_status()
    say(f"demo data loaded: {len(DEMO_PROVIDERS)} providers, {len(ids)} micro-credentials, "
        f"{len(DEMO_PATHWAYS)} pathways")
    return True


def main() -> None:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description="Load the catalog's demo data into a running system.")
    parser.add_argument("--stack-dir", type=Path, required=True, help="The local stack's folder (its dev issuer key).")
    parser.add_argument("--catalog-url", required=True)
    parser.add_argument("--quality-url", required=True, help="The quality service, which approves the entries.")
    args, _ = parser.parse_known_args()  # the broker and other services' URLs are for other loaders
    issuer = DevelopmentIssuer.load_or_create(args.stack_dir / "dev-issuer-key.json")
    asyncio.run(load_demo(args.catalog_url, issuer, args.quality_url))


if __name__ == "__main__":
    main()
