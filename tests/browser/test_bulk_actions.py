"""A manager works the lead list in a real browser: filters it, chooses rows (one by one and
"all on this page"), disqualifies them with a reason and sees the result; saves the filters as
a view and opens it again. At phone width the list and its bulk bar still fit."""

import re

import pytest
from playwright.sync_api import expect

from leads.models import Lead
from tests.factories import routed_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_choose_disqualify_and_save_a_view(
    page, live_server, login, shot, dialogs, manager, inbound_sdr
):
    acme = [
        routed_lead(inbound_sdr, first_name=name, last_name="Acme", company="Acme GmbH")
        for name in ("Ada", "Bea", "Cem")
    ]
    routed_lead(inbound_sdr, first_name="Gus", last_name="Globex", company="Globex")

    login(manager)
    page.goto(f"{live_server.url}/leads/")
    rows = page.locator("table.lead-list tbody tr")
    expect(rows).to_have_count(4)

    # --- filter ---------------------------------------------------------------------------
    page.fill("#id_q", "acme")
    expect(rows).to_have_count(3)
    expect(page.get_by_text("All 3 leads matching the filter")).to_be_visible()

    # --- choose: all on the page, then one less ------------------------------------------
    page.get_by_label("Select all on this page").check()
    expect(page.locator("[data-selected-count]")).to_have_text("3 rows chosen")
    page.get_by_label("Choose Cem Acme").uncheck()
    expect(page.locator("[data-selected-count]")).to_have_text("2 rows chosen")
    shot("bulk_01_list_chosen")

    # --- disqualify with a reason ---------------------------------------------------------
    page.select_option("#bulk-action", "disqualify")
    page.get_by_role("button", name="Go").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Disqualify")
    expect(page.locator(".bulk-review")).to_contain_text("2 leads")
    page.select_option("#id_reason", "Spam or fake details")
    shot("bulk_02_review")
    page.get_by_role("button", name="Disqualify: 2 leads").click()
    expect(page.locator("h2").first).to_have_text("Done: 2")
    expect(page.locator(".bulk-report.done")).to_contain_text("Ada Acme: Disqualified: Spam or fake details.")
    shot("bulk_03_result")
    assert sorted(
        Lead.objects.filter(status=Lead.Status.DISQUALIFIED).values_list("first_name", flat=True)
    ) == [
        "Ada",
        "Bea",
    ]

    # --- back on the list, the statuses show; save the filter as a view --------------------
    page.get_by_role("link", name="Back to the lead list").click()
    expect(page.locator("table.lead-list")).to_contain_text("Disqualified")
    expect(rows).to_have_count(3)
    page.get_by_text("Save as a view").click()
    page.fill("#id_name", "Acme people")
    page.get_by_role("button", name="Save view").click()
    expect(page.locator(".flash")).to_have_text("Saved the view “Acme people”.")
    expect(page.locator('.saved-views a[aria-current="page"]')).to_have_text("Acme people")

    # --- open everything, then the view again ---------------------------------------------
    page.get_by_role("link", name="All leads").click()
    expect(rows).to_have_count(4)
    page.get_by_role("link", name="Acme people").click()
    expect(page).to_have_url(re.compile(r"\?view=\d+$"))
    expect(page.locator("table.lead-list")).not_to_contain_text("Gus Globex")
    expect(rows).to_have_count(3)
    expect(page.locator("#id_q")).to_have_value("acme")
    expect(page.get_by_role("button", name="Update “Acme people”")).to_be_disabled()
    page.select_option("#id_sort", "grade")
    expect(page.get_by_role("button", name="Update “Acme people”")).to_be_enabled()
    shot("bulk_04_view_opened")

    # --- at phone width the list scrolls inside itself, the bar wraps ---------------------
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide at 390px"
    expect(page.get_by_role("button", name="Go")).to_be_visible()
    shot("bulk_05_phone")
    assert acme[2].pk and dialogs == []
