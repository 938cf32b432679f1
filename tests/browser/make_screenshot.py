"""Render the home dashboard with the demo company to docs/screenshots/home.png (the README image).

    .venv/bin/python tests/browser/make_screenshot.py [--country BR|ES] [--language en] [--out PATH]

Everything happens in a throw-away SQLite database in a temporary directory: migrate, load the
demo through its services, serve the app on a free local port in a thread, log in as the
demo's shared administrator with Debian's Chromium, wait until every dashboard widget has
arrived through htmx, and save the screenshot.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM_ARGS, chromium_path  # noqa: E402


def configure(var_dir: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "retaguarda.settings",
            "RETAGUARDA_MODE": "development",
            "RETAGUARDA_DEBUG": "0",
            "RETAGUARDA_VAR_DIR": str(var_dir),
            "DATABASE_URL": f"sqlite:///{var_dir / 'screenshot.sqlite3'}",
            "RETAGUARDA_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain http on the loopback: cookies must not be marked Secure.
            "RETAGUARDA_SECURE_COOKIES": "0",
        }
    )
    import django

    django.setup()


def serve():
    """The WSGI app (WhiteNoise included) on a free port in a daemon thread; returns (server, url)."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    from retaguarda.wsgi import application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):  # noqa: A002 - the base class's signature
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=False)
    server.set_app(application)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--country", default="BR", choices=["BR", "ES"])
    parser.add_argument("--language", default="en", choices=["en", "pt-br", "es"])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots" / "home.png"))
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args()

    if chromium_path() is None:
        print("Chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    var_dir = Path(tempfile.mkdtemp(prefix="retaguarda-screenshot-"))
    try:
        configure(var_dir)
        from django.core.management import call_command

        from retaguarda.demo.data import DEMO_PASSWORD, SHARED_ADMIN
        from retaguarda.demo.services import demo_load

        call_command("migrate", verbosity=0, interactive=False)
        demo_load(country=args.country)
        server, url = serve()
        try:
            shoot(url, SHARED_ADMIN, DEMO_PASSWORD, args)
        finally:
            server.shutdown()
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    print(f"wrote {args.out}")
    return 0


def shoot(url: str, username: str, password: str, args) -> None:
    # Playwright's sync API runs an event loop; the ORM is not used from here on, but the
    # served app runs in this process too.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(
            base_url=url, viewport={"width": args.width, "height": args.height}, device_scale_factor=1
        )
        page = context.new_page()
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("form.stacked button[type=submit]")
        if page.locator("html").get_attribute("lang") != args.language:
            with page.expect_navigation():
                page.select_option("form.langswitch select[name=language]", args.language)
        page.wait_for_function("document.querySelectorAll('.widget-loading').length === 0")
        page.screenshot(path=str(out))
        context.close()
        browser.close()


if __name__ == "__main__":
    sys.exit(main())
