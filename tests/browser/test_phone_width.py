"""Every main page fits a phone: at 390 px no page is wider than the screen (the site's top bar
used to make every page 1,129 px wide, so a phone scrolled sideways). Wide tables may scroll in
their own box; the document itself must not. At 1280 px the top bar keeps each link on one line.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

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
TAP = 44  # px: the least height of a control a thumb taps (WCAG 2.5.5)
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
        # The top bar: the brand, the bell and a menu button on one row, the search box on the
        # next; the links fold into the menu.
        assert page.locator("header.topbar").bounding_box()["height"] <= 120, path
        expect(page.locator("header.topbar > .bell")).to_be_visible()
        search = page.locator("header.topbar .search-box input")
        expect(search).to_be_visible()
        box = search.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE + 1 and box["height"] >= TAP - 0.5, path
        expect(page.locator("header.topbar nav a").first).to_be_hidden()
        page.locator("header.topbar summary").click()
        # Opened, every link of the menu on the screen, none cut off, each a 44 px target.
        for link in page.locator(
            "header.topbar nav a, header.topbar .who a, header.topbar .who button"
        ).all():
            expect(link).to_be_visible()
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE + 1, (path, link.inner_text())
            assert box["height"] >= TAP - 0.5, (path, link.inner_text(), box["height"])


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


# --- The pages reps live in, on a phone: read, log a touch, call, email -----------------------

PHONE_SCREEN = {"width": PHONE, "height": 844}
# Words split over two lines (a grid column squeezed narrower than a word, or
# overflow-wrap:anywhere): "Energieversor-/gungsunternehmen". Break opportunities (spaces,
# hyphens, slashes) are not splits. A word may break only if it is wider than its box and than
# ``whole`` px: a phone's card has room for a word that long, so a narrower box is the layout's fault.
SPLIT_WORDS = """([selector, whole]) => {
  const split = [];
  const blockOf = (el) => { while (getComputedStyle(el).display.startsWith('inline')) el = el.parentElement; return el; };
  for (const scope of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.parentElement.getClientRects().length) continue;
      for (const m of node.data.matchAll(/[^\\s\\-\\u2010-\\u2014\\/·:,.;()]+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const rects = [...range.getClientRects()].filter(r => r.width > 0);
        if (new Set(rects.map(r => Math.round(r.top))).size < 2) continue;
        const width = rects.reduce((sum, r) => sum + r.width, 0);
        const box = blockOf(node.parentElement);
        const style = getComputedStyle(box);
        const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        if (width <= Math.max(room + 1, whole)) split.push(`${m[0]} (${Math.round(width)} px, its box ${Math.round(room)} px)`);
      }
    }
  }
  return split;
}"""
# The controls on a page that are smaller than a thumb: buttons, button-like links, fields.
SMALL_TARGETS = """(limit) => [...document.querySelectorAll(
    'main button, main a.button, main summary.button, main select, main textarea, main input:not([type=hidden]):not([type=checkbox]):not([type=radio])')]
  .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
  .filter(e => e.getBoundingClientRect().height < limit - 0.5)
  .map(e => `${e.tagName.toLowerCase()} "${(e.innerText || e.name || '').trim().slice(0, 30)}" ${Math.round(e.getBoundingClientRect().height)} px`)"""
WHOLE = 320  # px: the longest word a card on a 390 px screen has room for
LONG_COMPANY = "Energieversorgungsunternehmen Nord"
LONG_TITLE = "Vertriebsinnendienstleiterin"


def _fits(page, path):
    """The page is no wider than the phone, what it says keeps its words whole, and its controls
    are a thumb's size."""
    problems = {
        "page width": page.evaluate(PAGE_WIDTH),
        "sticking out": page.evaluate(STICKING_OUT),
        "words split": page.evaluate(SPLIT_WORDS, ["main", WHOLE]),
        "small targets": page.evaluate(SMALL_TARGETS, TAP),
    }
    assert problems == {
        "page width": [PHONE, PHONE],
        "sticking out": [],
        "words split": [],
        "small targets": [],
    }, path


def _on_screen(locator):
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE + 0.5, box
    return box


@pytest.fixture
def phone_day(inbound_sdr, ae, am):
    """A day's work with long German words in it: a caller in Sam's queue (with a phone number),
    a handoff waiting in Alex's inbox with BANT notes, and a renewal for Casey."""
    from accounts.services import hand_off
    from tests.factories import qualifying

    now = timezone.now()
    caller = routed_lead(
        inbound_sdr, hand_raiser=True, now=now - timedelta(minutes=3), first_name="Greta", last_name="Hoffmann",
        company=LONG_COMPANY, title=LONG_TITLE, phone="+49 30 1234-5678",
    )  # fmt: skip
    routed_lead(inbound_sdr, now=now - timedelta(hours=2), company="Wayne Media", title="Analyst")
    lead = routed_lead(inbound_sdr, now=now, company=LONG_COMPANY, title=LONG_TITLE)
    notes = {
        "budget_note": "Haushaltsgenehmigung for the Vertriebsabteilung expected in January.",
        "authority_note": "Bereichsleiterin Vertriebssteuerung signs off.",
        "need_note": "Their Vertriebsinnendienst misses hand-raisers; Reaktionszeitverbesserung is the goal.",
        "timing_note": "Implementierungspartnerschaft to start before the Frühjahrskampagne.",
    }
    hand_off(lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying(**notes), ae=ae, now=now)
    contract(customer(am, name="Versicherungsgesellschaft Süd", domain="vgs.example"),
             end=timezone.localdate(now) + timedelta(days=20), now=now)  # fmt: skip
    return caller


def test_sdr_works_the_queue_on_a_phone(page, live_server, login, shot, inbound_sdr, phone_day):
    """The countdown and Log touch, Email and Call on the screen, each a thumb's size; a touch is
    logged from the phone."""
    page.set_viewport_size(PHONE_SCREEN)
    login(inbound_sdr)
    page.goto(f"{live_server.url}/queue/")
    shot("phone_sdr_queue_cards")
    _fits(page, "/queue/")
    row = page.locator("li.q-row", has_text="Greta Hoffmann")
    countdown = row.locator(".sla[data-due]")
    _on_screen(countdown)
    expect(countdown).to_have_text(re.compile(r"\d+[dhm] \d+[hms] left"))
    for name in ("Log touch", "Email", "Call"):
        box = _on_screen(row.get_by_role("link", name=name, exact=True))
        assert box["height"] >= TAP - 0.5, (name, box)
    expect(row.get_by_role("link", name="Call", exact=True)).to_have_attribute("href", "tel:+493012345678")
    expect(row.get_by_role("link", name="Email", exact=True)).to_have_attribute(
        "href", re.compile(r"^/mail/compose/\?lead=")
    )

    row.get_by_role("link", name="Log touch", exact=True).click()
    form = row.locator("form.q-touch-form")
    expect(form).to_be_visible()
    shot("phone_sdr_queue_log_form")
    _fits(page, "/queue/ with the log form open")
    row.get_by_label("Outcome").select_option(label="Connected")
    row.get_by_label("Note", exact=True).fill("Called from the train; demo on Tuesday.")
    submit = form.get_by_role("button", name="Log touch")
    _on_screen(submit)
    submit.click()
    expect(row.locator(".sla")).to_have_text("SLA met")
    expect(row).to_contain_text("Call logged: connected.")


def test_ae_reads_and_answers_the_inbox_on_a_phone(page, live_server, login, shot, ae, phone_day):
    """The handoff's words stay whole (they used to break mid-word in two squeezed columns); the
    countdown and Accept on the screen."""
    page.set_viewport_size(PHONE_SCREEN)
    login(ae)
    page.goto(f"{live_server.url}/inbox/")
    shot("phone_ae_inbox_cards")
    _fits(page, "/inbox/")
    row = page.locator("li.ib-row").first
    expect(row).to_contain_text(LONG_TITLE)
    expect(row).to_contain_text("Implementierungspartnerschaft")
    _on_screen(row.locator(".sla[data-due]"))
    _on_screen(row.get_by_role("button", name="Accept"))
    row.locator("summary", has_text="Reject").click()
    shot("phone_ae_inbox_reject")
    _fits(page, "/inbox/ with the reject form open")
    _on_screen(row.get_by_role("button", name="Reject handoff"))


def test_am_reads_the_renewals_on_a_phone(page, live_server, login, shot, am, phone_day):
    """Each contract a card whose cells say what they are, not a table scrolled sideways."""
    page.set_viewport_size(PHONE_SCREEN)
    login(am)
    page.goto(f"{live_server.url}/renewals/")
    shot("phone_am_renewals_cards")
    _fits(page, "/renewals/")
    row = page.locator("tr.rn-row", has_text="Versicherungsgesellschaft Süd")
    _on_screen(row)
    _on_screen(row.locator(".sla[data-due]").first)
    expect(row.locator("td.num")).to_be_visible()
    assert row.bounding_box()["width"] <= PHONE
    assert (
        page.evaluate("getComputedStyle(document.querySelector('td.num'), '::before').content")
        == '"Annual value: "'
    )


def test_sdr_reads_a_lead_and_calls_it_on_a_phone(page, live_server, login, shot, inbound_sdr, phone_day):
    page.set_viewport_size(PHONE_SCREEN)
    login(inbound_sdr)
    page.goto(f"{live_server.url}/leads/{phone_day.pk}/")
    shot("phone_sdr_lead")
    _fits(page, "/leads/<id>/")
    _on_screen(page.get_by_role("link", name="Call", exact=True))
    expect(page.get_by_role("link", name="Call", exact=True)).to_have_attribute("href", "tel:+493012345678")
    _on_screen(page.get_by_role("link", name="Write an email"))


def test_the_menu_stays_a_bar_on_a_wide_screen(page, live_server, login, shot, inbound_sdr, phone_day):
    """At 1366 px the links are in the bar, as before; no menu button."""
    login(inbound_sdr)
    page.goto(f"{live_server.url}/queue/")
    shot("wide_sdr_queue")
    expect(page.locator("header.topbar summary")).to_be_hidden()
    expect(page.locator("header.topbar nav").get_by_role("link", name="Queue")).to_be_visible()
    expect(page.locator("header.topbar").get_by_role("button", name="Log out")).to_be_visible()
    assert page.locator("header.topbar").bounding_box()["height"] < 60
    # The queue's Call button is for a phone; a desk has the number in the row's panel.
    expect(page.locator("li.q-row .q-call")).to_be_hidden()
