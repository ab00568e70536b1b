"""The region's controlled vocabularies: branches of industry, target groups and pilots.

Each is a list of codes with Swedish and English labels. The built-in entries below are the
starting point from the regional pre-study; the region's administrators extend the lists
through the API (stored beside these), so a new branch needs no release.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class VocabularyKind(StrEnum):
    BRANCH = "branch"
    TARGET_GROUP = "target-group"
    PILOT = "pilot"


@dataclass(frozen=True)
class Term:
    kind: VocabularyKind
    code: str
    sv: str
    en: str


def _terms(kind: VocabularyKind, rows: list[tuple[str, str, str]]) -> list[Term]:
    return [Term(kind, code, sv, en) for code, sv, en in rows]


BUILT_IN: list[Term] = [
    *_terms(VocabularyKind.BRANCH, [
        ("vard-och-omsorg", "Vård och omsorg", "Health and social care"),
        ("industri-och-tillverkning", "Industri och tillverkning", "Manufacturing and industry"),
        ("service", "Service", "Service"),
        ("teknik", "Teknik", "Technology"),
        ("handel", "Handel", "Retail and trade"),
        ("bygg-och-anlaggning", "Bygg och anläggning", "Construction"),
        ("transport-och-logistik", "Transport och logistik", "Transport and logistics"),
        ("hotell-och-restaurang", "Hotell och restaurang", "Hospitality"),
        ("it-och-digitalisering", "IT och digitalisering", "IT and digitalisation"),
        ("offentlig-forvaltning", "Offentlig förvaltning", "Public administration"),
        ("grona-naringar", "Gröna näringar", "Agriculture and green industries"),
        ("foretagande", "Företagande", "Entrepreneurship and small business"),
    ]),
    *_terms(VocabularyKind.TARGET_GROUP, [
        ("utanfor-arbetsmarknaden", "Personer utanför arbetsmarknaden", "People outside the labour market"),
        ("nyanlanda", "Nyanlända", "Newly arrived"),
        ("unga-vuxna", "Unga vuxna", "Young adults"),
        ("yrkesverksamma", "Yrkesverksamma", "People in work"),
        ("smaforetagare", "Småföretagare", "Small-business owners"),
        ("chefer-och-handledare", "Chefer och handledare", "Managers and supervisors"),
    ]),
    *_terms(VocabularyKind.PILOT, [
        ("utanfor-arbetsmarknaden", "Personer utanför arbetsmarknaden", "People outside the labour market"),
        ("vard-och-omsorg", "Vård och omsorg", "Health and social care"),
        ("smaforetag", "Småföretag i alla branscher", "Small businesses across branches"),
    ]),
]


def built_in_codes(kind: VocabularyKind) -> set[str]:
    return {t.code for t in BUILT_IN if t.kind is kind}


def unknown_codes(kind: VocabularyKind, codes: list[str], known: set[str]) -> list[str]:
    return [c for c in codes if c not in known]
