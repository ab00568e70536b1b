"""The ``catalogue`` collection: one document per micro-credential, its latest published version,
kept by the catalog's storage in the same transaction as the publication (or retirement), and
searched here. What a search means is decided in :mod:`services.catalog.domain.search`.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from bson.decimal128 import Decimal128
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from services.catalog.domain.search import (
    CatalogueItem,
    Document,
    FacetCount,
    InvalidCursor,
    SearchPage,
    SearchPlan,
    SearchQuery,
    encode_cursor,
    facet_counts,
    facet_pipeline,
    plan,
)

__all__ = ["CatalogueIndex", "InvalidCursor", "SearchPage", "SearchQuery", "storable"]

COLLECTION = "catalogue"

# Every filter path and every sort has an index. Each sort's index ends in `_id`, the
# tiebreaker, so a page walks one index range. Branch + level, the employers' usual question,
# has a compound index of its own (a branch alone rides its prefix).
INDEXES = [
    IndexModel([("terms", ASCENDING)], name="terms"),
    IndexModel([("esco_skills", ASCENDING)], name="esco_skills"),
    IndexModel([("provider_id", ASCENDING)], name="provider_id"),
    IndexModel([("branches", ASCENDING), ("eqf", ASCENDING)], name="branches_eqf"),
    IndexModel([("target_groups", ASCENDING)], name="target_groups"),
    IndexModel([("pilots", ASCENDING)], name="pilots"),
    IndexModel([("languages", ASCENDING)], name="languages"),
    IndexModel([("mode", ASCENDING)], name="mode"),
    IndexModel([("pacing", ASCENDING)], name="pacing"),
    IndexModel([("provider_kind", ASCENDING)], name="provider_kind"),
    IndexModel([("ects", ASCENDING)], name="ects"),
    IndexModel([("sort_title", ASCENDING), ("_id", ASCENDING)], name="sort_title"),
    IndexModel([("published_at", DESCENDING), ("_id", DESCENDING)], name="sort_published"),
    IndexModel([("eqf", ASCENDING), ("sort_title", ASCENDING), ("_id", ASCENDING)], name="sort_level"),
    IndexModel([("notional_hours", ASCENDING), ("sort_title", ASCENDING), ("_id", ASCENDING)],
               name="sort_workload"),
]


def storable(doc: Document) -> Document:
    """A catalogue document in BSON terms (the price as Decimal128, never a lossy double)."""
    out = dict(doc)
    if isinstance(out.get("price_sek"), Decimal):
        out["price_sek"] = Decimal128(out["price_sek"])
    return out


def _item(doc: Document) -> CatalogueItem:
    if isinstance(doc.get("price_sek"), Decimal128):
        doc = {**doc, "price_sek": doc["price_sek"].to_decimal()}
    return CatalogueItem.from_document(doc)


class CatalogueIndex:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.collection: AsyncCollection[Document] = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        await self.collection.create_indexes(INDEXES)

    async def upsert(self, doc: Document, session: AsyncClientSession | None = None) -> None:
        """Put a published version in the catalogue, replacing the version it supersedes.

        ``doc`` comes from :func:`services.catalog.domain.search.catalogue_entry`. The caller
        publishes versions in order inside its transaction, so the newest write is the newest
        version and no version comparison is needed here.
        """
        await self.collection.replace_one({"_id": doc["_id"]}, storable(doc), upsert=True, session=session)

    async def remove(self, micro_credential_id: str, session: AsyncClientSession | None = None) -> bool:
        """Take a retired micro-credential out of the catalogue; False if it was not there."""
        result = await self.collection.delete_one({"_id": micro_credential_id}, session=session)
        return result.deleted_count == 1

    async def search(self, query: SearchQuery) -> SearchPage:
        """One page of entries, and the facet counts when asked for.

        Raises :class:`InvalidCursor` (a ``ValueError``) for a cursor this search cannot
        continue from; a query validated as :class:`SearchQuery` has already been checked.
        """
        search_plan = plan(query)
        items_run = self._items(search_plan)
        if query.facets:
            docs, facet_rows = await asyncio.gather(items_run, self._aggregate(facet_pipeline(query)))
        else:
            docs, facet_rows = await items_run, []
        next_cursor = encode_cursor(query, docs[query.limit - 1]) if len(docs) > query.limit else None
        facets: dict[str, list[FacetCount]] = {}
        total: int | None = None
        if query.facets:
            facets, total = facet_counts(query, facet_rows[0] if facet_rows else {})
        return SearchPage(items=[_item(d) for d in docs[: query.limit]], facets=facets, total=total,
                          next_cursor=next_cursor)

    async def _items(self, search_plan: SearchPlan) -> list[Document]:
        if search_plan.refine:
            return await self._aggregate(search_plan.items_pipeline())
        # A find projects and limits inside the server's scan; the same stages in an
        # aggregation cost the local server a third more.
        cursor = self.collection.find(search_plan.match, projection=search_plan.projection,
                                      sort=search_plan.sort, limit=search_plan.limit)
        return [doc async for doc in cursor]

    async def _aggregate(self, pipeline: list[Document]) -> list[Document]:
        cursor = await self.collection.aggregate(pipeline)
        return [doc async for doc in cursor]
