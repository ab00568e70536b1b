"""Catalogue search against the real database server (the local stack's SecantusDB)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from services.catalog.domain import lifecycle as lc
from services.catalog.domain.search import SearchQuery, catalogue_entry
from services.catalog.search_index import CatalogueIndex, InvalidCursor
from services.catalog.tests.factories import ESCO_COMMUNICATION, ESCO_HYGIENE, content
from services.catalog.tests.test_search_domain import NOW, publish, published_version

ESCO_WELDING = "http://data.europa.eu/esco/skill/0b6a5f0c-1c1d-4c53-9a40-5f0f6e0c1a01"
ESCO_MARKETING = "http://data.europa.eu/esco/skill/2c1e7d3a-8f1b-4a6e-b0d2-7a4e5c3b9d02"
ESCO_LEADERSHIP = "http://data.europa.eu/esco/skill/5e9a1b7c-3d2f-4e8a-9c6b-1f0d2e3a4b03"

PROVIDERS = {
    "p-hkr": ("Högskolan Kristianstad", "university"),
    "p-folk": ("Folkuniversitetet Skåne", "adult-education"),
    "p-mission": ("Skånes stadsmission", "civil-society"),
    "p-region": ("Region Skåne", "region"),
}


def outcome(sv: str, en: str, skill: str) -> list[dict[str, Any]]:
    return [{"text": {"sv": sv, "en": en}, "esco_skills": [skill]}]


# Five entries whose differences every filter below can tell apart.
ENTRIES: dict[str, tuple[str, dict[str, Any]]] = {
    "A": ("p-hkr", {}),  # the factory's "Basala hygienrutiner i vård och omsorg"
    "B": ("p-folk", {
        "title": {"sv": "Svetsning för nybörjare", "en": "Welding for beginners"},
        "description": {"sv": "MIG-svetsning i verkstad.", "en": "MIG welding in a workshop."},
        "learning_outcomes": outcome("Svetsa en enkel fog säkert.", "Weld a simple joint safely.",
                                     ESCO_WELDING),
        "workload": {"hours": 80}, "level": {"eqf": 3},
        "participation": {"mode": "onsite", "pacing": "supervised"},
        "branches": ["industri-och-tillverkning"], "target_groups": ["nyanlanda"], "pilots": ["smaforetag"],
        "languages": ["sv", "en"],
    }),
    "C": ("p-hkr", {
        "title": {"sv": "Digital marknadsföring för småföretag",
                  "en": "Digital marketing for small businesses"},
        "description": {"sv": "Sociala medier och webbplats för det egna företaget.",
                        "en": "Social media and a website for your own business."},
        "learning_outcomes": outcome("Planera en kampanj i sociala medier.", "Plan a social media campaign.",
                                     ESCO_MARKETING),
        "workload": {"ects": "3"}, "level": {"eqf": 5},
        "participation": {"mode": "online", "pacing": "self-paced"},
        "branches": ["foretagande", "it-och-digitalisering"], "target_groups": ["smaforetagare"],
        "pilots": ["smaforetag"], "languages": ["sv", "en", "ar"],
    }),
    "D": ("p-mission", {
        "title": {"sv": "Svenska på arbetsplatsen inom omsorg", "en": "Swedish at work in care"},
        "description": {"sv": "Yrkessvenska för dig som vill arbeta i vården.",
                        "en": "Work-related Swedish for those who want to work in care."},
        "learning_outcomes": outcome("Kommunicera med brukare och kollegor.",
                                     "Communicate with clients and colleagues.", ESCO_COMMUNICATION),
        "workload": {"hours": 120}, "level": {"eqf": 2},
        "participation": {"mode": "work-based", "pacing": "supervised"},
        "branches": ["vard-och-omsorg", "service"], "target_groups": ["utanfor-arbetsmarknaden", "nyanlanda"],
        "pilots": ["utanfor-arbetsmarknaden", "vard-och-omsorg"], "languages": ["sv"],
    }),
    "E": ("p-region", {
        "title": {"sv": "Ledarskap för handledare", "en": "Leadership for supervisors"},
        "description": {"sv": "Att leda och handleda nya medarbetare.",
                        "en": "Leading and supervising new staff."},
        "learning_outcomes": outcome("Handleda en ny medarbetare.", "Supervise a new member of staff.",
                                     ESCO_LEADERSHIP),
        "workload": {"ects": "7.5", "hours": 200}, "level": {"eqf": 6},
        "participation": {"mode": "blended", "pacing": "supervised"}, "branches": ["service", "handel"],
        "target_groups": ["chefer-och-handledare"], "pilots": [], "languages": ["sv", "en"],
    }),
}


def entry(key: str, provider_id: str, *, at: datetime = NOW, **overrides: Any) -> dict[str, Any]:
    name, kind = PROVIDERS[provider_id]
    return catalogue_entry(published_version(key, provider_id, at=at, **overrides), name, kind)


@pytest.fixture
async def index(db) -> CatalogueIndex:
    catalogue = CatalogueIndex(db)
    await catalogue.ensure_indexes()
    return catalogue


@pytest.fixture
async def five(index: CatalogueIndex) -> CatalogueIndex:
    for key, (provider_id, overrides) in ENTRIES.items():
        await index.upsert(entry(key, provider_id, **overrides))
    return index


async def ids(index: CatalogueIndex, **query: Any) -> set[str]:
    page = await index.search(SearchQuery(facets=False, **query))
    assert page.next_cursor is None  # these answers fit on one page
    return {item.id for item in page.items}


# --- filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, "ABCDE"),
        ({"skills": [ESCO_WELDING]}, "B"),
        ({"skills": [ESCO_WELDING, ESCO_LEADERSHIP]}, "BE"),
        ({"branches": ["vard-och-omsorg"]}, "AD"),
        ({"branches": ["service", "industri-och-tillverkning"]}, "BDE"),
        ({"levels": [4]}, "A"),
        ({"levels": [2, 6]}, "DE"),
        ({"ects_min": 2}, "CE"),  # B and D state hours only: no credits to compare
        ({"ects_max": 2}, "A"),
        ({"ects_min": 1, "ects_max": 4}, "AC"),
        ({"hours_min": 100}, "DE"),
        ({"hours_max": 80}, "ABC"),  # C states 3 ECTS only, which is 80 notional hours
        ({"providers": ["p-hkr"]}, "AC"),
        ({"provider_kinds": ["civil-society", "region"]}, "DE"),
        ({"languages": ["en"]}, "BCE"),
        ({"languages": ["ar"]}, "C"),
        ({"modes": ["blended"]}, "AE"),
        ({"modes": ["online", "work-based"]}, "CD"),
        ({"pacings": ["self-paced"]}, "C"),
        ({"target_groups": ["nyanlanda"]}, "BD"),
        ({"pilots": ["smaforetag"]}, "BC"),
        ({"branches": ["service"], "levels": [6]}, "E"),  # AND across fields
        ({"branches": ["service"], "levels": [3, 4]}, ""),
        ({"pilots": ["vard-och-omsorg"], "target_groups": ["nyanlanda"], "hours_min": 100}, "D"),
        ({"branches": ["no-such-branch"]}, ""),
    ],
)
async def test_each_filter(five: CatalogueIndex, query: dict[str, Any], expected: str) -> None:
    assert await ids(five, **query) == set(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hygien", "A"),
        ("Hygiene", "A"),  # English
        ("vård", "AD"),  # "vården" in D's description starts with it
        ("vard", "AD"),  # typed without å
        ("VÅRD OMSORG", "AD"),
        ("omsorg svenska", "D"),  # every word must match
        ("svets", "B"),  # the start of a word
        ("welding beginners", "B"),
        ("care staff", "A"),
        ("småföretag", "C"),
        ("smaforetag", "C"),
        ("stadsmission", "D"),  # the provider's name
        ("handleda", "E"),
        ("xyzzy", ""),
        ("vård xyzzy", ""),
    ],
)
async def test_free_text_in_swedish_and_english(five: CatalogueIndex, text: str, expected: str) -> None:
    assert await ids(five, q=text) == set(expected)


async def test_text_and_filters_combine(five: CatalogueIndex) -> None:
    assert await ids(five, q="vård", branches=["service"]) == {"D"}
    assert await ids(five, q="vård", levels=[4], modes=["blended"]) == {"A"}


# --- facets -------------------------------------------------------------------------------------


def counts(page: Any, facet: str) -> dict[Any, int]:
    return {c.value: c.count for c in page.facets[facet]}


async def test_facet_counts_without_filters(five: CatalogueIndex) -> None:
    page = await five.search(SearchQuery())
    assert page.total == 5
    assert counts(page, "branches") == {"vard-och-omsorg": 2, "service": 2, "industri-och-tillverkning": 1,
                                        "foretagande": 1, "it-och-digitalisering": 1, "handel": 1}
    assert counts(page, "levels") == {2: 1, 3: 1, 4: 1, 5: 1, 6: 1}
    assert counts(page, "modes") == {"blended": 2, "onsite": 1, "online": 1, "work-based": 1}
    assert counts(page, "languages") == {"sv": 5, "en": 3, "ar": 1}
    assert counts(page, "provider_kinds") == {"university": 2, "adult-education": 1, "civil-society": 1,
                                              "region": 1}
    assert counts(page, "target_groups") == {"utanfor-arbetsmarknaden": 2, "nyanlanda": 2, "smaforetagare": 1,
                                             "chefer-och-handledare": 1}
    assert counts(page, "pilots") == {"vard-och-omsorg": 2, "smaforetag": 2, "utanfor-arbetsmarknaden": 1}
    # Most common first, then A-Z.
    assert [c.value for c in page.facets["branches"]][:2] == ["service", "vard-och-omsorg"]


async def test_facet_counts_leave_out_their_own_filter(five: CatalogueIndex) -> None:
    page = await five.search(SearchQuery(branches=["vard-och-omsorg"]))
    assert {i.id for i in page.items} == {"A", "D"} and page.total == 2
    # The other branches still show what ticking them would add (OR within the field) ...
    assert counts(page, "branches") == {"vard-och-omsorg": 2, "service": 2, "industri-och-tillverkning": 1,
                                        "foretagande": 1, "it-och-digitalisering": 1, "handel": 1}
    # ... while every other facet counts only within the ticked branch.
    assert counts(page, "levels") == {4: 1, 2: 1}
    assert counts(page, "provider_kinds") == {"university": 1, "civil-society": 1}

    page = await five.search(SearchQuery(q="omsorg", levels=[4]))
    assert [i.id for i in page.items] == ["A"] and page.total == 1
    assert counts(page, "levels") == {4: 1, 2: 1}  # text is not a facet: it always applies
    assert counts(page, "branches") == {"vard-och-omsorg": 1}

    page = await five.search(SearchQuery(levels=[8]))
    assert page.items == [] and page.total == 0
    assert counts(page, "levels") == {2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 8: 0}  # the ticked box stays


async def test_facets_can_be_left_out(five: CatalogueIndex) -> None:
    page = await five.search(SearchQuery(facets=False))
    assert page.facets == {} and page.total is None and len(page.items) == 5


# --- order and pages ----------------------------------------------------------------------------

TIED_TITLES = ["Örter i köket", "Zonterapi", "Ärendehantering", "Åtgärdsprogram", "avtalsrätt", "Ekonomi"]


async def test_swedish_alphabetical_order(index: CatalogueIndex) -> None:
    for n, title in enumerate(TIED_TITLES):
        await index.upsert(entry(f"mc-{n}", "p-hkr", title={"sv": title}))
    page = await index.search(SearchQuery(facets=False))
    assert [i.title.sv for i in page.items] == [
        "avtalsrätt", "Ekonomi", "Zonterapi", "Åtgärdsprogram", "Ärendehantering", "Örter i köket"]


async def test_paging_walks_every_entry_once_in_a_stable_order(index: CatalogueIndex) -> None:
    # 23 entries with many ties in every sort key, so page boundaries fall inside ties.
    docs = []
    for n in range(23):
        doc = entry(f"mc-{n:02d}", "p-hkr", at=NOW + timedelta(days=n % 3),
                    title={"sv": TIED_TITLES[n % 4]}, level={"eqf": 2 + n % 2},
                    workload={"hours": 40} if n % 2 else {"ects": "1.5"},
                    branches=["vard-och-omsorg"] if n % 5 else ["service"])
        docs.append(doc)
        await index.upsert(doc)
    stored = {d["_id"]: d for d in docs}
    expected_order = {
        "title": sorted(stored, key=lambda i: (stored[i]["sort_title"], i)),
        "level": sorted(stored, key=lambda i: (stored[i]["eqf"], stored[i]["sort_title"], i)),
        "workload": sorted(stored, key=lambda i: (stored[i]["notional_hours"], stored[i]["sort_title"], i)),
        "-published": sorted(stored, key=lambda i: (stored[i]["published_at"], i), reverse=True),
    }
    for sort, order in expected_order.items():
        for filters, keep in (
            ({}, lambda doc: True),
            ({"branches": ["vard-och-omsorg"], "q": "hygien omsorg"},
             lambda doc: doc["branches"] == ["vard-och-omsorg"]),
            ({"levels": [3, 2], "hours_max": 40}, lambda doc: True),  # the sort key filtered too
        ):
            walked, cursor, pages = [], None, 0
            while True:
                page = await index.search(
                    SearchQuery(sort=sort, limit=4, cursor=cursor, facets=False, **filters))
                walked += [item.id for item in page.items]
                pages += 1
                cursor = page.next_cursor
                if cursor is None:
                    break
            wanted = [i for i in order if keep(stored[i])]
            assert walked == wanted, (sort, filters)
            assert pages == -(-len(wanted) // 4)  # no empty last page


async def test_a_cursor_survives_changes_before_it(index: CatalogueIndex) -> None:
    for n in range(6):
        await index.upsert(entry(f"mc-{n}", "p-hkr", title={"sv": f"Kurs {n}"}))
    first = await index.search(SearchQuery(limit=3, facets=False))
    assert [i.id for i in first.items] == ["mc-0", "mc-1", "mc-2"]
    await index.remove("mc-1")  # the page already shown changes; the next one must not shift
    await index.upsert(entry("mc-00", "p-hkr", title={"sv": "Kurs 0"}))
    second = await index.search(SearchQuery(limit=3, facets=False, cursor=first.next_cursor))
    assert [i.id for i in second.items] == ["mc-3", "mc-4", "mc-5"] and second.next_cursor is None


async def test_a_cursor_that_is_not_ours_is_a_value_error(five: CatalogueIndex) -> None:
    query = SearchQuery().model_copy(update={"cursor": "eyJ2IjoxfQ"})  # skips validation, as a caller might
    with pytest.raises(InvalidCursor, match="start again without a cursor") as caught:
        await five.search(query)
    assert isinstance(caught.value, ValueError)


# --- only published versions --------------------------------------------------------------------


async def test_only_what_is_published_is_found(index: CatalogueIndex, db) -> None:
    v1 = published_version("mc-1", "p-hkr")
    await index.upsert(catalogue_entry(v1, *PROVIDERS["p-hkr"]))
    # A new draft of it is the provider's business, not the catalogue's: nothing reaches the index.
    draft = lc.new_version(v1, None, now=NOW, by="anna").changed[0]
    assert draft.status is lc.Status.DRAFT
    with pytest.raises(ValueError, match="only a published version"):
        catalogue_entry(draft, *PROVIDERS["p-hkr"])
    assert [i.version for i in (await index.search(SearchQuery(q="hygien"))).items] == [1]

    # Publishing version 2 replaces version 1: one entry, the new text.
    v2 = publish(lc.new_version(v1, content(title={"sv": "Basala hygienrutiner, fördjupning"}), now=NOW,
                                by="anna").changed[0], at=NOW + timedelta(days=1), replacing=v1)
    await index.upsert(catalogue_entry(v2, *PROVIDERS["p-hkr"]))
    page = await index.search(SearchQuery(q="hygien"))
    assert [(i.id, i.version, i.title.sv) for i in page.items] == [
        ("mc-1", 2, "Basala hygienrutiner, fördjupning")]
    assert await ids(index, q="fördjupning") == {"mc-1"} and await ids(index, q="vård") == set()
    assert await db["catalogue"].count_documents({}) == 1

    # Retiring takes it out.
    assert await index.remove("mc-1") is True
    assert await ids(index) == set()
    assert await index.remove("mc-1") is False


async def test_the_entry_is_written_in_the_callers_transaction(index: CatalogueIndex, mongo_client) -> None:
    doc = entry("mc-1", "p-hkr")
    async with mongo_client.start_session() as session:
        await session.start_transaction()
        await index.upsert(doc, session=session)
        await session.abort_transaction()
    assert await ids(index) == set()
    async with mongo_client.start_session() as session:
        await session.start_transaction()
        await index.upsert(doc, session=session)
        await session.commit_transaction()
    assert await ids(index) == {"mc-1"}


async def test_an_item_reads_back_as_it_was_published(five: CatalogueIndex) -> None:
    page = await five.search(SearchQuery(q="digital", facets=False))
    (item,) = page.items
    assert (item.id, item.provider_id, item.provider_name, item.provider_kind) == (
        "C", "p-hkr", "Högskolan Kristianstad", "university")
    assert (str(item.ects), item.hours, item.eqf, item.mode, item.pacing) == (
        "3.0", None, 5, "online", "self-paced")
    assert item.esco_skills == [ESCO_MARKETING] and item.languages == ["sv", "en", "ar"]
    assert str(item.price_sek) == "0" and item.published_at == NOW
    a = (await five.search(SearchQuery(q="hygien", facets=False))).items[0]
    assert ESCO_HYGIENE in a.esco_skills and a.title.en == "Basic hygiene routines in care"
    assert a.published_at.tzinfo is not None
