"""The pipeline board in a real browser: an AE drags a card to another column and both
columns' totals change; moves another with the keyboard alone (the focus stays on the card,
the move is announced); a drop the rules refuse leaves the card where it was, with the
reason."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from playwright.sync_api import expect

from accounts.models import Opportunity
from accounts.services import move_stage, update_opportunity
from tests.factories import accepted, stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def opportunity(sdr, ae, *, company: str, amount: str | None, close: date, to: str = "") -> Opportunity:
    with time_machine.travel(NOW, tick=False):
        made = accepted(sdr, ae, now=NOW, company=company)
        update_opportunity(
            opportunity_id=made.pk,
            by=ae,
            amount=Decimal(amount) if amount else None,
            close_date=close,
            next_step="",
            now=NOW,
        )
        if to:
            move_stage(opportunity_id=made.pk, by=ae, stage_id=stage(to).pk, now=NOW)
    return Opportunity.objects.get(pk=made.pk)


def expect_header(page, column: str, count: str, total: str, weighted: str) -> None:
    header = page.locator(f"#{column} header")
    expect(header.locator(".col-count")).to_have_text(count)
    expect(header.locator(".col-sum")).to_have_text("€" + total)
    expect(header.locator(".col-wsum")).to_have_text("€" + weighted)


def test_an_ae_drags_a_card_moves_one_with_the_keyboard_and_a_refused_drop_stays(
    page, live_server, login, shot, dialogs, inbound_sdr, ae
):
    alpha = opportunity(inbound_sdr, ae, company="Alpha AG", amount="4000", close=date(2026, 12, 10))
    beta = opportunity(inbound_sdr, ae, company="Beta GmbH", amount="1000", close=date(2026, 12, 11))
    gamma = opportunity(inbound_sdr, ae, company="Gamma SA", amount=None, close=date(2026, 12, 12))
    opportunity(inbound_sdr, ae, company="Delta BV", amount="2000", close=date(2026, 12, 20), to="Proposal")
    discovery, proposal, negotiation = (
        f"col-{stage(n).pk}" for n in ("Discovery", "Proposal", "Negotiation")
    )

    login(ae)
    page.goto(f"{live_server.url}/pipeline/")
    expect_header(page, discovery, "3", "5,000", "500")  # 10 %
    expect_header(page, proposal, "1", "2,000", "1,000")  # 50 %
    shot("board_01_before")

    # --- drag and drop: Alpha to Proposal -----------------------------------------------------
    page.locator(f"#opp-{alpha.pk}").drag_to(page.locator(f"#{proposal} .cards"))
    expect(page.locator(f"#{proposal} #opp-{alpha.pk}")).to_be_visible()
    expect_header(page, proposal, "2", "6,000", "3,000")
    expect_header(page, discovery, "2", "1,000", "100")
    expect(page.locator("#board-status")).to_have_text(f"{alpha.name}: Moved to Proposal.")
    shot("board_02_dragged")
    alpha.refresh_from_db()
    assert alpha.stage.name == "Proposal"

    # --- the keyboard alone: Beta to Negotiation ----------------------------------------------
    page.locator("body").click(position={"x": 5, "y": 5})
    for _ in range(80):  # Tab through the page to Beta's card
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == f"opp-{beta.pk}":
            break
    expect(page.locator(f"#opp-{beta.pk}")).to_be_focused()
    page.keyboard.press("m")  # to the card's stage list
    expect(page.locator(f"#stage-{beta.pk}")).to_be_focused()
    for _ in range(3):  # Discovery -> Demo -> Proposal -> Negotiation; choosing does not move yet
        page.keyboard.press("ArrowDown")
    expect(page.locator(f"#{discovery} #opp-{beta.pk}")).to_be_visible()
    page.keyboard.press("Tab")  # the Move button
    page.keyboard.press("Enter")
    expect(page.locator(f"#{negotiation} #opp-{beta.pk}")).to_be_visible()
    expect(page.locator(f"#opp-{beta.pk}")).to_be_focused()  # the focus follows the card
    expect(page.locator("#board-status")).to_have_text(f"{beta.name}: Moved to Negotiation.")
    expect_header(page, negotiation, "1", "1,000", "750")  # 75 %
    expect_header(page, discovery, "1", "0", "0")
    shot("board_03_keyboard")
    beta.refresh_from_db()
    assert beta.stage.name == "Negotiation"

    # --- a refused drop: Gamma (no amount) on Won ---------------------------------------------
    page.locator(f"#opp-{gamma.pk}").drag_to(page.locator("#col-won .cards"))
    card = page.locator(f"#{discovery} #opp-{gamma.pk}")
    expect(card).to_contain_text("Enter the amount won before closing it won.")
    expect(page.locator(f"#col-won #opp-{gamma.pk}")).to_have_count(0)
    expect_header(page, discovery, "1", "0", "0")
    shot("board_04_refused")
    gamma.refresh_from_db()
    assert gamma.status == Opportunity.Status.OPEN

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/pipeline/")
    shot("board_05_phone")
    assert dialogs == []
