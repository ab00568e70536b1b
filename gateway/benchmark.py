"""Catalogue search through the gateway against the same search called directly on the catalog
service, in the same run (the machines are shared and noisy: only same-run ratios mean anything).

    .venv/bin/python -m gateway.benchmark [--entries 300] [--rounds 60]

Starts its own local stack, the catalog and the gateway as separate processes (as `make run`
does), publishes ``--entries`` micro-credentials (the board's decisions sent over the real broker,
as the catalog's own tests do), then runs a mix of searches (first pages with facets, text,
filters, next pages without facets) alternately on both paths, and prints p50/p99 of each and the
gateway's overhead ratio. The gateway's answer carries the same entries (id, title, level,
provider name) as the catalog's, which the benchmark checks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.contracts import CONTRACTS
from mimis_platform.kafka import ensure_topics
from mimis_platform.localstack import HOST, LocalStack, ServerProcess, free_port
from services.catalog.demo import review_events, send_events
from services.catalog.tests.factories import content_payload, provider_payload

Page = tuple[list[str], str | None]  # entry ids, next cursor

GRAPHQL = """query($filter: CatalogueFilter, $first: Int, $after: String) {
  microCredentials(filter: $filter, first: $first, after: $after) {
    %s pageInfo { endCursor } nodes { id title { sv } eqfLevel provider { name } } } }"""

#: (name, catalog query parameters, GraphQL filter, with facets)
MIX: list[tuple[str, dict[str, Any], dict[str, Any], bool]] = [
    ("first page, facets", {}, {}, True),
    ("text, facets", {"q": "omsorg"}, {"text": "omsorg"}, True),
    ("levels, no facets", {"levels": [3, 4]}, {"levels": [3, 4]}, False),
    ("branch + text, no facets", {"branches": ["vard-och-omsorg"], "q": "hygien"},
     {"branches": ["vard-och-omsorg"], "text": "hygien"}, False),
]


def _env(stack: LocalStack, prefix: str, port: int, issuer: DevelopmentIssuer) -> dict[str, str]:
    env = dict(os.environ)
    env.update(stack.environment(prefix))
    env.update({f"{prefix}AUTH_JWKS": json.dumps(issuer.jwks()), f"{prefix}AUTH_ISSUER": issuer.issuer,
                f"{prefix}HTTP_PORT": str(port), f"{prefix}HTTP_HOST": HOST, f"{prefix}ENVIRONMENT": "development",
                f"{prefix}LOG_LEVEL": "WARNING"})
    return env


async def _ready(url: str, server: ServerProcess) -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(900):
            server.check_alive()
            try:
                if (await http.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)  # start-up poll
    raise RuntimeError(f"{url} never became ready")


async def _seed(catalog: httpx.AsyncClient, stack: LocalStack, issuer: DevelopmentIssuer, entries: int) -> None:
    ids: list[tuple[str, str]] = []
    for n in range(5):
        pid = f"bench{n}"
        auth = {"authorization": f"Bearer {issuer.token(f'm-{pid}', ['provider-member'], [pid])}"}
        (await catalog.post("/providers", json={"id": pid, **provider_payload(name=f"Utbildare {n}")},
                            headers=auth)).raise_for_status()
        for i in range(entries // 5):
            content = content_payload(title={"sv": f"Omsorg och hygien {n}-{i}", "en": f"Care {n}-{i}"},
                                      level={"eqf": 2 + i % 4})
            answer = await catalog.post("/micro-credentials", json={"provider_id": pid, "content": content},
                                        headers=auth)
            answer.raise_for_status()
            mc = answer.json()["micro_credential_id"]
            (await catalog.post(f"/micro-credentials/{mc}/versions/1/submit", headers=auth)).raise_for_status()
            ids.append((mc, pid))
    events = [e for mc, pid in ids for e in review_events(mc, 1, pid, "approve")]
    await send_events(stack.kafka_bootstrap_servers, events)
    for _ in range(1200):
        total = (await catalog.get("/micro-credentials", params={"limit": 1})).json()["total"]
        if total >= len(ids):
            return
        await asyncio.sleep(0.25)  # the catalog consumes the decisions
    raise RuntimeError("the entries were not all published")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(entries: int, rounds: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="mimis-gateway-bench-"))
    stack = LocalStack(root=root)
    await stack.start()
    issuer = DevelopmentIssuer()
    servers: list[ServerProcess] = []
    try:
        await ensure_topics(stack.kafka_bootstrap_servers, CONTRACTS.topics)
        catalog_port, gateway_port = free_port(), free_port()
        catalog_url, gateway_url = f"http://{HOST}:{catalog_port}", f"http://{HOST}:{gateway_port}"
        catalog_env = _env(stack, "CATALOG_", catalog_port, issuer)
        gateway_env = _env(stack, "GATEWAY_", gateway_port, issuer) | {
            "GATEWAY_CATALOG_URL": catalog_url, "GATEWAY_LIVE_EVENTS": "false"}
        for name, port, module, env in (("catalog", catalog_port, "services.catalog", catalog_env),
                                        ("gateway", gateway_port, "gateway", gateway_env)):
            server = ServerProcess(name=name, port=port, argv=[sys.executable, "-m", module],
                                   log_path=root / "logs" / f"{name}.log", env=env)
            server.start()
            servers.append(server)
        await asyncio.gather(_ready(catalog_url, servers[0]), _ready(gateway_url, servers[1]))
        async with httpx.AsyncClient(base_url=catalog_url, timeout=60) as catalog, \
                httpx.AsyncClient(base_url=gateway_url, timeout=60) as gateway:
            await _seed(catalog, stack, issuer, entries)
            timings: dict[str, list[float]] = {"direct": [], "gateway": []}

            async def direct(params: dict[str, Any], facets: bool, cursor: str | None) -> Page:
                query = {**params, "limit": 20, "facets": str(facets).lower(), **({"cursor": cursor} if cursor else {})}
                started = time.perf_counter()
                answer = await catalog.get("/micro-credentials", params=query)
                timings["direct"].append(time.perf_counter() - started)
                body = answer.raise_for_status().json()
                return [i["id"] for i in body["items"]], body.get("next_cursor")

            async def through(filter_: dict[str, Any], facets: bool, cursor: str | None) -> Page:
                document = GRAPHQL % ("totalCount facets { name values { value count } }" if facets else "")
                started = time.perf_counter()
                answer = await gateway.post("/graphql", json={"query": document, "variables": {
                    "filter": filter_, "first": 20, "after": cursor}})
                timings["gateway"].append(time.perf_counter() - started)
                body = answer.raise_for_status().json()
                assert "errors" not in body, body
                page = body["data"]["microCredentials"]
                return [n["id"] for n in page["nodes"]], page["pageInfo"]["endCursor"]

            for number in range(rounds):
                for _name, params, filter_, facets in MIX:
                    # Alternate who goes first, so neither path always meets a warm cache.
                    order = [("direct", params), ("gateway", filter_)]
                    if number % 2:
                        order.reverse()
                    pages: dict[str, Page] = {}
                    for path, argument in order:
                        call = direct if path == "direct" else through
                        pages[path] = await call(argument, facets, None)
                    assert pages["direct"][0] == pages["gateway"][0], "both paths must answer the same entries"
                    if pages["direct"][1] and not facets:  # a next page, as a client pages on
                        first_direct = await direct(params, False, pages["direct"][1])
                        first_gateway = await through(filter_, False, pages["gateway"][1])
                        assert first_direct[0] == first_gateway[0]
        result = {
            "entries": entries, "requests_per_path": len(timings["direct"]),
            "direct_p50_ms": _percentile(timings["direct"], 0.5) * 1000,
            "direct_p99_ms": _percentile(timings["direct"], 0.99) * 1000,
            "gateway_p50_ms": _percentile(timings["gateway"], 0.5) * 1000,
            "gateway_p99_ms": _percentile(timings["gateway"], 0.99) * 1000,
            "direct_mean_ms": statistics.fmean(timings["direct"]) * 1000,
            "gateway_mean_ms": statistics.fmean(timings["gateway"]) * 1000,
        }
        result["ratio_p50"] = result["gateway_p50_ms"] / result["direct_p50_ms"]
        result["ratio_p99"] = result["gateway_p99_ms"] / result["direct_p99_ms"]
        return result
    finally:
        for server in reversed(servers):
            await asyncio.to_thread(server.stop, 20.0)
        await stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args()
    result = asyncio.run(run(args.entries, args.rounds))
    print(f"catalogue search over {result['entries']} entries, {result['requests_per_path']} requests per path")
    print(f"  direct to catalog : p50 {result['direct_p50_ms']:.1f} ms, p99 {result['direct_p99_ms']:.1f} ms")
    print(f"  through gateway   : p50 {result['gateway_p50_ms']:.1f} ms, p99 {result['gateway_p99_ms']:.1f} ms")
    print(f"  gateway / direct  : {result['ratio_p50']:.2f}x at p50, {result['ratio_p99']:.2f}x at p99")


if __name__ == "__main__":
    main()
