"""The web pages in a real headless Chromium (Debian's package, driven by Playwright), against the
gateway and the services running as processes with the demo data: the catalogue (search, a facet,
a micro-credential's details with its review summary, in Swedish and English) and the public
verification page (a learner's share link: valid; a revoked credential pasted: invalid, with the
reason; nonsense: refused). Screenshots go to build/screenshots/."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from mimis_platform.auth import DevelopmentIssuer
from mimis_platform.devstack import load_demo_data, start_services, wait_ready
from mimis_platform.localstack import HOST, LocalStack, free_port
from mimis_platform.mongo import new_client

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM = shutil.which("chromium")
# As the machine's own probe starts it: no sandbox as root, no background connections to Google.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@dataclass
class Web:
    gateway: str
    issuance: str
    stack: LocalStack
    issuer: DevelopmentIssuer


@pytest.fixture(scope="module")
async def web(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Web]:
    stack = LocalStack(root=Path(tmp_path_factory.mktemp("web")))
    await stack.start()
    issuer = DevelopmentIssuer.load_or_create(stack.root / "dev-issuer-key.json")
    urls = {name: f"http://{HOST}:{free_port()}" for name in ("gateway", "catalog", "quality", "issuance")}
    services = []
    try:
        services = start_services(stack, issuer, urls, {"LOG_LEVEL": "WARNING", "RELAY_IDLE_SECONDS": "0.05"})
        await wait_ready(services)
        await load_demo_data(stack, urls)
        yield Web(urls["gateway"], urls["issuance"], stack, issuer)
    finally:
        for service in services:
            await asyncio.to_thread(service.server.stop, 25.0)
        await stack.stop()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    assert CHROMIUM, "Debian's chromium is missing: `make test` installs it (make browser)"
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield chromium
        finally:
            await chromium.close()


async def _page(browser: Browser) -> Page:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    return await context.new_page()


async def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def test_the_catalogue_page_searches_filters_and_shows_a_review_summary(web: Web, browser: Browser) -> None:
    page = await _page(browser)
    await page.goto(f"{web.gateway}/?lang=sv")  # the home page leads to the catalogue
    cards = page.locator("article.card")
    await expect(cards.first).to_be_visible(timeout=30_000)
    assert await cards.count() == 20  # the demo catalogue: 20 published micro-credentials, one page
    await expect(page.locator("#summary")).to_have_text("20 mikromeriter")
    await _shot(page, "catalogue-sv")

    await page.fill("#q", "hygien")
    await page.click("button[type=submit]")
    await expect(page.locator("#summary")).not_to_have_text("20 mikromeriter", timeout=15_000)
    found = await cards.count()
    assert 1 <= found < 20
    titles = await page.locator("article.card h3").all_inner_texts()
    assert any("hygien" in title.lower() for title in titles), titles

    await page.fill("#q", "")
    await page.click("button[type=submit]")
    await expect(page.locator("#summary")).to_have_text("20 mikromeriter", timeout=15_000)
    level = page.locator("fieldset[data-facet=levels] input").first
    value = await level.get_attribute("value")
    expected = await page.locator("fieldset[data-facet=levels] label").first.inner_text()
    await level.check()
    count = int(expected.rsplit("(", 1)[1].rstrip(")"))
    await expect(cards).to_have_count(count, timeout=15_000)
    for meta in await page.locator("article.card .meta").all_inner_texts():
        assert f"EQF {value}" in meta

    await cards.first.locator("button.link").click()
    dialog = page.locator("dialog#details")
    await expect(dialog.locator(".review").first).to_contain_text("Granskad av", timeout=15_000)
    await expect(dialog).to_contain_text("Läranderesultat")
    await _shot(page, "details-sv")
    await dialog.locator("button.primary").click()  # close, switch to English, open again
    await page.click("button[data-lang=en]")
    await expect(page.locator("#summary")).to_contain_text("micro-credentials")
    await cards.first.locator("button.link").click()
    await expect(dialog.locator(".review").first).to_contain_text("Reviewed by", timeout=15_000)
    await expect(dialog).to_contain_text("Learning outcomes")
    await _shot(page, "details-en")


async def _shared_link_token(web: Web) -> str:
    learner = {"authorization": f"Bearer {web.issuer.token('demo.maja@example.se', ['learner'])}"}
    async with httpx.AsyncClient(base_url=web.issuance, timeout=30) as http:
        mine = (await http.get("/v1/me/credentials", headers=learner)).json()["items"]
        active = [c for c in mine if c["status"] == "active"]
        assert active, mine
        answer = await http.post(f"/v1/me/credentials/{active[0]['credential_id']}/shares",
                                 json={"expires_in_days": 7}, headers=learner)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["token"])


async def test_the_verification_page_checks_a_shared_credential_in_both_languages(web: Web,
                                                                                  browser: Browser) -> None:
    token = await _shared_link_token(web)
    page = await _page(browser)
    await page.goto(f"{web.gateway}/verify?share={token}&lang=sv")
    verdict = page.locator(".verdict")
    await expect(verdict).to_have_text("Intyget är äkta och giltigt", timeout=30_000)
    assert await verdict.get_attribute("data-verdict") == "valid"
    checks = page.locator("ul.checks li")
    assert await checks.count() >= 5
    assert await page.locator("ul.checks li.failed").count() == 0
    await expect(page.locator("li[data-check=signature]")).to_contain_text("Signaturen stämmer")
    await _shot(page, "verify-shared-sv")
    await page.click("button[data-lang=en]")
    await expect(verdict).to_have_text("The credential is genuine and valid")
    # One status check per status entry: revocation and suspension.
    statuses = page.locator("li[data-check=status]")
    await expect(statuses).to_have_count(2)
    await expect(statuses.first).to_contain_text("The credential is neither revoked nor suspended")
    await _shot(page, "verify-shared-en")


async def test_a_pasted_revoked_credential_and_nonsense_are_refused_with_reasons(web: Web, browser: Browser) -> None:
    client = new_client(web.stack.mongo_url)
    try:
        revoked = await client["issuance"]["credentials"].find_one({"status": "revoked"})
    finally:
        await client.close()
    assert revoked is not None, "the issuance demo revokes one credential"
    page = await _page(browser)
    await page.goto(f"{web.gateway}/web/verify.html?lang=sv")
    await page.fill("#credential", revoked["jws"])
    await page.click("button[type=submit]")
    await expect(page.locator(".verdict")).to_have_text("Intyget godtas inte", timeout=30_000)
    status = page.locator("li[data-check=status].failed")  # revocation fails; suspension (not suspended) passes
    await expect(status).to_have_count(1)
    await expect(status).to_contain_text(str(revoked["revocation_reason"]))
    assert await page.locator("li[data-check=signature]").get_attribute("class") == "ok"
    await _shot(page, "verify-revoked-sv")

    await page.fill("#credential", "inte ett intyg")
    await page.click("button[type=submit]")
    await expect(page.locator("li[data-check=format]")).to_have_class("failed", timeout=30_000)
    await expect(page.locator(".verdict")).to_have_attribute("data-verdict", "invalid")
