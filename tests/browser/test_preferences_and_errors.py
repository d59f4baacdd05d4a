"""A person picks their own time zone and meets the error pages, in a real browser, at desktop
and phone widths (screenshots in REFINERY_SHOTS)."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def csp_errors(page):
    """Console messages about a blocked script or style: the pages need no inline code."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    return seen


def test_a_rep_picks_a_zone_by_typing_its_city_and_sees_times_in_it(
    page, live_server, login, shot, csp_errors, ae
):
    login(ae)
    page.get_by_role("link", name="Preferences").click()
    expect(page.get_by_role("heading", name="Preferences")).to_be_visible()
    expect(page.locator("#now-here")).to_have_text(re.compile(r"^\w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d CET$"))
    shot("format_preferences_1366")
    page.get_by_label("Time zone").select_option("America/New_York")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text("Times are now shown in America/New_York.")
    expect(page.locator("#now-here")).to_have_text(re.compile(r"(EST|EDT)$"))
    page.set_viewport_size(PHONE)
    shot("format_preferences_390")
    assert csp_errors == []


def test_the_error_pages_carry_the_navigation_at_both_widths(page, live_server, login, shot, csp_errors, ae):
    login(ae)
    page.goto(f"{live_server.url}/no/such/page/")
    expect(page.locator("#error-reason")).to_have_text("There is no page at this address.")
    expect(page.get_by_role("navigation").get_by_role("link", name="Inbox")).to_be_visible()
    shot("format_404_1366")
    page.goto(f"{live_server.url}/opportunities/early-losses/")
    expect(page.locator("#error-reason")).to_have_text("Early losses are for managers.")
    page.set_viewport_size(PHONE)
    shot("format_403_390")
    page.get_by_role("link", name="Go to your start page").click()
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    assert csp_errors == []
