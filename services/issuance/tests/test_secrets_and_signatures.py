"""Pure checks: sealing at rest, providers' Standard Webhooks signatures, the personal identity
number look-up value, and settings that refuse development secrets in production."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from mimis_platform.settings import DEVELOPMENT_SECRET
from services.issuance.domain.assessment import (
    AssessmentRefused,
    LearnerData,
    command_from_assessment,
    learner_of_request,
    new_provider_secret,
    pin_lookup,
    sign_record,
    signature_problem,
)
from services.issuance.domain.sealing import Sealer, SealError
from services.issuance.settings import IssuanceSettings
from services.issuance.tests.service_factories import assessment

VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_sealed_values_open_only_with_the_same_key_and_label() -> None:
    sealer = Sealer("a key-encryption key")
    sealed = sealer.seal(b"private key bytes", "signing-key:k1")
    assert b"private key bytes" not in sealed.ciphertext
    assert Sealer("a key-encryption key").open(sealed, "signing-key:k1") == b"private key bytes"
    with pytest.raises(SealError):
        Sealer("another key").open(sealed, "signing-key:k1")
    with pytest.raises(SealError):
        sealer.open(sealed, "signing-key:k2")  # moved onto another key's record
    assert "private" not in repr(sealer) and sealer.kek_id == Sealer("a key-encryption key").kek_id


def test_the_standard_webhooks_test_vector_verifies_without_a_time_window() -> None:
    headers = {"webhook-id": VECTOR_ID, "webhook-timestamp": "1614265330", "webhook-signature": VECTOR_SIGNATURE}
    # 2021's timestamp: a webhook receiver would refuse it; a Kafka event may wait that long.
    assert signature_problem(VECTOR_BODY, headers, VECTOR_ID, [VECTOR_SECRET]) is None
    assert sign_record(VECTOR_SECRET, VECTOR_ID, datetime.fromtimestamp(1614265330, UTC),
                       VECTOR_BODY)["webhook-signature"] == VECTOR_SIGNATURE
    rotating = {**headers, "webhook-signature": f"v1,bm9wZQ== {VECTOR_SIGNATURE}"}
    assert signature_problem(VECTOR_BODY, rotating, VECTOR_ID, [new_provider_secret(), VECTOR_SECRET]) is None


@pytest.mark.parametrize(("change", "expected"), [
    ({"webhook-id": "msg_other"}, "webhook-id is not the event's id"),
    ({"webhook-timestamp": "1614265331"}, "no signature matches"),
    ({"webhook-signature": "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}, "no v1 signature"),
    ({"webhook-signature": ""}, "missing Standard Webhooks headers"),
    ({"webhook-timestamp": "yesterday"}, "unix seconds"),
])
def test_signature_problems_are_named(change: dict[str, str], expected: str) -> None:
    headers = {"webhook-id": VECTOR_ID, "webhook-timestamp": "1614265330", "webhook-signature": VECTOR_SIGNATURE,
               **change}
    problem = signature_problem(VECTOR_BODY, headers, VECTOR_ID, [VECTOR_SECRET])
    assert problem is not None and expected in problem


def test_a_changed_body_or_another_providers_secret_fails() -> None:
    headers = {"webhook-id": VECTOR_ID, "webhook-timestamp": "1614265330", "webhook-signature": VECTOR_SIGNATURE}
    assert signature_problem(b'{"test": 2432232315}', headers, VECTOR_ID, [VECTOR_SECRET])
    assert signature_problem(VECTOR_BODY, headers, VECTOR_ID, [new_provider_secret()])
    assert "no event-signing secret" in (signature_problem(VECTOR_BODY, headers, VECTOR_ID, []) or "")


def test_new_secrets_are_standard_webhooks_secrets() -> None:
    import base64

    secret = new_provider_secret()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert new_provider_secret() != secret


def test_the_personal_identity_number_becomes_a_keyed_lookup_value_only() -> None:
    a = pin_lookup("19900517-1237", b"key one")
    assert a == pin_lookup("900517-1237", b"key one") == pin_lookup("199005171237", b"key one")
    assert a != pin_lookup("19900517-1237", b"key two")
    assert "9005171237" not in a and a.startswith("hmac-sha256$")
    with pytest.raises(AssessmentRefused) as refused:
        pin_lookup("19900517-1230", b"key one")
    assert "1230" not in str(refused.value)
    learner = learner_of_request("Sara", "s@example.se", personal_identity_number="19900517-1237",
                                 lookup_key=b"key one")
    assert learner.pin_lookup == a
    command = command_from_assessment(assessment("p", "m"), learner)
    assert "Sara" not in repr(command) and "s@example.se" not in repr(command.learner)


def test_learner_data_refuses_a_personal_identity_number_in_name_or_address() -> None:
    with pytest.raises(AssessmentRefused):
        LearnerData(name="Sara 19900517-1237", email="s@example.se")
    with pytest.raises(AssessmentRefused):
        LearnerData(name="Sara", email="199005171237@example.se")


@pytest.mark.parametrize("name", ["key_encryption_key", "learner_lookup_key"])
def test_production_refuses_the_development_secrets(name: str) -> None:
    production: dict[str, Any] = {
        "environment": "production", "auth_jwks": json.dumps({"keys": []}), "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_sasl_username": "issuance", "kafka_sasl_password": "p" * 30,
        "key_encryption_key": "k" * 40, "learner_lookup_key": "l" * 40, "secret_key": "s" * 40,
        "token_url": "https://login.example/token"}
    assert IssuanceSettings(**production).environment == "production"  # everything else is production-ready
    with pytest.raises(ValidationError) as refused:
        IssuanceSettings(**{**production, name: DEVELOPMENT_SECRET})
    assert name in str(refused.value)
