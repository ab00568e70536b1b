"""The quality board's part of ``make run``'s demo: two demo reviewers approve the demo entries
through the quality API, as a board would (register, assign, checklist, verdict); the quality
service then sends its decisions to the catalog, which publishes.

The demo reviewers belong to organisations that are not demo providers, so no assignment meets
the conflict-of-interest rule.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from mimis_platform.auth import DevelopmentIssuer, Role
from services.quality.domain.criteria import PUBLISHED

DEMO_ADMIN = "demo-kvalitetsradet-admin"
DEMO_REVIEWERS: tuple[dict[str, Any], ...] = (
    {"subject": "demo-reviewer-karin", "display_name": "Karin Demo (granskare)", "organisations": ["region-skane"]},
    {"subject": "demo-reviewer-ali", "display_name": "Ali Demo (granskare)", "organisations": ["lo-distrikt-skane"]},
)


def _auth(issuer: DevelopmentIssuer, subject: str, role: Role, organisations: Iterable[str] = ()) -> dict[str, str]:
    return {"authorization": f"Bearer {issuer.token(subject, [role], organisations)}"}


async def _open_reviews(http: httpx.AsyncClient, admin: dict[str, str], wanted: set[str],
                        timeout: float) -> dict[str, dict[str, Any]]:
    """The open review of each wanted micro-credential, once the quality service has opened them all."""
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while True:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"status": "open", "limit": 100, **({"cursor": cursor} if cursor else {})}
            page = (await http.get("/reviews", params=params, headers=admin)).raise_for_status().json()
            found.update({r["micro_credential_id"]: r for r in page["items"] if r["micro_credential_id"] in wanted})
            cursor = page["next_cursor"]
            if cursor is None:
                break
        if wanted <= set(found):
            return found
        if time.monotonic() > deadline:
            raise RuntimeError(f"the quality service opened no review for {len(wanted - set(found))} demo entries "
                               f"in {timeout:.0f}s")
        await asyncio.sleep(0.2)  # poll interval while the quality service consumes the submissions


async def approve_through_quality(quality_url: str, issuer: DevelopmentIssuer, micro_credential_ids: Iterable[str],
                                  say: Callable[[str], None] = print, timeout: float = 120.0) -> int:
    """Approve each submitted demo entry through the quality API; returns how many verdicts it took."""
    admin = _auth(issuer, DEMO_ADMIN, Role.QUALITY_ADMIN)
    checklist = {"items": [{"criterion": code, "mark": "met"} for code in PUBLISHED["2026.1"].codes]}
    verdicts = 0
    async with httpx.AsyncClient(base_url=quality_url, timeout=30) as http:
        for reviewer in DEMO_REVIEWERS:
            answer = await http.post("/reviewers", json=reviewer, headers=admin)
            if answer.status_code != 409:  # already registered by an earlier run
                answer.raise_for_status()
        reviews = await _open_reviews(http, admin, set(micro_credential_ids), timeout)
        for review in reviews.values():
            if review["required_approvals"] > len(DEMO_REVIEWERS):
                raise RuntimeError(f"review {review['id']} needs {review['required_approvals']} approvals; the demo "
                                   f"has {len(DEMO_REVIEWERS)} reviewers (lower QUALITY_APPROVALS_REQUIRED_*)")
            for reviewer in DEMO_REVIEWERS[: review["required_approvals"]]:
                me = _auth(issuer, reviewer["subject"], Role.REVIEWER, reviewer["organisations"])
                (await http.post(f"/reviews/{review['id']}/assignments", json={"reviewer": reviewer["subject"]},
                                 headers=admin)).raise_for_status()
                (await http.put(f"/reviews/{review['id']}/checklist", json=checklist, headers=me)).raise_for_status()
                (await http.post(f"/reviews/{review['id']}/verdicts", json={"decision": "approve"},
                                 headers=me)).raise_for_status()
                verdicts += 1
    say(f"quality board: {len(reviews)} demo reviews approved with {verdicts} verdicts")
    return verdicts
