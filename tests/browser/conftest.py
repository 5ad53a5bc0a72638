"""Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright) against the live service.

Screenshots go to test-artifacts/screenshots/<name>.png; the docs keep a copy of the final set.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.support import require_or_skip

CHROMIUM = os.environ.get("JOURNEY_BROWSER", "/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the module."""
    if not Path(CHROMIUM).exists():
        require_or_skip("browser", f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, live_service) -> Iterator:
    """A page signed in as the demo user, at a desktop size; fails on any script error."""
    context = browser.new_context(base_url=live_service["base_url"],
                                  viewport={"width": 1360, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.goto("/sign-in")
    tab.fill('#password-form input[name="email"]', live_service["email"])
    tab.fill('#password-form input[name="password"]', live_service["password"])
    tab.click('#password-form button[type="submit"]')
    tab.wait_for_url(lambda url: "/sign-in" not in url)
    yield tab
    context.close()
    assert not errors, f"script errors on the page: {errors}"


@pytest.fixture(scope="session")
def shot() -> Callable:
    """``shot(page, name)`` saves test-artifacts/screenshots/<name>.png: the whole page, or only
    the visible part (``full_page=False``), or one element (``element="#preview"``)."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(tab, name: str, *, full_page: bool = True, element: str | None = None) -> Path:
        path = SHOTS / f"{name}.png"
        if element:
            tab.locator(element).screenshot(path=str(path))
        else:
            tab.screenshot(path=str(path), full_page=full_page)
        return path

    return take
