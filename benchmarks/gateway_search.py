"""Catalogue search through the GraphQL gateway against the same search called directly on the
catalog service, in the same run: the gateway's overhead as a ratio (aim: at most 1.5x at p50).

Catalog, quality, issuance and the gateway run as processes with the demo data. Each round sends
one search both ways, alternating which goes first so neither always meets the warmer cache:

* direct: ``GET /micro-credentials?q=...&limit=20`` on the catalog (items, total, facets);
* gateway: ``microCredentials(filter: {text}, first: 20)`` asking for the same fields (id, version,
  title, level, the provider's name, total, facets), the provider names through its DataLoader.

Then both again with ``--concurrency`` callers at a time, for throughput.

    .venv/bin/python benchmarks/gateway_search.py [--rounds 300] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from benchmarks.running_system import running_system

QUERIES = ("vård", "hygien", "svetsning", "digital", "service", "språk", "ledarskap", "industri", "omsorg", "")
GRAPHQL = """query($q: String) { microCredentials(filter: {text: $q}, first: 20) {
  totalCount facets { name values { value count } }
  nodes { id version title { sv en } eqfLevel provider { name } } } }"""


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(rounds: int, concurrency: int) -> None:
    async with running_system(("gateway", "catalog", "quality", "issuance")) as system:
        catalog, gateway = system.urls["catalog"], system.urls["gateway"]
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=64)) as http:

            async def direct(q: str) -> None:
                answer = await http.get(f"{catalog}/micro-credentials", params={"q": q, "limit": 20} if q else
                                        {"limit": 20})
                answer.raise_for_status()
                assert "items" in answer.json()

            async def through_gateway(q: str) -> None:
                answer = await http.post(f"{gateway}/graphql", json={"query": GRAPHQL, "variables": {"q": q or None}})
                body = answer.json()
                assert answer.status_code == 200 and not body.get("errors"), body

            ways: dict[str, Callable[[str], Awaitable[None]]] = {"direct": direct, "gateway": through_gateway}
            for q in QUERIES:  # warm both paths and the caches
                await direct(q)
                await through_gateway(q)
            samples: dict[str, list[float]] = {"direct": [], "gateway": []}
            for n in range(rounds):
                q = QUERIES[n % len(QUERIES)]
                order = ["direct", "gateway"] if n % 2 else ["gateway", "direct"]
                for way in order:
                    started = time.perf_counter()
                    await ways[way](q)
                    samples[way].append(time.perf_counter() - started)

            throughput: dict[str, float] = {}
            for way, call in ways.items():
                done = 0
                started = time.perf_counter()

                async def caller(offset: int, call: Any = call) -> None:
                    nonlocal done
                    for n in range(offset, rounds, concurrency):
                        await call(QUERIES[n % len(QUERIES)])
                        done += 1

                await asyncio.gather(*(caller(i) for i in range(concurrency)))
                throughput[way] = done / (time.perf_counter() - started)

    print(f"\n{rounds} searches each way, one at a time; then {concurrency} callers at a time")
    print(f"{'':<9} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>8}")
    for way in ("direct", "gateway"):
        print(f"{way:<9} {pct(samples[way], 0.5) * 1000:>8.1f} {pct(samples[way], 0.99) * 1000:>8.1f} "
              f"{throughput[way]:>8.1f}")
    p50 = pct(samples["gateway"], 0.5) / pct(samples["direct"], 0.5)
    p99 = pct(samples["gateway"], 0.99) / pct(samples["direct"], 0.99)
    print(f"\ngateway / direct: p50 {p50:.2f}x (aim <= 1.5x), p99 {p99:.2f}x, "
          f"throughput {throughput['gateway'] / throughput['direct']:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.concurrency))
