"""The store on the real database: a write based on a stale read is refused (``change`` then
re-runs the command on a fresh read), so no change overwrites another's."""

from __future__ import annotations

import pytest
from pymongo.asynchronous.client_session import AsyncClientSession

from mimis_platform.outbox import in_transaction
from services.quality.domain import review as rv
from services.quality.storage import StaleReview
from services.quality.tests.conftest import QualityUnderTest
from services.quality.tests.factories import reviewer


async def test_a_stale_write_is_refused_and_a_change_starts_from_the_fresh_review(quality: QualityUnderTest) -> None:
    store = quality.store
    eva, omar = reviewer("eva.lind", "region-skane"), reviewer("omar.haddad", "lunds-universitet")
    opened = await quality.open_review()
    read_early = await store.review(opened["id"])
    assert read_early is not None

    await store.change(opened["id"], lambda r: rv.assign(r, eva, by="kerstin", now=r.opened_at))
    stale = rv.assign(read_early, omar, by="kerstin", now=read_early.opened_at)  # knows nothing of Eva

    async def save_stale(session: AsyncClientSession) -> rv.Change:
        return await store._save(stale, session)

    with pytest.raises(StaleReview):
        await in_transaction(store.client, save_stale)

    seen: list[int] = []

    def assign_omar(review: rv.Review) -> rv.Change:
        seen.append(review.revision)
        return rv.assign(review, omar, by="kerstin", now=review.opened_at)

    change = await store.change(opened["id"], assign_omar)
    assert [a.reviewer for a in change.review.assignments] == ["eva.lind", "omar.haddad"]
    assert seen == [1] and change.review.revision == 2
