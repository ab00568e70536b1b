"""E-mail over a real SMTP server (aiosmtpd): a learner's new credential (address asked from
issuance's recipient endpoint, served for real, at send time), a provider's review outcome."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from services.notifications.domain import emails
from services.notifications.mailer import Mailer, SmtpConfig
from services.notifications.settings import NotificationsSettings
from services.notifications.tests.conftest import NotificationsUnderTest
from services.notifications.tests.factories import issued, provider_registered, review_decided, uid


async def _stored_anywhere(n: NotificationsUnderTest, text: str) -> list[str]:
    """Collections of the service's database that hold ``text`` anywhere in a document."""
    db = n.app.state.runtime.db
    found = []
    for name in await db.list_collection_names():
        async for doc in db[name].find({}):
            if text in str(doc):
                found.append(name)
                break
    return found


async def test_a_learner_gets_their_new_credential_in_their_language(notifications: NotificationsUnderTest) -> None:
    n = notifications
    sv, en = issued(uid("prov")), issued(uid("prov"))
    sv_address, en_address = f"{uid('anna')}@example.se", f"{uid('omar')}@example.com"
    n.issuance.recipients[sv.data["credential_id"]] = {
        "learner_ref": sv.data["learner_ref"], "email": sv_address, "name": "Anna Svensson", "language": "sv",
        "share_url": "https://mikromeriter.skane.se/dela/abc123"}
    n.issuance.recipients[en.data["credential_id"]] = {
        "learner_ref": en.data["learner_ref"], "email": en_address, "name": "Omar Haddad", "language": "en",
        "share_url": "https://mikromeriter.skane.se/share/def456"}
    await n.send(sv, en)
    await n.wait_email(sv, "learner-credential")
    await n.wait_email(en, "learner-credential")
    await n.drain()

    [swedish] = n.smtp.to(sv_address)
    assert swedish["Subject"] == "Ditt nya mikromeritbevis: Basala hygienrutiner i vård och omsorg"
    assert "Hej Anna Svensson" in swedish.get_content()
    assert "https://mikromeriter.skane.se/dela/abc123" in swedish.get_content()
    assert swedish["Content-Language"] == "sv"
    [english] = n.smtp.to(en_address)
    assert english["Subject"] == "Your new micro-credential: Basic hygiene routines in care"
    assert "https://mikromeriter.skane.se/share/def456" in english.get_content()
    # The log names the learner by reference; their address and name stay out of our database.
    logged = await n.store.deliveries.find_one({"params.credential_id": sv.data["credential_id"]})
    assert logged is not None
    assert [(a["outcome"], a["recipient"]) for a in logged["attempt_log"]] == [
        ("delivered", f"learner:{sv.data['learner_ref']}")]
    assert await _stored_anywhere(n, sv_address) == [] and await _stored_anywhere(n, "Anna Svensson") == []


async def test_an_erased_learner_gets_nothing_and_is_never_asked_again(notifications: NotificationsUnderTest) -> None:
    n = notifications
    event = issued(uid("prov"))
    n.issuance.recipients[event.data["credential_id"]] = "erased"
    await n.send(event)
    delivery = await n.wait_email(event, "learner-credential")
    await n.drain()
    state = await n.store.delivery(delivery["_id"])
    assert state is not None and state["status"] == "skipped" and state["last_error"] == "erased"
    n.clock.advance(7 * 24 * 3600)
    await n.drain()
    assert n.issuance.calls.count(event.data["credential_id"]) == 1
    assert all(event.data["learner_ref"] not in str(rcpts) for _, rcpts, _ in n.smtp.messages)


async def test_an_unknown_credential_is_retried_then_sent(notifications: NotificationsUnderTest) -> None:
    n = notifications
    event = issued(uid("prov"))
    await n.send(event)
    delivery = await n.wait_email(event, "learner-credential")
    await n.drain()
    state = await n.store.delivery(delivery["_id"])
    assert state is not None and state["status"] == "pending" and "does not know" in state["last_error"]
    address = f"{uid('lisa')}@example.se"
    n.issuance.recipients[event.data["credential_id"]] = {
        "learner_ref": event.data["learner_ref"], "email": address, "name": "Lisa", "language": "sv",
        "share_url": "https://mikromeriter.skane.se/dela/x"}
    n.clock.advance(7)
    await n.drain()
    assert len(n.smtp.to(address)) == 1


async def test_a_provider_hears_the_review_outcome_with_the_comments(notifications: NotificationsUnderTest) -> None:
    n = notifications
    provider = uid("prov")
    contact = f"kansli-{provider}@example.se"
    decided = review_decided(provider, "request-changes",
                             comments=("Lärandemålen behöver bli mätbara.", "Ange bedömningsformen."))
    await n.send(decided)  # before the provider is known: the e-mail waits for its contact
    delivery = await n.wait_email(decided, "review-outcome")
    await n.drain()
    state = await n.store.delivery(delivery["_id"])
    assert state is not None and state["status"] == "pending" and "not known yet" in state["last_error"]

    await n.send(provider_registered(provider, f"old-{contact}"),
                 provider_registered(provider, contact, at="2026-11-23T09:00:00Z", updated=True))
    await n.wait_for(lambda: _has_contact(n, provider, contact), "the provider's new contact")
    n.clock.advance(7)
    await n.drain()
    [mail] = n.smtp.to(contact)
    body = mail.get_content()
    assert mail["Subject"].startswith("Granskningen är klar") and "Review complete" in mail["Subject"]
    assert "Lärandemålen behöver bli mätbara." in body and "Ange bedömningsformen." in body
    assert "behöver ändras" in body and "changes requested" in body
    assert n.smtp.to(f"old-{contact}") == []


async def _has_contact(n: NotificationsUnderTest, provider: str, email: str) -> bool:
    found = await n.store.provider(provider)
    return found is not None and found.email == email


async def test_a_rejection_carries_its_reason(notifications: NotificationsUnderTest) -> None:
    n = notifications
    provider = uid("prov")
    contact = f"kansli-{provider}@example.se"
    await n.send(provider_registered(provider, contact))
    await n.wait_for(lambda: _has_contact(n, provider, contact), "the provider's contact")
    decided = review_decided(provider, "reject", reason="Kursen är en hel utbildning, inte en mikromerit.")
    await n.send(decided)
    await n.wait_email(decided, "review-outcome")
    await n.drain()
    [mail] = n.smtp.to(contact)
    assert "avslagen" in mail.get_content() and "Kursen är en hel utbildning" in mail.get_content()


async def test_a_permanently_refused_address_is_not_retried(notifications: NotificationsUnderTest) -> None:
    n = notifications
    event = issued(uid("prov"))
    n.issuance.recipients[event.data["credential_id"]] = {
        "learner_ref": event.data["learner_ref"], "email": "nobody@example.se", "name": "X", "language": "en",
        "share_url": "https://mikromeriter.skane.se/share/y"}
    await n.send(event)
    delivery = await n.wait_email(event, "learner-credential")
    await n.drain()
    state = await n.store.delivery(delivery["_id"])
    assert state is not None and state["status"] == "failed" and "550" in state["last_error"]
    assert "nobody@example.se" not in str(state)  # the server's refusal quoted it; the log does not keep it


async def test_development_mail_drop_writes_eml_files(tmp_path: Path) -> None:
    mailer = Mailer(SmtpConfig("127.0.0.1", 1, drop_dir=str(tmp_path / "mail")))
    await mailer.send("anna@example.se", emails.Mail("Ämne", "Hej!\n"), "sv", "msg_1")
    [written] = (tmp_path / "mail").iterdir()
    message = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert message["To"] == "anna@example.se" and message["Subject"] == "Ämne"


def test_development_switches_are_refused_in_production() -> None:
    production: dict[str, Any] = {
        "environment": "production", "auth_jwks": '{"keys": []}', "secret_key": "s" * 32,
        "token_url": "https://login.example/token", "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_sasl_username": "notifications",
        "kafka_sasl_password": "p" * 16, "kafka_create_topics": False}
    NotificationsSettings(**production)
    for name, value in (("allow_private_webhook_urls", True), ("mail_drop_dir", "/tmp/mail"), ("token_url", "")):
        with pytest.raises(ValidationError, match=name):
            NotificationsSettings(**{**production, name: value})
    with pytest.raises(ValidationError, match="delivery_lease_seconds"):  # 4 waves of up to 40 s do not fit
        NotificationsSettings(delivery_lease_seconds=120, delivery_batch_size=100, delivery_concurrency=32)
