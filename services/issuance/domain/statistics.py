"""Issued-credential statistics (issue 7, regional statistics): how many credentials were issued,
by branch, provider kind, EQF level and issue month. Aggregate counts only; nothing here knows of
a learner.

The database groups credentials by (micro-credential, version, issue month); this module maps the
groups through what the catalogue says of each exact version (its branches and level, its
provider's kind) and sums. A version counts once in each of its branches, so the branch counts may
add up to more than the total (as the catalogue's own branch facet does). A version that issuance's
read model does not know (it should not happen) is counted under ``unknown``. Revoked credentials
were issued: they are counted everywhere, and also in ``revoked``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

UNKNOWN = "unknown"


@dataclass(frozen=True)
class IssuedGroup:
    """Credentials of one catalogue version issued in one month (``YYYY-MM``, UTC)."""

    micro_credential_id: str
    version: int
    month: str
    issued: int
    revoked: int = 0


@dataclass(frozen=True)
class VersionFacts:
    """What the statistics need of a published version."""

    branches: tuple[str, ...]
    level: int | None
    provider_kind: str | None


@dataclass(frozen=True)
class IssuedStatistics:
    issued: int
    revoked: int
    by_branch: list[tuple[str, int]]
    by_provider_kind: list[tuple[str, int]]
    by_level: list[tuple[str, int]]
    by_month: list[tuple[str, int]]


def _by_count(counter: Counter[str]) -> list[tuple[str, int]]:
    """Largest first, then by key (so equal counts come in a stable order)."""
    return sorted(((k, n) for k, n in counter.items() if n > 0), key=lambda item: (-item[1], item[0]))


def issued_statistics(groups: Iterable[IssuedGroup],
                      facts: Mapping[tuple[str, int], VersionFacts]) -> IssuedStatistics:
    total = revoked = 0
    branches: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    months: Counter[str] = Counter()
    for group in groups:
        if group.issued <= 0:
            continue
        total += group.issued
        revoked += group.revoked
        months[group.month] += group.issued
        known = facts.get((group.micro_credential_id, group.version))
        if known is None:
            branches[UNKNOWN] += group.issued
            kinds[UNKNOWN] += group.issued
            levels[UNKNOWN] += group.issued
            continue
        for branch in dict.fromkeys(known.branches) or (UNKNOWN,):
            branches[branch] += group.issued
        kinds[known.provider_kind or UNKNOWN] += group.issued
        levels[str(known.level) if known.level is not None else UNKNOWN] += group.issued
    return IssuedStatistics(
        issued=total, revoked=revoked, by_branch=_by_count(branches), by_provider_kind=_by_count(kinds),
        by_level=sorted(levels.items(), key=lambda item: (item[0] == UNKNOWN, item[0])),
        by_month=sorted(months.items()))
