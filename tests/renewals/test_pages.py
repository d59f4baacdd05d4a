"""The AM's pages through the test client, on a frozen clock: renewals due in 30/60/90 days
with what puts each at risk, the account page, the contract page and its two actions, and
who may see each."""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Contact, Opportunity, OpportunityEvent
from leads.scoring import engagement_key
from renewals.models import AccountEvent, Contract
from renewals.services import log_conversation, record_outcome
from renewals.views import account as account_page
from renewals.views import due as renewals_page
from team.models import Role
from tests.factories import LeadFactory, UserFactory, accepted, contract, customer
from work.models import WorkItem
from work.services import sweep_breaches

pytestmark = pytest.mark.django_db

# Monday 4 May 2026, 10:00 in Berlin (the AMs' calendar).
NOW = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
TODAY = date(2026, 5, 4)


def days(n: int) -> date:
    return TODAY + timedelta(days=n)


@pytest.fixture
def other_am(am):
    """Robin, a second AM in Casey's team (Moe manages both)."""
    return UserFactory(username="robin", role=Role.AM, team=am.team)


@pytest.fixture
def book(am, other_am, am_manager, frozen):
    """Casey's customers: one ending in 10 days, one in 45, one in 80, one in 120 (not shown
    yet), one that ended 3 days ago and is still open, one already renewed; and Robin's."""
    made = {}
    for key, name, end in (
        ("soon", "Soon AG", days(10)),
        ("mid", "Mid GmbH", days(45)),
        ("late", "Late Ltd", days(80)),
        ("far", "Far SA", days(120)),
        ("over", "Over BV", days(-3)),
    ):
        account = customer(am, name=name, domain=f"{key}.example")
        made[key] = contract(account, end=end, value="12000.00", now=NOW - timedelta(days=300))
    done = contract(customer(am, name="Done Inc", domain="done.example"), end=days(20), now=NOW)
    record_outcome(contract_id=done.pk, by=am, outcome="renewed", now=NOW)
    made["done"] = done
    made["robin"] = contract(customer(other_am, name="Robin Co", domain="robin.example"), end=days(15),
                             value="5000.00", now=NOW)  # fmt: skip
    from renewals.services import run_renewals

    run_renewals(now=NOW)  # the windows of the contracts signed long ago open today
    return made


def section(html: str, days_: int) -> str:
    match = re.search(rf'<section class="card rn-bucket" id="due-{days_}">.*?</section>', html, re.S)
    assert match, f"no section due-{days_}"
    return match.group(0)


def row(html: str, term: Contract) -> str:
    match = re.search(rf'<tr id="contract-{term.pk}".*?</tr>', html, re.S)
    assert match, f"no row for contract {term.pk}"
    return match.group(0)


# --- the renewals page ----------------------------------------------------------------------


def test_am_sees_their_renewals_grouped_by_when_they_come_due(client_for, am, book):
    response = client_for(am).get(reverse("renewals:renewals"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Soon AG" in section(html, 30) and "Over BV" in section(html, 30)
    assert "Mid GmbH" in section(html, 60) and "Late Ltd" in section(html, 90)
    assert "Far SA" not in html and "Robin Co" not in html  # too far out; Robin's
    assert "Done Inc" not in section(html, 30)  # renewed already (its new term is a year away)
    soon = row(html, book["soon"])
    assert "2026-05-14" in soon and "10 days left" in soon and "12,000" in soon
    assert "ended 3 days ago" in row(html, book["over"])
    assert f'href="{reverse("renewals:account", args=[book["soon"].account_id])}"' in soon


def test_the_60_day_item_shows_with_its_live_sla_countdown(client_for, am, book):
    html = client_for(am).get(reverse("renewals:renewals")).content.decode()
    mid = row(html, book["mid"])
    assert "Start the renewal conversation" in mid
    assert 'data-countdown="sla"' in mid and "left" in mid
    assert "Not opened yet" in row(html, book["late"])  # 80 days out: no window yet
    assert "js/countdown.js" in html


def test_a_renewal_without_a_conversation_is_at_risk_until_one_is_logged(client_for, am, book, frozen):
    client = client_for(am)
    html = client.get(reverse("renewals:renewals")).content.decode()
    assert "No renewal conversation logged" in row(html, book["mid"])
    assert "No renewal conversation logged" not in row(html, book["late"])  # window not open yet
    log_conversation(contract_id=book["mid"].pk, by=am, note="They will renew.", now=NOW)
    html = client.get(reverse("renewals:renewals")).content.decode()
    mid = row(html, book["mid"])
    assert "No renewal conversation logged" not in mid and "Mon 4 May 2026" in mid  # last conversation
    assert "Start the renewal conversation" not in mid  # done


def test_decayed_engagement_of_every_contact_puts_a_renewal_at_risk(client_for, am, book):
    late = book["late"]
    quiet = LeadFactory(engagement_key=engagement_key(50, NOW - timedelta(days=120), 14.0))
    Contact.objects.create(account_id=late.account_id, lead=quiet, email="quiet@late.example")
    html = client_for(am).get(reverse("renewals:renewals")).content.decode()
    assert "engagement has decayed" in row(html, late)

    busy = LeadFactory(engagement_key=engagement_key(50, NOW - timedelta(days=2), 14.0))
    Contact.objects.create(account_id=late.account_id, lead=busy, email="busy@late.example")
    html = client_for(am).get(reverse("renewals:renewals")).content.decode()
    assert "engagement has decayed" not in row(html, late)
    assert "—" in row(html, late)  # nothing else puts it at risk


def test_a_breached_renewal_item_puts_a_renewal_at_risk(client_for, am, book):
    later = NOW + timedelta(days=14)
    log_conversation(contract_id=book["over"].pk, by=am, note="Talking.", now=NOW)
    sweep_breaches(now=later)  # the renewal of the contract that ended is past its last day
    with time_machine.travel(later, tick=False):
        html = client_for(am).get(reverse("renewals:renewals")).content.decode()
    over = row(html, book["over"])
    assert "breached its SLA" in over and "No renewal conversation logged" not in over


def test_totals_show_the_value_at_stake_and_at_risk_per_bucket(client_for, am, book):
    log_conversation(contract_id=book["mid"].pk, by=am, note="Fine.", now=NOW)
    html = client_for(am).get(reverse("renewals:renewals")).content.decode()
    totals = re.search(r'<ul class="rn-totals".*?</ul>', html, re.S).group(0)
    first = re.search(r'rn-total-30">.*?</li>', totals, re.S).group(0)
    assert "24,000" in first and "2 contracts" in first and "24,000 at risk" in first
    second = re.search(r'rn-total-60">.*?</li>', totals, re.S).group(0)
    assert "12,000" in second and "0 at risk" in second
    everything = re.search(r'rn-total-all">.*?</li>', totals, re.S).group(0)
    assert "48,000" in everything and "4 contracts" in everything and "24,000 at risk" in everything


def test_at_risk_only_hides_the_safe_renewals(client_for, am, book):
    log_conversation(contract_id=book["mid"].pk, by=am, note="Fine.", now=NOW)
    html = client_for(am).get(reverse("renewals:renewals"), {"risk": "1"}).content.decode()
    assert "Soon AG" in html and "Over BV" in html
    assert "Mid GmbH" not in html and "Late Ltd" not in html


def test_the_manager_sees_their_ams_renewals_and_filters_by_am(client_for, am_manager, am, other_am, book):
    client = client_for(am_manager)
    html = client.get(reverse("renewals:renewals")).content.decode()
    assert "Soon AG" in html and "Robin Co" in html
    assert f'<option value="{am.pk}">{am}</option>' in html
    assert f'<option value="{other_am.pk}">{other_am}</option>' in html
    html = client.get(reverse("renewals:renewals"), {"am": other_am.pk}).content.decode()
    assert "Robin Co" in html and "Soon AG" not in html
    response = client.get(reverse("renewals:renewals"), {"am": "999999"})
    assert response.status_code == 400
    assert "Choose an account manager from the list." in response.content.decode()


def test_the_htmx_filter_gets_only_the_results(client_for, am_manager, other_am, book):
    response = client_for(am_manager).get(
        reverse("renewals:renewals"),
        {"am": other_am.pk},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="renewal-results",
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Robin Co" in html and "Soon AG" not in html


def test_a_full_bucket_shows_its_first_rows_and_pages_through_the_rest(client_for, am, book, monkeypatch):
    monkeypatch.setattr(renewals_page, "ROWS_PER_BUCKET", 1)
    client = client_for(am)
    html = client.get(reverse("renewals:renewals")).content.decode()
    first = section(html, 30)
    assert "Over BV" in first and "Soon AG" not in first  # the earliest end first
    assert "All 2 due in 30 days" in first
    html = client.get(reverse("renewals:renewals"), {"bucket": "30", "page": "2"}).content.decode()
    assert "Soon AG" in html and "Over BV" not in html and "Page 2 of 2" in html
    assert 'id="due-60"' not in html
    response = client.get(reverse("renewals:renewals"), {"bucket": "45"})
    assert response.status_code == 400 and "Choose 30, 60 or 90 days." in response.content.decode()


@pytest.mark.parametrize(
    ("who", "status", "sees"),
    [
        ("am", 200, True),
        ("other_am", 200, False),
        ("am_manager", 200, True),
        ("manager", 200, False),
        ("ae", 403, False),
        ("inbound_sdr", 403, False),
        ("outbound_sdr", 403, False),
        ("marketing", 403, False),
    ],
)
def test_who_sees_the_renewals_page(client_for, request, book, who, status, sees):
    response = client_for(request.getfixturevalue(who)).get(reverse("renewals:renewals"))
    assert response.status_code == status
    assert ("Soon AG" in response.content.decode()) is sees


def test_a_manager_of_no_am_team_is_told_so(client_for, manager, book):
    html = client_for(manager).get(reverse("renewals:renewals")).content.decode()
    assert "You manage no team of account managers" in html


def test_anonymous_visitors_are_sent_to_log_in(client, book):
    for url in (
        reverse("renewals:renewals"),
        reverse("renewals:account", args=[book["soon"].account_id]),
        reverse("renewals:contract", args=[book["soon"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client.post(reverse("renewals:conversation", args=[book["soon"].pk]), {"note": "x"})
    assert response.status_code == 302 and not AccountEvent.objects.filter(kind="conversation").exists()


def _more_renewals(am, n: int, start: int) -> None:
    """``n`` more customers of ``am`` with a contract inside each bucket, at-risk contacts."""
    for i in range(start, start + n):
        account = customer(am, name=f"Extra {i}", domain=f"extra{i}.example")
        term = contract(account, end=days(5 + (i * 29) % 85), value="1000.00", now=NOW - timedelta(days=300))
        lead = LeadFactory(engagement_key=engagement_key(40, NOW - timedelta(days=90), 14.0))
        Contact.objects.create(account=account, lead=lead, email=f"p{i}@extra{i}.example")
        if i % 2:
            log_conversation(contract_id=term.pk, by=am, note="Spoke.", now=NOW)


def _count(client, url, **params) -> int:
    client.get(url, params)  # warm: content types, the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


def test_the_renewals_page_issues_a_fixed_number_of_queries(client_for, am, am_manager, book):
    from renewals.services import run_renewals

    client = client_for(am)
    url = reverse("renewals:renewals")
    small = _count(client, url), _count(client, url, risk="1"), _count(client, url, bucket="30")
    _more_renewals(am, 12, 0)
    run_renewals(now=NOW)
    large = _count(client, url), _count(client, url, risk="1"), _count(client, url, bucket="30")
    # session, user with their team's calendar (their time zone), the two settings, totals, the
    # rows' ids, the rows,
    # their open items (and the page's count for one bucket), the AM's expansion leads (none
    # here; test_expansion.py counts them with leads) and their live version; SQLite reads the
    # buckets' first rows one query each
    expected = (10, 10, 11) if connection.vendor == "postgresql" else (12, 12, 11)
    assert small == large == expected, (small, large)

    client = client_for(am_manager)
    small = _count(client, url, am=am.pk)
    _more_renewals(am, 6, 100)
    assert small == _count(client, url, am=am.pk) == expected[0] + 1  # + the AMs for the filter


# --- the account page ----------------------------------------------------------------------


@pytest.fixture
def customer_account(am, inbound_sdr, ae, frozen):
    """Casey's customer with two terms (the first renewed), a contact with a lead, a won
    new-business opportunity and the renewal opportunity."""
    opportunity = accepted(inbound_sdr, ae, now=NOW - timedelta(days=400), company="Acme GmbH")
    account = opportunity.account
    account.account_manager = am
    account.save(update_fields=["account_manager"])
    first = contract(account, start=days(-395), end=days(-31), now=NOW - timedelta(days=395))
    record_outcome(contract_id=first.pk, by=am, outcome="expanded", annual_value=Decimal("15000"),
                   now=NOW - timedelta(days=40))  # fmt: skip
    lead = opportunity.lead
    lead.engagement_key = engagement_key(70, NOW - timedelta(days=1), 14.0)
    lead.fit_grade = "A"
    lead.save(update_fields=["engagement_key", "fit_grade"])
    Contact.objects.filter(lead=lead).delete()
    Contact.objects.create(account=account, lead=lead, email="greta@acme.example", first_name="Greta",
                           last_name="Good", title="Head of Sales")  # fmt: skip
    return account


def test_the_account_page_shows_contracts_contacts_opportunities_and_timeline(
    client_for, am, customer_account
):
    response = client_for(am).get(reverse("renewals:account", args=[customer_account.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme GmbH" in html and str(am) in html
    terms = list(Contract.objects.filter(account=customer_account).order_by("-start_date"))
    assert len(terms) == 2
    positions = [html.index(f'id="term-{t.pk}"') for t in terms]
    assert positions == sorted(positions)  # newest first
    new_row = re.search(rf'id="term-{terms[0].pk}".*?</tr>', html, re.S).group(0)
    assert "15,000" in new_row and "renews" in new_row and "Active" in new_row
    old_row = re.search(rf'id="term-{terms[1].pk}".*?</tr>', html, re.S).group(0)
    assert "expanded" in old_row and "renewed by" in old_row
    contacts = re.search(r'<section class="card" id="contacts">.*?</section>', html, re.S).group(0)
    assert "Greta Good" in contacts and "A1" in contacts
    opportunities = re.search(r'id="opportunities">.*?</section>', html, re.S).group(0)
    assert "New business" in opportunities and "Renewal" in opportunities and "Won" in opportunities
    timeline = re.search(r'id="account-timeline">.*?</section>', html, re.S).group(0)
    assert "Expanded" in timeline and "+€3,000" in timeline and "accepted" in timeline
    assert timeline.index("Expanded") < timeline.index("Contract added")  # newest first
    assert 'id="add-contract"' in html and 'id="assign-am"' not in html  # AMs do not reassign


@pytest.mark.parametrize("who", ["am", "am_manager", "marketing"])
def test_every_link_on_the_account_and_contract_pages_opens(client_for, request, customer_account, who):
    """An AM opens only the upsells they own, so their renewals and the AE's opportunity are
    shown unlinked; whatever is linked opens."""
    client = client_for(request.getfixturevalue(who))
    term = Contract.objects.filter(account=customer_account).active().get()
    pages = [
        reverse("renewals:account", args=[customer_account.pk]),
        reverse("renewals:contract", args=[term.pk]),
    ]
    links = set()
    for url in pages:
        html = client.get(url).content.decode()
        links |= set(re.findall(r'href="(/(?:opportunities|accounts|contracts)/\d+/)"', html))
    assert links and all(client.get(link).status_code == 200 for link in links), links
    opportunity_links = {link for link in links if link.startswith("/opportunities/")}
    assert bool(opportunity_links) is (who != "am")


def test_the_timeline_is_capped_and_merges_both_kinds_newest_first(
    client_for, am, customer_account, monkeypatch
):
    monkeypatch.setattr(account_page, "TIMELINE_LIMIT", 3)
    opportunity = customer_account.opportunities.filter(kind="new").get()
    OpportunityEvent.objects.create(opportunity=opportunity, kind="updated", at=NOW - timedelta(minutes=1),
                                    message="Newest of all")  # fmt: skip
    html = client_for(am).get(reverse("renewals:account", args=[customer_account.pk])).content.decode()
    timeline = re.search(r'id="account-timeline">.*?</section>', html, re.S).group(0)
    assert timeline.count("<li") == 3 and "Newest of all" in timeline
    assert timeline.index("Newest of all") < timeline.index("Expanded")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("am", 200),
        ("other_am", 404),
        ("am_manager", 200),
        ("manager", 404),
        ("ae", 403),
        ("inbound_sdr", 403),
        ("outbound_sdr", 403),
        ("marketing", 200),
    ],
)
def test_who_sees_the_account_and_contract_pages(
    client_for, request, customer_account, other_am, who, status
):
    client = client_for(request.getfixturevalue(who))
    term = Contract.objects.filter(account=customer_account).active().get()
    assert client.get(reverse("renewals:account", args=[customer_account.pk])).status_code == status
    assert client.get(reverse("renewals:contract", args=[term.pk])).status_code == status


def test_marketing_reads_but_works_nothing(client_for, marketing, customer_account):
    client = client_for(marketing)
    html = client.get(reverse("renewals:account", args=[customer_account.pk])).content.decode()
    assert "read-only" in html and 'id="add-contract"' not in html and 'id="assign-am"' not in html
    term = Contract.objects.filter(account=customer_account).active().get()
    html = client.get(reverse("renewals:contract", args=[term.pk])).content.decode()
    assert "Record the outcome" not in html and "Log the renewal conversation" not in html
    assert client.post(reverse("renewals:conversation", args=[term.pk]), {"note": "Hi"}).status_code == 403
    assert client.post(reverse("renewals:add_contract", args=[customer_account.pk]), {}).status_code == 403
    assert not AccountEvent.objects.filter(kind="conversation").exists()


def test_a_missing_account_or_contract_is_a_404(client_for, am, am_manager):
    client = client_for(am_manager)
    assert client.get(reverse("renewals:account", args=[987654])).status_code == 404
    assert client.get(reverse("renewals:contract", args=[987654])).status_code == 404


def test_the_manager_gives_the_account_to_another_am(client_for, am_manager, am, other_am, customer_account):
    client = client_for(am_manager)
    html = client.get(reverse("renewals:account", args=[customer_account.pk])).content.decode()
    assert 'id="assign-am"' in html and "By territory" in html
    url = reverse("renewals:assign_am", args=[customer_account.pk])
    response = client.post(url, {"account_manager": other_am.pk, "reason": "Casey is on leave."}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("renewals:account", args=[customer_account.pk])
    assert f"{other_am} now manages Acme GmbH." in response.content.decode()
    customer_account.refresh_from_db()
    assert customer_account.account_manager == other_am
    event = AccountEvent.objects.filter(kind="am_assigned").latest("id")
    assert "Casey is on leave." in event.message


def test_by_territory_without_a_rule_is_refused_beside_the_field(
    client_for, am_manager, am, customer_account
):
    url = reverse("renewals:assign_am", args=[customer_account.pk])
    response = client_for(am_manager).post(url, {"account_manager": ""})
    assert response.status_code == 400
    assert "No territory rule names a team of account managers" in response.content.decode()
    customer_account.refresh_from_db()
    assert customer_account.account_manager == am


def test_by_territory_picks_the_rule_s_am(client_for, am_manager, am, other_am, am_rule, customer_account):
    customer_account.account_manager = None
    customer_account.save(update_fields=["account_manager"])
    response = client_for(am_manager).post(reverse("renewals:assign_am", args=[customer_account.pk]),
                                           {"account_manager": ""})  # fmt: skip
    assert response.status_code == 302
    customer_account.refresh_from_db()
    assert customer_account.account_manager in (am, other_am)


def test_an_am_may_not_reassign(client_for, am, other_am, customer_account):
    response = client_for(am).post(
        reverse("renewals:assign_am", args=[customer_account.pk]), {"account_manager": other_am.pk}
    )
    assert response.status_code == 403
    customer_account.refresh_from_db()
    assert customer_account.account_manager == am


def test_the_am_adds_a_contract_by_hand(client_for, am, customer_account):
    url = reverse("renewals:add_contract", args=[customer_account.pk])
    data = {"start_date": "2026-06-01", "end_date": "2027-05-31", "annual_value": "4800", "products": "Add-on",
            "seats": "10", "auto_renew": "on", "number": "C-77"}  # fmt: skip
    response = client_for(am).post(url, data, follow=True)
    assert "Contract added: €4,800 a year, Mon 1 Jun 2026 to Mon 31 May 2027." in response.content.decode()
    made = Contract.objects.get(number="C-77")
    assert (made.source, made.seats, made.auto_renew, made.created_by) == ("manual", 10, True, am)


def test_a_contract_ending_before_it_starts_is_shown_in_the_form_and_not_saved(
    client_for, am, customer_account
):
    before = Contract.objects.count()
    url = reverse("renewals:add_contract", args=[customer_account.pk])
    response = client_for(am).post(url, {"start_date": "2026-06-01", "end_date": "2026-05-01",
                                         "annual_value": "100"})  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 400 and "The end date comes after the start date." in html
    assert re.search(r'<details class="rn-add" open', html)
    assert Contract.objects.count() == before


def test_the_account_page_issues_a_fixed_number_of_queries(client_for, am, am_manager, customer_account):
    url = reverse("renewals:account", args=[customer_account.pk])
    small = _count(client_for(am), url), _count(client_for(am_manager), url)
    opportunity = Opportunity.objects.filter(account=customer_account).first()
    for i in range(8):
        lead = LeadFactory()
        Contact.objects.create(account=customer_account, lead=lead, email=f"p{i}@acme.example")
        OpportunityEvent.objects.create(
            opportunity=opportunity, kind="updated", at=NOW, message=f"Update {i}"
        )
        AccountEvent.objects.create(
            account=customer_account, kind="conversation", at=NOW, message=f"Call {i}"
        )
    latest = Contract.objects.filter(account=customer_account).active().get()
    record_outcome(contract_id=latest.pk, by=am, outcome="renewed", now=NOW)
    large = _count(client_for(am), url), _count(client_for(am_manager), url)
    # session, user (with their zone), account, scoring settings, contacts, opportunities,
    # contracts, the two timelines, the logged calls, meetings and notes; a manager: + whether
    # they run the AM's team, + the AMs to assign to, + the accounts whose contacts they may
    # email (the addresses link to the composer)
    assert small == large == (10, 13), (small, large)


# --- the contract page ------------------------------------------------------------------


def test_the_contract_page_shows_the_terms_the_renewal_and_its_work(client_for, am, book):
    response = client_for(am).get(reverse("renewals:contract", args=[book["mid"].pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Mid GmbH" in html and "12,000" in html and "45 days left" in html
    assert "Renewal: Mid GmbH" in html  # the renewal opportunity
    assert "Start the renewal conversation" in html and 'data-countdown="sla"' in html
    assert "Log the renewal conversation" in html and "Record the outcome" in html
    assert 'value="12000.00"' in html and 'value="2027-06-18"' in html  # the next term's defaults


def test_logging_the_conversation_closes_the_start_item(client_for, am, book):
    term = book["mid"]
    response = client_for(am).post(reverse("renewals:conversation", args=[term.pk]),
                                   {"note": "Renewing; wants a call about seats."}, follow=True)  # fmt: skip
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("renewals:contract", args=[term.pk])
    assert "Conversation logged" in html and "SLA met" in html
    term.refresh_from_db()
    assert term.renewal_activity_at == NOW
    assert not WorkItem.objects.open().filter(contract=term, kind="renewal_start").exists()
    assert AccountEvent.objects.get(kind="conversation").message == "Renewing; wants a call about seats."


def test_logging_the_conversation_with_htmx_swaps_the_panel(client_for, am, book):
    term = book["mid"]
    response = client_for(am).post(reverse("renewals:conversation", args=[term.pk]), {"note": "Called."},
                                   HTTP_HX_REQUEST="true")  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith('<div id="renewal-panel">')
    assert "Conversation logged" in html and "2026-05-04" in html


def test_an_empty_note_is_refused_beside_the_field(client_for, am, book):
    response = client_for(am).post(reverse("renewals:conversation", args=[book["mid"].pk]), {"note": "  "})
    assert response.status_code == 400 and "Say what was discussed." in response.content.decode()
    response = client_for(am).post(reverse("renewals:conversation", args=[book["mid"].pk]), {"note": ""},
                                   HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 400 and "Say what was discussed." in response.content.decode()
    assert not AccountEvent.objects.filter(kind="conversation").exists()


def test_recording_renewed_shows_the_new_term_on_the_account_page(client_for, am, book):
    term = book["mid"]
    response = client_for(am).post(
        reverse("renewals:outcome", args=[term.pk]),
        {"outcome": "renewed", "annual_value": "12000.00"},
        follow=True,
    )
    html = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("renewals:account", args=[term.account_id])
    assert "Renewed: the new term runs Fri 19 Jun 2026 to Fri 18 Jun 2027, €12,000 a year." in html
    new = Contract.objects.get(renewed_from=term)
    assert f'id="term-{new.pk}"' in html
    term.refresh_from_db()
    assert (term.status, term.outcome) == ("renewed", "renewed")


def test_recording_an_expansion_with_htmx_redirects_to_the_account(client_for, am, book):
    term = book["mid"]
    response = client_for(am).post(reverse("renewals:outcome", args=[term.pk]),
                                   {"outcome": "expanded", "annual_value": "18000", "seats": "40"},
                                   HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("renewals:account", args=[term.account_id])
    new = Contract.objects.get(renewed_from=term)
    assert (new.annual_value, new.seats) == (Decimal("18000.00"), 40)


def test_an_expansion_worth_less_is_refused_beside_the_value(client_for, am, book):
    term = book["mid"]
    response = client_for(am).post(reverse("renewals:outcome", args=[term.pk]),
                                   {"outcome": "expanded", "annual_value": "9000"})  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 400 and "An expansion is worth more than €12,000 a year." in html
    assert re.search(r'class="has-errors"><label for="o_annual_value"', html)
    assert not Contract.objects.filter(renewed_from=term).exists()


def test_churn_needs_a_reason_and_then_closes_the_contract(client_for, am, book):
    term = book["mid"]
    url = reverse("renewals:outcome", args=[term.pk])
    response = client_for(am).post(url, {"outcome": "churned"})
    assert response.status_code == 400 and "Choose why they left." in response.content.decode()
    response = client_for(am).post(
        url, {"outcome": "churned", "churn_reason": "Chose a competitor"}, follow=True
    )
    assert "Churned (Chose a competitor): €12,000 a year lost." in response.content.decode()
    term.refresh_from_db()
    assert (term.status, term.churn_reason) == ("churned", "Chose a competitor")


def test_an_outcome_recorded_twice_is_a_conflict(client_for, am, book):
    term = book["mid"]
    url = reverse("renewals:outcome", args=[term.pk])
    record_outcome(contract_id=term.pk, by=am, outcome="renewed", now=NOW)
    html = client_for(am).get(reverse("renewals:contract", args=[term.pk])).content.decode()
    assert "Record the outcome" not in html and "Renewed by" in html
    response = client_for(am).post(url, {"outcome": "renewed"})
    assert response.status_code == 409 and "already recorded: renewed" in response.content.decode()
    assert Contract.objects.filter(renewed_from=term).count() == 1


def test_the_manager_records_an_outcome_and_others_may_not(client_for, request, am_manager, other_am, manager, ae,
                                                          book):  # fmt: skip
    term = book["mid"]
    url = reverse("renewals:outcome", args=[term.pk])
    assert client_for(other_am).post(url, {"outcome": "renewed"}).status_code == 404
    assert client_for(manager).post(url, {"outcome": "renewed"}).status_code == 404
    assert client_for(ae).post(url, {"outcome": "renewed"}).status_code == 403
    assert not Contract.objects.filter(renewed_from=term).exists()
    assert client_for(am_manager).post(url, {"outcome": "renewed"}).status_code == 302
    assert Contract.objects.filter(renewed_from=term).exists()


def test_the_contract_page_issues_a_fixed_number_of_queries(client_for, am, book):
    url = reverse("renewals:contract", args=[book["mid"].pk])
    small = _count(client_for(am), url)
    log_conversation(contract_id=book["mid"].pk, by=am, note="Spoke.", now=NOW)
    assert small == _count(client_for(am), url) == 5  # the zone comes with the user; + the work logged on it
