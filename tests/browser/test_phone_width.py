"""Every main page fits a phone: at 390 px no page is wider than the screen (the site's top bar
used to make every page 1,129 px wide, so a phone scrolled sideways). Wide tables may scroll in
their own box; the document itself must not. At 1280 px the top bar keeps each link on one line.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import (
    CampaignFactory,
    LeadFactory,
    accepted,
    contract,
    customer,
    handed_off,
    routed_lead,
)
from tests.insight.test_pages import funnel_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = 390
PAGES = {
    "manager": ["/queue/", "/pipeline/", "/leads/", "/work/breaches/", "/insight/", "/insight/funnel/"],
    "inbound_sdr": ["/queue/", "/leads/", "/insight/"],
    "ae": ["/inbox/", "/pipeline/", "/pipeline/?view=list", "/insight/"],
    "am": ["/renewals/", "/insight/", "/insight/retention/"],
}
PAGE_WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# The elements that stick out past the screen, outside any box that scrolls or clips them: what
# a failure names.
STICKING_OUT = """() => {
  const boxed = e => { for (let p = e.parentElement; p; p = p.parentElement) {
    if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true; } return false; };
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !boxed(e))
    .slice(0, 5).map(e => e.tagName + '.' + e.className);
}"""


@pytest.fixture
def busy(manager, inbound_sdr, other_sdr, ae, am, am_manager):
    """Something on every page: Maria on the staff (the most links in the top bar), leads in
    Sam's queue, a handoff waiting and an opportunity open for Alex, Casey's renewal, and the
    insight numbers."""
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    now = timezone.now()
    ads = CampaignFactory(name="Google Ads: pipeline analytics webinar", channel="paid_search", cost=2000)
    for i in range(3):
        routed_lead(inbound_sdr, now=now - timedelta(hours=i), company="Wayne Media International Holdings")
    LeadFactory.create_batch(3, campaign=ads)
    handed_off(inbound_sdr, ae, now=now)
    accepted(other_sdr, ae, now=now - timedelta(days=1))
    contract(customer(am, name="Northwind GmbH", domain="northwind.example"),
             end=timezone.localdate(now) + timedelta(days=40), now=now)  # fmt: skip
    for days in (2, 5, 20):
        funnel_lead(inbound_sdr, ae, ads, captured=now - timedelta(days=days), won=days == 5)


@pytest.mark.parametrize("role", list(PAGES))
def test_main_pages_fit_a_phone(page, live_server, login, shot, busy, request, role):
    user = request.getfixturevalue(role)
    page.set_viewport_size({"width": PHONE, "height": 800})
    login(user)
    for path in PAGES[role]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        page.wait_for_load_state()
        shot(f"phone_{role}_{path.strip('/').replace('/', '_').replace('?', '_') or 'home'}")
        scroll_width, inner = page.evaluate(PAGE_WIDTH)
        assert (scroll_width, inner) == (PHONE, PHONE), (path, page.evaluate(STICKING_OUT))
        # Every link of the top bar on the screen (wrapped into rows, none cut off).
        for link in page.locator("header.topbar a").all():
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE + 1, (path, link.inner_text())


def test_top_bar_links_stay_on_one_line_at_1280(page, live_server, login, shot, busy, manager):
    """At 1280 px the bar looks as before, but no link breaks over two lines ("Early / losses")."""
    page.set_viewport_size({"width": 1280, "height": 800})
    login(manager)
    page.goto(f"{live_server.url}/insight/")
    shot("topbar_manager_1280")
    assert page.evaluate(PAGE_WIDTH) == [1280, 1280]
    heights = {
        link.inner_text(): link.bounding_box()["height"] for link in page.locator("header.topbar nav a").all()
    }
    assert "Early losses" in heights and "Insight" in heights
    assert max(heights.values()) < 1.5 * min(heights.values()), heights
