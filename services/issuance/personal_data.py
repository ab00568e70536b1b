"""A learner's data export (GDPR Art. 15 and 20): issuance's own records plus every other
service's part, asked over HTTP at the moment of the request, as one JSON document.

``GET {notifications_url}/v1/internal/learners/{learner_ref}/personal-data`` with a service
token. If a service cannot answer, the export fails with the reason rather than silently
leaving that service's part out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
from fastapi.encoders import jsonable_encoder

from mimis_platform.mongo import Document
from mimis_platform.service_tokens import TokenSource, TokenUnavailable
from services.issuance.api.models import status_of
from services.issuance.storage import CredentialStore, iso


class PartUnavailable(Exception):
    """A service holding data about learners could not give its part now."""


class ServicePart:
    """One other service's part of an export."""

    def __init__(self, name: str, http: httpx.AsyncClient, base_url: str, tokens: TokenSource) -> None:
        self.name, self.http, self.base, self.tokens = name, http, base_url.rstrip("/"), tokens

    async def of(self, learner_ref: str) -> dict[str, Any]:
        try:
            token = await self.tokens.token()
            url = f"{self.base}/v1/internal/learners/{quote(learner_ref, safe='')}/personal-data"
            answer = await self.http.get(url, headers={"authorization": f"Bearer {token}",
                                                       "accept": "application/json"})
        except (httpx.HTTPError, TokenUnavailable) as exc:
            raise PartUnavailable(f"{self.name} could not be reached ({type(exc).__name__})") from exc
        if answer.status_code != 200:
            raise PartUnavailable(f"{self.name} answered {answer.status_code}")
        try:
            body = answer.json()
        except ValueError as exc:
            raise PartUnavailable(f"{self.name} answered something that is not JSON") from exc
        if not isinstance(body, dict):
            raise PartUnavailable(f"{self.name} answered something that is not a JSON object")
        return body


def _issuance_part(data: Document) -> dict[str, Any]:
    learner = data["learner"] or {}
    record: dict[str, Any] | None = None
    if learner:
        record = {
            "name": learner.get("name"), "email": learner.get("email"), "date_of_birth": learner.get("date_of_birth"),
            "language": learner.get("language"), "registered_at": learner.get("created_at"),
            "erased_at": learner.get("erased_at"),
            # The number itself is never kept; only this keyed look-up value (meaningless without the key).
            "personal_identity_number_lookup_value": learner.get("pin_lookup"),
        }
    credentials = [{
        "credential_id": c["_id"], "provider_id": c["provider_id"], "micro_credential_id": c["micro_credential_id"],
        "version": c["version"], "issued_at": c["issued_at"], "status": status_of(c),
        "revoked_at": c.get("revoked_at"), "revocation_reason": c.get("revocation_reason"),
        "suspended_at": c.get("suspended_at"), "suspension_reason": c.get("suspension_reason"),
        "reinstated_at": c.get("reinstated_at"), "reinstatement_reason": c.get("reinstatement_reason"),
        "erased": bool(c.get("erased")), "credential": c.get("document"), "jws": c.get("jws"),
    } for c in data["credentials"]]
    shares = [{"credential_id": s["credential_id"], "created_at": s["created_at"], "expires_at": s["expires_at"],
               "withdrawn_at": s.get("withdrawn_at"), "created_by": s.get("created_by")} for s in data["shares"]]
    erasures = [{"erasure_id": e["_id"], "requested_at": e["requested_at"], "requested_by": e["requested_by"],
                 "completed_at": e.get("completed_at")} for e in data["erasures"]]
    return {"service": "issuance", "learner": record, "credentials": credentials, "share_links": shares,
            "erasure_requests": erasures}


async def export(learner_ref: str, store: CredentialStore, parts: list[ServicePart], now: datetime) -> dict[str, Any]:
    """One JSON document: what every service holds about the learner (raises PartUnavailable)."""
    services: dict[str, Any] = {"issuance": _issuance_part(await store.personal_data(learner_ref))}
    for part in parts:
        services[part.name] = await part.of(learner_ref)
    return jsonable_encoder({
        "learner_ref": learner_ref, "generated_at": iso(now),
        "about": "Everything MIMIS holds about you, per service (GDPR articles 15 and 20). Learners are named in "
                 "events and in other services only by the pseudonymous learner_ref.",
        "services": services,
    })
