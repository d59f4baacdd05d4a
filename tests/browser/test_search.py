"""The top bar's search in a real browser: "/" focuses it, a name typed with a typo shows the
lead in the dropdown, the arrow keys choose it and Enter opens its page; Escape closes the
dropdown; Enter without a choice opens the full results page; at a phone's width it fits."""

import os
import re
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from search import vocabulary
from tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("REFINERY_SHOTS", "/tmp/shots-search"))


def save(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def test_slash_a_typo_arrow_down_and_enter_open_the_lead(
    page, live_server, login, dialogs, inbound_sdr, other_sdr
):
    lead = LeadFactory(owner=inbound_sdr, first_name="Margaret", last_name="Hamilton", company="Apollo Guidance",
                       email="margaret@apollo.example", phone="+1 617 555 0142")  # fmt: skip
    LeadFactory(owner=inbound_sdr, first_name="Marge", last_name="Simpson", company="Springfield Power")
    LeadFactory(owner=other_sdr, first_name="Margaret", last_name="Hidden", company="Apollo Hidden")
    vocabulary.refresh()  # beat's five-minute task: the new leads' words correct typos from now on

    login(inbound_sdr)
    box = page.locator("#search-q")
    expect(box).not_to_be_focused()
    page.keyboard.press("/")
    expect(box).to_be_focused()
    expect(box).to_have_value("")  # the "/" itself is not typed

    box.press_sequentially("Margret Hamilton", delay=20)  # a letter missing
    dropdown = page.locator("#search-dropdown")
    expect(dropdown).to_be_visible()
    hits = dropdown.locator(".search-hit")
    expect(hits.first).to_contain_text("Margaret Hamilton")
    expect(dropdown).not_to_contain_text("Hidden")  # another SDR's lead
    expect(dropdown.locator("h3")).to_have_text(["Leads"])
    save(page, "01_dropdown_1366")

    page.keyboard.press("ArrowDown")
    expect(hits.first).to_have_class(re.compile(r"\bactive\b"))
    expect(box).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(reverse("leads:detail", args=[lead.pk])) + "$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Margaret Hamilton")
    assert dialogs == []


def test_escape_closes_and_enter_without_a_choice_opens_the_results_page(
    page, live_server, login, inbound_sdr
):
    LeadFactory(owner=inbound_sdr, first_name="Grace", last_name="Hopper", company="Navy Labs")
    login(inbound_sdr)
    page.keyboard.press("/")
    box = page.locator("#search-q")
    box.press_sequentially("Hopper", delay=20)
    dropdown = page.locator("#search-dropdown")
    expect(dropdown).to_be_visible()
    page.keyboard.press("Escape")
    expect(dropdown).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=Hopper$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    expect(page.locator("#search-lead")).to_contain_text("Grace Hopper")
    save(page, "02_results_1366")


def test_typing_in_a_field_does_not_jump_to_search(page, live_server, login, inbound_sdr):
    LeadFactory(owner=inbound_sdr, first_name="Ada", last_name="Lovelace")
    login(inbound_sdr)
    page.goto(f"{live_server.url}{reverse('search:results')}")
    field = page.locator("#search-page-q")
    field.click()
    page.keyboard.type("a/b")
    expect(field).to_have_value("a/b")
    expect(page.locator("#search-q")).not_to_be_focused()


def test_the_search_fits_a_phone(page, live_server, login, inbound_sdr):
    LeadFactory(owner=inbound_sdr, first_name="Katherine", last_name="Johnson", company="Langley Research Center",
                email="katherine.johnson.with.a.long.address@langley-research.example")  # fmt: skip
    page.set_viewport_size({"width": 390, "height": 844})
    login(inbound_sdr)
    box = page.locator("#search-q")
    expect(box).to_be_visible()
    box.click()
    box.press_sequentially("Katherine", delay=20)
    dropdown = page.locator("#search-dropdown")
    expect(dropdown.locator(".search-hit").first).to_contain_text("Katherine Johnson")
    box_right = dropdown.bounding_box()
    assert box_right is not None and box_right["x"] >= 0 and box_right["x"] + box_right["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save(page, "03_dropdown_390")
    page.goto(f"{live_server.url}{reverse('search:results')}?q=Katherine")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    save(page, "04_results_390")
