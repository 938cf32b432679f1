"""Browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Chromium is the system package (`shutil.which("chromium")`); Playwright never downloads a
browser. Without Chromium the tests are skipped, unless RETAGUARDA_REQUIRE_BROWSER=1 (CI), which
turns the absence into a failure. Each step's screenshot goes to test-artifacts/browser/<test>/.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told the code is not really async.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def chromium_path() -> str | None:
    return shutil.which("chromium")


def launch_chromium(playwright):
    """Debian's Chromium with the flags every caller (tests, screenshot script) uses."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)


@pytest.fixture(scope="session")
def browser():
    if chromium_path() is None:
        message = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("RETAGUARDA_REQUIRE_BROWSER") == "1":
            pytest.fail(message + "; RETAGUARDA_REQUIRE_BROWSER=1 requires it", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def _new_page(browser, live_server, viewport):
    context = browser.new_context(
        base_url=live_server.url, viewport=viewport, locale="en-US", extra_http_headers={"Accept-Language": "en"}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    # A request to anywhere but the live server is a test failure (no CDN, no telemetry).
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_server.url) else None)
    page.outside_requests = outside
    return context, page


@pytest.fixture
def page(browser, live_server):
    context, page = _new_page(browser, live_server, DESKTOP)
    yield page
    context.close()
    assert page.outside_requests == []


@pytest.fixture
def phone_page(browser, live_server):
    context, page = _new_page(browser, live_server, PHONE)
    yield page
    context.close()
    assert page.outside_requests == []


@pytest.fixture
def shot(request):
    """shot(page, "step-name"): a full-page screenshot, numbered in the order taken."""
    directory = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    taken: list[Path] = []

    def take(page, step: str) -> Path:
        path = directory / f"{len(taken) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    return take


def log_in(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form.stacked button[type=submit]")
