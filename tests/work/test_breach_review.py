"""The manager's breach review page: filters, drill-down, acknowledging, at-risk items and
speed to first touch."""

import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from leads.models import Lead
from tests.factories import routed_lead
from work import metrics
from work.models import Breach, SlaPolicy, WorkItem
from work.services import complete_items, sweep_breaches
from work.views import AT_RISK_SHOWN

# Monday 3 March 2025, 09:00 in Berlin (the Inbound EMEA calendar opens at 9, UTC+1).
MONDAY_9 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
REVIEW = reverse("work:breaches")


def make_breach(owner, *, at=MONDAY_9, hand_raiser=True, **lead_fields) -> Breach:
    """A lead routed to ``owner`` at ``at`` whose first-touch timer the sweep then records as
    breached (hand-raiser: 15 business minutes; MQL: 4 business hours)."""
    lead = routed_lead(owner, hand_raiser=hand_raiser, now=at, **lead_fields)
    sweep_breaches(now=at + timedelta(hours=1 if hand_raiser else 5))
    return Breach.objects.get(work_item__lead=lead)


def html(user) -> str:
    """A user's name as the page writes it (Faker names may hold an apostrophe)."""
    return escape(str(user))


def shown(response) -> list[int]:
    """The ids of the breaches listed on the page, in order."""
    return [int(pk) for pk in re.findall(r'<tr id="breach-(\d+)"', response.content.decode())]


def section(response, section_id: str) -> str:
    body = response.content.decode()
    match = re.search(rf'<section class="card" id="{section_id}">(.*?)</section>', body, re.S)
    assert match, f"no #{section_id} on the page"
    return match.group(1)


@pytest.fixture
def outbound_team(outbound_sdr, manager):
    """Maria manages the Outbound team too (Tom's)."""
    team = outbound_sdr.team
    team.manager = manager
    team.save(update_fields=["manager"])
    return team


# --- who may see it ----------------------------------------------------------------------


@pytest.mark.django_db
def test_review_needs_a_login(client):
    response = client.get(REVIEW)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["inbound_sdr", "outbound_sdr", "ae", "am", "marketing"])
def test_other_roles_are_refused(request, client_for, role):
    user = request.getfixturevalue(role)
    client = client_for(user)
    assert client.get(REVIEW).status_code == 403
    assert client.post(reverse("work:acknowledge_breach", args=[1]), {"note": "x"}).status_code == 403


@pytest.mark.django_db
def test_manager_lands_on_the_review_and_sees_the_nav_link(client_for, manager):
    client = client_for(manager)
    response = client.get(reverse("home"), follow=True)
    assert response.redirect_chain[-1][0] == REVIEW
    assert f'href="{REVIEW}">Breaches</a>' in response.content.decode()


@pytest.mark.django_db
def test_manager_sees_her_teams_breaches_with_a_link_to_the_lead(client_for, manager, inbound_sdr):
    breach = make_breach(inbound_sdr, first_name="Ada", last_name="Lovelace")
    lead = breach.work_item.subject
    response = client_for(manager).get(REVIEW)

    assert response.status_code == 200
    assert shown(response) == [breach.pk]
    row = re.search(rf'<tr id="breach-{breach.pk}".*?</tr>', response.content.decode(), re.S).group(0)
    assert f'<a href="{lead.get_absolute_url()}"' in row and "Ada Lovelace" in row
    assert html(inbound_sdr) in row and "Inbound EMEA" in row and "First touch: hand-raiser" in row
    assert "Mon 3 Mar 2025, 09:15 CET" in row  # due, in the viewer's zone (her team's Berlin), named
    assert "Manager emailed" in row
    assert ">Acknowledge</button>" in row
    # How late: done or not, counted from the due time; still open here.
    assert "still open" in row
    # ... and the lead page it links to shows the timeline.
    assert 'id="timeline"' in client_for(manager).get(lead.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_manager_of_another_team_sees_none_of_them(client_for, other_manager, inbound_sdr):
    breach = make_breach(inbound_sdr)
    client = client_for(other_manager)
    response = client.get(REVIEW)
    assert response.status_code == 200 and shown(response) == []
    assert html(inbound_sdr) not in response.content.decode()

    response = client.post(reverse("work:acknowledge_breach", args=[breach.pk]), {"note": "mine now"})
    assert response.status_code == 404
    breach.refresh_from_db()
    assert breach.acknowledged_at is None and breach.note == ""

    # Picking Maria's rep or team by id is refused, not an empty page that confirms the id.
    response = client.get(REVIEW, {"rep": inbound_sdr.pk})
    assert "Select a valid choice" in response.content.decode() and shown(response) == []
    response = client.get(REVIEW, {"team": inbound_sdr.team_id})
    assert "Select a valid choice" in response.content.decode() and shown(response) == []


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_filters_narrow_the_list(client_for, manager, inbound_sdr, other_sdr, outbound_sdr, outbound_team):
    sam_call = make_breach(inbound_sdr)  # hand-raiser, due Monday
    sam_mql = make_breach(inbound_sdr, hand_raiser=False, at=MONDAY_9 + timedelta(days=1))  # Tuesday
    lena = make_breach(other_sdr, at=MONDAY_9 + timedelta(days=2))  # Wednesday
    tom = make_breach(outbound_sdr, at=MONDAY_9 + timedelta(days=2, hours=1))
    Breach.objects.filter(pk=lena.pk).update(acknowledged_at=MONDAY_9, acknowledged_by=manager)
    client = client_for(manager)
    mql = SlaPolicy.objects.get(key=SlaPolicy.FIRST_TOUCH_MQL)

    assert shown(client.get(REVIEW)) == [tom.pk, lena.pk, sam_mql.pk, sam_call.pk]
    assert shown(client.get(REVIEW, {"rep": inbound_sdr.pk})) == [sam_mql.pk, sam_call.pk]
    assert shown(client.get(REVIEW, {"team": outbound_team.pk})) == [tom.pk]
    assert shown(client.get(REVIEW, {"policy": mql.pk})) == [sam_mql.pk]
    assert shown(client.get(REVIEW, {"due_after": "2025-03-04", "due_before": "2025-03-04"})) == [sam_mql.pk]
    assert shown(client.get(REVIEW, {"due_after": "2025-03-05"})) == [tom.pk, lena.pk]
    assert shown(client.get(REVIEW, {"due_before": "2025-03-03"})) == [sam_call.pk]
    assert shown(client.get(REVIEW, {"acknowledged": "true"})) == [lena.pk]
    assert shown(client.get(REVIEW, {"acknowledged": "false"})) == [tom.pk, sam_mql.pk, sam_call.pk]
    assert shown(client.get(REVIEW, {"rep": inbound_sdr.pk, "policy": mql.pk})) == [sam_mql.pk]

    # The form shows what was chosen.
    body = client.get(REVIEW, {"rep": inbound_sdr.pk, "due_after": "2025-03-04"}).content.decode()
    assert f'<option value="{inbound_sdr.pk}" selected>' in body
    assert 'name="due_after" id="id_due_after" value="2025-03-04"' in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rep": "sam"}, "Select a valid choice"),
        ({"rep": "999999"}, "Select a valid choice"),
        ({"team": "1;drop"}, "Select a valid choice"),
        ({"policy": "-1"}, "Select a valid choice"),
        ({"due_after": "garbage"}, "Enter a valid date"),
        ({"due_before": "2025-02-30"}, "Enter a valid date"),
        ({"due_after": "2025-03-05", "due_before": "2025-03-01"}, "The first day is after the last day"),
        ({"acknowledged": "maybe"}, "Select a valid choice"),
    ],
)
def test_bad_filter_input_is_an_error_not_a_crash(client_for, manager, inbound_sdr, params, message):
    make_breach(inbound_sdr)
    response = client_for(manager).get(REVIEW, params)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="filter-errors"' in body and message in body
    assert shown(response) == []


@pytest.mark.django_db
def test_htmx_gets_the_results_and_the_pager_only_the_list(client_for, manager, inbound_sdr):
    make_breach(inbound_sdr)
    client = client_for(manager)
    body = client.get(REVIEW, {"rep": inbound_sdr.pk}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in body and 'id="breach-filters"' not in body
    assert 'id="by-rep"' in body and 'id="breach-list"' in body

    body = client.get(
        REVIEW, {"page": "2"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="breach-list"
    ).content.decode()
    assert "<html" not in body and 'id="by-rep"' not in body and "<table" in body


# --- summaries -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_summaries_count_by_rep_team_policy_and_day(
    client_for, manager, inbound_sdr, other_sdr, outbound_sdr, outbound_team
):
    make_breach(inbound_sdr)
    make_breach(inbound_sdr, hand_raiser=False)
    acknowledged = make_breach(inbound_sdr, at=MONDAY_9 + timedelta(days=1))
    make_breach(other_sdr, at=MONDAY_9 + timedelta(days=1))
    make_breach(outbound_sdr)
    Breach.objects.filter(pk=acknowledged.pk).update(acknowledged_at=MONDAY_9, acknowledged_by=manager)
    # A rep who met every timer: in the rates, with no breach.
    met = routed_lead(other_sdr, now=MONDAY_9 + timedelta(days=3))
    complete_items(
        model=Lead,
        subject_ids=[met.pk],
        kinds=[WorkItem.Kind.FIRST_TOUCH],
        now=MONDAY_9 + timedelta(days=3, minutes=5),
    )

    counts = metrics.breach_counts(Breach.objects.all())
    by_rep = {r.label: (r.breaches, r.unacknowledged) for r in counts.by_rep}
    assert by_rep == {str(inbound_sdr): (3, 2), str(other_sdr): (1, 1), str(outbound_sdr): (1, 1)}
    assert {r.label: (r.breaches, r.unacknowledged) for r in counts.by_team} == {
        "Inbound EMEA": (4, 3),
        "Outbound": (1, 1),
    }
    assert {r.label: r.breaches for r in counts.by_policy} == {
        "First touch: hand-raiser": 4,
        "First touch: MQL": 1,
    }
    assert [(r.label, r.breaches) for r in counts.by_day] == [("2025-03-04", 2), ("2025-03-03", 3)]

    with time_machine.travel(MONDAY_9 + timedelta(days=5), tick=False):
        response = client_for(manager).get(REVIEW)
    by_rep_html = section(response, "by-rep")
    # Sam: 3 breaches of 3 timed items; Lena: 1 of 2 (she met the other one).
    assert re.search(
        rf"{re.escape(html(inbound_sdr))}</a></td>\s*<td class=\"num\">3</td><td class=\"num\">2</td>",
        by_rep_html,
    )
    assert "1 of 2 timed items" in by_rep_html and ">50%<" in by_rep_html
    assert "3 of 3 timed items" in by_rep_html and ">100%<" in by_rep_html
    # Each row drills down to the list narrowed to it.
    assert f'href="?rep={inbound_sdr.pk}"' in by_rep_html
    assert f'href="?team={outbound_team.pk}"' in section(response, "by-team")
    assert 'href="?due_after=2025-03-04&amp;due_before=2025-03-04"' in section(response, "by-day")


# --- acknowledging ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_acknowledging_records_who_when_and_the_note_and_shows_it(client_for, manager, inbound_sdr):
    breach = make_breach(inbound_sdr)
    url = reverse("work:acknowledge_breach", args=[breach.pk])
    when = MONDAY_9 + timedelta(hours=2)
    with time_machine.travel(when, tick=False):
        response = client_for(manager).post(
            url, {"note": "  Called Ada back; Sam was at the dentist.  "}, HTTP_HX_REQUEST="true"
        )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith(f'<tr id="breach-{breach.pk}"') and "<html" not in body
    assert f"✓ {html(manager)}" in body and "Called Ada back; Sam was at the dentist." in body
    assert "Mon 3 Mar 2025, 11:00 CET" in body and "<form" not in body
    breach.refresh_from_db()
    assert breach.acknowledged_by == manager and breach.acknowledged_at == when
    assert breach.note == "Called Ada back; Sam was at the dentist."

    # The list shows it the same way afterwards.
    listed = client_for(manager).get(REVIEW, {"acknowledged": "true"})
    assert shown(listed) == [breach.pk] and "Sam was at the dentist" in listed.content.decode()


@pytest.mark.django_db
def test_acknowledging_twice_is_refused_and_changes_nothing(client_for, manager, inbound_sdr):
    breach = make_breach(inbound_sdr)
    url = reverse("work:acknowledge_breach", args=[breach.pk])
    client = client_for(manager)
    assert client.post(url, {"note": "first"}, HTTP_HX_REQUEST="true").status_code == 200
    breach.refresh_from_db()
    first = (breach.acknowledged_at, breach.acknowledged_by_id, breach.note)

    response = client.post(url, {"note": "second"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 409
    assert f"This breach was already acknowledged by {html(manager)}." in body
    assert "first" in body and "second" not in body  # the row shows the standing note
    breach.refresh_from_db()
    assert (breach.acknowledged_at, breach.acknowledged_by_id, breach.note) == first

    # Without htmx: back to the review, with the reason.
    response = client.post(url, {"note": "third", "next": f"{REVIEW}?acknowledged=true"}, follow=True)
    assert response.redirect_chain[-1][0] == f"{REVIEW}?acknowledged=true"
    assert "already acknowledged" in response.content.decode()
    breach.refresh_from_db()
    assert breach.note == "first"


@pytest.mark.django_db
def test_plain_form_acknowledges_and_returns_to_the_review(client_for, manager, inbound_sdr):
    breach = make_breach(inbound_sdr)
    response = client_for(manager).post(
        reverse("work:acknowledge_breach", args=[breach.pk]),
        {"note": "ok", "next": "https://evil.example/"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == REVIEW  # never off-site
    assert "Breach acknowledged." in response.content.decode()
    breach.refresh_from_db()
    assert breach.acknowledged_by == manager


@pytest.mark.django_db
def test_a_note_too_long_is_refused(client_for, manager, inbound_sdr):
    breach = make_breach(inbound_sdr)
    response = client_for(manager).post(
        reverse("work:acknowledge_breach", args=[breach.pk]), {"note": "x" * 2001}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()
    breach.refresh_from_db()
    assert breach.acknowledged_at is None


@pytest.mark.django_db
def test_acknowledging_needs_a_post(client_for, manager, inbound_sdr):
    breach = make_breach(inbound_sdr)
    response = client_for(manager).get(reverse("work:acknowledge_breach", args=[breach.pk]))
    assert response.status_code == 405


# --- at risk now -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_at_risk_shows_items_due_within_the_hour_not_later_nor_breached(
    client_for, manager, inbound_sdr, other_sdr, other_manager
):
    now = datetime(2025, 3, 3, 13, 0, tzinfo=UTC)  # 14:00 in Berlin
    # MQL timers run 4 business hours: started 10:30 -> due 14:30; started 13:00 -> due 17:00.
    soon = routed_lead(inbound_sdr, now=now - timedelta(hours=3, minutes=30), first_name="Soon")
    routed_lead(other_sdr, now=now - timedelta(hours=1), first_name="Later")
    # A hand-raiser from 10:00, due 10:15, already recorded as breached.
    routed_lead(inbound_sdr, hand_raiser=True, now=now - timedelta(hours=4), first_name="Breached")
    sweep_breaches(now=now)
    # Another manager's team's item due in 20 minutes is not Maria's business.
    routed_lead(other_manager, now=now - timedelta(hours=3, minutes=40), first_name="Elsewhere")

    with time_machine.travel(now, tick=False):
        at_risk = section(client_for(manager).get(REVIEW), "at-risk")

    assert "Soon" in at_risk and f'href="{soon.get_absolute_url()}"' in at_risk
    assert html(inbound_sdr) in at_risk and "30 min" in at_risk
    assert "Mon 3 Mar 2025, 14:30 CET" in at_risk  # 13:30 UTC, in her team's Berlin
    assert "Later" not in at_risk and "Breached" not in at_risk and "Elsewhere" not in at_risk


@pytest.mark.django_db
def test_an_overdue_item_the_sweep_has_not_reached_yet_is_not_at_risk(client_for, manager, inbound_sdr):
    """Between a due time and the next sweep (up to a minute; longer after a start), an item
    three days overdue is not "at risk, not breached yet"."""
    now = datetime(2025, 3, 6, 13, 0, tzinfo=UTC)
    routed_lead(inbound_sdr, hand_raiser=True, now=now - timedelta(days=3), first_name="Overdue")
    routed_lead(inbound_sdr, now=now - timedelta(hours=3, minutes=30), first_name="Soon")
    with time_machine.travel(now, tick=False):
        at_risk = section(client_for(manager).get(REVIEW), "at-risk")
    assert "Soon" in at_risk
    assert "Overdue" not in at_risk


@pytest.mark.django_db
def test_at_risk_lists_the_soonest_first(client_for, manager, inbound_sdr):
    now = datetime(2025, 3, 3, 13, 0, tzinfo=UTC)
    routed_lead(inbound_sdr, now=now - timedelta(hours=3, minutes=20), first_name="Forty")
    routed_lead(inbound_sdr, now=now - timedelta(hours=3, minutes=50), first_name="Ten")
    with time_machine.travel(now, tick=False):
        at_risk = section(client_for(manager).get(REVIEW), "at-risk")
    assert at_risk.index("Ten") < at_risk.index("Forty")


# --- speed to first touch --------------------------------------------------------------------


def _first_touch(owner, started, minutes):
    lead = routed_lead(owner, now=started)
    complete_items(
        model=Lead,
        subject_ids=[lead.pk],
        kinds=[WorkItem.Kind.FIRST_TOUCH],
        by=owner,
        now=started + timedelta(minutes=minutes),
    )
    return lead


@pytest.fixture
def touches(inbound_sdr, other_sdr, outbound_sdr):
    """Sam touched five leads in 10, 20, 30, 40 and 100 minutes, Lena two in 5 and 15, all on
    Monday 3 March; Sam one more a week earlier in 500 minutes; Tom (another team) one."""
    for minutes in (10, 20, 30, 40, 100):
        _first_touch(inbound_sdr, MONDAY_9, minutes)
    for minutes in (5, 15):
        _first_touch(other_sdr, MONDAY_9 + timedelta(hours=1), minutes)
    _first_touch(inbound_sdr, MONDAY_9 - timedelta(days=7), 500)
    _first_touch(outbound_sdr, MONDAY_9, 1)
    # An open item and a follow-up are not first touches done.
    routed_lead(inbound_sdr, now=MONDAY_9)


def test_percentile_cont_interpolates_like_postgresql():
    values = [timedelta(minutes=m) for m in (40, 10, 100, 30, 20)]
    assert metrics.percentile_cont(values, 0.5) == timedelta(minutes=30)
    assert metrics.percentile_cont(values, 0.9) == timedelta(minutes=76)  # 40 + 0.6 x 60
    assert metrics.percentile_cont([timedelta(minutes=7)], 0.9) == timedelta(minutes=7)
    assert metrics.percentile_cont([], 0.5) is None


def test_durations_read_like_a_person_writes_them():
    assert [
        metrics.format_duration(timedelta(seconds=s)) for s in (42, 600, 3600, 3900, 90000, 86400 * 2)
    ] == ["42 s", "10 min", "1 h", "1 h 05 min", "1 d 1 h", "2 d"]
    assert metrics.format_duration(-timedelta(minutes=5)) == "-5 min"
    assert metrics.format_duration(None) == "—"


@pytest.mark.django_db
@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_speed_to_first_touch_median_and_90th_percentile(
    monkeypatch, manager, inbound_sdr, other_sdr, touches, vendor
):

    if vendor == "sqlite":  # the demo's fallback: the same numbers, computed in Python
        monkeypatch.setattr(metrics, "connection", SimpleNamespace(vendor="sqlite"))
    day_start, day_end = MONDAY_9.replace(hour=0), MONDAY_9.replace(hour=23, minute=59)
    report = metrics.speed_to_first_touch(WorkItem.objects.visible_to(manager), start=day_start, end=day_end)

    # Lena first: the quicker median. Tom is in a team Maria does not manage.
    assert [(r.rep_id, r.touches, r.median, r.p90) for r in report.by_rep] == [
        (other_sdr.pk, 2, timedelta(minutes=10), timedelta(minutes=14)),  # 5 + 0.9 x 10
        (inbound_sdr.pk, 5, timedelta(minutes=30), timedelta(minutes=76)),  # 40 + 0.6 x 60
    ]
    overall = report.overall
    # 5, 10, 15, 20, 30, 40, 100: median 20; p90 at 5.4 -> 40 + 0.4 x 60 = 64.
    assert (overall.touches, overall.median, overall.p90) == (7, timedelta(minutes=20), timedelta(minutes=64))

    # Without a period: Sam's slow touch of the week before counts too.
    report = metrics.speed_to_first_touch(WorkItem.objects.visible_to(manager), start=None, end=None)
    sam = next(r for r in report.by_rep if r.rep_id == inbound_sdr.pk)
    assert (sam.touches, sam.median) == (6, timedelta(minutes=35))


@pytest.mark.django_db
def test_speed_is_shown_for_the_filters_period(client_for, manager, inbound_sdr, other_sdr, touches):
    client = client_for(manager)
    speed = section(client.get(REVIEW, {"due_after": "2025-03-03", "due_before": "2025-03-03"}), "speed")
    sam_row = re.search(rf"<tr><td>{re.escape(html(inbound_sdr))}</td>.*?</tr>", speed).group(0)
    assert re.findall(r'<td class="num">([^<]*)</td>', sam_row) == ["5", "30 min", "1 h 16 min"]
    lena_row = re.search(rf"<tr><td>{re.escape(html(other_sdr))}</td>.*?</tr>", speed).group(0)
    assert re.findall(r'<td class="num">([^<]*)</td>', lena_row) == ["2", "10 min", "14 min"]
    assert "All reps" in speed

    # Narrowed to a rep: only that rep's touches.
    speed = section(client.get(REVIEW, {"rep": other_sdr.pk, "due_after": "2025-03-03"}), "speed")
    assert html(other_sdr) in speed and html(inbound_sdr) not in speed

    # A period with none says so.
    speed = section(client.get(REVIEW, {"due_after": "2025-04-01"}), "speed")
    assert "No first touches in this period." in speed


@pytest.mark.django_db
def test_without_chosen_days_rate_and_speed_cover_the_last_30_days(
    client_for, manager, inbound_sdr, other_sdr, touches
):
    """The breaches are listed and counted over all time; the rate and the speed, trends, over
    the last 30 days (a manager's page does not read years of history on every view)."""
    old = make_breach(inbound_sdr, at=MONDAY_9 - timedelta(days=40))
    client = client_for(manager)
    with time_machine.travel(MONDAY_9 + timedelta(days=20), tick=False):
        response = client.get(REVIEW)
    body = response.content.decode()
    assert "the last 30 days (since Fri 21 Feb 2025) for the breach rate and the speed" in body
    assert old.pk in shown(response)  # listed and counted, however old
    by_rep = section(response, "by-rep")
    sam = re.search(rf"{re.escape(html(inbound_sdr))}</a></td>(.*?)</tr>", by_rep, re.S).group(1)
    assert re.findall(r'<td class="num"[^>]*>([^<]*)</td>', sam)[:2] == ["1", "1"]  # the old breach
    assert "0 of 7 timed items" in sam  # not 1 of 8: the old breach is out of the rate
    speed = section(response, "speed")
    sam_row = re.search(rf"<tr><td>{re.escape(html(inbound_sdr))}</td>.*?</tr>", speed).group(0)
    assert re.findall(r'<td class="num">([^<]*)</td>', sam_row)[0] == "6"  # the week-before touch too

    with time_machine.travel(MONDAY_9 + timedelta(days=40), tick=False):
        speed = section(client.get(REVIEW), "speed")
    assert "No first touches in this period." in speed
    # Chosen days still decide: all of March.
    with time_machine.travel(MONDAY_9 + timedelta(days=40), tick=False):
        speed = section(client.get(REVIEW, {"due_after": "2025-01-01"}), "speed")
    assert "All reps" in speed


# --- a fixed number of queries ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 25])
def test_review_page_issues_a_fixed_number_of_queries(
    client_for, manager, inbound_sdr, other_sdr, django_assert_num_queries, size
):
    for n in range(size):
        routed_lead(inbound_sdr if n % 2 else other_sdr, hand_raiser=True, now=MONDAY_9)
        routed_lead(inbound_sdr if n % 2 else other_sdr, now=MONDAY_9 + timedelta(hours=1))
    sweep_breaches(now=MONDAY_9 + timedelta(minutes=30))  # the hand-raisers breached
    # Some are done, for the speed table; some open ones are at risk.
    done = Lead.objects.filter(hand_raiser=True).values_list("pk", flat=True)
    complete_items(
        model=Lead, subject_ids=done, kinds=[WorkItem.Kind.FIRST_TOUCH], now=MONDAY_9 + timedelta(hours=1)
    )
    client = client_for(manager)
    params = {"due_after": "2025-03-01"}
    with time_machine.travel(MONDAY_9 + timedelta(hours=4, minutes=30), tick=False):
        client.get(REVIEW, params)  # warm the content-type cache
        # session, user; rep, team and policy choices; counts by rep, team, policy, day;
        # breach rate; speed by rep and overall; at-risk items and their leads;
        # list count, rows, their reps, teams, policies and leads (SQLite, the demo: one
        # speed query, see metrics)
        with django_assert_num_queries(20 if connection.vendor == "postgresql" else 19):
            response = client.get(REVIEW, params)
    assert response.status_code == 200
    assert len(shown(response)) == size
    assert (
        section(response, "at-risk").count("<tr>")
        + section(response, "at-risk").count('<tr class="overdue">')
        == min(size, AT_RISK_SHOWN) + 1
    )  # header row + items, the 20 due soonest
    assert ("Showing the 20 due soonest." in section(response, "at-risk")) == (size > AT_RISK_SHOWN)
