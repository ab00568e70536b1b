"""Web pages for people, served by the gateway and using its GraphQL API (no build step):
``/web/catalogue.html`` (search, filters, a micro-credential's details with its review summary)
and ``/web/verify.html`` (open a share link or paste a credential; every check in Swedish or
English). ``/`` leads to the catalogue."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

PAGES = Path(__file__).resolve().parent / "pages"


def mount_pages(app: FastAPI) -> None:
    app.mount("/web", StaticFiles(directory=PAGES, html=True), name="web")

    @app.get("/", include_in_schema=False)
    async def _home() -> RedirectResponse:
        return RedirectResponse("/web/catalogue.html")

    @app.get("/verify", include_in_schema=False)
    async def _verify(share: str | None = None) -> RedirectResponse:
        # Share links point here: /verify?share=<token>.
        return RedirectResponse(f"/web/verify.html?share={quote(share)}" if share else "/web/verify.html")
