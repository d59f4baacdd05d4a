"""The AM's renewal in a real browser: Casey opens Renewals, finds the contract whose 60-day
window opened ("Start the renewal conversation", its SLA counting down), logs the
conversation on the contract's page, records it renewed, and finds the new term on the
account page."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Contact
from kit.display import day_text
from leads.scoring import engagement_key
from renewals.models import Contract
from tests.factories import LeadFactory, contract, customer
from work.models import WorkItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def book(am, am_manager):
    """Casey's customers, on today's clock: Northwind's term ends in 45 days (its renewal
    opened when it was entered), Contoso's in 20 (quiet contacts), Fabrikam's in 80."""
    now = timezone.now()
    today = timezone.localdate(now)
    northwind = contract(customer(am, name="Northwind GmbH", domain="northwind.example"),
                         end=today + timedelta(days=45), value="12000.00", now=now, products="Refinery Pro",
                         seats=25)  # fmt: skip
    contoso = customer(am, name="Contoso AG", domain="contoso.example")
    contract(contoso, end=today + timedelta(days=20), value="30000.00", now=now, auto_renew=True)
    quiet = LeadFactory(engagement_key=engagement_key(40, now - timedelta(days=150), 14.0), fit_grade="B")
    Contact.objects.create(account=contoso, lead=quiet, email="buyer@contoso.example", first_name="Quinn",
                           last_name="Quiet")  # fmt: skip
    contract(customer(am, name="Fabrikam Ltd", domain="fabrikam.example"), end=today + timedelta(days=80),
             value="8000.00", now=now)  # fmt: skip
    return northwind


def test_am_logs_the_conversation_and_renews_the_contract(page, live_server, login, shot, dialogs, am, book):
    term = book

    # --- Casey lands on Renewals ------------------------------------------------------------
    login(am)
    expect(page).to_have_url(re.compile(r"/renewals/$"))
    page.get_by_role("navigation").get_by_role("link", name="Renewals").click()
    row = page.locator(f"#contract-{term.pk}")
    expect(row).to_contain_text("Northwind GmbH")
    expect(row).to_contain_text("Start the renewal conversation")
    start_item = row.locator(".rn-item", has_text="Start the renewal conversation")
    expect(start_item.locator(".sla[data-countdown=sla]")).to_have_text(re.compile(r"^\d+d \d+h left$"))
    expect(row).to_contain_text("No renewal conversation logged")
    expect(page.locator("#due-60")).to_contain_text("Northwind GmbH")
    expect(page.locator("#due-30")).to_contain_text("Contoso AG")
    expect(page.locator("#due-30")).to_contain_text("engagement has decayed")
    expect(page.locator("#due-90")).to_contain_text("Fabrikam Ltd")
    shot("80_am_renewals")

    # --- the contract's page: log the conversation ----------------------------------------------
    row.get_by_role("link", name="Contract").click()
    expect(page).to_have_url(re.compile(rf"/contracts/{term.pk}/$"))
    expect(page.locator("#work-items")).to_contain_text("Start the renewal conversation")
    shot("81_contract")
    page.get_by_label("What was discussed").fill("Spoke to their COO: renewing as is, 25 seats.")
    page.get_by_role("button", name="Log the conversation").click()
    expect(page.get_by_role("status")).to_contain_text("Conversation logged")
    expect(page.locator("#work-items")).to_contain_text("SLA met")
    expect(page.locator("#last-conversation")).not_to_contain_text("None logged")
    shot("82_conversation_logged")

    # --- record the outcome: renewed ---------------------------------------------------------
    outcome = page.locator("#record-outcome")
    expect(outcome.get_by_label("New annual value")).to_have_value("12000.00")
    outcome.get_by_label("Renewed").check()
    shot("83_outcome_form")
    outcome.get_by_role("button", name="Record the outcome").click()
    expect(page).to_have_url(re.compile(rf"/accounts/{term.account_id}/$"))
    new = Contract.objects.get(renewed_from=term)
    expect(page.locator(".flash")).to_contain_text(
        f"Renewed: the new term runs {day_text(new.start_date)} to {day_text(new.end_date)}, €12,000 a year."
    )
    first_term = page.locator("#contracts tbody tr").first
    expect(first_term).to_have_id(f"term-{new.pk}")
    expect(first_term).to_contain_text("Active")
    expect(page.locator(f"#term-{term.pk}")).to_contain_text("renewed by")
    expect(page.locator("#account-timeline")).to_contain_text("Renewed")
    expect(page.locator("#account-timeline")).to_contain_text("Spoke to their COO")
    shot("84_account_after_renewal")

    term.refresh_from_db()
    assert (term.status, term.outcome) == ("renewed", "renewed")
    assert not WorkItem.objects.open().filter(contract=term).exists()
    assert dialogs == []


def test_the_manager_sees_the_team_and_filters_by_am(page, live_server, login, shot, dialogs, am_manager, am,
                                                     book):  # fmt: skip
    login(am_manager)
    page.goto(f"{live_server.url}/renewals/")
    expect(page.locator(f"#contract-{book.pk}")).to_contain_text(str(am))
    page.get_by_label("At risk only").check()
    expect(page.locator("#due-90")).not_to_contain_text("Fabrikam Ltd")
    expect(page).to_have_url(re.compile(r"risk=1"))
    shot("85_manager_renewals_at_risk")
    page.goto(f"{live_server.url}/accounts/{book.account_id}/")
    expect(page.locator("#assign-am")).to_be_visible()
    shot("86_manager_account")
    assert dialogs == []
