"""The committed SDL (gateway/schema.graphql) is the schema the code builds, and the gateway serves
GraphiQL to developers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from gateway.export_schema import SCHEMA_FILE, sdl
from gateway.tests.region import Region


def test_the_schema_file_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text() == sdl(), "gateway/schema.graphql is stale: run python -m gateway.export_schema"


def test_the_check_command_fails_on_a_stale_file(tmp_path: Path) -> None:
    def check(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "gateway.export_schema", "--check", "--file", str(path)],
                              capture_output=True, text=True)

    fresh, stale = tmp_path / "fresh.graphql", tmp_path / "stale.graphql"
    fresh.write_text(SCHEMA_FILE.read_text())
    stale.write_text(SCHEMA_FILE.read_text().replace("type MicroCredential ", "type MicroKredential ", 1))
    assert check(fresh).returncode == 0
    answer = check(stale)
    assert answer.returncode == 1
    assert "stale" in answer.stderr


async def test_graphiql_is_served_to_browsers(region: Region) -> None:
    async with httpx.AsyncClient() as http:
        page = await http.get(f"{region.gateway_url}/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_only_the_configured_web_origins_may_call_from_a_browser(region: Region) -> None:
    async with httpx.AsyncClient() as http:
        preflight = {"access-control-request-method": "POST",
                     "access-control-request-headers": "authorization,content-type"}
        allowed = await http.options(f"{region.gateway_url}/graphql",
                                     headers={"origin": "https://app.mimis.test", **preflight})
        other = await http.options(f"{region.gateway_url}/graphql",
                                   headers={"origin": "https://evil.example", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.mimis.test"
    assert "access-control-allow-origin" not in other.headers
