"""Catalogue search, pure: the query a person can ask, the projection document each published
micro-credential becomes, the database pipelines that answer the query, and the cursor.

No I/O here; :mod:`services.catalog.search_index` runs what this module builds.

Semantics
- Filters are AND across fields and OR within one field's list; free text needs every query
  term (:func:`search_text.terms_of_query`) to be a word, or the start of one, in the entry.
- Facet counts are *disjunctive*: each facet is counted under every filter except its own, so
  the number beside an unticked branch is exactly how many entries ticking it would add (which
  is what OR within a field means). ``total`` is counted under every filter.
- Pages are cut with a keyset cursor over a sort that ends in ``_id``, so ties never reorder
  between requests and nothing is skipped or repeated; there is no offset.

Why the pipeline has two ``$match`` stages: the local MongoDB server (SecantusDB) serves a
filter from an index only when every top-level key is a plain field with an equality, ``$in``
or range, and ``$all`` / ``$or`` make it scan the whole collection. So the first stage holds
one index-servable clause per field (most selective first: that server rides the first one),
and the second stage says the rest (further text terms, the cursor's tie-break). MongoDB merges
adjacent ``$match`` stages, so it plans the same query either way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from services.catalog.domain.lifecycle import MicroCredentialVersion, Status
from services.catalog.domain.model import (
    Code,
    EscoSkillUri,
    LanguageCode,
    LanguageMap,
    LongLanguageMap,
    Mode,
    Pacing,
    ProviderKind,
)
from services.catalog.domain.search_text import index_terms, swedish_sort_key, terms_of_query, words

Document = dict[str, Any]

# Swedish higher education counts 1.5 hp (= 1.5 ECTS) as one full-time week of 40 hours; an
# entry that states only ECTS is placed on the hours scale with that rate.
HOURS_PER_ECTS = 40 / 1.5

ProviderId = Annotated[str, StringConstraints(min_length=1, max_length=100)]
EqfLevel = Annotated[int, Field(ge=1, le=8)]
SortName = Literal["title", "-published", "level", "workload"]


# --- the projection document ------------------------------------------------------------------


def catalogue_entry(version: MicroCredentialVersion, provider_name: str, provider_kind: str) -> Document:
    """The ``catalogue`` document for a published version (``_id`` = the micro-credential's id).

    Plain Python values (``Decimal`` for the price); the storage layer converts to BSON.
    """
    if version.status is not Status.PUBLISHED or version.published_at is None:
        raise ValueError(
            f"only a published version belongs in the catalogue; version {version.version} of "
            f"{version.micro_credential_id} is {version.status}"
        )
    c = version.content
    texts = [c.title.sv, c.title.en, c.description.sv, c.description.en, provider_name]
    for outcome in c.learning_outcomes:
        texts += [outcome.text.sv, outcome.text.en]
    ects = float(c.workload.ects) if c.workload.ects is not None else None
    hours = c.workload.hours
    notional = float(hours) if hours is not None else round((ects or 0) * HOURS_PER_ECTS, 1)
    return {
        "_id": version.micro_credential_id,
        "version": version.version,
        "provider_id": version.provider_id,
        "provider_name": provider_name,
        "provider_kind": str(ProviderKind(provider_kind)),
        "title": c.title.model_dump(),
        "description": c.description.model_dump(),
        "ects": ects,
        "hours": c.workload.hours,
        "notional_hours": notional,
        "eqf": c.level.eqf,
        "seqf": c.level.seqf,
        "mode": str(c.participation.mode),
        "pacing": str(c.participation.pacing),
        "languages": list(c.languages),
        "branches": list(c.branches),
        "target_groups": list(c.target_groups),
        "pilots": list(c.pilots),
        "esco_skills": c.esco_skills(),
        "price_sek": c.price.amount_sek if c.price is not None else None,
        "terms": index_terms(t for t in texts if t),
        "sort_title": swedish_sort_key(c.title.sv),
        "published_at": version.published_at,
    }


# --- what a search returns --------------------------------------------------------------------


class CatalogueItem(BaseModel):
    """One micro-credential as a search lists it (its latest published version)."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: int
    provider_id: str
    provider_name: str
    provider_kind: ProviderKind
    title: LanguageMap
    description: LongLanguageMap
    ects: Decimal | None = None
    hours: int | None = None
    eqf: int
    seqf: int | None = None
    mode: Mode
    pacing: Pacing
    languages: list[str]
    branches: list[str]
    target_groups: list[str]
    pilots: list[str]
    esco_skills: list[str]
    price_sek: Decimal | None = None
    published_at: datetime

    @classmethod
    def from_document(cls, doc: Document) -> CatalogueItem:
        fields = {k: v for k, v in doc.items() if k in cls.model_fields}
        if doc.get("ects") is not None:
            # Stored as a double for range queries; one decimal place is all the model allows.
            fields["ects"] = Decimal(str(round(float(doc["ects"]), 1)))
        return cls(id=doc["_id"], **fields)


# Only these fields travel back from the database; `terms` alone is most of a document.
ITEM_PROJECTION: Document = {name: 1 for name in CatalogueItem.model_fields if name != "id"}


class FacetCount(BaseModel):
    value: str | int
    count: int


class SearchPage(BaseModel):
    items: list[CatalogueItem]
    facets: dict[str, list[FacetCount]] = Field(
        default_factory=dict,
        description="Per facet, the values and how many entries have each under every filter except "
                    "that facet's own (so ticking a value adds that many). Empty when facets were not "
                    "asked for.",
    )
    total: int | None = Field(
        default=None, description="Entries matching every filter; only when facets were asked for.")
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; absent on the last page.")


# --- the query --------------------------------------------------------------------------------


class InvalidCursor(ValueError):
    """A cursor this search cannot continue from; the message says why (the API answers 422)."""


@dataclass(frozen=True)
class SortKey:
    field: str
    direction: int  # 1 ascending, -1 descending
    kind: type  # str, int, float or datetime: how the cursor carries the value


# Every sort ends in `_id`, so the order is total and a page boundary inside a tie is exact.
SORTS: dict[str, tuple[SortKey, ...]] = {
    "title": (SortKey("sort_title", 1, str), SortKey("_id", 1, str)),
    "-published": (SortKey("published_at", -1, datetime), SortKey("_id", -1, str)),
    "level": (SortKey("eqf", 1, int), SortKey("sort_title", 1, str), SortKey("_id", 1, str)),
    "workload": (SortKey("notional_hours", 1, float), SortKey("sort_title", 1, str), SortKey("_id", 1, str)),
}

# Facet name -> (query field holding its filter, document field it counts).
FACETS: dict[str, tuple[str, str]] = {
    "branches": ("branches", "branches"),
    "levels": ("levels", "eqf"),
    "modes": ("modes", "mode"),
    "languages": ("languages", "languages"),
    "provider_kinds": ("provider_kinds", "provider_kind"),
    "target_groups": ("target_groups", "target_groups"),
    "pilots": ("pilots", "pilots"),
}
_ARRAY_FIELDS = frozenset({"branches", "languages", "target_groups", "pilots", "esco_skills"})


class SearchQuery(BaseModel):
    """A catalogue search. Lists are OR within the field; fields are AND with each other."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    q: str | None = Field(default=None, max_length=200,
                          description="Free text, Swedish or English; every word must match.")
    skills: list[EscoSkillUri] = Field(default_factory=list, max_length=20)
    branches: list[Code] = Field(default_factory=list, max_length=20)
    levels: list[EqfLevel] = Field(default_factory=list, max_length=8,
                                   description="EQF (= SeQF) levels 1..8.")
    ects_min: float | None = Field(default=None, ge=0, le=60,
                                   description="Only entries stating ECTS credits.")
    ects_max: float | None = Field(default=None, ge=0, le=60)
    hours_min: int | None = Field(
        default=None, ge=0, le=1800,
        description=f"Notional hours; an entry stating only ECTS counts {HOURS_PER_ECTS:.1f} hours "
                    "per credit.",
    )
    hours_max: int | None = Field(default=None, ge=0, le=1800)
    providers: list[ProviderId] = Field(default_factory=list, max_length=20)
    provider_kinds: list[ProviderKind] = Field(default_factory=list, max_length=6)
    languages: list[LanguageCode] = Field(default_factory=list, max_length=10)
    modes: list[Mode] = Field(default_factory=list, max_length=4)
    pacings: list[Pacing] = Field(default_factory=list, max_length=2)
    target_groups: list[Code] = Field(default_factory=list, max_length=20)
    pilots: list[Code] = Field(default_factory=list, max_length=10)
    sort: SortName = "title"
    limit: int = Field(default=20, ge=1, le=50)
    facets: bool = Field(
        default=True, description="Count facets; they do not change between pages, so ask on the first only.")
    # Last, so that its validator sees every other field (a cursor is bound to sort and filters).
    cursor: str | None = Field(default=None, max_length=2000)

    @field_validator("q")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not words(value):
            raise ValueError("the search text has no words to search for (letters or digits)")
        if not terms_of_query(value):
            return None  # only words too common to search for ("och", "the"): no text filter
        return value.strip()

    @field_validator("ects_max", "hours_max")
    @classmethod
    def _range(cls, value: float | None, info: ValidationInfo) -> float | None:
        assert info.field_name is not None
        low_name = info.field_name.replace("_max", "_min")
        low = info.data.get(low_name)
        if value is not None and low is not None and low > value:
            raise ValueError(f"must be at least {low_name} ({low:g}), not {value:g}")
        return value

    @field_validator("cursor")
    @classmethod
    def _cursor(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if any(name not in info.data for name in cls.model_fields if name != "cursor"):
            return value  # another field is invalid and reported; nothing sound to check against
        decode_cursor(value, info.data["sort"], _fingerprint(info.data))
        return value

    def text_terms(self) -> list[str]:
        return terms_of_query(self.q) if self.q else []

    def fingerprint(self) -> str:
        return _fingerprint(self.model_dump())

    def after(self) -> list[Any] | None:
        """The sort values of the last entry already seen, from the cursor."""
        if self.cursor is None:
            return None
        return decode_cursor(self.cursor, self.sort, self.fingerprint())


def _fingerprint(fields: dict[str, Any]) -> str:
    """What a cursor remembers of the search it belongs to: every filter (order within a list ignored)."""
    keep: dict[str, Any] = {}
    for name in SearchQuery.model_fields:
        if name in ("sort", "limit", "facets", "cursor") or name not in fields:
            continue
        value = fields[name]
        if name == "q":
            value = sorted(terms_of_query(value)) if value else []
        elif isinstance(value, list):
            value = sorted(str(v) for v in value)
        keep[name] = value
    canonical = json.dumps(keep, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(canonical.encode(), digest_size=6).hexdigest()


# --- the cursor -------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR_VERSION = 1


def _cursor_value(value: Any, kind: type) -> Any:
    if kind is datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)  # BSON dates are UTC; a naive one came from a naive client
        return (value - _EPOCH) // timedelta(milliseconds=1)
    if kind is float:
        return float(value)
    return value


def _digest(body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


def encode_cursor(query: SearchQuery, last: Document) -> str:
    """An opaque cursor positioned after ``last`` (a catalogue document as the database returned it).

    The digest inside is not a secret: it catches a cursor that was cut, edited or made for
    another search, which would otherwise page silently through the wrong results. A cursor
    only ever names a position among public entries, and every value in it is type-checked
    before it reaches a query, so a forged one cannot do more than start a page elsewhere.
    """
    values = [_cursor_value(last[key.field], key.kind) for key in SORTS[query.sort]]
    body = {"v": _CURSOR_VERSION, "s": query.sort, "f": query.fingerprint(), "k": values}
    body["d"] = _digest(body)
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str, sort: str, fingerprint: str) -> list[Any]:
    """The sort values a cursor carries, typed for the database; :class:`InvalidCursor` if it is
    not a cursor this search made."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        body = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor("the cursor is not one this API issued (it does not decode); "
                            "start again without a cursor") from None
    if not isinstance(body, dict) or set(body) != {"v", "s", "f", "k", "d"}:
        raise InvalidCursor("the cursor is not one this API issued (unexpected content); "
                            "start again without a cursor")
    digest = body.pop("d")
    if body["v"] != _CURSOR_VERSION or digest != _digest(body):
        raise InvalidCursor("the cursor was altered or is from an older version of the API; "
                            "start again without a cursor")
    if body["s"] != sort:
        raise InvalidCursor(f"the cursor continues a search sorted by '{body['s']}', not '{sort}'; "
                            f"keep the sort while paging, or start again without a cursor")
    if body["f"] != fingerprint:
        raise InvalidCursor("the cursor continues a search with other filters; keep the filters "
                            "while paging, or start again without a cursor")
    keys = SORTS[sort]
    values = body["k"]
    if not isinstance(values, list) or len(values) != len(keys):
        raise InvalidCursor("the cursor does not hold a position for this sort; start again without a cursor")
    return [_typed(value, key) for value, key in zip(values, keys, strict=True)]


def _typed(value: Any, key: SortKey) -> Any:
    bad = InvalidCursor(f"the cursor's value for '{key.field}' is not a {key.kind.__name__}; "
                        "start again without a cursor")
    if isinstance(value, bool):
        raise bad
    if key.kind is str:
        if not isinstance(value, str) or len(value) > 1000:
            raise bad
        return value
    if key.kind is int:
        if not isinstance(value, int):
            raise bad
        return value
    if key.kind is float:
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise bad
        return float(value)
    if not isinstance(value, int) or not -(2**53) < value < 2**53:
        raise bad
    try:
        return _EPOCH + timedelta(milliseconds=value)
    except OverflowError:
        raise bad from None


# --- the database work ------------------------------------------------------------------------


def _any_of(values: list[Any]) -> Any:
    values = list(dict.fromkeys(str(v) if isinstance(v, str) else v for v in values))
    return values[0] if len(values) == 1 else {"$in": values}


def _range(low: float | None, high: float | None) -> Document | None:
    bounds: Document = {}
    if low is not None:
        bounds["$gte"] = float(low)
    if high is not None:
        bounds["$lte"] = float(high)
    return bounds or None


def _facet_clauses(query: SearchQuery) -> dict[str, tuple[str, Any]]:
    """Facet name -> (document field, condition) for each facet filter in use."""
    out: dict[str, tuple[str, Any]] = {}
    for facet, (query_field, doc_field) in FACETS.items():
        values = getattr(query, query_field)
        if values:
            out[facet] = (doc_field, _any_of(list(values)))
    return out


@dataclass(frozen=True)
class SearchPlan:
    """One search as database stages: ``match`` is one index-servable clause per field, most
    selective first; ``refine`` is what such clauses cannot say."""

    match: Document
    refine: list[Document]
    sort: list[tuple[str, int]]
    limit: int

    @property
    def projection(self) -> Document:
        # The sort keys travel too: the next cursor is made from the last entry's.
        return ITEM_PROJECTION | {field: 1 for field, _direction in self.sort}

    def items_pipeline(self) -> list[Document]:
        """For a plan with ``refine``; one without is a plain ``find(match, sort, limit)``."""
        stages: list[Document] = [{"$match": self.match}]
        stages += [{"$match": r} for r in self.refine]
        return [*stages, {"$sort": dict(self.sort)}, {"$limit": self.limit}, {"$project": self.projection}]

    def find_filter(self) -> Document:
        """The same condition as one filter document, as a bare ``find`` would be written."""
        if not self.refine:
            return dict(self.match)
        return {"$and": [self.match, *self.refine]}


def _base_clauses(query: SearchQuery) -> tuple[list[tuple[str, Any]], list[Document]]:
    """The filters that are not facets (text, skills, providers, workload, pacing)."""
    clauses: list[tuple[str, Any]] = []
    refine: list[Document] = []
    terms = query.text_terms()
    if terms:
        # The longest term is the rarest as a rule (a prefix of 3 letters matches far more).
        lead = max(terms, key=len)
        clauses.append(("terms", lead))
        rest = [t for t in terms if t != lead]
        if rest:
            refine.append({"terms": {"$all": rest}})
    if query.skills:
        clauses.append(("esco_skills", _any_of(list(query.skills))))
    if query.providers:
        clauses.append(("provider_id", _any_of(list(query.providers))))
    hours = _range(query.hours_min, query.hours_max)
    if hours:
        clauses.append(("notional_hours", hours))
    ects = _range(query.ects_min, query.ects_max)
    if ects:
        clauses.append(("ects", ects))
    if query.pacings:
        clauses.append(("pacing", _any_of(list(query.pacings))))
    return clauses, refine


# The local server rides the first clause it has an index for, so the rarest go first: a text
# term, a skill or a provider picks out a few entries, a branch or level a few hundred, a
# workload range or a language thousands.
_LEAD_ORDER = ("terms", "esco_skills", "provider_id", "branches", "target_groups", "eqf", "pilots",
               "notional_hours", "ects", "languages", "mode", "provider_kind", "pacing")


def _seek(keys: tuple[SortKey, ...], after: list[Any]) -> Document:
    """Entries strictly after ``after`` in the sort order: (k1 > v1) or (k1 = v1 and k2 > v2) or ..."""
    branches: list[Document] = []
    for i, key in enumerate(keys):
        branch: Document = {k.field: v for k, v in zip(keys[:i], after[:i], strict=True)}
        branch[key.field] = {"$gt" if key.direction == 1 else "$lt": after[i]}
        branches.append(branch)
    return {"$or": branches}


def plan(query: SearchQuery) -> SearchPlan:
    clauses, refine = _base_clauses(query)
    every = dict(clauses) | dict(_facet_clauses(query).values())
    match: Document = {field: every[field] for field in _LEAD_ORDER if field in every}
    keys = SORTS[query.sort]
    after = query.after()
    if after is not None:
        first = keys[0]
        # A range on the leading sort key lets the index start at the cursor; the exact
        # tie-break follows in `refine`.
        if first.field not in match:
            match[first.field] = {"$gte" if first.direction == 1 else "$lte": after[0]}
        refine.append(_seek(keys, after))
    return SearchPlan(match, refine, [(k.field, k.direction) for k in keys], query.limit + 1)


def facet_pipeline(query: SearchQuery) -> list[Document]:
    """One aggregation counting every facet disjunctively, plus ``total`` under every filter."""
    clauses, refine = _base_clauses(query)
    base = dict(clauses)
    first = {field: base[field] for field in _LEAD_ORDER if field in base}
    stages: list[Document] = [{"$match": first}, *({"$match": r} for r in refine)]
    facet_clauses = _facet_clauses(query)
    facets: dict[str, list[Document]] = {}
    for facet, (_query_field, doc_field) in FACETS.items():
        others = {f: c for name, (f, c) in facet_clauses.items() if name != facet}
        sub: list[Document] = [{"$match": others}] if others else []
        if doc_field in _ARRAY_FIELDS:
            sub.append({"$unwind": f"${doc_field}"})
        sub.append({"$group": {"_id": f"${doc_field}", "count": {"$sum": 1}}})
        facets[facet] = sub
    everything = dict(facet_clauses.values())
    facets["total"] = [*([{"$match": everything}] if everything else []), {"$count": "n"}]
    stages.append({"$facet": facets})
    return stages


def facet_counts(query: SearchQuery, result: Document) -> tuple[dict[str, list[FacetCount]], int]:
    """Facet counts from the aggregation's single result, most common first. A value the
    query filters on is listed even at zero, so a ticked box never disappears."""
    counts: dict[str, list[FacetCount]] = {}
    for facet, (query_field, _doc_field) in FACETS.items():
        found = {row["_id"]: int(row["count"]) for row in result.get(facet, []) if row.get("_id") is not None}
        for selected in getattr(query, query_field):
            found.setdefault(selected if isinstance(selected, int) else str(selected), 0)
        ordered = sorted(found.items(), key=lambda kv: (-kv[1], str(kv[0])))
        counts[facet] = [FacetCount(value=value, count=count) for value, count in ordered]
    total_rows = result.get("total") or [{"n": 0}]
    return counts, int(total_rows[0]["n"])
