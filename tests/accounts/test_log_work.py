"""AEs and AMs log their work (a call, a meeting, a note) where they are: on an opportunity,
an account and a contract. Who may log on each, what a refusal leaves (nothing), the timelines
each page shows (newest first, bounded, in the viewer's zone, a fixed number of queries), and
a call on a contract in its renewal window being the renewal conversation the reminder waits
for."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from accounts.models import Activity
from accounts.services import log_work
from renewals.models import Contract, ContractActivity
from renewals.services import log_contract_work, run_renewals
from team.models import Role
from tests.factories import UserFactory, accepted, contract, customer
from work.models import WorkItem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# Tuesday 24 November 2026, 10:00 in Berlin (every team's calendar here).
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
TODAY = date(2026, 11, 24)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def opportunity(inbound_sdr, ae):
    return accepted(inbound_sdr, ae, now=NOW, company="Olli AG")


@pytest.fixture
def account(am):
    return customer(am, name="Kunde GmbH", domain="kunde.example")


@pytest.fixture
def term(account):
    """A contract ending in 45 days: inside the 60-day renewal window, opened by the daily run."""
    made = contract(account, end=TODAY + timedelta(days=45), now=NOW - timedelta(days=300))
    run_renewals(now=NOW)
    return made


def entries(html: str) -> list[str]:
    return re.findall(r'<li class="wl-entry.*?</li>', html, re.S)


def log_url(opportunity) -> str:
    return reverse("accounts:log_work", args=[opportunity.pk])


# --- on an opportunity ------------------------------------------------------------------------------


def test_the_ae_logs_a_call_and_the_timeline_comes_back_with_it_on_top(client_for, ae, opportunity):
    client = client_for(ae)
    client.post(log_url(opportunity), {"kind": "note", "note": "Sent the deck."}, **HTMX)

    response = client.post(log_url(opportunity), {"kind": "call", "note": "Budget confirmed: 20k."}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section class="card work-log" id="work-log">')
    first, second = entries(html)
    assert "Call" in first and "Budget confirmed: 20k." in first and f"by {ae}" in first
    assert "Tue 24 Nov 2026, 10:00 CET" in first  # the AE's zone (Berlin), named
    assert "Sent the deck." in second
    assert "Call logged." in html
    call = Activity.objects.get(kind="call")
    assert (call.account_id, call.opportunity_id, call.actor, call.at) == (
        opportunity.account_id, opportunity.pk, ae, NOW,
    )  # fmt: skip


def test_the_aes_manager_logs_on_it_too_and_the_page_shows_it(client_for, sales_manager, opportunity):
    client = client_for(sales_manager)
    response = client.post(log_url(opportunity), {"kind": "meeting", "note": "Met the CFO."})
    assert response.status_code == 302

    html = client.get(reverse("accounts:opportunity", args=[opportunity.pk])).content.decode()
    (entry,) = entries(html)
    assert "Meeting" in entry and "Met the CFO." in entry and f"by {sales_manager}" in entry
    assert 'id="w_kind_0"' in html  # the form, for whoever may log


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("inbound_sdr", 403),  # the SDR who handed it off reads it, and does not work it
        ("marketing", 403),
        ("am", 403),  # an AM works only their own upsells
        ("other_ae", 404),  # a teammate does not even see an accepted one: ids do not leak
        ("manager", 403),  # Maria manages the SDR's team: she reads it, the AE's side works it
    ],
)
def test_nobody_else_logs_on_an_opportunity(request, client_for, opportunity, who, status):
    user = request.getfixturevalue(who)
    response = client_for(user).post(log_url(opportunity), {"kind": "call", "note": "Hello"}, **HTMX)
    assert response.status_code == status
    assert not Activity.objects.exists()


def test_readers_see_the_timeline_without_the_form(client_for, ae, inbound_sdr, opportunity):
    log_work(opportunity_id=opportunity.pk, by=ae, kind="call", note="First call.")
    html = (
        client_for(inbound_sdr).get(reverse("accounts:opportunity", args=[opportunity.pk])).content.decode()
    )
    assert "First call." in html and 'id="w_kind_0"' not in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "note", "note": "   "}, "note", "Write the note."),
        ({"kind": "lunch", "note": "x"}, "kind", "Choose a call, a meeting or a note."),
        ({"note": "x"}, "kind", "Choose a call, a meeting or a note."),
        ({"kind": "call", "note": "x" * 2001}, "note", "Keep it under 2000 characters."),
    ],
)
def test_bad_input_answers_the_form_with_its_errors_and_saves_nothing(
    client_for, ae, opportunity, data, field, message
):
    client = client_for(ae)
    response = client.post(log_url(opportunity), data, **HTMX)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'id="work-log"' in response.content.decode()

    page = client.post(log_url(opportunity), data)  # without htmx: the page, with the errors
    assert page.status_code == 400 and message in page.content.decode() and "<html" in page.content.decode()
    assert not Activity.objects.exists()


def test_the_opportunity_timeline_is_bounded_and_costs_the_same_whatever_its_length(
    client_for, ae, opportunity, django_assert_max_num_queries
):
    client = client_for(ae)
    url = reverse("accounts:opportunity", args=[opportunity.pk])
    log_work(opportunity_id=opportunity.pk, by=ae, kind="call", note="call 0")
    client.get(url)  # warm the per-process caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(url)
    Activity.objects.bulk_create(
        Activity(account_id=opportunity.account_id, opportunity=opportunity, kind="note", note=f"note {i}",
                 at=NOW - timedelta(minutes=i + 1), actor=ae)
        for i in range(80)
    )  # fmt: skip
    with CaptureQueriesContext(connection) as large:
        html = client.get(url).content.decode()
    assert len(large.captured_queries) == len(small.captured_queries)
    shown = entries(html)
    assert len(shown) == 50 and "call 0" in shown[0] and "note 48" in shown[-1]
    assert "the last 50" in html


# --- on an account ------------------------------------------------------------------------------


def account_log(account) -> str:
    return reverse("renewals:log_account_work", args=[account.pk])


def test_the_am_and_their_manager_log_on_the_account(client_for, am, am_manager, account):
    response = client_for(am).post(account_log(account), {"kind": "meeting", "note": "QBR held."}, **HTMX)
    assert response.status_code == 200 and "QBR held." in response.content.decode()
    response = client_for(am_manager).post(account_log(account), {"kind": "note", "note": "Escalated."})
    assert response.status_code == 302

    html = client_for(am).get(reverse("renewals:account", args=[account.pk])).content.decode()
    first, second = entries(html)
    assert "Escalated." in first and f"by {am_manager}" in first and "QBR held." in second
    assert set(Activity.objects.values_list("account_id", "opportunity_id")) == {(account.pk, None)}


@pytest.mark.parametrize(
    ("who", "status"), [("ae", 403), ("inbound_sdr", 403), ("marketing", 403), ("robin", 404)]
)
def test_nobody_else_logs_on_an_account(request, client_for, account, who, status):
    # Robin, another AM: the account is not theirs, so it is a 404 (ids do not leak).
    user = UserFactory(username="robin", role=Role.AM) if who == "robin" else request.getfixturevalue(who)
    response = client_for(user).post(account_log(account), {"kind": "call", "note": "Hi"}, **HTMX)
    assert response.status_code == status
    assert not Activity.objects.exists()


def test_bad_input_on_the_account_is_a_400_with_the_form(client_for, am, account):
    response = client_for(am).post(account_log(account), {"kind": "note", "note": ""}, **HTMX)
    assert response.status_code == 400 and "Write the note." in response.content.decode()
    assert not Activity.objects.exists()


def test_the_account_timeline_gathers_what_was_logged_on_its_contracts_and_opportunities(
    client_for, am, am_manager, inbound_sdr, ae, account, term
):
    opportunity = accepted(inbound_sdr, ae, now=NOW, company="Kunde GmbH", email="eva@kunde.example")
    assert opportunity.account_id == account.pk
    log_work(opportunity_id=opportunity.pk, by=ae, kind="call", note="AE call.", now=NOW - timedelta(hours=3))
    log_contract_work(
        contract_id=term.pk, by=am, kind="note", note="On the term.", now=NOW - timedelta(hours=2)
    )
    log_work(
        account_id=account.pk, by=am, kind="meeting", note="On the account.", now=NOW - timedelta(hours=1)
    )

    html = client_for(am_manager).get(reverse("renewals:account", args=[account.pk])).content.decode()
    on_account, on_term, on_opportunity = entries(html)
    assert "On the account." in on_account and " on " not in on_account.split("</strong>")[1].split("<div")[0]
    assert "On the term." in on_term and reverse("renewals:contract", args=[term.pk]) in on_term
    # The manager of the AMs sees the AE's opportunity's name; its page is the AEs' side.
    assert "AE call." in on_opportunity and opportunity.name in on_opportunity


# --- on a contract ------------------------------------------------------------------------------


def contract_log(term) -> str:
    return reverse("renewals:log_contract_work", args=[term.pk])


def test_a_call_in_the_renewal_window_is_the_renewal_conversation(client_for, am, term):
    start = WorkItem.objects.get(kind=WorkItem.Kind.RENEWAL_START, object_id=term.pk)
    assert start.state == WorkItem.State.OPEN

    response = client_for(am).post(contract_log(term), {"kind": "call", "note": "They will renew."}, **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="renewal-panel"' in html  # the panel: the renewal's facts changed too
    assert "it counts as the renewal conversation" in html
    (entry,) = entries(html)
    assert "They will renew." in entry and "renewal conversation" in entry
    assert "Tue 24 Nov 2026, 10:00 CET" in re.search(r'id="last-conversation">(.*?)</dd>', html, re.S).group(
        1
    )
    term.refresh_from_db()
    start.refresh_from_db()
    assert term.renewal_activity_at == NOW and start.state == WorkItem.State.DONE
    assert ContractActivity.objects.get().renewal_conversation


def test_a_note_is_not_talking_to_the_customer(client_for, am, term):
    client_for(am).post(contract_log(term), {"kind": "note", "note": "Check usage first."}, **HTMX)
    term.refresh_from_db()
    assert term.renewal_activity_at is None
    assert (
        WorkItem.objects.get(kind=WorkItem.Kind.RENEWAL_START, object_id=term.pk).state == WorkItem.State.OPEN
    )
    assert not ContractActivity.objects.get().renewal_conversation


def test_a_call_long_before_the_window_is_not_the_renewal_conversation(am, account):
    far = contract(account, end=TODAY + timedelta(days=200), now=NOW)
    link = log_contract_work(contract_id=far.pk, by=am, kind="meeting", note="Kick-off.")
    far.refresh_from_db()
    assert not link.renewal_conversation and far.renewal_activity_at is None


def test_the_reminder_no_longer_nags_after_a_call_in_the_window(am, term, frozen):
    log_contract_work(contract_id=term.pk, by=am, kind="call", note="Renewing.")
    frozen.move_to(NOW + timedelta(days=16))  # 29 days before the end: the reminder window
    run = run_renewals(now=NOW + timedelta(days=16))
    assert term.pk in run.skipped and term.pk not in run.reminded


def test_the_am_manager_logs_on_a_contract_and_others_may_not(client_for, am_manager, ae, marketing, term):
    assert client_for(ae).post(contract_log(term), {"kind": "call", "note": "x"}).status_code == 403
    assert client_for(marketing).post(contract_log(term), {"kind": "call", "note": "x"}).status_code == 403
    assert not Activity.objects.exists()
    response = client_for(am_manager).post(contract_log(term), {"kind": "meeting", "note": "Exec sponsor."})
    assert response.status_code == 302
    html = client_for(am_manager).get(reverse("renewals:contract", args=[term.pk])).content.decode()
    (entry,) = entries(html)
    assert "Exec sponsor." in entry and f"by {am_manager}" in entry


def test_bad_input_on_a_contract_is_a_400_and_changes_nothing(client_for, am, term):
    response = client_for(am).post(contract_log(term), {"kind": "call", "note": "x" * 2001}, **HTMX)
    assert response.status_code == 400 and "Keep it under 2000 characters." in response.content.decode()
    term.refresh_from_db()
    assert term.renewal_activity_at is None and not Activity.objects.exists()


def test_a_closed_term_still_takes_a_note(client_for, am, account):
    ended = contract(account, end=TODAY + timedelta(days=20), now=NOW)
    Contract.objects.filter(pk=ended.pk).update(
        status="churned", outcome="churned", churn_reason="Price / budget"
    )
    response = client_for(am).post(contract_log(ended), {"kind": "note", "note": "Lost on price."})
    assert response.status_code == 302
    assert not ContractActivity.objects.get().renewal_conversation


def test_the_contract_timeline_costs_the_same_whatever_its_length(client_for, am, term):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(am)
    url = reverse("renewals:contract", args=[term.pk])
    log_contract_work(contract_id=term.pk, by=am, kind="note", note="n0")
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for i in range(60):
        log_contract_work(
            contract_id=term.pk, by=am, kind="note", note=f"n{i + 1}", now=NOW + timedelta(minutes=i)
        )
    with CaptureQueriesContext(connection) as large:
        html = client.get(url).content.decode()
    assert len(large.captured_queries) == len(small.captured_queries)
    shown = entries(html)
    assert len(shown) == 50 and "n60" in shown[0]


JUNK = ["", "x", "-1", "99999999999999999999", "null", "[]", "é" * 3000, "a\x00b", "1' OR 1=1"]


@pytest.mark.parametrize("value", JUNK)
def test_no_input_makes_a_500_and_junk_saves_nothing(client_for, ae, am, opportunity, term, value):
    urls = [(ae, log_url(opportunity)), (am, account_log(term.account)), (am, contract_log(term))]
    for user, url in urls:
        client = client_for(user)
        for data in (
            {"kind": value, "note": "ok"},
            {"kind": "note", "note": value},
            {"kind": [value, "call"]},
        ):
            response = client.post(url, data, **HTMX)
            assert response.status_code in (200, 400), (url, data)
    # Only a well-formed call or meeting with a harmless note could have been saved.
    assert all(a.kind in ("call", "meeting", "note") and "\x00" not in a.note for a in Activity.objects.all())
    assert (
        client_for(ae).post("/opportunities/99999999999999999999/log/", {"kind": "call"}).status_code == 404
    )
