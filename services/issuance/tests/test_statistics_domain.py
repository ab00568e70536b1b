"""Issued-credential statistics, the pure part: groups mapped through the catalogue's facts."""

from __future__ import annotations

from services.issuance.domain.statistics import UNKNOWN, IssuedGroup, VersionFacts, issued_statistics

FACTS = {
    ("mc-care", 1): VersionFacts(branches=("vard-och-omsorg",), level=4, provider_kind="university"),
    ("mc-care", 2): VersionFacts(branches=("vard-och-omsorg", "service"), level=5, provider_kind="university"),
    ("mc-shop", 1): VersionFacts(branches=("handel", "service"), level=3, provider_kind="employer"),
}


def test_nothing_issued_is_all_zero() -> None:
    s = issued_statistics([], FACTS)
    assert (s.issued, s.revoked, s.by_branch, s.by_provider_kind, s.by_level, s.by_month) == (0, 0, [], [], [], [])


def test_groups_are_counted_through_the_exact_version() -> None:
    s = issued_statistics([
        IssuedGroup("mc-care", 1, "2026-10", issued=3, revoked=1),
        IssuedGroup("mc-care", 2, "2026-11", issued=2),
        IssuedGroup("mc-shop", 1, "2026-11", issued=4, revoked=2),
    ], FACTS)
    assert (s.issued, s.revoked) == (9, 3)
    # a credential counts in each branch of its version; largest first, ties by key
    assert s.by_branch == [("service", 6), ("vard-och-omsorg", 5), ("handel", 4)]
    assert s.by_provider_kind == [("university", 5), ("employer", 4)]
    assert s.by_level == [("3", 4), ("4", 3), ("5", 2)]  # by level, not by count
    assert s.by_month == [("2026-10", 3), ("2026-11", 6)]  # oldest first


def test_an_unknown_version_is_counted_as_unknown_and_empty_groups_not_at_all() -> None:
    s = issued_statistics([IssuedGroup("mc-gone", 7, "2026-09", issued=2),
                           IssuedGroup("mc-care", 1, "2026-09", issued=1),
                           IssuedGroup("mc-care", 1, "2026-08", issued=0)], FACTS)
    assert s.issued == 3
    assert s.by_branch == [(UNKNOWN, 2), ("vard-och-omsorg", 1)]
    assert s.by_provider_kind == [(UNKNOWN, 2), ("university", 1)]
    assert s.by_level == [("4", 1), (UNKNOWN, 2)]  # unknown last
    assert s.by_month == [("2026-09", 3)]


def test_a_version_without_a_provider_kind_or_level_or_branch_counts_as_unknown_there() -> None:
    facts = {("mc-x", 1): VersionFacts(branches=(), level=None, provider_kind=None)}
    s = issued_statistics([IssuedGroup("mc-x", 1, "2026-11", issued=1)], facts)
    assert s.by_branch == s.by_provider_kind == s.by_level == [(UNKNOWN, 1)]
