"""A manager opens Insight from the navigation, changes the period and downloads a CSV, in a
real browser; then the page at phone width."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import CampaignFactory
from tests.insight.test_pages import funnel_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def insight_data(manager, inbound_sdr, other_sdr, ae):
    """Three leads accepted in the last week, two more three weeks ago (so 7 days and 30 days
    differ)."""
    ads = CampaignFactory(name="Google Ads", channel="paid_search", cost=2000)
    now = timezone.now()
    for days, sdr in [(2, inbound_sdr), (3, inbound_sdr), (4, other_sdr), (20, other_sdr), (21, inbound_sdr)]:
        funnel_lead(sdr, ae, ads, captured=now - timedelta(days=days), won=days == 3)


def test_manager_changes_the_period_and_downloads_a_csv(
    page, live_server, login, shot, dialogs, manager, insight_data
):
    login(manager)
    page.get_by_role("link", name="Insight", exact=True).click()
    expect(page).to_have_url(re.compile(r"/insight/$"))
    expect(page.locator("#number-qualified .number-value")).to_have_text("5")
    expect(page.locator("#period")).to_contain_text("(Europe/Berlin)")
    expect(page.locator("#diagnoses")).to_be_visible()
    # Headline money compact, the exact amount in its title: 5 accepted leads at 1,000.00.
    expect(page.locator("#number-pipeline .number-value")).to_have_text("€5 k")
    expect(page.locator("#number-pipeline .number-value")).to_have_attribute("title", "€5,000.00")
    expect(page.get_by_role("link", name="Your weekly summary")).to_have_attribute(
        "href", "/insight/summary/"
    )
    shot("insight_01_overview_1280")

    # The period: the last 7 days (htmx swaps the results and pushes the URL).
    page.select_option("#id_preset", "7d")
    expect(page.locator("#number-qualified .number-value")).to_have_text("3")
    expect(page).to_have_url(re.compile(r"preset=7d"))
    today = timezone.localdate(timezone=manager.team.calendar.tzinfo)
    expect(page.locator("#period")).to_contain_text(
        f"{today - timedelta(days=6):%-d %b %Y} to {today:%-d %b %Y}"
    )

    # The funnel, with the period kept, and its CSV.
    page.locator("#number-qualified").click()
    expect(page).to_have_url(re.compile(r"/insight/funnel/\?.*preset=7d"))
    expect(page.locator("#table-cohort")).to_contain_text("First seen")
    expect(page.locator("#cohort svg title").first).to_have_text(re.compile("Funnel"))
    shot("insight_02_funnel_1280")
    with page.expect_download() as info:
        page.locator("#cohort a.csv").click()
    download = info.value
    assert re.fullmatch(
        r"insight-funnel-cohort-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv", download.suggested_filename
    )
    rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert rows[0] == ["Stage", "Leads", "Conversion", "Median time from previous stage"]
    assert rows[1][:2] == ["First seen", "3"]
    shown = [
        [cell.inner_text().strip() for cell in row.locator("td").all()]
        for row in page.locator("#table-cohort tbody tr").all()
    ]
    assert rows[1:] == shown

    page.goto(f"{live_server.url}/insight/speed/")
    expect(page.locator("#table-decay")).to_be_visible()
    shot("insight_03_speed_1280")
    page.goto(f"{live_server.url}/insight/money/")
    expect(page.locator("#table-by-campaign")).to_contain_text("Google Ads")
    shot("insight_04_money_1280")
    assert dialogs == []


WIDER_THAN_SCREEN = """() => [...document.querySelectorAll('main *')]
  .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > window.innerWidth + 1)
  .map(e => e.tagName + '#' + e.id + '.' + e.className)"""


@pytest.mark.parametrize("width", [1280, 390])
def test_insight_fits_the_screen(page, live_server, login, shot, manager, insight_data, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(manager)
    for path, name in [
        ("/insight/", "overview"),
        ("/insight/funnel/", "funnel"),
        ("/insight/speed/", "speed"),
    ]:
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state()
        shot(f"insight_{name}_{width}")
        # Nothing in the insight content wider than the screen (the tables scroll in their own
        # boxes), and so the page itself no wider than the screen (the top bar included).
        wide = page.evaluate(WIDER_THAN_SCREEN)
        assert wide == [], (path, wide)
        assert page.evaluate("document.documentElement.scrollWidth") == width, path
        svg = page.locator("svg.chart-svg").first
        if svg.count():
            assert svg.bounding_box()["width"] <= width
