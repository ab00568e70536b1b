"""Pure rules: the Standard Webhooks test vector, what a status means, Retry-After, filters,
and the e-mail texts in both languages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks import Webhook

from services.notifications.domain import emails
from services.notifications.domain.retry import RetryPolicy, Verdict, judge, retry_after_seconds
from services.notifications.domain.subscriptions import Filters, new_secret
from services.notifications.webhooks import signature_header


def test_signatures_match_the_standard_webhooks_test_vector() -> None:
    header = signature_header(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], "msg_p5jXN8AQM9LWM0D4loKWxJek",
                              1614265330, '{"test": 2432232314}')
    assert header == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_new_secrets_are_standard_and_usable() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_") and secret != new_secret()
    Webhook(secret)  # decodes


def test_what_a_status_means() -> None:
    assert judge(200) is judge(204) is Verdict.DELIVERED
    assert all(judge(s) is Verdict.RETRY for s in (None, 408, 429, 500, 502, 503, 504))
    assert all(judge(s) is Verdict.GIVE_UP for s in (301, 302, 400, 401, 403, 404, 422))
    assert judge(410) is Verdict.DISABLE


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Mon, 23 Nov 2026 12:05:00 GMT", now) == 300
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None
    policy = RetryPolicy(base_seconds=5, max_seconds=3600, max_attempts=3)
    assert policy.next_attempt(1, now, retry_after=10_000) == now + timedelta(seconds=3600)  # capped
    assert policy.next_attempt(3, now) is None


def test_filters() -> None:
    f = Filters(branches=frozenset({"vard"}), providers=frozenset({"hkr"}))
    assert f.matches({"provider_id": "hkr", "branches": ["vard", "bygg"]})
    assert f.matches({"provider_id": "hkr", "content": {"branches": ["vard"]}})
    assert not f.matches({"provider_id": "hkr", "branches": ["bygg"]})
    assert not f.matches({"provider_id": "lu", "branches": ["vard"]})
    assert not f.matches({"provider_id": "hkr"})  # no branches: a branch filter does not match
    assert Filters().matches({})


def test_the_texts_exist_in_swedish_and_english() -> None:
    title = {"sv": "Vårdhygien", "en": "Hygiene in care"}
    sv = emails.new_credential("sv", name="Anna", title=title, share_url="https://x/1", issued_at="2026-11-23T09:00Z")
    en = emails.new_credential("en", name="Anna", title={"sv": "Vårdhygien"}, share_url="https://x/1",
                               issued_at="2026-11-23T09:00Z")
    assert "Vårdhygien" in sv.subject and "https://x/1" in sv.body and "2026-11-23" in sv.body
    assert en.subject == "Your new micro-credential: Vårdhygien"  # falls back to the Swedish title
    outcome: dict[str, Any] = {"provider_name": "HKR", "micro_credential_id": "mc-1", "version": 2,
                               "decision": "approve", "comments": [], "reason": None,
                               "reviewing_body": "Kvalitetsrådet"}
    assert "godkänd" in emails.review_outcome("sv", **outcome).body
    assert "approved" in emails.review_outcome("en", **outcome).body
    assert emails.language_of("de") == "sv" and emails.language_of("en") == "en"
