"""Who a learner is, asked from issuance at the moment an e-mail is sent (events carry only the
pseudonymous ``learner_ref``; this service keeps no learner's address).

``GET {issuance_url}/v1/internal/credentials/{credential_id}/recipient`` with a service token:
200 the contact details, 404 unknown credential, 410 the learner was erased.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import httpx

from mimis_platform.service_tokens import TokenSource, TokenUnavailable


@dataclass(frozen=True)
class Recipient:
    learner_ref: str
    email: str
    name: str
    language: str
    share_url: str


class Erased(Exception):
    """The learner was erased: send nothing, never retry."""


class UnknownCredential(Exception):
    pass


class RecipientUnavailable(Exception):
    """Issuance could not answer now (down, 5xx, token trouble): try again later."""


class IssuanceRecipients:
    def __init__(self, http: httpx.AsyncClient, issuance_url: str, tokens: TokenSource) -> None:
        self.http, self.base, self.tokens = http, issuance_url.rstrip("/"), tokens

    async def recipient(self, credential_id: str) -> Recipient:
        try:
            token = await self.tokens.token()
            answer = await self.http.get(
                f"{self.base}/v1/internal/credentials/{quote(credential_id, safe='')}/recipient",
                headers={"authorization": f"Bearer {token}", "accept": "application/json"})
        except (httpx.HTTPError, TokenUnavailable) as exc:
            raise RecipientUnavailable(f"issuance unreachable: {type(exc).__name__}: {exc}") from exc
        if answer.status_code == 410:
            raise Erased(credential_id)
        if answer.status_code == 404:
            raise UnknownCredential(credential_id)
        if answer.status_code != 200:
            raise RecipientUnavailable(f"issuance answered {answer.status_code}")
        try:
            body = answer.json()
            return Recipient(str(body["learner_ref"]), str(body["email"]), str(body["name"]),
                             str(body.get("language") or "sv"), str(body["share_url"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise RecipientUnavailable("issuance's answer lacks a field of the recipient contract") from exc
