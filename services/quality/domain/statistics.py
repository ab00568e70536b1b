"""The quality board's figures: how much is open, how long decisions take, how often each kind
of provider and each branch is approved.

An approval rate is per decided review (one round), so a version approved after one request
for changes counts one request-changes and one approval: it measures how often an entry passes
as submitted, which is what the board wants to improve.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.quality.domain.decision import Decision


@dataclass(frozen=True)
class DecidedFacts:
    """The few facts of a decided review the figures need (the store reads only these)."""

    provider_kind: str
    branches: tuple[str, ...]
    opened_at: datetime
    decided_at: datetime
    decision: Decision


@dataclass(frozen=True)
class Rate:
    key: str
    decided: int
    approved: int
    changes_requested: int
    rejected: int

    @property
    def approval_rate(self) -> float:
        return self.approved / self.decided if self.decided else 0.0


@dataclass(frozen=True)
class Statistics:
    open: int
    overdue: int
    decided: int
    median_hours_to_decision: float | None
    mean_hours_to_decision: float | None
    by_provider_kind: tuple[Rate, ...]
    by_branch: tuple[Rate, ...]


def _rates(counts: dict[str, dict[Decision, int]]) -> tuple[Rate, ...]:
    return tuple(
        Rate(key, sum(c.values()), c[Decision.APPROVE], c[Decision.REQUEST_CHANGES], c[Decision.REJECT])
        for key, c in sorted(counts.items())
    )


def summarise(open_reviews: int, overdue: int, decided: Iterable[DecidedFacts]) -> Statistics:
    hours: list[float] = []
    by_kind: dict[str, dict[Decision, int]] = defaultdict(lambda: defaultdict(int))
    by_branch: dict[str, dict[Decision, int]] = defaultdict(lambda: defaultdict(int))
    for facts in decided:
        hours.append((facts.decided_at - facts.opened_at).total_seconds() / 3600)
        by_kind[facts.provider_kind][facts.decision] += 1
        for branch in facts.branches:
            by_branch[branch][facts.decision] += 1
    return Statistics(
        open=open_reviews,
        overdue=overdue,
        decided=len(hours),
        median_hours_to_decision=statistics.median(hours) if hours else None,
        mean_hours_to_decision=statistics.fmean(hours) if hours else None,
        by_provider_kind=_rates(by_kind),
        by_branch=_rates(by_branch),
    )
