"""The pipeline board's totals and moves: each column's total and weighted amount (the amounts
times the stage's probability, summed in SQL over every card of the column, whatever the
filters and however many cards the column shows), cards moved the way the board's script
moves them (a drop on a column, or the keyboard, both post the card's move form) answered
with the two columns the move changed and a line for the live region, refused moves
answered with the card where it was and the reason, and a move's fixed cost in queries."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Opportunity, Stage
from accounts.views import pipeline as pipeline_views
from tests.accounts.test_pipeline import HTMX, NOW, board, card_ids, column, moved, opp
from tests.factories import stage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _that_tuesday():
    with time_machine.travel(NOW):
        yield


def header(body: str, dom_id: str) -> tuple[str, str, str | None]:
    """A column's count, total and weighted total as its header shows them (without the
    currency they are written with)."""
    html = column(body, dom_id)
    count = re.search(r'class="col-count">([^<]*)<', html).group(1)
    total = re.search(r'class="col-sum">€([^<]*)<', html).group(1)
    weighted = re.search(r'class="col-wsum">€([^<]*)<', html)
    return count, total, weighted.group(1) if weighted else None


def col(name: str) -> str:
    return f"col-{stage(name).pk}"


def move(client, card, to: str, **query):
    """What the board's script sends for a drop on (or a keyboard move to) the column ``to``:
    the card's own move form with the column's stage."""
    url = (
        reverse("accounts:move", args=[card.pk])
        + "?"
        + "&".join(["on=board", *(f"{k}={v}" for k, v in query.items())])
    )
    return client.post(url, {"stage": stage(to).pk}, **HTMX)


# --- totals --------------------------------------------------------------------------------------


def test_each_open_column_shows_its_total_and_its_weighted_total(client_for, inbound_sdr, ae):
    opp(inbound_sdr, ae, amount="12000")
    opp(inbound_sdr, ae, amount="3000.50")
    opp(inbound_sdr, ae)  # no amount: counted, adds nothing
    moved(opp(inbound_sdr, ae, amount="7000"), "Demo")
    moved(opp(inbound_sdr, ae, amount="101"), "Negotiation")
    moved(opp(inbound_sdr, ae, amount="5000"), "Won")

    body = board(client_for(ae))

    # Discovery 10 %, Demo 25 %, Proposal 50 %, Negotiation 75 % (the default stages)
    assert header(body, col("Discovery")) == ("3", "15,001", "1,500")
    assert header(body, col("Demo")) == ("1", "7,000", "1,750")
    assert header(body, col("Proposal")) == ("0", "0", "0")
    assert header(body, col("Negotiation")) == ("1", "101", "76")  # 75.75: no integer division
    assert "at 25%" in column(body, col("Demo"))
    # Won and lost are outcomes, not forecasts: their total only.
    assert header(body, "col-won") == ("1", "5,000", None)
    assert header(body, "col-lost") == ("0", "0", None)


def test_a_stage_probability_edited_in_the_admin_weights_the_column(client_for, inbound_sdr, ae):
    moved(opp(inbound_sdr, ae, amount="8000"), "Demo")
    Stage.objects.filter(name="Demo").update(probability=40)

    assert header(board(client_for(ae)), col("Demo")) == ("1", "8,000", "3,200")


def test_totals_count_every_card_of_the_column_not_only_those_it_shows(
    client_for, inbound_sdr, ae, monkeypatch
):
    monkeypatch.setattr(pipeline_views, "CARDS_PER_COLUMN", 2)
    for amount in ("1000", "2000", "3000", "4000", "5000"):
        moved(opp(inbound_sdr, ae, amount=amount), "Proposal")

    body = board(client_for(ae))

    proposal = column(body, col("Proposal"))
    assert len(card_ids(proposal)) == 2 and "3 more in the list" in proposal
    assert header(body, col("Proposal")) == ("5", "15,000", "7,500")


def test_totals_follow_the_filters(client_for, inbound_sdr, ae, other_ae, sales_manager):
    opp(inbound_sdr, ae, amount="10000", company="Keep AG", close_date=date(2026, 12, 10))
    opp(inbound_sdr, ae, amount="20000", company="Keep AG", close_date=date(2027, 3, 1))
    opp(inbound_sdr, ae, amount="40000", company="Other AG", close_date=date(2026, 12, 12))
    opp(inbound_sdr, other_ae, amount="80000", company="Keep AG", close_date=date(2026, 12, 11))
    client = client_for(ae)

    assert header(board(client), col("Discovery")) == ("3", "70,000", "7,000")
    assert header(board(client, q="Keep"), col("Discovery")) == ("2", "30,000", "3,000")
    assert header(board(client, q="Keep", close_before="2026-12-31"), col("Discovery")) == (
        "1",
        "10,000",
        "1,000",
    )

    manager = client_for(sales_manager)
    assert header(board(manager), col("Discovery")) == ("4", "150,000", "15,000")
    assert header(board(manager, ae=other_ae.pk), col("Discovery")) == ("1", "80,000", "8,000")


# --- what the board's script works with -----------------------------------------------------------


def test_columns_say_what_a_drop_does_and_cards_are_focusable_and_draggable(client_for, inbound_sdr, ae):
    card = opp(inbound_sdr, ae, amount="1000")
    won = moved(opp(inbound_sdr, ae, amount="500"), "Won")

    body = board(client_for(ae))

    assert f'data-drop="stage" data-stage="{stage("Demo").pk}"' in column(body, col("Demo"))
    assert f'data-drop="stage" data-stage="{stage("Won").pk}"' in column(body, "col-won")
    assert 'data-drop="lost"' in column(body, "col-lost")
    open_card = re.search(rf'<article [^>]*id="opp-{card.pk}"[^>]*>', body).group(0)
    assert 'tabindex="0"' in open_card and 'draggable="true"' in open_card
    assert 'aria-describedby="board-help"' in open_card and 'id="board-help"' in body
    closed_card = re.search(rf'<article [^>]*id="opp-{won.pk}"[^>]*>', body).group(0)
    assert 'tabindex="0"' in closed_card and "draggable" not in closed_card  # a closed card does not move
    assert re.search(r'<p class="board-notice" id="board-status" role="status" aria-live="polite"></p>', body)
    assert "js/pipeline.js" in body
    # the keyboard path: the card's stage list, labelled, and its Move button
    assert f'<label class="visually-hidden" for="stage-{card.pk}">Move {card.name} to</label>' in body


def test_a_manager_who_may_not_move_the_cards_gets_none_to_drag(client_for, inbound_sdr, ae, manager):
    card = opp(inbound_sdr, ae)

    body = board(client_for(manager))  # her SDR handed it off; she does not manage the AE

    html = re.search(rf'<article [^>]*id="opp-{card.pk}".*?</article>', body, re.S).group(0)
    assert "draggable" not in html and 'name="stage"' not in html


# --- moves ---------------------------------------------------------------------------------------


def test_a_drop_on_another_column_updates_both_columns_totals(client_for, inbound_sdr, ae):
    card = opp(inbound_sdr, ae, amount="4000")
    opp(inbound_sdr, ae, amount="1000")
    moved(opp(inbound_sdr, ae, amount="2000"), "Negotiation")
    client = client_for(ae)

    response = move(client, card, "Negotiation")

    assert response.status_code == 200
    body = response.content.decode()
    assert response["HX-Retarget"] == f"#{col('Discovery')}"
    assert header(body, col("Discovery")) == ("1", "1,000", "100")
    assert header(body, col("Negotiation")) == ("2", "6,000", "4,500")
    assert card.pk in card_ids(column(body, col("Negotiation")))
    # the next board shows the same
    assert header(board(client), col("Negotiation")) == ("2", "6,000", "4,500")


def test_a_drop_on_won_closes_it_and_the_won_column_counts_it(client_for, inbound_sdr, ae):
    card = moved(opp(inbound_sdr, ae, amount="9000"), "Proposal")

    response = move(client_for(ae), card, "Won")

    body = response.content.decode()
    assert response.status_code == 200 and response["HX-Retarget"] == f"#{col('Proposal')}"
    assert header(body, col("Proposal")) == ("0", "0", "0")
    assert header(body, "col-won") == ("1", "9,000", None) and card_ids(column(body, "col-won")) == [card.pk]
    assert f"{card.name}: Moved to Won." in body
    card.refresh_from_db()
    assert card.status == Opportunity.Status.WON


def test_a_drop_on_lost_opens_the_lost_form_in_the_card_and_losing_it_updates_both_columns(
    client_for, inbound_sdr, ae
):
    card = opp(inbound_sdr, ae, amount="3000")
    client = client_for(ae)
    url = reverse("accounts:move", args=[card.pk]) + "?on=board"

    form = client.get(url, **HTMX)  # what the card's "Lost…" button, clicked by the drop, asks

    assert form.status_code == 200 and 'name="lost_reason"' in form.content.decode()
    assert "HX-Retarget" not in form  # the form opens in the card, where it is
    response = client.post(url, {"stage": stage("Lost").pk, "lost_reason": "Price"}, **HTMX)
    body = response.content.decode()
    assert response["HX-Retarget"] == f"#{col('Discovery')}"
    assert header(body, col("Discovery")) == ("0", "0", "0")
    assert header(body, "col-lost") == ("1", "3,000", None)


def test_a_refused_drop_leaves_the_card_where_it_was_with_the_reason(client_for, inbound_sdr, ae):
    card = opp(inbound_sdr, ae)  # no amount: winning it is refused

    response = move(client_for(ae), card, "Won")

    assert response.status_code == 400
    assert "HX-Retarget" not in response  # the card's own swap: the card, in its column
    body = response.content.decode()
    assert body.lstrip().startswith('<article class="opp-card') and f'id="opp-{card.pk}"' in body
    assert "Enter the amount won before closing it won." in body
    card.refresh_from_db()
    assert (card.status, card.stage.name) == (Opportunity.Status.OPEN, "Discovery")


def test_a_move_to_a_retired_stage_is_refused_and_the_card_stays(client_for, inbound_sdr, ae):
    card = opp(inbound_sdr, ae)
    Stage.objects.filter(name="Demo").update(is_active=False)

    response = move(client_for(ae), card, "Demo")

    assert response.status_code == 400 and "Choose" in response.content.decode()
    assert "HX-Retarget" not in response
    card.refresh_from_db()
    assert card.stage.name == "Discovery"


def test_a_move_keeps_the_boards_filters_in_the_columns_it_answers_with(client_for, inbound_sdr, ae):
    card = opp(inbound_sdr, ae, amount="1000", company="Keep")
    opp(inbound_sdr, ae, amount="5000", company="Drop")
    moved(opp(inbound_sdr, ae, amount="7000", company="Drop"), "Demo")

    body = move(client_for(ae), card, "Demo", q="Keep").content.decode()

    assert header(body, col("Discovery")) == ("0", "0", "0")
    assert header(body, col("Demo")) == ("1", "1,000", "250")


def test_the_last_card_leaving_a_retired_stage_brings_back_the_whole_board(client_for, inbound_sdr, ae):
    card = moved(opp(inbound_sdr, ae), "Demo")
    Stage.objects.filter(name="Demo").update(is_active=False)

    response = move(client_for(ae), card, "Proposal")

    assert response.status_code == 200 and response["HX-Retarget"] == "#board"
    body = response.content.decode()
    assert col("Demo") not in body and card_ids(column(body, col("Proposal"))) == [card.pk]


@pytest.mark.parametrize("size", [4, 16])
def test_a_move_costs_the_same_queries_whatever_the_size_of_the_board(
    client_for, django_assert_num_queries, inbound_sdr, ae, size
):
    for n in range(size):
        card = opp(
            inbound_sdr, ae, amount=str(100 * (n + 1)), close_date=date(2026, 12, 1) + timedelta(days=n)
        )
        if n % 2:
            moved(card, "Demo")
    card = opp(inbound_sdr, ae, amount="50")
    client = client_for(ae)
    client.get(reverse("accounts:pipeline"))  # the session's first read
    url, proposal = reverse("accounts:move", args=[card.pk]) + "?on=board", stage("Proposal").pk

    # session, user, the opportunity (its access), the form's stage; the move: savepoint, the
    # locked row, the stage, the stage it leaves, update, event, release; the answer: stages,
    # totals, the columns' first ids, their cards
    with django_assert_num_queries(15):
        response = client.post(url, {"stage": proposal}, **HTMX)
    assert response.status_code == 200 and len(card_ids(response.content.decode())) == size // 2 + 1
