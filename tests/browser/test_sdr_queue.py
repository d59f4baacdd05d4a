"""An SDR works the queue in a real browser: moves through it with the keyboard, logs a touch
and sees the SLA turn to met, without a page reload."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import Activity, Lead
from tests.factories import routed_lead
from work.models import WorkItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def lead_due_in(owner, minutes: int, **fields) -> tuple[Lead, WorkItem]:
    """A routed lead whose first-touch timer is due ``minutes`` from now (negative: breached),
    whatever the time of day the test runs at."""
    lead = routed_lead(owner, **fields)
    item = WorkItem.objects.for_subject(lead).get()
    item.due_at = timezone.now() + timedelta(minutes=minutes)
    item.save(update_fields=["due_at"])
    return lead, item


def test_sdr_moves_through_the_queue_with_keys_and_logs_a_touch(
    page, live_server, login, shot, dialogs, inbound_sdr
):
    breached, breached_item = lead_due_in(
        inbound_sdr, -5, first_name="Bea", last_name="Brandt", company="Brandt AG", fit_grade="B"
    )
    _, at_risk_item = lead_due_in(
        inbound_sdr, 40, first_name="Rita", last_name="Roth", company="Roth & Söhne", fit_grade="A"
    )
    fresh, fresh_item = lead_due_in(
        inbound_sdr, 180, first_name="Ada", last_name="Adler", company="Adler Software", fit_grade="A"
    )
    _, later_item = lead_due_in(
        inbound_sdr, 300, first_name="Carl", last_name="Christ", company="Christ GmbH", fit_grade="C"
    )

    # --- the queue is where an SDR lands --------------------------------------------------
    login(inbound_sdr)
    expect(page).to_have_url(re.compile(r"/queue/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your queue")
    rows = page.locator("#queue-list > li.q-row")
    expect(rows).to_have_count(4)
    expect(rows.locator(".q-name")).to_have_text(["Bea Brandt", "Rita Roth", "Ada Adler", "Carl Christ"])
    page.evaluate("window.__noReload = true")

    selected = page.locator("#queue-list > li.q-row.selected")
    expect(selected).to_have_attribute("id", f"item-{breached_item.pk}")
    expect(rows.nth(0).locator(".sla")).to_have_class(re.compile(r"\bsla-breached\b"))
    expect(rows.nth(0).locator(".sla")).to_contain_text(re.compile(r"^breached \d+m \d\ds ago$"))
    expect(rows.nth(1).locator(".sla")).to_have_class(re.compile(r"\bsla-at_risk\b"))
    expect(rows.nth(2).locator(".sla")).to_have_class(re.compile(r"\bsla-on_track\b"))
    # The countdown is live: it changes within a couple of seconds without a request.
    countdown = rows.nth(1).locator(".sla")
    before = countdown.inner_text()
    assert re.fullmatch(r"(39|40)m \d\ds left", before), before
    expect(countdown).not_to_have_text(before, timeout=3_000)
    shot("40_queue")

    # --- j / k move the selection; ? shows the keys ----------------------------------------
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(selected).to_have_attribute("id", f"item-{fresh_item.pk}")
    page.keyboard.press("k")
    expect(selected).to_have_attribute("id", f"item-{at_risk_item.pk}")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")  # past the end stays on the last row
    expect(selected).to_have_attribute("id", f"item-{later_item.pk}")
    page.keyboard.press("k")
    expect(selected).to_have_attribute("id", f"item-{fresh_item.pk}")

    page.keyboard.press("?")
    help_box = page.locator("#queue-help")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("Log a touch on the selected lead")
    shot("41_queue_keys")
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()

    # --- l opens the log form of the selected row, focused ----------------------------------
    page.keyboard.press("l")
    row = page.locator(f"#item-{fresh_item.pk}")
    form = row.locator("form.q-touch-form")
    expect(form).to_be_visible()
    expect(row.get_by_label("Call", exact=True)).to_be_focused()
    expect(row.get_by_label("Call", exact=True)).to_be_checked()
    # Typing in the form does not move the selection.
    row.get_by_label("Note", exact=True).press_sequentially("jk: left a note about pricing")
    expect(selected).to_have_attribute("id", f"item-{fresh_item.pk}")
    row.get_by_label("Outcome").select_option(label="Connected")
    shot("42_queue_log_form")

    with page.expect_response(lambda r: r.url.endswith(f"/queue/items/{fresh_item.pk}/touch/")) as answer:
        form.get_by_role("button", name="Log touch").click()
    assert answer.value.ok
    assert answer.value.request.headers.get("hx-request") == "true"

    # --- the row updates in place: SLA met, lead working ------------------------------------
    row = page.locator(f"#item-{fresh_item.pk}")
    expect(row.locator(".sla")).to_have_text("SLA met")
    expect(row.locator(".sla")).to_have_class(re.compile(r"\bsla-met\b"))
    expect(row).to_contain_text("Working (SDR)")
    expect(row).to_contain_text("Call logged: connected.")
    expect(row.locator(".q-touch")).to_contain_text("Call")
    expect(row.locator("form")).to_have_count(0)
    expect(rows).to_have_count(4)
    expect(selected).to_have_attribute("id", f"item-{fresh_item.pk}")
    assert page.evaluate("window.__noReload") is True, "logging a touch reloaded the page"
    shot("43_queue_touch_logged")

    fresh_item.refresh_from_db()
    fresh.refresh_from_db()
    assert fresh_item.state == WorkItem.State.DONE and fresh_item.met_sla
    assert fresh.status == Lead.Status.WORKING
    touch = Activity.objects.get(lead=fresh, kind="call")
    assert (touch.outcome, touch.note) == ("connected", "jk: left a note about pricing")

    # --- a refused follow-up shows its error in place; Escape closes the form ----------------
    page.keyboard.press("k")
    page.keyboard.press("k")
    expect(selected).to_have_attribute("id", f"item-{breached_item.pk}")
    page.keyboard.press("l")
    row = page.locator(f"#item-{breached_item.pk}")
    expect(row.get_by_label("Call", exact=True)).to_be_focused()
    row.get_by_label("Follow up on").fill("2020-01-06T10:00")
    row.get_by_role("button", name="Set follow-up").click()
    expect(row.locator(".q-follow-up-form .errorlist")).to_contain_text("a time in the future")
    expect(row.get_by_label("Follow up on")).to_be_focused()
    assert not WorkItem.objects.filter(kind=WorkItem.Kind.FOLLOW_UP).exists()
    shot("44_queue_follow_up_refused")
    page.keyboard.press("Escape")
    expect(row.locator("form")).to_have_count(0)
    assert page.evaluate("window.__noReload") is True

    # --- o opens the selected lead ----------------------------------------------------------
    page.keyboard.press("o")
    page.wait_for_url(f"**/leads/{breached.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bea Brandt")
    assert dialogs == []


def test_the_countdown_keeps_the_servers_time_when_the_browsers_clock_is_wrong(
    page, live_server, login, inbound_sdr
):
    _, item = lead_due_in(inbound_sdr, 40, first_name="Rita", last_name="Roth")
    # The rep's laptop runs two hours fast: by its own clock the timer would be long breached.
    page.clock.install()
    page.clock.set_system_time(timezone.now() + timedelta(hours=2))

    login(inbound_sdr)
    countdown = page.locator(f"#item-{item.pk} .sla")
    expect(countdown).to_have_text(re.compile(r"^(39|40)m \d\ds left$"))
    expect(countdown).to_have_class(re.compile(r"\bsla-at_risk\b"))
