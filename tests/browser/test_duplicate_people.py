"""Marketing finds one person under two emails in a real browser: the duplicates page, the pair
side by side, a value chosen, the merge, the survivor, and the old lead's address opening it.
The pages are looked at on a laptop (1366 px) and a phone (390 px)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from dedupe.models import MergeRecord
from leads.models import Lead, LeadRedirect
from tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PAGE_WIDTH = "() => [document.documentElement.scrollWidth, window.innerWidth]"
# The elements that stick out past the screen, outside any box that scrolls or clips them: what
# a failure names (as tests/browser/test_phone_width.py does).
STICKING_OUT = """() => {
  const boxed = e => { for (let p = e.parentElement; p; p = p.parentElement) {
    if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(p).overflowX)) return true; } return false; };
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !boxed(e))
    .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));
}"""


@pytest.fixture
def ada_twice(db):
    """Ada at Acme twice: the older lead (kept by default) and a newer one under a free-mail
    address, with a title the older one lacks."""
    kept = LeadFactory(
        email="ada@acme.example", first_name="Ada", last_name="Lovelace", company="Acme GmbH", title=""
    )
    other = LeadFactory(
        email="ada.lovelace@gmail.com",
        first_name="Ada",
        last_name="Lovelace",
        company="ACME gmbh",
        title="Chief Analytical Engine Officer",
        phone="+49 30 1234567",
    )
    now = timezone.now()
    Lead.objects.filter(pk=kept.pk).update(first_seen_at=now - timedelta(days=30))
    Lead.objects.filter(pk=other.pk).update(first_seen_at=now - timedelta(days=1))
    return kept, other


def fits(page) -> None:
    """The document is no wider than the screen (a wide table scrolls in its own box)."""
    width, screen = page.evaluate(PAGE_WIDTH)
    assert width <= screen, (
        f"{page.url} is {width} px wide on a {screen} px screen: {page.evaluate(STICKING_OUT)}"
    )


def test_marketing_merges_one_person_found_under_two_emails(
    page, live_server, login, shot, marketing, ada_twice
):
    kept, other = ada_twice
    login(marketing)

    # --- the duplicates page: the pair, its evidence, the lead to keep first ------------------
    page.goto(f"{live_server.url}/duplicates/people/")
    expect(page.get_by_role("heading", name="Duplicate people")).to_be_visible()
    row = page.locator("table.list tbody tr", has_text="ada@acme.example")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("same name and company")
    expect(row.locator("td").nth(1)).to_contain_text("ada@acme.example")  # kept: the older one
    expect(row.locator("td").nth(2)).to_contain_text("ada.lovelace@gmail.com")
    shot("dedupe_01_list_1366")
    fits(page)

    # --- the pair side by side: take the merged lead's title -------------------------------
    row.get_by_role("link", name="Compare and merge").click()
    page.wait_for_url(re.compile(rf"/duplicates/people/{other.pk}/into/{kept.pk}/$"))
    expect(page.get_by_role("heading", name="Merge two leads")).to_be_visible()
    title_row = page.locator("tr.differs", has=page.locator("th", has_text=re.compile("^Title$")))
    expect(title_row).to_contain_text("Chief Analytical Engine Officer")
    title_row.get_by_label("Take the merged lead's").check()
    shot("dedupe_02_merge_1366")
    fits(page)
    page.get_by_role("button", name=f"Merge lead {other.pk} into lead {kept.pk}").click()

    # --- the survivor, with the chosen value and the merged lead's email in its timeline ------
    page.wait_for_url(re.compile(rf"/leads/{kept.pk}/$"))
    expect(
        page.get_by_text(f"Lead {other.pk} (ada.lovelace@gmail.com) was merged into this lead.")
    ).to_be_visible()
    expect(page.get_by_text("Chief Analytical Engine Officer").first).to_be_visible()
    shot("dedupe_03_survivor_1366")
    kept.refresh_from_db()
    assert kept.title == "Chief Analytical Engine Officer" and kept.phone == "+49 30 1234567"
    assert not Lead.objects.filter(pk=other.pk).exists()
    assert LeadRedirect.objects.get(old_id=other.pk).lead_id == kept.pk
    assert MergeRecord.objects.get().merged_id == other.pk

    # --- the old lead's address opens the survivor -----------------------------------------
    page.goto(f"{live_server.url}/leads/{other.pk}/")
    expect(page).to_have_url(re.compile(rf"/leads/{kept.pk}/$"))

    # --- the list has nothing left to propose ----------------------------------------------
    page.goto(f"{live_server.url}/duplicates/people/")
    expect(page.get_by_text("No likely duplicates.")).to_be_visible()


def test_the_duplicates_pages_fit_a_phone(page, live_server, login, shot, marketing, ada_twice):
    kept, other = ada_twice
    page.set_viewport_size(PHONE)
    login(marketing)

    page.goto(f"{live_server.url}/duplicates/people/")
    expect(page.get_by_role("link", name="Compare and merge")).to_be_in_viewport()
    shot("dedupe_11_list_390")
    fits(page)

    page.get_by_role("link", name="Compare and merge").click()
    expect(page.get_by_role("heading", name="Merge two leads")).to_be_visible()
    shot("dedupe_12_merge_390")
    fits(page)
    title_row = page.locator("tr.differs", has=page.locator("th", has_text=re.compile("^Title$")))
    choice = title_row.get_by_label("Take the merged lead's")
    choice.scroll_into_view_if_needed()
    expect(choice).to_be_in_viewport()  # on the screen, not in a table scrolled sideways
    merge = page.get_by_role("button", name=f"Merge lead {other.pk} into lead {kept.pk}")
    merge.scroll_into_view_if_needed()
    expect(merge).to_be_in_viewport()
