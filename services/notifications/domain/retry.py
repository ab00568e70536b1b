"""What a webhook attempt's result means and when to try again.

Rules (Standard Webhooks, and the issue): any 2xx delivers; timeouts, connection errors and 5xx
are retried with exponential backoff and jitter; 4xx is not retried except 408 and 429; 429, 502,
503 and 504 may say ``Retry-After``, which is honoured (never sooner than the backoff); a 3xx is a
failure (redirects are not followed); 410 Gone disables the endpoint at once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum

RETRY_AFTER_STATUSES = frozenset({408, 429, 502, 503, 504})


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # try again later (unless the attempts are used up)
    GIVE_UP = "give-up"  # this delivery will not pass by repeating it
    DISABLE = "disable"  # the endpoint says it is gone: give up and disable it


def judge(status: int | None) -> Verdict:
    """``status`` None: no HTTP answer (timeout, connection refused or reset, TLS failure)."""
    if status is None:
        return Verdict.RETRY
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if status == 410:
        return Verdict.DISABLE
    if status >= 500 or status in (408, 429):
        return Verdict.RETRY
    return Verdict.GIVE_UP  # 3xx and the other 4xx


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as delay-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 5.0
    max_seconds: float = 24 * 3600.0
    max_attempts: int = 10
    jitter: float = 0.2  # the delay is spread over [1 - jitter, 1 + jitter] of the exponential step

    def backoff(self, failed_attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``failed_attempts``-th failure (1 = the first)."""
        step = min(self.max_seconds, self.base_seconds * 2 ** max(0, failed_attempts - 1))
        spread = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)  # jitter, not a secret
        return min(self.max_seconds, step * spread)

    def next_attempt(self, failed_attempts: int, now: datetime, retry_after: float | None = None,
                     rng: random.Random | None = None) -> datetime | None:
        """When to try again, or None when the attempts are used up."""
        if failed_attempts >= self.max_attempts:
            return None
        delay = self.backoff(failed_attempts, rng)
        if retry_after is not None:
            delay = min(self.max_seconds, max(delay, retry_after))
        return now + timedelta(seconds=delay)
