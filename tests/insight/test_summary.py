"""The weekly summary: sent on Monday at 08:00 in each person's team time zone (also across the
DST changes), once per person and week however often the task runs, not to the integration
account, the inactive or those who turned it off; its first five lines per role say what the
test created; the page shows one's own summary and has the switch."""

import socket
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Opportunity, Stage
from accounts.services import accept_handoff, hand_off, move_stage, reject_handoff
from insight import summary
from insight.models import SummaryPreference, WeeklySummary
from renewals.services import log_conversation, record_outcome
from sdr.services import log_touch
from team.models import Role
from tests.factories import (
    CalendarFactory,
    CampaignFactory,
    LeadFactory,
    TeamFactory,
    UserFactory,
    contract,
    customer,
    qualifying,
    routed_lead,
)
from work.models import Breach, WorkItem

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEK = date(2026, 3, 2)  # Monday; US clocks go forward on Sunday 8 March, Europe's on 29 March
SEND = datetime(2026, 3, 9, 7, 5, tzinfo=UTC)  # Monday 08:05 in Berlin (CET)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A moment of March 2026 in Berlin."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN)


def run_at(moment: datetime) -> summary.SummaryRun:
    with time_machine.travel(moment, tick=False):
        return summary.send_due()


def recipients() -> list[str]:
    return sorted(m.to[0] for m in mail.outbox)


def email_to(user):
    (email,) = [m for m in mail.outbox if m.to == [user.email]]
    return email


def first_lines(user) -> list[str]:
    """The lines before the first blank one (at most five)."""
    lines = email_to(user).body.splitlines()[:5]
    return lines[: lines.index("")] if "" in lines else lines


# --- when -------------------------------------------------------------------------------------


@pytest.fixture
def cast(db):
    """An AE in New York, an SDR in Berlin, a marketer with no team (UTC)."""
    new_york = CalendarFactory(name="New York office", timezone="America/New_York")
    return {
        "nina": UserFactory(
            username="nina", role=Role.AE, team=TeamFactory(name="AEs NY", kind="sales", calendar=new_york)
        ),
        "bernd": UserFactory(username="bernd", role=Role.INBOUND_SDR),  # Inbound EMEA, Berlin
        "uma": UserFactory(username="uma", role=Role.MARKETING, team=None),
    }


def test_each_person_gets_one_email_from_monday_0800_in_their_own_time_zone(cast):
    """The week before 9 March 2026 ends with the US change to summer time: New York's 08:00
    is 12:00 UTC that Monday (it was 13:00 the Monday before), Berlin's 07:00 UTC, UTC's 08:00."""
    nina, bernd, uma = cast["nina"], cast["bernd"], cast["uma"]

    assert run_at(datetime(2026, 3, 8, 23, 30, tzinfo=BERLIN)).sent == 0  # Sunday night
    assert run_at(datetime(2026, 3, 9, 6, 59, tzinfo=UTC)).sent == 0  # 07:59 in Berlin
    assert mail.outbox == []

    run_at(datetime(2026, 3, 9, 7, 0, tzinfo=UTC))
    assert recipients() == [bernd.email]
    run_at(datetime(2026, 3, 9, 7, 59, tzinfo=UTC))
    assert recipients() == [bernd.email]

    run_at(datetime(2026, 3, 9, 8, 5, tzinfo=UTC))
    assert recipients() == sorted([bernd.email, uma.email])

    run_at(datetime(2026, 3, 9, 11, 59, tzinfo=UTC))  # 07:59 in New York (EDT since Sunday)
    assert len(mail.outbox) == 2
    run_at(datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
    assert recipients() == sorted([bernd.email, uma.email, nina.email])

    for hour in (13, 14, 20):
        assert run_at(datetime(2026, 3, 9, hour, 5, tzinfo=UTC)).sent == 0
    assert run_at(datetime(2026, 3, 10, 9, 5, tzinfo=UTC)).sent == 0
    assert len(mail.outbox) == 3

    rows = WeeklySummary.objects.order_by("user__username")
    assert [(r.user.username, r.week, r.state) for r in rows] == [
        ("bernd", WEEK, "sent"), ("nina", WEEK, "sent"), ("uma", WEEK, "sent"),
    ]  # fmt: skip
    assert all(m.subject == "[Refinery] Your week, 2 Mar to 8 Mar 2026" for m in mail.outbox)
    assert all(r.subject == "[Refinery] Your week, 2 Mar to 8 Mar 2026" for r in rows)


def test_the_european_summer_time_week_is_sent_at_0800_berlin_summer_time(cast):
    """Berlin moves to summer time on Sunday 29 March: its Monday 08:00 is 06:00 UTC."""
    bernd = cast["bernd"]
    assert run_at(datetime(2026, 3, 30, 5, 59, tzinfo=UTC)).sent == 0
    run_at(datetime(2026, 3, 30, 6, 0, tzinfo=UTC))
    assert recipients() == [bernd.email]
    assert WeeklySummary.objects.get(user=bernd).week == date(2026, 3, 23)
    assert mail.outbox[0].subject == "[Refinery] Your week, 23 Mar to 29 Mar 2026"


def test_the_autumn_change_week_too(cast):
    """New York goes back to standard time on Sunday 1 November 2026: Monday 08:00 is 13:00 UTC."""
    nina = cast["nina"]
    run_at(datetime(2026, 11, 2, 12, 59, tzinfo=UTC))
    assert nina.email not in recipients()
    run_at(datetime(2026, 11, 2, 13, 0, tzinfo=UTC))
    assert nina.email in recipients()
    assert WeeklySummary.objects.get(user=nina).week == date(2026, 10, 26)


def test_a_missed_monday_is_caught_up_on_tuesday_but_not_later(cast):
    run_at(datetime(2026, 3, 10, 10, 0, tzinfo=UTC))  # the beat was down all Monday
    assert len(mail.outbox) == 3
    assert {r.week for r in WeeklySummary.objects.all()} == {WEEK}

    mail.outbox.clear()
    run_at(datetime(2026, 3, 18, 13, 0, tzinfo=UTC))  # 49 hours after New York's Monday 08:00
    assert mail.outbox == []
    assert not WeeklySummary.objects.filter(week=date(2026, 3, 9)).exists()


def test_integration_inactive_opted_out_and_addressless_people_get_none(cast):
    bernd = cast["bernd"]
    UserFactory(username="zapier", role=Role.INTEGRATION)
    UserFactory(username="gone", role=Role.MANAGER, is_active=False)
    UserFactory(username="mute", role=Role.AE, email="")
    quiet = UserFactory(username="quiet", role=Role.INBOUND_SDR)
    summary.set_preference(user=quiet, on=False)
    back = UserFactory(username="back", role=Role.AM)
    summary.set_preference(user=back, on=False)
    summary.set_preference(user=back, on=True)

    run_at(datetime(2026, 3, 9, 12, 30, tzinfo=UTC))

    assert recipients() == sorted([bernd.email, cast["uma"].email, cast["nina"].email, back.email])
    assert sorted(WeeklySummary.objects.values_list("user__username", flat=True)) == [
        "back", "bernd", "nina", "uma",
    ]  # fmt: skip


def test_the_task_sends_through_celery_the_same_way(cast):
    from insight import tasks

    with time_machine.travel(datetime(2026, 3, 9, 12, 30, tzinfo=UTC), tick=False):
        result = tasks.send_weekly_summaries()
        again = tasks.send_weekly_summaries()
    assert result == {"claimed": 3, "sent": 3, "failed": 0}
    assert again == {"claimed": 0, "sent": 0, "failed": 0}
    assert len(mail.outbox) == 3


def test_the_beat_runs_it_hourly_at_minute_five(settings):
    entry = next(
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "insight.tasks.send_weekly_summaries"
    )
    assert entry["schedule"].minute == {5} and len(entry["schedule"].hour) == 24


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_send_is_marked_failed_with_the_reason_and_sent_by_the_next_run(cast, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _closed_port(), 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False

    failed = run_at(datetime(2026, 3, 9, 12, 5, tzinfo=UTC))

    assert (failed.claimed, failed.sent, failed.failed) == (3, 0, 3)
    rows = WeeklySummary.objects.all()
    assert {r.state for r in rows} == {"failed"} and all("refused" in r.failure.lower() for r in rows)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    retried = run_at(datetime(2026, 3, 9, 13, 5, tzinfo=UTC))
    assert (retried.claimed, retried.sent, retried.failed) == (3, 3, 0)
    assert len(mail.outbox) == 3
    assert {(r.state, r.failure) for r in WeeklySummary.objects.all()} == {("sent", "")}
    assert run_at(datetime(2026, 3, 9, 14, 5, tzinfo=UTC)).claimed == 0


def test_the_email_has_text_and_html_with_absolute_links(cast, settings):
    settings.SITE_URL = "https://refinery.example.com/"
    run_at(datetime(2026, 3, 9, 12, 5, tzinfo=UTC))
    assert len(mail.outbox) == 3
    for message in mail.outbox:
        ((html, kind),) = message.alternatives
        assert kind == "text/html"
        assert "https://refinery.example.com/insight/summary/" in message.body
        assert 'href="https://refinery.example.com/' in html
        assert 'href="/' not in html
        head = message.body.split("\n\n")[0].splitlines()  # the lines before the first blank one
        assert 1 <= len(head) <= 5 and all(0 < len(line) < 100 for line in head), head


# --- what: each role's five lines ---------------------------------------------------------------


def _touched(sdr, *, routed: datetime, after: timedelta, **fields):
    lead = routed_lead(sdr, now=routed, captured_at=routed, **fields)
    log_touch(lead_id=lead.pk, by=sdr, kind="call", outcome="connected", now=routed + after)
    return lead


def _handoff(sdr, ae, lead, *, at_: datetime, amount: str):
    return hand_off(lead_id=lead.pk, by=sdr, qualifying=qualifying(), ae=ae, amount=Decimal(amount), now=at_)


@pytest.fixture
def week_of_work(inbound_sdr, other_sdr, ae, other_ae, manager, refresh_facts):
    """Sam (Inbound EMEA, Berlin) works leads; Alex accepts, rejects, moves and wins; Maria
    manages Inbound EMEA. Everything but the first handoff happens in the week of 2 March.
    The clock stands just before the Monday send while it is written, whatever today is (a
    service refuses a moment in its future)."""
    with time_machine.travel(SEND - timedelta(minutes=5), tick=False):
        return _week_of_work(inbound_sdr, other_sdr, ae, other_ae, manager, refresh_facts)


def _week_of_work(inbound_sdr, other_sdr, ae, other_ae, manager, refresh_facts):
    sam, alex = inbound_sdr, ae
    won_stage = Stage.objects.get(kind=Stage.Kind.WON, is_active=True)
    second_stage = Stage.objects.filter(kind=Stage.Kind.OPEN, is_active=True).order_by("position")[1]

    # The week before: a handoff accepted then; it moves a stage and is won in the week.
    early = _touched(sam, routed=at(23, 9, month=2), after=timedelta(minutes=5))
    earlier = _touched(sam, routed=at(23, 10, month=2), after=timedelta(minutes=5))
    old_won = accept_handoff(
        opportunity_id=_handoff(sam, alex, early, at_=at(24, 9, month=2), amount="8000").pk,
        by=alex, now=at(25, 9, month=2),
    )  # fmt: skip
    old_moved = accept_handoff(
        opportunity_id=_handoff(sam, alex, earlier, at_=at(24, 10, month=2), amount="4000").pk,
        by=alex, now=at(25, 10, month=2),
    )  # fmt: skip

    # The week: three leads touched 10, 20 and 60 minutes after routing, all handed off to Alex;
    # he accepts two and rejects one.
    leads = [_touched(sam, routed=at(3, 10), after=timedelta(minutes=minutes)) for minutes in (10, 20, 60)]
    handoffs = [
        _handoff(sam, alex, lead, at_=at(4, 11), amount=amount)
        for lead, amount in zip(leads, ("10000", "5000", "3000"), strict=True)
    ]
    accept_handoff(opportunity_id=handoffs[0].pk, by=alex, now=at(5, 9))
    accept_handoff(opportunity_id=handoffs[1].pk, by=alex, now=at(5, 9, 30))
    reject_handoff(
        opportunity_id=handoffs[2].pk, by=alex, reason="Timing: not buying this year",
        note="They start budgeting in 2027.", now=at(5, 10),
    )  # fmt: skip
    move_stage(opportunity_id=old_moved.pk, by=alex, stage_id=second_stage.pk, now=at(6, 14))
    move_stage(opportunity_id=old_won.pk, by=alex, stage_id=won_stage.pk, now=at(6, 15))

    # Waiting at send time: two new leads in Sam's queue (untouched), one handoff in Alex's inbox.
    for hour in (9, 10):
        routed_lead(sam, now=at(6, hour), captured_at=at(6, hour))
    waiting = _touched(sam, routed=at(6, 11), after=timedelta(minutes=30))
    _handoff(sam, alex, waiting, at_=at(6, 16), amount="7000")
    # Ana's handoff waits in her own inbox, not Alex's.
    _handoff(
        other_sdr,
        other_ae,
        _touched(other_sdr, routed=at(6, 11), after=timedelta(hours=2)),
        at_=at(6, 17),
        amount="1",
    )

    # Breaches of Maria's team: three due in the week, one the week before; one of another team.
    def breach(due: datetime, team):
        lead = routed_lead(other_sdr, now=due - timedelta(hours=4), captured_at=due - timedelta(hours=4))
        item = WorkItem.objects.for_subject(lead).get(kind=WorkItem.Kind.FIRST_TOUCH)
        Breach.objects.create(work_item=item, policy=item.policy, owner=other_sdr, team=team, due_at=due)

    for due in (at(3, 12), at(4, 12), at(8, 23, 59)):
        breach(due, other_sdr.team)
    breach(at(27, 12, month=2), other_sdr.team)
    breach(at(4, 12), TeamFactory(name="Outbound", kind="outbound"))

    refresh_facts()
    return {"sam": sam, "alex": alex, "maria": manager, "handoffs": handoffs}


def test_an_sdrs_first_five_lines(week_of_work):
    sam = week_of_work["sam"]
    run_at(SEND)

    open_items = WorkItem.objects.filter(owner=sam, state="open")
    late = open_items.filter(due_at__lte=SEND).count()
    # Two untouched leads, and the rejected handoff back in Sam's queue ("handoff returned"); a
    # handoff closes the SDR's work on its lead.
    assert open_items.count() == 3
    assert first_lines(sam) == [
        "Handoffs accepted: 2",
        "Handoffs rejected: 1",
        # touches 5 (lead waiting), 10, 20, 30 and 60 minutes after routing, first touched in the week
        # are 10, 20, 60 and 30: median 25 min; 90th percentile 30 + 0.7 * 30 = 51 min.
        "Speed to lead: 25 min median, 90% within 51 min",
        f"Waiting: 3 open items in your queue ({late} past due)",
        "Leads worked (first touch): 4",
    ]
    body = email_to(sam).body
    assert "Timing: not buying this year: 1" in body
    assert "/queue/items/" in body
    # Every time carries its zone (Sam's team works in Berlin).
    soonest = open_items.order_by("due_at").first().due_at.astimezone(sam.team.calendar.tzinfo)
    assert f"(due {soonest:%a %-d %b %Y, %H:%M} {soonest:%Z})" in body


def test_an_aes_first_five_lines(week_of_work):
    alex = week_of_work["alex"]
    run_at(SEND)
    # Moved in the week: the two accepted (10,000 and 5,000), the one moved a stage (4,000), the
    # one won (8,000).
    assert first_lines(alex) == [
        "Accepted: 2 (€15,000)",
        "Waiting: 1 handoff awaiting you",
        "Pipeline moved: 4 opportunities (€27,000)",
        "Wins: 1 (€8,000)",
        "Rejected: 1",
    ]
    waiting = Opportunity.objects.get(owner=alex, status="handed_off")
    assert f"http://localhost:8000{waiting.get_absolute_url()}" in email_to(alex).body
    handed = waiting.handed_off_at.astimezone(alex.team.calendar.tzinfo)
    assert f"(handed off {handed:%a %-d %b %Y, %H:%M %Z})" in email_to(alex).body


def test_a_managers_first_five_lines(week_of_work):
    from insight import health
    from insight.scope import Period, Scope

    maria = week_of_work["maria"]
    run_at(SEND)
    lines = first_lines(maria)
    # Every lead first touched in the week: Sam's 10, 20, 30 and 60 minutes and Lena's 2 hours:
    # median 30 min, 90th percentile 60 + 0.6 * 60 = 96 min.
    assert lines[:4] == [
        "Qualified opportunities: 2",
        "Qualified pipeline: €15,000",
        "Speed to lead: 30 min median, 90% within 1 h 36 min",
        "SLA breaches: 3 (1 the week before)",
    ]
    top = health.top(health.diagnose(Scope.for_user(maria, Period.week_of(WEEK, BERLIN)), now=SEND))
    if top is None:
        assert lines[4] == "Top diagnosis: nothing is wrong"
    else:
        assert lines[4].startswith(f"Top diagnosis: {top.title} (")


@pytest.fixture
def campaigns(inbound_sdr, ae, refresh_facts):
    """Three campaigns running in the week; 4 + 1 + 2 leads captured in it; 2 + 1 + 0 of them
    accepted by an AE by Monday."""
    ads = CampaignFactory(name="Google Ads", cost=7000, starts_on=WEEK, ends_on=date(2026, 3, 8))
    fair = CampaignFactory(name="Trade fair", cost=1400, starts_on=WEEK, ends_on=date(2026, 3, 15))
    webinar = CampaignFactory(name="Webinar", cost=500, starts_on=WEEK, ends_on=date(2026, 3, 8))
    captured = {ads: 4, fair: 1, webinar: 2}
    accepted = {ads: 2, fair: 1, webinar: 0}
    for campaign, count in captured.items():
        for i in range(count):
            lead = _touched(inbound_sdr, routed=at(3 + i, 9), after=timedelta(minutes=15), campaign=campaign)
            if i < accepted[campaign]:
                opportunity = _handoff(inbound_sdr, ae, lead, at_=at(6, 9), amount="1000")
                accept_handoff(opportunity_id=opportunity.pk, by=ae, now=at(6, 12))
    refresh_facts()


def test_marketings_first_lines_cost_per_qualified_opportunity_by_campaign(campaigns, marketing):
    run_at(SEND)
    # Spend in the week: 7,000 + 1,400 * 7/14 + 500 = 8,200; 3 qualified: 2,733.33 each.
    assert first_lines(marketing) == [
        "Cost per qualified opportunity: €2,733.33 (3 qualified, spend €8,200)",
        "Google Ads: €3,500 per qualified (2 qualified)",
        "Trade fair: €700 per qualified (1 qualified)",
        "New leads (first seen): 7 (7 MQLs)",
    ]


def test_an_ams_first_five_lines(am):
    """Casey's book on Monday 9 March: two renewals within 30 days (one without a conversation),
    one in 31 to 60 days, one later; in the week one renewed and one churned."""
    signed = at(1, 9, month=1)

    def term(name: str, end: date, value: str):
        account = customer(am, name=name, domain=f"{name.lower()}.example")
        return contract(account, end=end, start=end - timedelta(days=364), value=value, now=signed)

    with time_machine.travel(signed, tick=False):
        silent = term("Alpha", date(2026, 3, 20), "10000")
        talked = term("Beta", date(2026, 4, 5), "20000")
        term("Gamma", date(2026, 4, 25), "30000")
        term("Delta", date(2026, 6, 30), "40000")
        renewed = term("Epsilon", date(2026, 3, 7), "12000")
        churned = term("Zeta", date(2026, 3, 31), "12000")
    log_conversation(contract_id=talked.pk, by=am, note="Renewing, same seats.", now=at(3, 10))
    record_outcome(contract_id=renewed.pk, by=am, outcome="renewed", now=at(4, 10))
    record_outcome(
        contract_id=churned.pk, by=am, outcome="churned", churn_reason="Chose a competitor", now=at(5, 10)
    )

    run_at(SEND)

    assert first_lines(am) == [
        "Renewals in the next 30 days: 2 (€30,000 a year)",
        "Renewals in 31 to 60 days: 1 (€30,000 a year)",
        "At risk: 1 ending within 30 days with no conversation (€10,000 a year)",
        "Renewed this week: 1",
        "Churned this week: 1 (€12,000 a year)",
    ]
    assert silent.get_absolute_url() in email_to(am).body


# --- the page -----------------------------------------------------------------------------------


@pytest.fixture
def summary_urls():
    return reverse("insight:summary")


def test_the_page_shows_my_own_summary_only(week_of_work, summary_urls, client_for):
    sam, alex = week_of_work["sam"], week_of_work["alex"]
    with time_machine.travel(SEND, tick=False):
        page = client_for(sam).get(summary_urls, {"user": alex.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Handoffs accepted" in html and "Pipeline moved" not in html  # Sam's, not Alex's
    assert f"for {sam} (Inbound SDR)" in html
    assert "Turn the weekly email off" in html


def test_the_page_needs_a_login_and_a_role_with_a_summary(db, summary_urls, client):
    assert client.get(summary_urls).status_code == 302
    client.force_login(UserFactory(username="zapier", role=Role.INTEGRATION))
    assert client.get(summary_urls).status_code == 403
    assert client.post(reverse("insight:summary_preference"), {"weekly_summary": "off"}).status_code == 403


def test_the_switch_turns_the_email_off_and_on_with_csrf(cast, summary_urls):
    bernd = cast["bernd"]
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(bernd)
    switch = reverse("insight:summary_preference")

    assert browser.post(switch, {"weekly_summary": "off"}).status_code == 403  # no CSRF token
    assert browser.get(switch).status_code == 405
    page = browser.get(summary_urls)
    token = page.cookies["csrftoken"].value
    answer = browser.post(switch, {"weekly_summary": "off", "csrfmiddlewaretoken": token})
    assert answer.status_code == 302 and answer.url == summary_urls
    assert SummaryPreference.objects.get(user=bernd).weekly_summary is False
    assert "Turn the weekly email on" in browser.get(summary_urls).content.decode()

    run_at(datetime(2026, 3, 9, 12, 30, tzinfo=UTC))
    assert bernd.email not in recipients() and len(mail.outbox) == 2

    browser.post(switch, {"weekly_summary": "on", "csrfmiddlewaretoken": token})
    assert SummaryPreference.objects.get(user=bernd).weekly_summary is True
    run_at(datetime(2026, 3, 16, 7, 30, tzinfo=UTC))
    assert bernd.email in recipients()


def test_marketings_new_leads_are_those_first_seen_in_the_week_not_those_imported_in_it(
    marketing, refresh_facts
):
    """An import in the week brings two people: one its source first saw that week (new), one
    it saw a year before (not new this week). The summary counts them as the insight pages do."""
    with time_machine.travel(at(4, 10), tick=False):
        LeadFactory(email="new@example.com", captured_at=at(4, 10), first_seen_at=at(3, 9))
        LeadFactory(
            email="old@example.com", captured_at=at(4, 10), first_seen_at=at(3, 9) - timedelta(days=365)
        )
    refresh_facts()
    run_at(SEND)
    new_leads = [line for line in email_to(marketing).body.splitlines() if line.startswith("New leads")]
    assert new_leads == ["New leads (first seen): 1 (0 MQLs)"]
    assert "Leads captured" not in email_to(marketing).body
