"""The service's sense of time, injectable so tests move it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


def as_stored(moment: datetime) -> datetime:
    """MongoDB keeps milliseconds: compare and store times at that precision."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return as_stored(datetime.now(UTC))


class ManualClock:
    """A clock that moves only when told (tests, and the benchmark's retry-free runs)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = as_stored(start or datetime.now(UTC))

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now = as_stored(self._now + timedelta(seconds=seconds))
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = as_stored(moment)
