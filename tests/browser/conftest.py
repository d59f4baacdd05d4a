"""Playwright fixtures: Debian's Chromium driving pytest-django's live server.

Playwright's sync API runs an event loop in the test thread; Django would then refuse ORM
calls made from that thread (SynchronousOnlyOperation), so the check is switched off here.
"""

import os
from pathlib import Path

import pytest
from django.test.utils import override_settings
from pytest_django.live_server_helper import LiveServer

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright import sync_api

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 900}
SHOTS = Path(os.environ.get("REFINERY_SHOTS", "/tmp/shots"))


# Plain-HTTP settings the live server needs from its start: SecurityMiddleware reads
# SECURE_SSL_REDIRECT and SECURE_HSTS_SECONDS once, when the server builds its handler, so
# the per-test ``settings`` override in tests/conftest.py comes too late for it.
PLAIN_HTTP = {
    "SECURE_SSL_REDIRECT": False,
    "SECURE_HSTS_SECONDS": 0,
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
}


@pytest.fixture(scope="module")
def live_server(request):
    """pytest-django's live server, started under plain-HTTP settings and only for this
    module (its session-wide one may already run with production security settings)."""
    addr = (
        request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    )
    with override_settings(**PLAIN_HTTP):
        server = LiveServer(addr)
        yield server
        server.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        # A browser test that cannot run is a gap, not a pass: `make test` installs it.
        pytest.fail(f"{CHROMIUM} is not installed: run `make browser` (Debian's chromium package)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def dialogs(page):
    """Every alert/confirm/prompt the page opens; a test asserts this stays empty (a dialog
    would mean injected markup ran)."""
    opened: list[str] = []

    def on_dialog(dialog):
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return opened


@pytest.fixture
def shot(page):
    """``shot("01_login")`` saves a full-page screenshot to /tmp/shots/01_login.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login(page, live_server, shot):
    """Log a user in through the login page, as a person would."""

    def do_login(user, password: str = "pw", screenshot: str | None = None):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        if screenshot:
            shot(screenshot)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        assert "/login/" not in page.url, "login failed"

    return do_login
