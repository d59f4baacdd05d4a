"""The SDR's queue page: what it shows, in which order, who may see it, and the one-step touch,
follow-up and disposition forms that update a row in place."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from leads.models import Activity, Lead, LeadEvent
from sdr import services
from tests.factories import UserFactory, routed_lead
from work.models import SlaPolicy, WorkItem

HTMX = {"HTTP_HX_REQUEST": "true"}


def berlin(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A time in Berlin (CET, UTC+1, in late November 2026) as UTC; day 24 is a Tuesday."""
    return datetime(2026, 11, day, hour - 1, minute, second, tzinfo=UTC)


TUESDAY_10 = berlin(24, 10)


@pytest.fixture(autouse=True)
def _that_tuesday():
    """Every test here lives in the week of Tuesday 24 November 2026, logins included (a session
    started on the real date would have expired, or not yet begun, on that Tuesday)."""
    with time_machine.travel(TUESDAY_10):
        yield


def queue_url(**query) -> str:
    url = reverse("sdr:queue")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def item_of(lead: Lead) -> WorkItem:
    return WorkItem.objects.for_subject(lead).get(state=WorkItem.State.OPEN)


def lead_order(body: str) -> list[int]:
    """The leads the page lists, top to bottom."""
    return [int(pk) for pk in re.findall(r'class="q-name" href="/leads/(\d+)/"', body)]


def row_html(body: str, item: WorkItem) -> str:
    match = re.search(rf'<li class="q-row[^"]*" id="item-{item.pk}".*?</li>', body, re.S)
    assert match, f"no row for item {item.pk}"
    return match.group(0)


def queue_lead(owner, at: datetime, **fields) -> Lead:
    with time_machine.travel(at, tick=False):
        return routed_lead(owner, now=at, **fields)


def touched_with_follow_up(owner, routed_at: datetime, due_at: datetime, **fields) -> Lead:
    """A lead the rep touched right after routing, with the next follow-up at ``due_at``."""
    lead = queue_lead(owner, routed_at, **fields)
    with time_machine.travel(routed_at + timedelta(minutes=5), tick=False):
        services.log_touch(lead_id=lead.pk, by=owner, kind="email")
        services.set_follow_up(lead_id=lead.pk, by=owner, due_at=due_at)
    return lead


# --- order and content ---------------------------------------------------------------------


@pytest.mark.django_db
def test_queue_orders_urgent_then_hand_raisers_then_follow_ups_then_grade(client_for, inbound_sdr, other_sdr):
    sam = inbound_sdr
    grade_c = queue_lead(sam, berlin(24, 14), first_name="Cleo", fit_grade="C")
    later = touched_with_follow_up(sam, berlin(24, 9), berlin(25, 11), first_name="Lars")
    grade_a = queue_lead(sam, berlin(24, 14), first_name="Ada", fit_grade="A")
    # A hand-raiser under the 4-hour policy, so it is not at risk: it still jumps the grades.
    hand = queue_lead(
        sam,
        berlin(24, 14),
        first_name="Hana",
        fit_grade="D",
        hand_raiser=True,
        policy_key=SlaPolicy.FIRST_TOUCH_MQL,
    )
    follow_up_due = touched_with_follow_up(sam, berlin(24, 9), berlin(24, 14), first_name="Finn")
    at_risk = queue_lead(sam, berlin(24, 11), first_name="Rita", fit_grade="D")  # due 15:00
    breached = queue_lead(sam, berlin(24, 10), first_name="Bea", fit_grade="D")  # due 14:00
    queue_lead(other_sdr, berlin(24, 9), first_name="Otto")  # Lena's, not Sam's

    with time_machine.travel(berlin(24, 14, 30), tick=False):
        response = client_for(sam).get(queue_url())

    assert response.status_code == 200
    body = response.content.decode()
    assert lead_order(body) == [
        breached.pk,
        at_risk.pk,
        hand.pk,
        follow_up_due.pk,
        grade_a.pk,
        grade_c.pk,
        later.pk,
    ]
    assert "Otto" not in body
    # Counts per reason at the top.
    assert re.search(r"<strong>2</strong> Breached or at risk", body)
    assert re.search(r"<strong>1</strong> Asked for a call", body)
    assert re.search(r"<strong>1</strong> Due now", body)
    assert re.search(r"<strong>2</strong> New leads by grade", body)
    assert re.search(r"<strong>1</strong> Scheduled later", body)


@pytest.mark.django_db
def test_each_row_shows_who_why_last_touch_and_a_live_sla_countdown(client_for, inbound_sdr):
    touched = queue_lead(inbound_sdr, berlin(24, 11), first_name="Rita", last_name="Ray", company="Acme GmbH")
    with time_machine.travel(berlin(24, 11, 30), tick=False):
        services.log_touch(lead_id=touched.pk, by=inbound_sdr, kind="voicemail")
        services.set_follow_up(lead_id=touched.pk, by=inbound_sdr, due_at=berlin(24, 14), note="Call back")
    breached = queue_lead(inbound_sdr, berlin(24, 10), first_name="Bea")

    with time_machine.travel(berlin(24, 14, 30), tick=False):
        body = client_for(inbound_sdr).get(queue_url()).content.decode()

    row = row_html(body, item_of(touched))
    assert f'href="{touched.get_absolute_url()}"' in row
    assert "Rita Ray" in row and "Acme GmbH" in row and "Working (SDR)" in row
    assert "Follow up: Call back" in row and "Due now" in row
    assert "Voicemail left" in row and "3\xa0hours ago" in row
    assert 'data-countdown="due"' in row and "overdue 30m 00s" in row

    row = row_html(body, item_of(breached))
    assert "Bea" in row and "MQL" in row
    assert "New MQL" in row and "Breached or at risk" in row  # why: title and reason
    assert 'class="grade grade-D"' in row
    assert "No touch yet" in row
    # The countdown: its due time for the script, and the server's first rendering of it.
    assert f'data-due="{berlin(24, 14).isoformat()}"' in row
    assert 'data-countdown="sla"' in row
    assert "breached 30m 00s ago" in row and "sla-breached" in row


@pytest.mark.django_db
def test_an_item_due_soon_counts_down_as_at_risk(client_for, inbound_sdr):
    lead = queue_lead(inbound_sdr, berlin(24, 11))  # due 15:00
    with time_machine.travel(berlin(24, 14, 47, 30), tick=False):
        body = client_for(inbound_sdr).get(queue_url()).content.decode()
    row = row_html(body, item_of(lead))
    assert "sla-at_risk" in row and "12m 30s left" in row


@pytest.mark.django_db
def test_empty_queue_says_so(client_for, inbound_sdr):
    body = client_for(inbound_sdr).get(queue_url()).content.decode()
    assert "Nothing due. New leads appear here as they are routed." in body
    assert 'id="queue-list"' not in body


@pytest.mark.django_db
def test_the_queue_page_loads_its_script_and_the_nav_links_to_it(client_for, inbound_sdr):
    body = client_for(inbound_sdr).get(queue_url()).content.decode()
    assert "js/queue.js" in body
    assert f'<a href="{queue_url()}">Queue</a>' in body


@pytest.mark.django_db
def test_htmx_refresh_gets_only_the_list(client_for, inbound_sdr):
    queue_lead(inbound_sdr, TUESDAY_10)
    body = client_for(inbound_sdr).get(queue_url(), **HTMX).content.decode()
    assert 'id="queue-list"' in body and "<html" not in body


# --- who may see what ----------------------------------------------------------------------


@pytest.mark.django_db
def test_pages_need_a_login(client, inbound_sdr):
    item = item_of(queue_lead(inbound_sdr, TUESDAY_10))
    for url in [queue_url(), reverse("sdr:item", args=[item.pk])]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    response = client.post(reverse("sdr:touch", args=[item.pk]), {"kind": "call"})
    assert response.status_code == 302
    assert not Activity.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role_fixture", ["ae", "am", "marketing"])
def test_roles_without_a_queue_are_refused(request, client_for, inbound_sdr, role_fixture):
    user = request.getfixturevalue(role_fixture)
    item = item_of(queue_lead(inbound_sdr, TUESDAY_10))
    client = client_for(user)
    assert client.get(queue_url()).status_code == 403
    assert client.get(queue_url(rep=inbound_sdr.pk)).status_code == 403
    assert client.post(reverse("sdr:touch", args=[item.pk]), {"kind": "call"}, **HTMX).status_code == 403
    assert not Activity.objects.exists()


@pytest.mark.django_db
def test_sdr_cannot_touch_another_sdrs_lead(client_for, inbound_sdr, other_sdr):
    item = item_of(queue_lead(other_sdr, TUESDAY_10))
    client = client_for(inbound_sdr)
    for name in ["sdr:touch", "sdr:follow_up", "sdr:dispose"]:
        response = client.post(
            reverse(name, args=[item.pk]),
            {"kind": "call", "due_at": "2026-11-25T10:00", "disposition": "nurture:Other"},
            **HTMX,
        )
        assert response.status_code == 404
    assert client.get(reverse("sdr:item", args=[item.pk]), **HTMX).status_code == 404
    assert client.get(queue_url(rep=other_sdr.pk)).status_code == 404
    item.refresh_from_db()
    assert item.is_open and not Activity.objects.exists()
    assert Lead.objects.get(pk=item.object_id).status == Lead.Status.MQL


@pytest.mark.django_db
def test_manager_views_a_reps_queue_read_only(client_for, manager, inbound_sdr, other_sdr, outbound_sdr):
    lead = queue_lead(inbound_sdr, TUESDAY_10, first_name="Ada")
    client = client_for(manager)

    chooser = client.get(queue_url()).content.decode()
    assert f"?rep={inbound_sdr.pk}" in chooser and f"?rep={other_sdr.pk}" in chooser
    assert f"?rep={outbound_sdr.pk}" not in chooser  # not in a team Maria manages

    body = client.get(queue_url(rep=inbound_sdr.pk)).content.decode()
    assert lead_order(body) == [lead.pk]
    assert "read-only" in body and "data-read-only" in body
    assert 'data-action="log"' not in body
    assert client.get(queue_url(rep=outbound_sdr.pk)).status_code == 404
    assert client.get(queue_url(rep="nope")).status_code == 404
    # Viewing is not working: the manager cannot log a touch for the rep.
    assert client.post(reverse("sdr:touch", args=[item_of(lead).pk]), {"kind": "call"}).status_code == 403


# --- logging a touch -----------------------------------------------------------------------


@pytest.mark.django_db
def test_touch_updates_the_row_in_place_and_meets_the_sla(client_for, inbound_sdr):
    lead = queue_lead(inbound_sdr, berlin(24, 9, 30), first_name="Ada")
    item = item_of(lead)
    client = client_for(inbound_sdr)

    with time_machine.travel(TUESDAY_10, tick=False):
        panel = client.get(reverse("sdr:item", args=[item.pk]), **HTMX).content.decode()
        assert f'hx-post="{reverse("sdr:touch", args=[item.pk])}"' in panel
        assert f'id="i{item.pk}_kind_0"' in panel and "<html" not in panel
        response = client.post(
            reverse("sdr:touch", args=[item.pk]),
            {"kind": "call", "outcome": "connected", "note": "Wants a demo next week"},
            **HTMX,
        )

    assert response.status_code == 200
    body = response.content.decode()
    assert body.lstrip().startswith(f'<li class="q-row q-done" id="item-{item.pk}"')
    assert "<html" not in body
    assert "SLA met" in body and "data-due" not in body  # the countdown stopped
    assert "Working (SDR)" in body
    assert "Call logged: connected." in body
    assert "Call" in row_html(body, item) and "now" in body

    item.refresh_from_db()
    lead.refresh_from_db()
    assert item.state == WorkItem.State.DONE and item.completed_at == TUESDAY_10 and item.met_sla
    assert item.completed_by == inbound_sdr
    assert lead.status == Lead.Status.WORKING
    touch = Activity.objects.get(lead=lead, kind="call")
    assert (touch.outcome, touch.note, touch.actor) == ("connected", "Wants a demo next week", inbound_sdr)


@pytest.mark.django_db
def test_a_touch_after_the_breach_shows_met_late(client_for, inbound_sdr):
    item = item_of(queue_lead(inbound_sdr, berlin(24, 9)))  # due 13:00
    with time_machine.travel(berlin(24, 13, 20), tick=False):
        body = (
            client_for(inbound_sdr)
            .post(reverse("sdr:touch", args=[item.pk]), {"kind": "email"}, **HTMX)
            .content.decode()
        )
    assert "SLA met late" in body and "sla-late" in body
    item.refresh_from_db()
    assert item.state == WorkItem.State.DONE and item.met_sla is False


@pytest.mark.django_db
def test_touch_without_htmx_redirects_back_to_the_queue(client_for, inbound_sdr):
    item = item_of(queue_lead(inbound_sdr, TUESDAY_10))
    client = client_for(inbound_sdr)
    page = client.get(reverse("sdr:item", args=[item.pk]))
    assert page.status_code == 200 and "<html" in page.content.decode()
    response = client.post(reverse("sdr:touch", args=[item.pk]), {"kind": "social"}, follow=True)
    assert response.redirect_chain == [(queue_url(), 302)]
    assert "Social message logged." in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "fax"}, "Choose a touch"),
        ({}, "This field is required"),
        ({"kind": "call", "outcome": "delighted"}, "Choose an outcome from the list"),
        ({"kind": "call", "note": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_a_bad_touch_is_refused_with_form_errors_and_saves_nothing(client_for, inbound_sdr, data, message):
    lead = queue_lead(inbound_sdr, TUESDAY_10)
    item = item_of(lead)
    response = client_for(inbound_sdr).post(reverse("sdr:touch", args=[item.pk]), data, **HTMX)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'class="errorlist' in body and message in body
    assert f'id="item-{item.pk}"' in body and "q-touch-form" in body  # the row, its form open
    item.refresh_from_db()
    lead.refresh_from_db()
    assert item.is_open and lead.status == Lead.Status.MQL
    assert not Activity.objects.filter(lead=lead).exists()


@pytest.mark.django_db
def test_a_touch_on_a_lead_that_left_the_queue_is_a_form_error(client_for, inbound_sdr):
    lead = queue_lead(inbound_sdr, TUESDAY_10)
    item = item_of(lead)
    services.dispose_lead(lead_id=lead.pk, by=inbound_sdr, to=Lead.Status.NURTURE, reason="Other")
    response = client_for(inbound_sdr).post(reverse("sdr:touch", args=[item.pk]), {"kind": "call"}, **HTMX)
    assert response.status_code == 400
    assert "not in a queue" in response.content.decode()
    assert not Activity.objects.filter(lead=lead).exists()


@pytest.mark.django_db
def test_posts_need_the_csrf_token(inbound_sdr):
    item = item_of(queue_lead(inbound_sdr, TUESDAY_10))
    client = Client(enforce_csrf_checks=True)
    client.force_login(inbound_sdr)
    response = client.post(reverse("sdr:touch", args=[item.pk]), {"kind": "call"}, **HTMX)
    assert response.status_code == 403
    assert not Activity.objects.exists()


# --- follow-ups and dispositions -----------------------------------------------------------


@pytest.mark.django_db
def test_follow_up_in_the_reps_calendar_time_becomes_a_work_item_and_a_timeline_event(
    client_for, inbound_sdr
):
    lead = queue_lead(inbound_sdr, berlin(24, 9, 30))
    item = item_of(lead)
    client = client_for(inbound_sdr)
    with time_machine.travel(TUESDAY_10, tick=False):
        client.post(reverse("sdr:touch", args=[item.pk]), {"kind": "call", "outcome": "no_answer"}, **HTMX)
        panel = client.get(reverse("sdr:item", args=[item.pk]), **HTMX).content.decode()
        assert 'value="2026-11-25T10:00"' in panel and "Europe/Berlin" in panel  # tomorrow 10:00
        response = client.post(
            reverse("sdr:follow_up", args=[item.pk]),
            {"due_at": "2026-11-25T11:00", "note": "Try the mobile"},
            **HTMX,
        )

    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="item-{item.pk}"' in body
    assert "Next follow-up Wed 25 Nov 2026, 11:00 CET." in body
    follow_up = WorkItem.objects.for_subject(lead).get(kind=WorkItem.Kind.FOLLOW_UP)
    assert follow_up.is_open and follow_up.owner == inbound_sdr
    assert follow_up.due_at == berlin(25, 11)  # 11:00 in Berlin, stored as 10:00 UTC
    assert follow_up.note == "Try the mobile"
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.FOLLOW_UP)
    assert event.actor == inbound_sdr and "Try the mobile" in event.message

    with time_machine.travel(TUESDAY_10, tick=False):
        page = client.get(queue_url()).content.decode()
    row = row_html(page, follow_up)
    assert "Follow up: Try the mobile" in row and "Scheduled later" in row
    assert 'data-countdown="due"' in row and "due in 1d 1h" in row


@pytest.mark.django_db
def test_rescheduling_a_due_follow_up_shows_the_new_one_in_its_place(client_for, inbound_sdr):
    lead = touched_with_follow_up(inbound_sdr, berlin(24, 9), berlin(24, 9, 30))
    due = item_of(lead)
    with time_machine.travel(TUESDAY_10, tick=False):
        response = client_for(inbound_sdr).post(
            reverse("sdr:follow_up", args=[due.pk]), {"due_at": "2026-11-26T09:00"}, **HTMX
        )
    assert response.status_code == 200
    new = item_of(lead)
    assert new.pk != due.pk and new.due_at == berlin(26, 9)
    assert f'id="item-{new.pk}"' in response.content.decode()
    due.refresh_from_db()
    assert due.state == WorkItem.State.CANCELLED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-11-24T09:00", "in the future"),
        ("2028-01-01T09:00", "within the next year"),
        ("soon", "Enter a date and time"),
        ("", "Choose when to follow up"),
    ],
)
def test_a_bad_follow_up_is_refused_and_saves_nothing(client_for, inbound_sdr, value, message):
    lead = queue_lead(inbound_sdr, TUESDAY_10)
    item = item_of(lead)
    with time_machine.travel(TUESDAY_10 + timedelta(minutes=5), tick=False):
        response = client_for(inbound_sdr).post(
            reverse("sdr:follow_up", args=[item.pk]), {"due_at": value}, **HTMX
        )
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body and "q-follow-up-form" in body
    assert WorkItem.objects.for_subject(lead).count() == 1
    assert not LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.FOLLOW_UP).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("choice", "status", "shown"),
    [
        ("nurture:No budget yet", Lead.Status.NURTURE, "Back to nurture: No budget yet."),
        ("disqualified:Competitor", Lead.Status.DISQUALIFIED, "Disqualified: Competitor."),
    ],
)
def test_disposition_moves_the_lead_out_and_closes_its_items(client_for, inbound_sdr, choice, status, shown):
    lead = queue_lead(inbound_sdr, TUESDAY_10, first_name="Ada")
    item = item_of(lead)
    client = client_for(inbound_sdr)
    response = client.post(
        reverse("sdr:dispose", args=[item.pk]), {"disposition": choice, "note": "Call in Q3"}, **HTMX
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="item-{item.pk}"' in body and shown in body
    assert "Closed" in body and 'data-action="log"' not in body  # nothing left to do here
    lead.refresh_from_db()
    item.refresh_from_db()
    assert lead.status == status and lead.status_reason == f"{choice.split(':')[1]}: Call in Q3"
    assert item.state == WorkItem.State.CANCELLED
    assert not WorkItem.objects.for_subject(lead).filter(state=WorkItem.State.OPEN).exists()
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.STATUS, to_status=status)
    assert event.actor == inbound_sdr
    assert lead_order(client.get(queue_url()).content.decode()) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("choice", "message"),
    [("", "Choose a reason to nurture or disqualify"), ("nurture:Bored", "Choose a reason from the list")],
)
def test_a_disposition_needs_a_reason_from_the_list(client_for, inbound_sdr, choice, message):
    lead = queue_lead(inbound_sdr, TUESDAY_10)
    item = item_of(lead)
    response = client_for(inbound_sdr).post(
        reverse("sdr:dispose", args=[item.pk]), {"disposition": choice}, **HTMX
    )
    assert response.status_code == 400 and message in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == Lead.Status.MQL and item_of(lead) == item


# --- a fixed number of queries -------------------------------------------------------------

QUEUE_PAGE_QUERIES = 6  # session, user, items, their leads, scoring settings, counts per reason


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 5, 30])
def test_the_queue_page_issues_the_same_queries_whatever_its_length(
    client_for, django_assert_num_queries, inbound_sdr, size
):
    for n in range(size):
        lead = queue_lead(inbound_sdr, TUESDAY_10 - timedelta(hours=n % 4), hand_raiser=n % 3 == 0)
        if n % 2:
            with time_machine.travel(TUESDAY_10 - timedelta(minutes=30), tick=False):
                services.log_touch(lead_id=lead.pk, by=inbound_sdr, kind="email")
                services.set_follow_up(lead_id=lead.pk, by=inbound_sdr, due_at=TUESDAY_10 + timedelta(days=1))
    client = client_for(inbound_sdr)
    with time_machine.travel(TUESDAY_10, tick=False):
        client.get(queue_url())  # warm caches (content types) that every later request shares
        with django_assert_num_queries(QUEUE_PAGE_QUERIES):
            response = client.get(queue_url())
    assert len(lead_order(response.content.decode())) == size


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 30])
def test_a_managers_view_of_a_queue_issues_a_fixed_number_of_queries(
    client_for, django_assert_num_queries, manager, inbound_sdr, size
):
    for _ in range(size):
        queue_lead(inbound_sdr, TUESDAY_10)
    client = client_for(manager)
    client.get(queue_url(rep=inbound_sdr.pk))
    with django_assert_num_queries(QUEUE_PAGE_QUERIES + 1):  # + the rep, among those Maria manages
        client.get(queue_url(rep=inbound_sdr.pk))


@pytest.mark.django_db
def test_an_outbound_sdr_works_a_queue_too(client_for, outbound_sdr):
    lead = queue_lead(outbound_sdr, TUESDAY_10)
    assert lead_order(client_for(outbound_sdr).get(queue_url()).content.decode()) == [lead.pk]


@pytest.mark.django_db
def test_a_rep_without_a_team_types_follow_ups_in_utc(client_for):
    rep = UserFactory(username="nomad", team=None)
    lead = queue_lead(rep, TUESDAY_10)
    with time_machine.travel(TUESDAY_10, tick=False):
        response = client_for(rep).post(
            reverse("sdr:follow_up", args=[item_of(lead).pk]), {"due_at": "2026-11-25T11:00"}, **HTMX
        )
    assert (
        response.status_code == 200
        and "Next follow-up Wed 25 Nov 2026, 11:00 UTC." in response.content.decode()
    )
    assert WorkItem.objects.for_subject(lead).get(kind=WorkItem.Kind.FOLLOW_UP).due_at == datetime(
        2026, 11, 25, 11, tzinfo=UTC
    )


@pytest.mark.django_db
def test_a_touch_updates_the_leads_other_rows_in_place_too(client_for, inbound_sdr):
    lead = queue_lead(inbound_sdr, berlin(24, 9, 30), first_name="Grace")
    first_touch = item_of(lead)
    with time_machine.travel(berlin(24, 9, 35), tick=False):
        follow_up = services.set_follow_up(lead_id=lead.pk, by=inbound_sdr, due_at=berlin(24, 9, 50))

    with time_machine.travel(TUESDAY_10, tick=False):
        body = (
            client_for(inbound_sdr)
            .post(
                reverse("sdr:touch", args=[first_touch.pk]), {"kind": "call", "outcome": "connected"}, **HTMX
            )
            .content.decode()
        )

    assert body.lstrip().startswith(f'<li class="q-row q-done" id="item-{first_touch.pk}"')
    other = re.search(rf'<li class="q-row q-done" id="item-{follow_up.pk}"[^>]*hx-swap-oob="true"', body)
    assert other, "the completed follow-up's row comes along, swapped out of band"
    follow_up.refresh_from_db()
    assert follow_up.state == WorkItem.State.DONE


@pytest.mark.django_db
def test_a_disposition_closes_the_leads_other_rows_in_place_too(client_for, inbound_sdr):
    lead = queue_lead(inbound_sdr, berlin(24, 9, 30))
    first_touch = item_of(lead)
    with time_machine.travel(berlin(24, 9, 35), tick=False):
        follow_up = services.set_follow_up(lead_id=lead.pk, by=inbound_sdr, due_at=berlin(25, 11))
    with time_machine.travel(TUESDAY_10, tick=False):
        body = (
            client_for(inbound_sdr)
            .post(
                reverse("sdr:dispose", args=[first_touch.pk]),
                {"disposition": "disqualified:Competitor"},
                **HTMX,
            )
            .content.decode()
        )
    assert re.search(rf'<li class="q-row q-cancelled" id="item-{follow_up.pk}"[^>]*hx-swap-oob="true"', body)
