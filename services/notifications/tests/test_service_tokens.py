"""Service tokens (``mimis_platform.service_tokens``) against a real OAuth2 token endpoint, and
the issuance recipient client against a real server implementing the recipient contract."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mimis_platform.auth import DevelopmentIssuer, Role
from mimis_platform.service_tokens import (
    ClientCredentialsTokenSource,
    DevelopmentTokenSource,
    TokenUnavailable,
)
from services.notifications.recipients import Erased, IssuanceRecipients, RecipientUnavailable, UnknownCredential
from services.notifications.tests.servers import IssuanceRecipientEndpoint, TokenEndpoint


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_client_credentials_are_fetched_once_and_renewed_before_expiry() -> None:
    clock = Clock()
    with TokenEndpoint("mimis-notifications", "s3cret", expires_in=300) as endpoint:
        async with httpx.AsyncClient() as http:
            source = ClientCredentialsTokenSource(http, endpoint.url, "mimis-notifications", "s3cret",
                                                  scope="issuance.recipients", audience="mimis", clock=clock)
            assert await source.token() == "token-1"
            clock.now += 200
            assert await source.token() == "token-1"  # cached
            clock.now += 50  # 250 s of 300: inside the renewal margin
            assert await source.token() == "token-2"
            assert endpoint.requests[0] == {"grant_type": "client_credentials", "scope": "issuance.recipients",
                                            "audience": "mimis"}
            wrong = ClientCredentialsTokenSource(http, endpoint.url, "mimis-notifications", "wrong")
            with pytest.raises(TokenUnavailable, match="401"):
                await wrong.token()
            unreachable = ClientCredentialsTokenSource(http, "http://127.0.0.1:9/token", "x", "y")
            with pytest.raises(TokenUnavailable, match="unreachable"):
                await unreachable.token()


async def test_development_tokens_carry_the_service_role(dev_issuer: DevelopmentIssuer, tmp_path: Path) -> None:
    source = DevelopmentTokenSource(dev_issuer, "service:notifications")
    token = await source.token()
    principal = dev_issuer.verifier().verify(token)
    assert principal.subject == "service:notifications" and principal.has_role(Role.SERVICE)
    assert await source.token() == token  # cached until near expiry
    with pytest.raises(TokenUnavailable, match="make run"):
        DevelopmentTokenSource.from_key_file(tmp_path / "missing.json", "s", "i", "a")
    key_file = tmp_path / "dev-issuer-key.json"
    written = DevelopmentIssuer.load_or_create(key_file)
    loaded = DevelopmentTokenSource.from_key_file(key_file, "service:notifications", written.issuer, written.audience)
    assert written.verifier().verify(await loaded.token()).has_role(Role.SERVICE)


async def test_the_recipient_client_speaks_the_contract(dev_issuer: DevelopmentIssuer) -> None:
    with IssuanceRecipientEndpoint(dev_issuer.verifier()) as issuance:
        issuance.recipients["cred-1"] = {"learner_ref": "lr-1", "email": "anna@example.se", "name": "Anna",
                                         "language": "sv", "share_url": "https://x/dela/1"}
        issuance.recipients["cred-2"] = "erased"
        async with httpx.AsyncClient() as http:
            client = IssuanceRecipients(http, issuance.url, DevelopmentTokenSource(dev_issuer, "service:notif"))
            found = await client.recipient("cred-1")
            assert (found.email, found.language, found.share_url) == ("anna@example.se", "sv", "https://x/dela/1")
            with pytest.raises(Erased):
                await client.recipient("cred-2")
            with pytest.raises(UnknownCredential):
                await client.recipient("cred-3")
            # A person's token (no service role) is refused by the endpoint: not a 200.
            person = IssuanceRecipients(http, issuance.url, _Fixed(dev_issuer.token("anna", ["learner"])))
            with pytest.raises(RecipientUnavailable, match="403"):
                await person.recipient("cred-1")
            down = IssuanceRecipients(http, "http://127.0.0.1:9", DevelopmentTokenSource(dev_issuer, "s"))
            with pytest.raises(RecipientUnavailable, match="unreachable"):
                await down.recipient("cred-1")


class _Fixed:
    def __init__(self, token: str) -> None:
        self._token = token

    async def token(self) -> str:
        return self._token
