"""The SDR's queue is live in a real browser: a lead routed to the rep while the page is open
appears without a reload, highlighted, with a notice and (when the rep turned it on) a beep;
while the rep has a row's form open the list is not replaced under their hands; a touch brings
the counts up to date. The poll interval is shortened to a second (``LIVE_POLL_SECONDS``)."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import routed_lead
from work.models import WorkItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("REFINERY_SHOTS", "/tmp/shots"))


@pytest.fixture(autouse=True)
def _poll_every_second(settings):
    settings.LIVE_POLL_SECONDS = 1


def routed(owner, **fields) -> WorkItem:
    lead = routed_lead(owner, **fields)
    return WorkItem.objects.for_subject(lead).get()


def count_of(page, label: str):
    return page.locator("#queue-counts li", has_text=label).locator("strong")


def test_a_lead_routed_to_the_rep_appears_in_the_open_queue(
    page, live_server, login, shot, dialogs, inbound_sdr
):
    first = routed(inbound_sdr, first_name="Ada", last_name="Adler", company="Adler Software", fit_grade="A")
    login(inbound_sdr)
    rows = page.locator("#queue-list > li.q-row")
    expect(rows).to_have_count(1)
    expect(count_of(page, "New leads by grade")).to_have_text("1")
    page.evaluate("window.__noReload = true")
    polls = []
    page.on("response", lambda r: "/queue/live/" in r.url and polls.append(r.status))

    # --- the sound is off until the rep turns it on, and stays as they left it -------------
    sound = page.locator("[data-live-sound]")
    expect(sound).to_have_attribute("aria-pressed", "false")
    sound.click()
    expect(sound).to_have_attribute("aria-pressed", "true")
    expect(sound).to_have_text("Sound: on")
    assert page.evaluate("localStorage.getItem('refinery.live.sound')") == "on"
    expect(sound).to_have_attribute("data-beeps", "1")  # a sample beep on turning it on

    # --- nothing new: the page asks, the server answers 304 --------------------------------
    page.wait_for_timeout(2500)
    assert polls and set(polls) == {304}, polls

    # --- a lead is routed to the rep: its row appears without a reload ----------------------
    new = routed(
        inbound_sdr, first_name="Zoe", last_name="Zorn", company="Zorn AG", fit_grade="A", hand_raiser=True
    )
    row = page.locator(f"#item-{new.pk}")
    expect(row).to_be_visible(timeout=5000)
    expect(row).to_have_class(re.compile(r"\blive-new\b"))
    expect(rows).to_have_count(2)
    expect(page.locator("#queue-news")).to_have_text("1 new lead, highlighted below.")
    expect(sound).to_have_attribute("data-beeps", "2")
    assert page.evaluate("window.__noReload") is True
    assert 200 in polls
    shot("live_queue_new_row")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "live_queue_new_row_390.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})

    # the new row works like the others: htmx wired its buttons
    row.get_by_role("link", name="Log touch").click()
    expect(row.locator(".q-panel form").first).to_be_visible()

    # --- while a form is open, the list is not replaced: a notice offers the new lead -------
    later = routed(inbound_sdr, first_name="Lia", last_name="Lang", company="Lang KG", fit_grade="A")
    expect(page.locator("#queue-news")).to_contain_text("1 new lead.", timeout=5000)
    expect(page.locator(f"#item-{later.pk}")).to_have_count(0)
    expect(count_of(page, "New leads by grade")).to_have_text("2")  # the counts follow at once
    expect(row.locator(".q-panel form").first).to_be_visible()
    shot("live_queue_busy_notice")
    page.locator("#queue-news").get_by_role("button", name="Show them").click()
    expect(page.locator(f"#item-{later.pk}")).to_have_class(re.compile(r"\blive-new\b"))

    # --- a touch: the row says so and the counts are right at once, from the touch's answer
    # (polling is paused meanwhile: the tab is "hidden") --------------------------------------
    set_hidden(page, True)
    page.locator(f"#item-{first.pk}").get_by_role("link", name="Log touch").click()
    panel = page.locator(f"#panel-{first.pk}")
    panel.get_by_label("Call", exact=True).check()
    panel.get_by_role("button", name="Log touch").click()
    expect(page.locator(f"#item-{first.pk} .q-notice")).to_contain_text("logged")
    expect(count_of(page, "New leads by grade")).to_have_text("1")
    # shown again, the page asks at once and the touched lead leaves the list
    set_hidden(page, False)
    expect(page.locator(f"#item-{first.pk}")).to_have_count(0)
    expect(rows).to_have_count(2)
    assert page.evaluate("window.__noReload") is True
    assert dialogs == []

    # --- the choice of sound survives a reload ------------------------------------------------
    page.reload()
    expect(page.locator("[data-live-sound]")).to_have_attribute("aria-pressed", "true")


def set_hidden(page, hidden: bool) -> None:
    """The tab hidden or shown, as the browser says when the rep switches tabs."""
    page.evaluate(
        """(hidden) => {
            Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        hidden,
    )


def test_a_hidden_tab_stops_asking_and_asks_at_once_when_shown(page, live_server, login, inbound_sdr):
    routed(inbound_sdr, first_name="Ada")
    login(inbound_sdr)
    polls = []
    page.on("request", lambda r: "/queue/live/" in r.url and polls.append(timezone.now()))
    set_hidden(page, True)
    hidden_at = timezone.now()
    page.wait_for_timeout(2500)
    assert not [t for t in polls if t > hidden_at + timedelta(milliseconds=300)]

    new = routed(inbound_sdr, first_name="Zoe")
    set_hidden(page, False)
    expect(page.locator(f"#item-{new.pk}")).to_be_visible(timeout=800)


def test_a_new_handoff_appears_in_the_open_inbox(page, live_server, login, shot, dialogs, inbound_sdr, ae):
    from accounts.services import hand_off
    from tests.factories import qualifying

    def handed_off(**fields):
        lead = routed_lead(inbound_sdr, **fields)
        return hand_off(lead_id=lead.pk, by=inbound_sdr, qualifying=qualifying(), ae=ae)

    handed_off(first_name="Ada", company="Adler Software")
    login(ae)
    page.goto(f"{live_server.url}/inbox/")
    expect(page.locator("#inbox-mine > li.ib-row")).to_have_count(1)
    page.evaluate("window.__noReload = true")

    new = handed_off(first_name="Zoe", company="Zorn AG")

    row = page.locator(f"#inbox-{new.pk}")
    expect(row).to_have_class(re.compile(r"\blive-new\b"), timeout=5000)
    expect(page.locator("#inbox-mine > li.ib-row")).to_have_count(2)
    expect(page.locator("#mine-total")).to_contain_text("2")
    expect(page.locator("#inbox-news")).to_have_text("1 new handoff, highlighted below.")
    # the new row's answers work: accepting it takes it out of the list in place
    row.get_by_role("button", name="Accept").click()
    expect(row).to_contain_text("In pipeline")
    assert page.evaluate("window.__noReload") is True
    assert dialogs == []
    shot("live_inbox_new_handoff")


def test_a_new_expansion_lead_appears_on_the_open_renewals_page(page, live_server, login, shot, am):
    from tests.factories import customer, raise_hand

    customer(am)
    login(am)
    page.goto(f"{live_server.url}/renewals/")
    expect(page.locator("#expansion-leads")).to_contain_text("No expansion leads waiting")
    page.evaluate("window.__noReload = true")

    lead = raise_hand("pat@acme.example", first_name="Pat", last_name="Lee", title="Head of Ops")

    row = page.locator(f"#expansion-{lead.pk}")
    expect(row).to_have_class(re.compile(r"\blive-new\b"), timeout=5000)
    expect(row).to_contain_text("Pat Lee")
    expect(page.locator("#expansion-total")).to_have_text("1 waiting")
    expect(page.locator("#expansion-news")).to_have_text("1 new expansion lead, highlighted below.")
    assert page.evaluate("window.__noReload") is True
    shot("live_renewals_new_expansion_lead")
