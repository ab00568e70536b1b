"""Catalogue search over 10,000 generated entries, as a ratio to a bare ``find`` in the same run.

On a fresh local stack (Tansu + SecantusDB in a temporary folder) it loads N catalogue
documents built by the real projection builder (``catalogue_entry``) with ``insert_many``, then
runs one mixed workload of searches, each one twice, interleaved:

  (a) baseline: ``collection.find(filter, sort, limit, projection)`` with the search's filter,
      sort, limit and projection. Where the search needs a second stage (more than one text
      term; the tie-break of a cursor) the baseline is the find of the index-served first stage
      alone, a lower bound: the same condition as one filter document (a top-level ``$all`` or
      ``$or``) is a collection scan on SecantusDB, timed once per such kind and printed apart;
  (b) search:   ``CatalogueIndex.search(query)``: the items and, when the query asks for
                facets, the facet aggregation too (run concurrently).

The mix: free text (one word, two words, English), branch + level, ESCO skill, workload range,
page 2 via the cursor of page 1; about half of the first-page requests ask for facets. It prints
requests/s (sequential, one client) and p50/p99 latency for both, the ratios, and the same per
kind of request.

    .venv/bin/python benchmarks/catalog_search.py [--entries N] [--rounds R] [--seed S]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mimis_platform.localstack import LocalStack
from mimis_platform.mongo import new_client
from services.catalog.domain import lifecycle as lc
from services.catalog.domain.model import MicroCredentialContent
from services.catalog.domain.search import SearchQuery, catalogue_entry, plan
from services.catalog.domain.vocabulary import BUILT_IN, VocabularyKind
from services.catalog.search_index import INDEXES, CatalogueIndex, storable

BRANCHES = [t.code for t in BUILT_IN if t.kind is VocabularyKind.BRANCH]
TARGET_GROUPS = [t.code for t in BUILT_IN if t.kind is VocabularyKind.TARGET_GROUP]
PILOTS = [t.code for t in BUILT_IN if t.kind is VocabularyKind.PILOT]
TOWNS = ["Malmö", "Lund", "Helsingborg", "Kristianstad", "Landskrona", "Trelleborg", "Ystad", "Hässleholm",
         "Ängelholm", "Eslöv", "Höganäs", "Simrishamn", "Sjöbo", "Höör", "Osby", "Åstorp", "Bjuv", "Svedala"]
KINDS = ["university", "adult-education", "civil-society", "employer", "municipality", "region"]
KIND_NAMES = {"university": "Högskolan", "adult-education": "Folkhögskola", "civil-society": "Föreningen",
              "employer": "Akademin", "municipality": "Kommun", "region": "Region"}
# (Swedish, English) subject words; titles, descriptions and outcomes are made from them.
SUBJECTS = [
    ("hygien", "hygiene"), ("dokumentation", "documentation"), ("demensvård", "dementia care"),
    ("läkemedel", "medication"), ("svetsning", "welding"), ("truckkörning", "forklift driving"),
    ("kundservice", "customer service"), ("bokföring", "bookkeeping"), ("marknadsföring", "marketing"),
    ("programmering", "programming"), ("ledarskap", "leadership"), ("arbetsmiljö", "work environment"),
    ("hållbarhet", "sustainability"), ("livsmedelshantering", "food handling"),
    ("elsäkerhet", "electrical safety"), ("cybersäkerhet", "cyber security"), ("logistik", "logistics"),
    ("försäljning", "sales"), ("bemötande", "client relations"), ("yrkessvenska", "work-related Swedish"),
    ("ekonomi", "finance"), ("robotik", "robotics"), ("måltider", "meals"), ("trädgård", "gardening"),
    ("byggteknik", "building technology"),
]
# Swedish makes compounds (vård + dokumentation = vårddokumentation): a catalogue's vocabulary is
# wide, and a prefix such as "vård" still finds many entries.
_DOMAINS = [("vård", "care"), ("omsorg", "social care"), ("lager", "warehouse"), ("bygg", "building"),
            ("kök", "kitchen"), ("butik", "shop"), ("verkstad", "workshop"), ("kontor", "office"),
            ("skog", "forestry"), ("fordon", "vehicle"), ("hotell", "hotel"), ("skol", "school"),
            ("data", "data"), ("miljö", "environment"), ("energi", "energy"), ("städ", "cleaning")]
_ACTIVITIES = [("dokumentation", "documentation"), ("säkerhet", "safety"), ("ledning", "management"),
               ("planering", "planning"), ("kommunikation", "communication"), ("ekonomi", "finance"),
               ("hygien", "hygiene"), ("digitalisering", "digitalisation"), ("service", "service"),
               ("teknik", "technology")]
SUBJECTS += [(d + a, f"{de} {ae}") for d, de in _DOMAINS for a, ae in _ACTIVITIES]
QUALIFIERS = [("grundkurs", "introduction"), ("fördjupning", "advanced"), ("i praktiken", "in practice"),
              ("på arbetsplatsen", "at work"), ("för nybörjare", "for beginners"),
              ("för handledare", "for supervisors")]
VERBS = [("Tillämpa", "Apply"), ("Förklara", "Explain"), ("Planera", "Plan"), ("Bedöma", "Assess"),
         ("Dokumentera", "Document"), ("Leda", "Lead")]
SKILLS = [f"http://data.europa.eu/esco/skill/{n:08x}-0000-4000-8000-{n * 7919:012x}" for n in range(1, 301)]
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def providers(rng: random.Random, count: int = 500) -> list[tuple[str, str, str]]:
    out = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        out.append((f"prov-{n:03d}", f"{KIND_NAMES[kind]} {rng.choice(TOWNS)} {n}", kind))
    return out


def make_entry(n: int, rng: random.Random, provs: list[tuple[str, str, str]]) -> dict[str, Any]:
    (sv, en), (qsv, qen) = rng.choice(SUBJECTS), rng.choice(QUALIFIERS)
    other_sv, other_en = rng.choice(SUBJECTS)
    outcomes = []
    for _ in range(rng.randint(2, 4)):
        (vsv, ven), (osv, oen) = rng.choice(VERBS), rng.choice(SUBJECTS)
        outcomes.append({"text": {"sv": f"{vsv} {osv} och {sv} i det dagliga arbetet.",
                                  "en": f"{ven} {oen} and {en} in daily work."},
                         "esco_skills": rng.sample(SKILLS, rng.randint(1, 2))})
    hours = rng.choice([None, 8, 16, 24, 40, 60, 80, 120, 160, 200])
    ects = None if hours and rng.random() < 0.5 else rng.choice(["1.5", "3", "4.5", "7.5", "15"])
    eqf = rng.randint(2, 7)
    content = MicroCredentialContent.model_validate({
        "title": {"sv": f"{sv.capitalize()} {qsv}", "en": f"{en.capitalize()} {qen}"},
        "description": {
            "sv": f"En kurs om {sv} och {other_sv} för dig som arbetar eller vill arbeta i Skåne.",
            "en": f"A course on {en} and {other_en} for people who work, or want to work, in Skåne.",
        },
        "learning_outcomes": outcomes,
        "workload": {"ects": ects, "hours": hours},
        "level": {"eqf": eqf, "seqf": eqf},
        "assessment": {"type": "practical-demonstration"},
        "participation": {"mode": rng.choice(["online", "onsite", "blended", "work-based"]),
                          "pacing": rng.choice(["self-paced", "supervised"])},
        "quality_assurance": {"types": ["internal"]},
        "branches": rng.sample(BRANCHES, rng.choice([1, 1, 2])),
        "target_groups": rng.sample(TARGET_GROUPS, rng.randint(0, 2)),
        "pilots": rng.sample(PILOTS, rng.randint(0, 1)),
        "languages": ["sv"] + (["en"] if rng.random() < 0.3 else []),
        "price": {"amount_sek": str(rng.choice([0, 0, 500, 1500, 4900]))},
    })
    provider_id, provider_name, kind = provs[rng.randrange(len(provs))]
    at = NOW - timedelta(days=rng.randrange(700), minutes=rng.randrange(1440))
    version = lc.MicroCredentialVersion(f"mc-{n:05d}", 1, provider_id, content, lc.Status.PUBLISHED, at, at,
                                        published_at=at)
    return catalogue_entry(version, provider_name, kind)


@dataclass
class Request:
    kind: str
    query: SearchQuery


def workload(rng: random.Random, rounds: int) -> list[Request]:
    out: list[Request] = []
    for r in range(rounds):
        facets = r % 2 == 0
        sv, en = rng.choice(SUBJECTS)
        other, _ = rng.choice(SUBJECTS)
        out += [
            Request("text, one word", SearchQuery(q=sv[: rng.randint(4, len(sv))], facets=facets)),
            Request("text, two words", SearchQuery(q=f"{sv} {rng.choice(QUALIFIERS)[0].split()[-1]}",
                                                   facets=not facets)),
            Request("text, English", SearchQuery(q=en.split()[0], sort="-published", facets=facets)),
            Request("branch + level", SearchQuery(branches=[rng.choice(BRANCHES)], levels=[rng.randint(2, 7)],
                                                  facets=not facets)),
            Request("skill", SearchQuery(skills=[rng.choice(SKILLS)], facets=facets)),
            Request("workload range", SearchQuery(hours_min=40, hours_max=rng.choice([60, 80, 120]),
                                                  branches=[rng.choice(BRANCHES)], sort="workload",
                                                  facets=not facets)),
            Request("page 2 (cursor)", SearchQuery(q=other[:5], branches=[rng.choice(BRANCHES)],
                                                   facets=False)),
        ]
    return out


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(samples: list[float]) -> tuple[float, float, float]:
    return len(samples) / sum(samples), pct(samples, 0.5) * 1000, pct(samples, 0.99) * 1000


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=6, help="rounds of the 7 kinds of request")
    parser.add_argument("--seed", type=int, default=20260301)
    args = parser.parse_args()
    # The stack's readiness probe logs each refused connection while the broker starts.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory(prefix="mimis-bench-search-") as root:
        async with LocalStack(root=Path(root)) as stack:
            client = new_client(stack.mongo_url)
            try:
                db = client["bench_catalog"]
                index = CatalogueIndex(db)
                await index.ensure_indexes()

                started = time.perf_counter()
                provs = providers(rng)
                docs = [make_entry(n, rng, provs) for n in range(args.entries)]
                built = time.perf_counter() - started
                terms = statistics.mean(len(d["terms"]) for d in docs)
                started = time.perf_counter()
                for i in range(0, len(docs), 1000):
                    await index.collection.insert_many([storable(d) for d in docs[i:i + 1000]], ordered=False)
                loaded = time.perf_counter() - started
                print(f"{args.entries} entries built in {built:.1f}s (mean {terms:.0f} search terms each), "
                      f"inserted with insert_many in {loaded:.1f}s ({args.entries / loaded:.0f} docs/s, "
                      f"{len(INDEXES)} indexes)")

                requests = workload(rng, args.rounds)
                # Page 2 needs page 1's cursor: fetch page 1 untimed, and drop a query with one page only.
                timed: list[Request] = []
                for req in requests:
                    if req.kind.startswith("page 2"):
                        first = await index.search(req.query)
                        if first.next_cursor is None:
                            continue
                        req = Request(req.kind, req.query.model_copy(update={"cursor": first.next_cursor}))
                    timed.append(req)

                base_t: dict[str, list[float]] = defaultdict(list)
                search_t: dict[str, list[float]] = defaultdict(list)
                one_doc: dict[str, float] = {}
                await index.search(SearchQuery(q="hygien"))  # warm the connection pool and the caches
                wall = time.perf_counter()
                for n, req in enumerate(timed):
                    search_plan = plan(req.query)
                    projection = search_plan.projection
                    row = f"{req.kind}{', facets' if req.query.facets else ''}"
                    if search_plan.refine:
                        row += " *"

                    async def bare(search_plan: Any = search_plan, projection: Any = projection) -> int:
                        found = await index.collection.find(
                            search_plan.match, projection=projection, sort=search_plan.sort,
                            limit=search_plan.limit).to_list()
                        return len(found)

                    async def real(query: SearchQuery = req.query) -> int:
                        return len((await index.search(query)).items)

                    # Alternate which goes first, so neither always gets the warmer cache.
                    order: list[tuple[str, Callable[[], Awaitable[int]]]] = [("base", bare), ("search", real)]
                    if n % 2:
                        order.reverse()
                    for name, run in order:
                        t0 = time.perf_counter()
                        await run()
                        (base_t if name == "base" else search_t)[row].append(time.perf_counter() - t0)
                    if search_plan.refine and req.kind not in one_doc:
                        # Once per kind: the same condition as ONE filter document ($all / $or at the
                        # top), which this server cannot serve from an index.
                        t0 = time.perf_counter()
                        await index.collection.find(search_plan.find_filter(), projection=projection,
                                                    sort=search_plan.sort, limit=search_plan.limit).to_list()
                        one_doc[req.kind] = time.perf_counter() - t0
                wall = time.perf_counter() - wall
            finally:
                await client.close()

    all_base = [t for ts in base_t.values() for t in ts]
    all_search = [t for ts in search_t.values() for t in ts]
    print(f"\n{len(timed)} requests of each, sequential, one client; timed part {wall:.0f}s\n")
    print(f"{'':28} {'req/s':>8} {'p50 ms':>9} {'p99 ms':>9}")
    for label, samples in (("bare find (baseline)", all_base), ("CatalogueIndex.search", all_search)):
        rps, p50, p99 = summary(samples)
        print(f"{label:28} {rps:8.2f} {p50:9.1f} {p99:9.1f}")
    b, s = summary(all_base), summary(all_search)
    print(f"{'ratio search / baseline':28} {s[0] / b[0]:8.2f} {s[1] / b[1]:9.2f} {s[2] / b[2]:9.2f}"
          "   (req/s: higher is better; p50/p99: lower is better)")
    off_base = [t for row, ts in base_t.items() if "facets" not in row for t in ts]
    off_search = [t for row, ts in search_t.items() if "facets" not in row for t in ts]
    if off_base:
        b, s = summary(off_base), summary(off_search)
        print(f"{'same, facets off only':28} {s[0] / b[0]:8.2f} {s[1] / b[1]:9.2f} {s[2] / b[2]:9.2f}"
              f"   ({len(off_base)} requests)")

    print(f"\n{'by kind':34} {'n':>3} {'find p50':>9} {'search p50':>11} {'ratio':>6}")
    for row in sorted(base_t):
        fb, fs = pct(base_t[row], 0.5) * 1000, pct(search_t[row], 0.5) * 1000
        print(f"{row:34} {len(base_t[row]):3d} {fb:9.1f} {fs:11.1f} {fs / fb:6.2f}")
    print("\n* the baseline is the find of the index-served part of the filter (the first $match: the\n"
          "  longest text term, the filters, the cursor's range on the sort key); the search also\n"
          "  applies the other terms / the cursor's tie-break. The same condition as one filter\n"
          "  document (a top-level $all or $or) is a collection scan on SecantusDB:")
    for kind, elapsed in one_doc.items():
        print(f"  {kind}: one-document find {elapsed * 1000:.0f} ms (one request)")


if __name__ == "__main__":
    asyncio.run(main())
