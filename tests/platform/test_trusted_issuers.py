"""Several trusted token issuers (the identity provider and the gateway, which signs tokens for
partners' API keys): the token's ``iss`` picks the verifier, and that verifier still checks the
signature and every claim, so naming a trusted issuer never makes a forged token pass."""

from __future__ import annotations

import json

import pytest

from mimis_platform.auth import DevelopmentIssuer, TokenVerifier, TrustedIssuers, Unauthenticated, verifier_for

IDP = DevelopmentIssuer(issuer="https://login.example.se")
GATEWAY = DevelopmentIssuer(issuer="https://gateway.example.se")


def _verifier() -> TrustedIssuers:
    verifier = verifier_for(IDP.issuer, "mimis", json.dumps(IDP.jwks()),
                            json.dumps([{"issuer": GATEWAY.issuer, "jwks": GATEWAY.jwks()}]))
    assert isinstance(verifier, TrustedIssuers)
    return verifier


def test_each_trusted_issuer_is_accepted_with_its_own_key() -> None:
    verifier = _verifier()
    assert verifier.verify(IDP.token("anna", ["provider-member"], ["hkr"])).organisations == {"hkr"}
    assert verifier.verify(GATEWAY.token("api-key:1", ["employer"])).subject == "api-key:1"


def test_a_token_naming_a_trusted_issuer_but_signed_by_another_key_is_refused() -> None:
    forger = DevelopmentIssuer(issuer=GATEWAY.issuer)  # same issuer name, its own key
    with pytest.raises(Unauthenticated):
        _verifier().verify(forger.token("api-key:1", ["region-admin"]))
    idp_signed_as_gateway = DevelopmentIssuer(issuer=GATEWAY.issuer, key=IDP.key)
    with pytest.raises(Unauthenticated):
        _verifier().verify(idp_signed_as_gateway.token("x", ["ops"]))


def test_unknown_issuers_and_garbage_are_refused() -> None:
    for token in (DevelopmentIssuer(issuer="https://evil.example").token("x"), "not.a.token", "", "a.b"):
        with pytest.raises(Unauthenticated):
            _verifier().verify(token)


def test_one_issuer_alone_is_a_plain_verifier_and_none_is_none() -> None:
    assert isinstance(verifier_for(IDP.issuer, "mimis", json.dumps(IDP.jwks())), TokenVerifier)
    assert verifier_for(IDP.issuer, "mimis", "") is None
