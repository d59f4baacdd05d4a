"""A manager opens the breach review, filters by rep and acknowledges a breach, in a real
browser."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Lead
from tests.factories import routed_lead
from tests.work.test_breach_review import MONDAY_9, make_breach
from work.models import Breach, SlaPolicy, WorkItem
from work.services import complete_items

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def review_data(manager, inbound_sdr, other_sdr):
    """Two breaches of Sam's and one of Lena's; a few first touches for the speed table; one
    item of Sam's due in 25 minutes (on a wall-clock policy, so whatever the time of day)."""
    sam_call = make_breach(inbound_sdr, first_name="Ada", last_name="Lovelace", company="Engines Ltd")
    sam_mql = make_breach(
        inbound_sdr,
        hand_raiser=False,
        at=MONDAY_9 + timedelta(days=1),
        first_name="Grace",
        last_name="Hopper",
    )
    lena = make_breach(other_sdr, at=MONDAY_9 + timedelta(days=2), first_name="Alan", last_name="Turing")
    # The speed table covers the last 30 days by default: these touches were made this week.
    touched = timezone.now() - timedelta(days=3)
    for owner, minutes in [(inbound_sdr, 12), (inbound_sdr, 47), (other_sdr, 8), (other_sdr, 95)]:
        lead = routed_lead(owner, now=touched)
        complete_items(
            model=Lead,
            subject_ids=[lead.pk],
            kinds=[WorkItem.Kind.FIRST_TOUCH],
            by=owner,
            now=touched + timedelta(minutes=minutes),
        )
    SlaPolicy.objects.create(key="callback", name="Callback promised", target_minutes=60, mode="wall_clock")
    routed_lead(
        inbound_sdr,
        policy_key="callback",
        now=timezone.now() - timedelta(minutes=35),
        first_name="Edsger",
        last_name="Dijkstra",
    )
    return sam_call, sam_mql, lena


def test_manager_filters_by_rep_and_acknowledges_a_breach(
    page, live_server, login, shot, dialogs, manager, inbound_sdr, other_sdr, review_data
):
    sam_call, sam_mql, lena = review_data

    # --- maria lands on the review ----------------------------------------------------------
    login(manager)
    expect(page).to_have_url(re.compile(r"/work/breaches/$"))
    expect(page.get_by_role("heading", name="Breach review")).to_be_visible()
    rows = page.locator("#breach-list tbody tr.breach")
    expect(rows).to_have_count(3)
    expect(page.locator("#at-risk tbody")).to_contain_text("Edsger Dijkstra")
    expect(page.locator("#speed tbody tr")).to_have_count(2)
    shot("30_breach_review")

    # --- filter by rep: the results change in place -----------------------------------------
    page.evaluate("window.__noReload = true")
    page.select_option("#id_rep", label=str(inbound_sdr))
    expect(page).to_have_url(re.compile(rf"[?&]rep={inbound_sdr.pk}(&|$)"))
    assert "team=&" not in page.url, "empty filters are left out of the pushed URL"
    expect(rows).to_have_count(2)
    expect(page.locator(f"#breach-{lena.pk}")).to_have_count(0)
    for row in rows.all():
        expect(row).to_contain_text(str(inbound_sdr))
    expect(page.locator("#breach-count")).to_contain_text("2 breaches")
    expect(page.locator("#by-rep tbody tr")).to_have_count(1)
    shot("31_breaches_by_rep")

    # --- acknowledge one with a note: the row updates without a reload -----------------------
    row = page.locator(f"#breach-{sam_call.pk}")
    expect(row.get_by_role("link", name="Ada Lovelace")).to_have_attribute(
        "href", sam_call.work_item.subject.get_absolute_url()
    )
    row.get_by_label("Note for this breach").fill("Called Ada back; coached Sam on hand-raisers.")
    with page.expect_response(
        lambda r: r.url.endswith(f"/work/breaches/{sam_call.pk}/acknowledge/")
    ) as answer:
        row.get_by_role("button", name="Acknowledge").click()
    assert answer.value.status == 200
    assert answer.value.request.headers.get("hx-request") == "true"
    expect(row).to_contain_text(f"✓ {manager}")
    expect(row).to_contain_text("Called Ada back; coached Sam on hand-raisers.")
    expect(row.get_by_role("button", name="Acknowledge")).to_have_count(0)
    expect(rows).to_have_count(2)
    assert page.evaluate("window.__noReload") is True, "acknowledging reloaded the page"
    sam_call.refresh_from_db()
    assert sam_call.acknowledged_by == manager and sam_call.note.startswith("Called Ada back")
    shot("32_breach_acknowledged")

    # --- someone else acknowledged the other one meanwhile: a clear error in the row --------
    Breach.objects.filter(pk=sam_mql.pk).update(
        acknowledged_at=timezone.now(), acknowledged_by=other_sdr, note="Handled."
    )
    other = page.locator(f"#breach-{sam_mql.pk}")
    other.get_by_label("Note for this breach").fill("Me too")
    other.get_by_role("button", name="Acknowledge").click()
    expect(other.get_by_role("alert")).to_have_text(f"This breach was already acknowledged by {other_sdr}.")
    expect(other).to_contain_text("Handled.")
    assert page.evaluate("window.__noReload") is True
    sam_mql.refresh_from_db()
    assert sam_mql.note == "Handled."
    shot("33_breach_already_acknowledged")

    # --- the lead link drills down to the lead and its timeline ------------------------------
    row.get_by_role("link", name="Ada Lovelace").click()
    page.wait_for_url(f"**{sam_call.work_item.subject.get_absolute_url()}")
    expect(page.locator("ol#timeline")).to_be_visible()
    assert dialogs == []
