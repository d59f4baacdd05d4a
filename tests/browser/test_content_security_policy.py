"""Under the strict Content-Security-Policy the pages still work in a real browser: nothing
they need is refused (Chromium reports each refusal on the console)."""

import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory, WebFormFactory, routed_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def refusals(page):
    """Every CSP refusal the browser reports while the test runs."""
    seen: list[str] = []

    def on_console(message):
        if "Content Security Policy" in message.text:
            seen.append(message.text)

    page.on("console", on_console)
    return seen


def test_the_app_pages_run_under_the_policy(page, live_server, login, refusals, inbound_sdr, manager):
    routed_lead(inbound_sdr, first_name="Ada", last_name="Lovelace")

    login(inbound_sdr)  # lands on the queue: htmx, the countdowns and the keys
    expect(page.get_by_text("Ada Lovelace").first).to_be_visible()
    page.keyboard.press("?")  # the queue's own script opens the keys' help
    expect(page.locator("#queue-help")).to_be_visible()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()

    login(manager)  # the breach review, and the team pages
    page.goto(f"{live_server.url}/teams/")
    page.wait_for_load_state("networkidle")

    assert refusals == []


def test_the_api_docs_and_the_admin_run_under_the_policy(page, live_server, login, refusals):
    mo = UserFactory(username="mo", role="marketing", is_staff=True, is_superuser=True)
    login(mo)

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Refinery API")
    expect(page.locator(".opblock").first).to_be_visible()

    # Redoc may style itself inline (and only it): it renders; the one refusal left is its
    # "powered by" logo from a CDN.
    page.goto(f"{live_server.url}/api/redoc/")
    expect(page.locator("h1").first).to_contain_text("Refinery API", timeout=30_000)
    page.wait_for_load_state("networkidle")
    assert all("cdn.redoc.ly" in refusal for refusal in refusals)
    refusals.clear()

    page.goto(f"{live_server.url}/admin/")
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(f"{live_server.url}/admin/team/user/")
    expect(page.locator("#result_list")).to_be_visible()
    page.goto(f"{live_server.url}/admin/team/user/{mo.pk}/change/")
    expect(page.locator("#user_form")).to_be_visible()
    page.wait_for_load_state("networkidle")

    assert refusals == []


def test_the_public_web_form_runs_under_the_policy(page, live_server, refusals):
    web_form = WebFormFactory()

    page.goto(f"{live_server.url}/f/{web_form.key}/")
    # Its styles come from a file now: the honeypot field is off screen, not visible.
    expect(page.locator(".hp")).not_to_be_in_viewport()
    page.fill("input[name=email]", "ada@engines.example")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()

    assert refusals == []
