"""Logging work in a real browser: an AE logs a call on an opportunity and sees it on top of
the timeline without the page reloading; an AM logs a meeting on a contract in its renewal
window, which counts as the renewal conversation; the AM finds every account on the accounts
list, on a wide screen and on a phone."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Activity
from renewals.models import Contract
from tests.factories import accepted, contract, customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_an_ae_logs_a_call_and_sees_it_without_a_reload(
    page, live_server, login, shot, dialogs, inbound_sdr, ae
):
    opportunity = accepted(inbound_sdr, ae, company="Olli AG")
    login(ae)
    page.goto(f"{live_server.url}/opportunities/{opportunity.pk}/")
    log = page.locator("#work-log")
    expect(log).to_contain_text("Nothing logged yet.")
    page.evaluate("window.notReloaded = true")

    expect(log.get_by_label("Call")).to_be_checked()
    log.get_by_label("What was said").fill("Spoke to their CFO: budget of 20k confirmed, proposal next week.")
    log.get_by_role("button", name="Log it").click()

    entry = log.locator(".wl-entry").first
    expect(entry).to_contain_text("Budget of 20k confirmed".lower(), ignore_case=True)
    expect(entry).to_contain_text("Call")
    expect(entry).to_contain_text(f"by {ae}")
    expect(entry.locator("time")).to_have_text(
        re.compile(r"^\w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d [A-Z]{3,4}$")
    )
    expect(log.get_by_role("status")).to_contain_text("Call logged.")
    assert page.evaluate("window.notReloaded") is True  # htmx swapped the section; no reload
    expect(log.get_by_label("What was said")).to_have_value("")  # a fresh form for the next one
    shot("log_work_opportunity_1366")

    # A note needs its text: the error shows beside the field, nothing is saved.
    log.get_by_label("Note", exact=True).check()
    log.get_by_role("button", name="Log it").click()
    expect(log).to_contain_text("Write the note.")
    assert Activity.objects.count() == 1
    page.set_viewport_size(PHONE)
    shot("log_work_opportunity_390")
    assert not dialogs


def test_an_am_logs_a_meeting_on_a_contract_in_its_renewal_window(
    page, live_server, login, shot, dialogs, am
):
    now = timezone.now()
    today = timezone.localdate(now)
    account = customer(am, name="Northwind GmbH", domain="northwind.example")
    term = contract(account, end=today + timedelta(days=45), value="12000.00", now=now)
    login(am)

    # The accounts list links every account the AM manages.
    page.get_by_role("navigation").get_by_role("link", name="Accounts").click()
    row = page.locator(f'tr[data-account="{account.pk}"]')
    expect(row).to_contain_text("12,000")
    expect(row).to_contain_text("At risk")
    shot("accounts_list_1366")
    page.set_viewport_size(PHONE)
    shot("accounts_list_390")
    page.set_viewport_size({"width": 1366, "height": 900})

    page.goto(f"{live_server.url}/contracts/{term.pk}/")
    expect(page.locator("#last-conversation")).to_contain_text("None logged")
    log = page.locator("#work-log")
    log.get_by_label("Meeting").check()
    log.get_by_label("What was said").fill("Quarterly review with their COO: renewing, adding 5 seats.")
    log.get_by_role("button", name="Log it").click()

    expect(page.get_by_role("status")).to_contain_text("it counts as the renewal conversation")
    entry = page.locator("#work-log .wl-entry").first
    expect(entry).to_contain_text("Meeting")
    expect(entry).to_contain_text("renewal conversation")
    expect(page.locator("#last-conversation")).not_to_contain_text("None logged")
    expect(page.locator("#work-items")).to_contain_text("SLA met")
    shot("log_work_contract_1366")
    term.refresh_from_db()
    assert term.renewal_activity_at is not None and term.status == Contract.Status.ACTIVE

    # The account page gathers it, with a link back to the contract.
    page.goto(f"{live_server.url}/accounts/{account.pk}/")
    expect(page.locator("#work-log .wl-entry").first).to_contain_text("adding 5 seats")
    expect(page.locator("#work-log .wl-entry").first.get_by_role("link")).to_have_attribute(
        "href", f"/contracts/{term.pk}/"
    )
    shot("log_work_account_1366")
    page.set_viewport_size(PHONE)
    shot("log_work_account_390")
    assert not dialogs
