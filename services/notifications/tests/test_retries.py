"""Retries follow the rules, with time moved by the test (a manual clock), never by sleeping:
backoff with jitter on timeouts, 5xx and connection errors; none on 4xx except 408 and 429;
``Retry-After`` honoured; a delivery whose attempts are used up fails; manual redelivery."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.notifications.domain.retry import RetryPolicy
from services.notifications.tests.conftest import Factory, NotificationsUnderTest
from services.notifications.tests.factories import issued, uid
from services.notifications.tests.servers import Reply, WebhookReceiver

ISSUED = "issuance.credential.issued.v1"


async def _one_delivery(n: NotificationsUnderTest, url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    org = uid("prov")
    sub = await n.subscribe(org, url, [ISSUED], filters={"providers": [org]})
    event = issued(org)
    await n.send(event)
    return sub, await n.wait_delivery(event, sub["id"])


async def _state(n: NotificationsUnderTest, delivery_id: str) -> dict[str, Any]:
    found = await n.store.delivery(delivery_id)
    assert found is not None
    return found


async def test_5xx_is_retried_with_backoff_until_it_passes(notifications: NotificationsUnderTest,
                                                           receiver: WebhookReceiver) -> None:
    n = notifications
    receiver.answer(Reply(503), Reply(500))
    _, d = await _one_delivery(n, receiver.url())
    policy = n.settings.retry_policy()
    start = n.clock.now()
    await n.drain()
    first = await _state(n, d["_id"])
    assert first["status"] == "pending" and first["attempts"] == 1 and "expires_at" not in first  # kept while waiting
    wait = (first["next_attempt_at"] - start).total_seconds()
    assert policy.base_seconds * 0.8 <= wait <= policy.base_seconds * 1.2  # 5 s ± jitter

    n.clock.advance(wait - 1)
    await n.drain()
    assert len(receiver.requests) == 1  # not due yet: nothing sent
    n.clock.advance(1)
    await n.drain()
    second = await _state(n, d["_id"])
    wait2 = (second["next_attempt_at"] - n.clock.now()).total_seconds()
    assert second["attempts"] == 2 and policy.base_seconds * 2 * 0.8 <= wait2 <= policy.base_seconds * 2 * 1.2

    n.clock.advance(wait2)
    await n.drain()
    done = await _state(n, d["_id"])
    assert done["status"] == "delivered" and done["attempts"] == 3
    assert done["expires_at"] == n.clock.now() + timedelta(days=n.settings.log_retention_days)  # then retained
    assert len(set(receiver.ids())) == 1 and len(receiver.requests) == 3  # one webhook-id on every attempt
    assert [(a["status_code"], a["outcome"]) for a in done["attempt_log"]] == [(503, "retry"), (500, "retry"),
                                                                    (200, "delivered")]


async def test_4xx_is_not_retried_but_408_and_429_are(notifications: NotificationsUnderTest,
                                                      receiver: WebhookReceiver) -> None:
    n = notifications
    receiver.answer(Reply(400))
    _, bad = await _one_delivery(n, receiver.url("/a"))
    await n.drain()
    assert (await _state(n, bad["_id"]))["status"] == "failed"
    n.clock.advance(48 * 3600)
    await n.drain()
    assert [r.path for r in receiver.requests] == ["/a"]  # never again

    for status in (408, 429):
        receiver.answer(Reply(status))
        _, d = await _one_delivery(n, receiver.url(f"/{status}"))
        await n.drain()
        assert (await _state(n, d["_id"]))["status"] == "pending"
        n.clock.advance(7)
        await n.drain()
        assert (await _state(n, d["_id"]))["status"] == "delivered"


async def test_retry_after_is_honoured(notifications: NotificationsUnderTest, receiver: WebhookReceiver) -> None:
    n = notifications
    receiver.answer(Reply(429, {"retry-after": "120"}))
    _, d = await _one_delivery(n, receiver.url())
    await n.drain()
    state = await _state(n, d["_id"])
    assert state["next_attempt_at"] - n.clock.now() == timedelta(seconds=120)
    n.clock.advance(119)
    await n.drain()
    assert len(receiver.requests) == 1
    n.clock.advance(1)
    await n.drain()
    assert (await _state(n, d["_id"]))["status"] == "delivered"


async def test_timeouts_and_refused_connections_are_retried(notifications_factory: Factory,
                                                            receiver: WebhookReceiver) -> None:
    async with notifications_factory(webhook_timeout_seconds=0.3) as n:
        receiver.answer(Reply(200, delay=1.5))
        _, slow = await _one_delivery(n, receiver.url("/slow"))
        from mimis_platform.localstack import free_port
        _, closed = await _one_delivery(n, f"http://127.0.0.1:{free_port()}/nobody-listens")
        await n.drain()
        slow_state, closed_state = await _state(n, slow["_id"]), await _state(n, closed["_id"])
        assert slow_state["status"] == "pending" and slow_state["last_error"].startswith("timeout")
        # Refused at once, or (on a loaded machine) not even refused within the 0.3 s: retried either way.
        assert closed_state["status"] == "pending"
        assert closed_state["last_error"].startswith(("connection error", "timeout"))
        n.clock.advance(7)
        await n.drain()
        assert (await _state(n, slow["_id"]))["status"] == "delivered"


async def test_a_delivery_fails_when_its_attempts_are_used_up_and_can_be_redelivered(
        notifications_factory: Factory, receiver: WebhookReceiver) -> None:
    async with notifications_factory(retry_max_attempts=3, disable_after_failures=100) as n:
        receiver.default = Reply(502)
        sub, d = await _one_delivery(n, receiver.url())
        for _ in range(5):
            await n.drain()
            n.clock.advance(3600)
        state = await _state(n, d["_id"])
        assert state["status"] == "failed" and state["attempts"] == 3 and len(receiver.requests) == 3

        receiver.default = Reply(204)
        path = f"/subscriptions/{sub['id']}/deliveries/{d['_id']}/redeliver"
        org = sub["organisation_id"]
        assert (await n.http.post(path, headers=n.member("someone-else"))).status_code == 404
        answer = await n.http.post(path, headers=n.member(org))
        assert answer.status_code == 202 and answer.json()["status"] == "pending"
        await n.drain()
        state = await _state(n, d["_id"])
        assert state["status"] == "delivered" and state["attempts"] == 4
        assert set(receiver.ids()) == {d["_id"]}


def test_backoff_grows_exponentially_with_bounded_jitter() -> None:
    import random

    policy = RetryPolicy(base_seconds=5, max_seconds=3600, max_attempts=12)
    rng = random.Random(7)
    for attempt in range(1, 12):
        step = min(3600, 5 * 2 ** (attempt - 1))
        delays = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(step * 0.8 <= x <= min(3600, step * 1.2) for x in delays)
        if step < 3600:
            assert max(delays) - min(delays) > step * 0.2  # the jitter really spreads replicas
