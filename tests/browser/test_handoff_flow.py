"""The handoff in a real browser: an SDR qualifies two leads and hands them off, the AE accepts
one and rejects the other, and the SDR finds the rejection and its reason in the queue."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Opportunity
from leads.models import Lead
from tests.factories import routed_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def qualify(page, *, need_note: str) -> None:
    """Fill the hand-off form as an SDR would after a good discovery call."""
    for criterion, answer in (("budget", "Partly"), ("authority", "Confirmed"), ("need", "Confirmed"),
                              ("timing", "Partly")):  # fmt: skip
        page.get_by_role("group", name=criterion.capitalize()).get_by_label(answer).check()
    page.locator("textarea[name=need_note]").fill(need_note)
    page.locator("textarea[name=budget_note]").fill("Budget set for Q1.")


def log_out(page, live_server) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def test_sdr_hands_off_and_ae_accepts_one_and_rejects_the_other(
    page, live_server, login, shot, dialogs, inbound_sdr, ae, ae_rule
):
    good = routed_lead(inbound_sdr, first_name="Greta", last_name="Good", company="Good GmbH",
                       email="greta@good.example", fit_grade="A")  # fmt: skip
    weak = routed_lead(inbound_sdr, first_name="Willy", last_name="Weak", company="Weak Ltd",
                       email="willy@weak.example", fit_grade="B")  # fmt: skip

    # --- the SDR qualifies the first lead from the queue's panel ----------------------------
    login(inbound_sdr)
    expect(page).to_have_url(re.compile(r"/queue/$"))
    page.locator(".q-row", has_text="Greta Good").get_by_role("link", name="Log touch").click()
    page.get_by_role("link", name="Qualify & hand off…").click()
    expect(page.locator(".handoff-form")).to_be_visible()
    page.get_by_role("button", name="Hand off to the AE").click()  # nothing filled in yet
    expect(page.locator(".handoff-form .errorlist").first).to_be_visible()
    shot("60_handoff_form_errors")
    qualify(page, need_note="Hand-raisers wait two days for a call; they lose demos to faster rivals.")
    page.get_by_role("button", name="Hand off to the AE").click()
    expect(page.get_by_text(re.compile(r"Handed off to .*Good GmbH"))).to_be_visible()
    expect(page.locator(".q-row", has_text="Greta Good")).to_have_count(0)
    shot("61_queue_after_handoff")

    # --- the second from the lead page --------------------------------------------------------
    page.goto(f"{live_server.url}/leads/{weak.pk}/")
    page.get_by_role("link", name=re.compile("Qualify & hand off")).click()
    qualify(page, need_note="Curious about scoring; no project yet.")
    page.get_by_role("button", name="Hand off to the AE").click()
    expect(page.get_by_text(re.compile(r"Handed off to .*Weak Ltd"))).to_be_visible()
    assert Opportunity.objects.filter(owner=ae, status="handed_off").count() == 2
    log_out(page, live_server)

    # --- the AE lands in the inbox, accepts one and rejects the other -------------------------
    login(ae)
    expect(page).to_have_url(re.compile(r"/inbox/$"))
    rows = page.locator("li.ib-row")
    expect(rows).to_have_count(2)
    greta = rows.filter(has_text="Good GmbH")
    expect(greta).to_contain_text("Hand-raisers wait two days")
    shot("62_ae_inbox")
    greta.get_by_role("button", name="Accept").click()
    expect(page.locator("li.ib-done", has_text="Good GmbH")).to_contain_text("Discovery")

    willy = rows.filter(has_text="Weak Ltd")
    willy.get_by_text("Reject…").click()
    willy.get_by_label("Reason").select_option("Not qualified: no real need")
    willy.get_by_label("Note for the SDR").fill("No project and no pain yet: nurture until they have one.")
    willy.get_by_role("button", name="Reject handoff").click()
    expect(page.locator("li.ib-done", has_text="Weak Ltd")).to_contain_text(re.compile("reject", re.I))
    shot("63_ae_inbox_answered")
    assert Opportunity.objects.get(lead=good).status == Opportunity.Status.OPEN
    assert Lead.objects.get(pk=weak.pk).status == Lead.Status.WORKING
    log_out(page, live_server)

    # --- the SDR finds the rejection, with its reason and note, at the top of the queue -------
    login(inbound_sdr)
    returned = page.locator(".q-row", has_text="Willy Weak")
    expect(returned).to_contain_text("Returned")
    expect(returned).to_contain_text("Not qualified: no real need")
    expect(returned).to_contain_text("No project and no pain yet")
    shot("64_queue_returned_handoff")
    assert dialogs == []
