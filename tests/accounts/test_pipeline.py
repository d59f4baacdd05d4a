"""The pipeline: a board with a column per stage (and the recent wins and losses) and a list,
narrowed by one FilterSet; moving a card is one step, lost takes a reason, won an amount;
inline edits of amount, close date and next step; who sees and works what; and a fixed number
of queries whatever the size of the pipeline."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import Opportunity, Stage
from accounts.services import move_stage, update_opportunity
from accounts.views import pipeline as pipeline_views
from leads.models import Channel, Lead
from tests.factories import CampaignFactory, accepted, stage

HTMX = {"HTTP_HX_REQUEST": "true"}
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _that_tuesday():
    """Every test here lives from Tuesday 24 November 2026 on, logins included (a session
    started on the real date would have expired, or not yet begun, on the days it travels to)."""
    with time_machine.travel(NOW):
        yield


def opp(sdr, ae, *, at: datetime = NOW, amount=None, close_date=None, next_step="", **lead_fields):
    """An opportunity in ``ae``'s pipeline (Discovery), with its working details."""
    opportunity = accepted(sdr, ae, now=at, **lead_fields)
    if amount is not None or close_date or next_step:
        update_opportunity(
            opportunity_id=opportunity.pk,
            by=ae,
            amount=Decimal(amount) if amount is not None else None,
            close_date=close_date,
            next_step=next_step,
            now=at,
        )
    return Opportunity.objects.get(pk=opportunity.pk)


def moved(opportunity, to: str, *, at: datetime = NOW, **kwargs) -> Opportunity:
    return move_stage(
        opportunity_id=opportunity.pk, by=opportunity.owner, stage_id=stage(to).pk, now=at, **kwargs
    )


def column(body: str, dom_id: str) -> str:
    match = re.search(rf'<section class="col[^"]*" id="{dom_id}".*?</section>', body, re.S)
    assert match, f"no column {dom_id}"
    return match.group(0)


def card_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<article class="opp-card[^"]*" id="opp-(\d+)"', html)]


def board(client, **query) -> str:
    response = client.get(reverse("accounts:pipeline"), query)
    assert response.status_code == 200, response.content.decode()[:500]
    return response.content.decode()


# --- the board -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_board_has_a_column_per_stage_with_cards_and_totals(client_for, inbound_sdr, ae, other_ae):
    a = opp(
        inbound_sdr,
        ae,
        amount="12000",
        close_date=date(2026, 12, 20),
        next_step="Send the deck",
        company="Acme",
    )
    b = opp(inbound_sdr, ae, amount="3000.50", close_date=date(2026, 12, 5))
    demo = moved(opp(inbound_sdr, ae, amount="7000"), "Demo", at=NOW + timedelta(days=1))
    theirs = opp(inbound_sdr, other_ae, amount="99999")

    with time_machine.travel(NOW + timedelta(days=3), tick=False):
        body = board(client_for(ae))

    titles = re.findall(r'<h2 id="col-[\w-]+-title">([^<]+)</h2>', body)
    assert titles == ["Discovery", "Demo", "Proposal", "Negotiation", "Won", "Lost"]
    discovery = column(body, f"col-{stage('Discovery').pk}")
    assert card_ids(discovery) == [b.pk, a.pk]  # soonest close date first
    assert re.search(r'class="col-count">2</span> · <span class="col-sum">€15,001</span>', discovery)
    card = re.search(rf'id="opp-{a.pk}".*?</article>', discovery, re.S).group(0)
    assert a.name in card and "Acme" in card and "12,000" in card and "20 Dec 2026" in card
    assert "Send the deck" in card and "3 days in stage" in card
    demo_column = column(body, f"col-{stage('Demo').pk}")
    assert card_ids(demo_column) == [demo.pk] and "2 days in stage" in demo_column
    assert theirs.name not in body


@pytest.mark.django_db
def test_won_and_lost_columns_show_the_closes_of_the_last_30_days(client_for, inbound_sdr, ae):
    recent_win = moved(opp(inbound_sdr, ae, amount="5000"), "Won", at=NOW + timedelta(days=20))
    old_win = moved(opp(inbound_sdr, ae, amount="8000"), "Won", at=NOW - timedelta(days=40))
    early = moved(
        opp(inbound_sdr, ae), "Lost", at=NOW + timedelta(days=2), lost_reason="Price", lost_note="Too dear"
    )

    with time_machine.travel(NOW + timedelta(days=25), tick=False):
        body = board(client_for(ae))

    won = column(body, "col-won")
    assert card_ids(won) == [recent_win.pk] and old_win.name not in body
    assert re.search(r'class="col-count">1</span> · <span class="col-sum">€5,000</span>', won)
    lost = column(body, "col-lost")
    assert card_ids(lost) == [early.pk]
    assert "early loss" in lost and "Price" in lost
    assert 'name="stage"' not in won + lost  # closed cards do not move


@pytest.mark.django_db
def test_a_long_column_shows_its_first_cards_and_links_to_the_rest(client_for, inbound_sdr, ae, monkeypatch):
    monkeypatch.setattr(pipeline_views, "CARDS_PER_COLUMN", 2)
    first = opp(inbound_sdr, ae, close_date=date(2026, 12, 1))
    second = opp(inbound_sdr, ae, close_date=date(2026, 12, 2))
    opp(inbound_sdr, ae, close_date=date(2026, 12, 3))
    opp(inbound_sdr, ae)  # no close date: last

    body = board(client_for(ae))

    discovery = column(body, f"col-{stage('Discovery').pk}")
    assert card_ids(discovery) == [first.pk, second.pk]
    assert re.search(r'class="col-count">4</span>', discovery)
    more = re.search(r'<a class="col-more" href="\?([^"]+)">2 more in the list', discovery)
    assert more and f"stage={stage('Discovery').pk}" in more.group(1) and "view=list" in more.group(1)


@pytest.mark.django_db
def test_every_column_shows_its_own_first_cards(client_for, inbound_sdr, ae, monkeypatch):
    """The first cards of all columns come from one statement that SQLite runs too (the demo's
    database): open stages by close date with the undated last, wins and losses newest first."""
    monkeypatch.setattr(pipeline_views, "CARDS_PER_COLUMN", 2)
    undated = opp(inbound_sdr, ae)
    opp(inbound_sdr, ae)  # undated too, and newer: cut
    dated = opp(inbound_sdr, ae, close_date=date(2026, 12, 9))
    proposals = [moved(opp(inbound_sdr, ae, close_date=date(2026, 12, d)), "Proposal") for d in (3, 1, 2)]
    wins = [moved(opp(inbound_sdr, ae, amount="1000"), "Won", at=NOW + timedelta(days=d)) for d in (1, 3, 2)]
    losses = [
        moved(opp(inbound_sdr, ae), "Lost", at=NOW + timedelta(days=d), lost_reason="Price", lost_note="Dear")
        for d in (2, 4, 1)
    ]

    with time_machine.travel(NOW + timedelta(days=5), tick=False):
        body = board(client_for(ae))

    assert card_ids(column(body, f"col-{stage('Discovery').pk}")) == [dated.pk, undated.pk]
    assert card_ids(column(body, f"col-{stage('Proposal').pk}")) == [proposals[1].pk, proposals[2].pk]
    assert card_ids(column(body, "col-won")) == [wins[1].pk, wins[2].pk]
    assert card_ids(column(body, "col-lost")) == [losses[1].pk, losses[0].pk]
    for dom_id in (f"col-{stage('Discovery').pk}", f"col-{stage('Proposal').pk}", "col-won", "col-lost"):
        assert re.search(r'class="col-count">3</span>', column(body, dom_id))
        assert "1 more in the list" in column(body, dom_id)


@pytest.mark.django_db
def test_an_open_stage_an_admin_retired_keeps_its_column_while_cards_sit_in_it(client_for, inbound_sdr, ae):
    stuck = moved(opp(inbound_sdr, ae), "Demo")
    Stage.objects.filter(name="Demo").update(is_active=False)

    body = board(client_for(ae))

    assert card_ids(column(body, f"col-{stage('Demo').pk}")) == [stuck.pk]


# --- moving a card -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_moving_a_card_answers_with_the_two_columns_it_changed_and_their_totals(client_for, inbound_sdr, ae):
    card = opp(inbound_sdr, ae, amount="4000")
    stays = opp(inbound_sdr, ae, amount="1000")
    url = reverse("accounts:move", args=[card.pk]) + "?on=board"

    response = client_for(ae).post(url, {"stage": stage("Proposal").pk}, **HTMX)

    assert response.status_code == 200
    discovery, proposal = f"col-{stage('Discovery').pk}", f"col-{stage('Proposal').pk}"
    # The column it left is the swap's target, the one it joined comes out of band; the rest
    # of the board is left alone.
    assert (response["HX-Retarget"], response["HX-Reswap"]) == (f"#{discovery}", "outerHTML")
    body = response.content.decode()
    assert card_ids(column(body, proposal)) == [card.pk]
    assert 'hx-swap-oob="true"' in column(body, proposal) and "hx-swap-oob" not in column(body, discovery)
    assert card_ids(column(body, discovery)) == [stays.pk]
    assert re.search(r'col-count">1</span> · <span class="col-sum">€1,000</span>', column(body, discovery))
    assert re.search(r'col-count">1</span> · <span class="col-sum">€4,000</span>', column(body, proposal))
    assert 'col-wsum">€2,000</span>' in column(body, proposal)  # 50 % of 4,000
    assert f"col-{stage('Demo').pk}" not in body
    assert re.search(rf'id="board-status" hx-swap-oob="innerHTML">{card.name}: Moved to Proposal.<', body)
    card.refresh_from_db()
    assert card.stage.name == "Proposal"


@pytest.mark.django_db
def test_the_board_that_comes_back_keeps_its_filters(client_for, inbound_sdr, ae):
    card = opp(inbound_sdr, ae, company="Keep")
    other = opp(inbound_sdr, ae, company="Drop")
    url = reverse("accounts:move", args=[card.pk]) + "?on=board&q=Keep"

    body = client_for(ae).post(url, {"stage": stage("Demo").pk}, **HTMX).content.decode()

    assert f'id="opp-{card.pk}"' in body and f'id="opp-{other.pk}"' not in body


@pytest.mark.django_db
def test_lost_opens_a_form_that_needs_a_reason(client_for, inbound_sdr, ae):
    card = opp(inbound_sdr, ae)
    client = client_for(ae)
    url = reverse("accounts:move", args=[card.pk]) + "?on=board"

    form = client.get(url, **HTMX)
    assert form.status_code == 200
    assert (
        'name="lost_reason"' in form.content.decode()
        and "Recycle the lead to marketing" in form.content.decode()
    )

    response = client.post(url, {"stage": stage("Lost").pk, "lost_reason": "", "lost_note": "x"}, **HTMX)

    assert response.status_code == 400
    body = response.content.decode()
    assert "Choose why it was lost" in body and 'name="lost_reason"' in body
    card.refresh_from_db()
    assert card.status == Opportunity.Status.OPEN


@pytest.mark.django_db
def test_lost_with_a_reason_closes_it_flags_an_early_loss_and_can_recycle_the_lead(
    client_for, inbound_sdr, ae
):
    card = opp(inbound_sdr, ae)
    url = reverse("accounts:move", args=[card.pk]) + "?on=board"

    response = client_for(ae).post(
        url,
        {
            "stage": stage("Lost").pk,
            "lost_reason": "Chose a competitor",
            "lost_note": "Went with X",
            "recycle": "on",
        },
        **HTMX,
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert "Lost (Chose a competitor), flagged as an early loss" in body
    assert card_ids(column(body, "col-lost")) == [card.pk]
    card.refresh_from_db()
    assert (card.status, card.lost_reason, card.early_loss) == (
        Opportunity.Status.LOST,
        "Chose a competitor",
        True,
    )
    assert Lead.objects.get(pk=card.lead_id).status == Lead.Status.RECYCLED


@pytest.mark.django_db
def test_won_without_an_amount_is_refused_with_the_reason(client_for, inbound_sdr, ae):
    card = opp(inbound_sdr, ae)
    url = reverse("accounts:move", args=[card.pk]) + "?on=board"

    response = client_for(ae).post(url, {"stage": stage("Won").pk}, **HTMX)

    assert response.status_code == 400
    body = response.content.decode()
    assert "Enter the amount won before closing it won." in body
    assert 'name="amount"' in body  # the details form opens to enter it
    card.refresh_from_db()
    assert card.status == Opportunity.Status.OPEN


@pytest.mark.django_db
def test_won_with_an_amount_closes_the_loop_to_the_lead(client_for, inbound_sdr, ae):
    card = opp(inbound_sdr, ae, amount="25000")
    url = reverse("accounts:move", args=[card.pk]) + "?on=board"

    body = client_for(ae).post(url, {"stage": stage("Won").pk}, **HTMX).content.decode()

    assert card_ids(column(body, "col-won")) == [card.pk]
    card.refresh_from_db()
    assert card.status == Opportunity.Status.WON
    assert Lead.objects.get(pk=card.lead_id).status == Lead.Status.WON


@pytest.mark.django_db
@pytest.mark.parametrize("junk", ["", "abc", "-1", "999999999999999999999", "1.5"])
def test_moving_to_a_stage_that_does_not_exist_is_a_field_error(client_for, inbound_sdr, ae, junk):
    card = opp(inbound_sdr, ae)
    url = reverse("accounts:move", args=[card.pk]) + "?on=board"

    response = client_for(ae).post(url, {"stage": junk}, **HTMX)

    assert response.status_code == 400
    assert "Choose" in response.content.decode()
    card.refresh_from_db()
    assert card.stage.name == "Discovery"


@pytest.mark.django_db
def test_moving_a_closed_opportunity_is_refused_as_a_conflict(client_for, inbound_sdr, ae):
    card = moved(opp(inbound_sdr, ae, amount="100"), "Won")
    url = reverse("accounts:move", args=[card.pk]) + "?on=board"

    response = client_for(ae).post(url, {"stage": stage("Demo").pk}, **HTMX)

    assert response.status_code == 409
    assert "This opportunity is won" in response.content.decode()
    card.refresh_from_db()
    assert card.status == Opportunity.Status.WON


@pytest.mark.django_db
def test_a_move_without_javascript_redirects_back_with_a_message(client_for, inbound_sdr, ae):
    card = opp(inbound_sdr, ae)
    back = reverse("accounts:pipeline") + "?view=list"

    response = client_for(ae).post(
        reverse("accounts:move", args=[card.pk]), {"stage": stage("Demo").pk, "next": back}, follow=True
    )

    assert response.redirect_chain[-1][0] == back
    assert "Moved to Demo" in response.content.decode()


# --- inline details ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_amount_close_date_and_next_step_are_edited_in_the_card(client_for, inbound_sdr, ae):
    card = opp(inbound_sdr, ae)
    client = client_for(ae)
    url = reverse("accounts:details", args=[card.pk]) + "?on=board"

    form = client.get(url, **HTMX).content.decode()
    assert 'name="amount"' in form and 'name="close_date"' in form and 'name="next_step"' in form

    response = client.post(
        url, {"amount": "18000.50", "close_date": "2027-01-15", "next_step": "Call the CFO"}, **HTMX
    )

    assert response.status_code == 200 and response["HX-Retarget"] == "#board"
    assert "18,000.50" in response.content.decode() and "Call the CFO" in response.content.decode()
    card.refresh_from_db()
    assert (card.amount, card.close_date, card.next_step) == (
        Decimal("18000.50"),
        date(2027, 1, 15),
        "Call the CFO",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "lots"}, "Enter an amount"),
        ({"amount": "-5"}, "Enter an amount of zero or more."),
        ({"amount": "1" * 30}, "Enter an amount below"),
        ({"amount": "10.555"}, "at most two decimals"),
        ({"close_date": "2026-02-30"}, "Enter a date"),
        ({"close_date": "tomorrow"}, "Enter a date"),
        ({"next_step": "x" * 301}, "at most 300 characters"),
    ],
)
def test_bad_details_are_refused_in_the_card_and_nothing_is_saved(client_for, inbound_sdr, ae, data, message):
    card = opp(inbound_sdr, ae, amount="100", next_step="Keep me")
    url = reverse("accounts:details", args=[card.pk]) + "?on=board"

    response = client_for(ae).post(url, {"amount": "100", "next_step": "Keep me", **data}, **HTMX)

    assert response.status_code == 400
    assert message in response.content.decode()
    card.refresh_from_db()
    assert (card.amount, card.next_step) == (Decimal("100"), "Keep me")


# --- who sees and works what ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status", "sees"),
    [
        ("ae", 200, True),
        ("other_ae", 200, False),
        ("far_ae", 200, False),
        ("sales_manager", 200, True),  # manages Alex's team
        ("manager", 200, True),  # manages Sam's team, who handed it off
        ("other_manager", 200, False),
        ("inbound_sdr", 403, False),
        ("other_sdr", 403, False),
        ("am", 403, False),
        ("marketing", 403, False),
    ],
)
def test_who_sees_the_pipeline(client_for, request, inbound_sdr, ae, who, status, sees):
    card = opp(inbound_sdr, ae)
    for view in ("board", "list"):
        response = client_for(request.getfixturevalue(who)).get(reverse("accounts:pipeline"), {"view": view})
        assert response.status_code == status
        assert (card.name in response.content.decode()) is sees


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "controls"), [("ae", True), ("sales_manager", True), ("manager", False)])
def test_cards_offer_moves_only_to_who_may_make_them(client_for, request, inbound_sdr, ae, who, controls):
    card = opp(inbound_sdr, ae)

    body = board(client_for(request.getfixturevalue(who)))

    html = re.search(rf'id="opp-{card.pk}".*?</article>', body, re.S).group(0)
    assert ('name="stage"' in html) is controls
    assert ("Lost…" in html) is controls


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client, inbound_sdr, ae):
    card = opp(inbound_sdr, ae)
    for url in (reverse("accounts:pipeline"), reverse("accounts:early_losses")):
        assert "/login/" in client.get(url)["Location"]
    response = client.post(reverse("accounts:move", args=[card.pk]), {"stage": stage("Demo").pk})
    assert response.status_code == 302
    card.refresh_from_db()
    assert card.stage.name == "Discovery"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("ae", 200),
        ("sales_manager", 200),
        ("other_ae", 404),  # a teammate's opportunity in the pipeline is not theirs
        ("far_ae", 404),
        ("other_manager", 404),
        ("manager", 403),  # sees it (her SDR handed it off) but does not manage the AE
        ("marketing", 403),
        ("inbound_sdr", 403),
        ("other_sdr", 403),
        ("am", 403),
    ],
)
def test_only_the_ae_and_their_manager_move_or_edit(client_for, request, inbound_sdr, ae, who, status):
    card = opp(inbound_sdr, ae, next_step="Before")
    client = client_for(request.getfixturevalue(who))

    moved_response = client.post(
        reverse("accounts:move", args=[card.pk]) + "?on=board", {"stage": stage("Demo").pk}, **HTMX
    )
    edit_response = client.post(
        reverse("accounts:details", args=[card.pk]) + "?on=board", {"next_step": "After"}, **HTMX
    )

    assert moved_response.status_code == status and edit_response.status_code == status
    card.refresh_from_db()
    if status == 200:
        assert (card.stage.name, card.next_step) == ("Demo", "After")
    else:
        assert (card.stage.name, card.next_step) == ("Discovery", "Before")


# --- filters -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_filterset_narrows_board_and_list(client_for, inbound_sdr, outbound_sdr, ae, sales_manager):
    webinar = CampaignFactory(name="Webinar")
    by_name = opp(inbound_sdr, ae, company="Zebra Corp", close_date=date(2026, 12, 10))
    by_campaign = opp(inbound_sdr, ae, campaign=webinar, close_date=date(2027, 2, 1))
    outbound = opp(outbound_sdr, ae, source=Channel.OUTBOUND, close_date=date(2027, 3, 1))
    in_demo = moved(opp(inbound_sdr, ae, close_date=date(2027, 1, 5)), "Demo")
    client = client_for(ae)

    for view in ("board", "list"):

        def found(view=view, **q):
            return set(re.findall(r'href="/opportunities/(\d+)/"', board(client, view=view, **q)))

        assert found(q="zebra") == {str(by_name.pk)}
        assert found(campaign=webinar.pk) == {str(by_campaign.pk)}
        assert found(origin="outbound") == {str(outbound.pk)}
        assert found(stage=stage("Demo").pk) == {str(in_demo.pk)}
        assert found(close_after="2027-01-01", close_before="2027-02-15") == {
            str(by_campaign.pk),
            str(in_demo.pk),
        }
        assert found(status="won") == set()


@pytest.mark.django_db
def test_a_manager_filters_by_the_aes_of_their_teams_only(
    client_for, inbound_sdr, ae, other_ae, far_ae, sales_manager
):
    alex = opp(inbound_sdr, ae)
    ana = opp(inbound_sdr, other_ae)
    client = client_for(sales_manager)

    body = board(client, ae=ae.pk)
    assert alex.name in body and ana.name not in body
    assert f'<option value="{other_ae.pk}">' in body and f'<option value="{far_ae.pk}">' not in body

    response = client.get(reverse("accounts:pipeline"), {"ae": far_ae.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {"stage": "999999"},
        {"stage": "x"},
        {"status": "nonsense"},
        {"close_after": "2026-13-45"},
        {"close_after": "2027-01-02", "close_before": "2027-01-01"},
        {"origin": "sideways"},
        {"campaign": "99999999999999999999"},
        {"sort": "random"},
        {"q": "x" * 101},
    ],
)
def test_bad_filters_are_shown_as_errors_with_a_400(client_for, ae, query):
    for view in ("board", "list"):
        response = client_for(ae).get(reverse("accounts:pipeline"), {"view": view, **query})
        assert response.status_code == 400
        assert "Check the filters" in response.content.decode()


# --- the list --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_list_sorts_by_close_date_or_amount_and_pages(client_for, inbound_sdr, ae, monkeypatch):
    monkeypatch.setattr(pipeline_views, "LIST_PER_PAGE", 2)
    small_late = opp(inbound_sdr, ae, amount="10", close_date=date(2027, 3, 1))
    big_soon = opp(inbound_sdr, ae, amount="900", close_date=date(2026, 12, 1))
    mid = opp(inbound_sdr, ae, amount="500", close_date=date(2027, 1, 1))
    client = client_for(ae)
    order = lambda body: [int(pk) for pk in re.findall(r'<tr id="row-(\d+)"', body)]  # noqa: E731

    first = board(client, view="list")
    assert order(first) == [big_soon.pk, mid.pk]
    assert "Page 1 of 2" in first
    assert order(board(client, view="list", page=2)) == [small_late.pk]
    assert order(board(client, view="list", sort="-amount")) == [big_soon.pk, mid.pk]
    assert order(board(client, view="list", sort="amount")) == [small_late.pk, mid.pk]
    assert order(board(client, view="list", sort="-close_date")) == [small_late.pk, mid.pk]
    assert order(board(client, view="list", page="junk")) == [big_soon.pk, mid.pk]


@pytest.mark.django_db
def test_filter_changes_get_just_the_results_over_htmx(client_for, inbound_sdr, ae):
    opp(inbound_sdr, ae)
    response = client_for(ae).get(
        reverse("accounts:pipeline"), {"view": "list"}, HTTP_HX_TARGET="pipeline-results", **HTMX
    )
    body = response.content.decode()
    assert 'id="opportunity-list"' in body and "<html" not in body


# --- cost ----------------------------------------------------------------------------------------


def _fill(inbound_sdr, ae, size: int) -> None:
    for n in range(size):
        card = opp(
            inbound_sdr, ae, amount=str(100 * (n + 1)), close_date=date(2026, 12, 1) + timedelta(days=n)
        )
        if n % 4 == 1:
            moved(card, "Demo")
        elif n % 4 == 2:
            moved(card, "Won", at=NOW + timedelta(days=1))
        elif n % 4 == 3:
            moved(card, "Lost", at=NOW + timedelta(days=1), lost_reason="Price")


@pytest.mark.django_db
@pytest.mark.parametrize("size", [4, 16])
@pytest.mark.parametrize("view", ["board", "list"])
def test_the_pipeline_costs_the_same_queries_whatever_its_size(
    client_for, django_assert_num_queries, inbound_sdr, ae, size, view
):
    _fill(inbound_sdr, ae, size)
    client = client_for(ae)

    # session, user, stages, then board: totals, card ids, cards; list: count, ids, rows;
    # then the filter form's stage and campaign choices
    with time_machine.travel(NOW + timedelta(days=2), tick=False), django_assert_num_queries(8):
        response = client.get(reverse("accounts:pipeline"), {"view": view})
    assert response.status_code == 200
    assert len(set(re.findall(r'href="/opportunities/(\d+)/"', response.content.decode()))) == size


@pytest.mark.django_db
@pytest.mark.parametrize("size", [4, 16])
def test_a_managers_board_costs_the_same_queries_whatever_its_size(
    client_for, django_assert_num_queries, inbound_sdr, ae, sales_manager, size
):
    _fill(inbound_sdr, ae, size)
    client = client_for(sales_manager)

    # as the AE's, plus the AEs whose cards the manager may move and the AE filter's choices
    with time_machine.travel(NOW + timedelta(days=2), tick=False), django_assert_num_queries(10):
        response = client.get(reverse("accounts:pipeline"))
    assert response.status_code == 200
