"""The demo tells a consistent story: whatever day it is seeded, every row of its past happened
in time order (nothing completed before it was created, breached before it was due, or
happening after now), and the pages a manager opens first show no impossible durations."""

import re
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.apps import apps
from django.db import models
from django.db.models import F

from accounts.models import Opportunity
from kit.display import day_text, when_text
from leads.models import Activity, Campaign, Lead, LeadEvent
from team.models import User
from team.zones import user_zone
from work.models import Breach, WorkItem

# Times that are plans, not history: they may lie ahead.
FUTURE_FIELDS = {
    ("WorkItem", "due_at"),
    ("WorkItem", "reassign_at"),
    ("WorkItem", "warn_at"),  # the SLA warning still to come (before its due time, checked below)
    ("ApiToken", "expires_at"),
    ("Opportunity", "proposed_meeting_at"),
    ("Message", "send_at"),
    # Written by the test database's setup, at the real time, before the clock was frozen.
    ("ScoringSettings", "updated_at"),
}
APPS = ("team", "work", "notifications", "leads", "sdr", "accounts", "renewals", "mail")
pytestmark = pytest.mark.django_db


def _history_fields():
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        for field in model._meta.get_fields():
            if isinstance(field, models.DateTimeField) and (model.__name__, field.name) not in FUTURE_FIELDS:
                yield model, field.name


def test_the_demo_happened_in_time_order_and_its_pages_say_so(seeded, client):
    """One seed per date (a seed takes a while): the data first, then what a manager and an
    SDR see."""
    now = seeded
    _assert_history_in_order(now)
    _assert_nothing_long_overdue_is_at_risk(now, client)
    _assert_no_negative_speed_to_first_touch(client)
    _assert_old_leads_were_not_routed_today(now, client)
    _assert_the_campaigns_spend_in_the_default_period(now, client)
    _assert_the_emails_left_in_their_senders_hours(now)


def _assert_history_in_order(now):
    for model, name in _history_fields():
        assert not model.objects.filter(**{f"{name}__gt": now}).exists(), f"{model.__name__}.{name} after now"

    items = WorkItem.objects.all()
    assert items.filter(completed_at__isnull=False).exists()
    assert not items.filter(completed_at__lt=F("created_at")).exists(), "completed before it was created"
    assert not items.filter(due_at__lt=F("created_at")).exists(), "due before it was created"
    assert not items.filter(warn_at__gt=F("due_at")).exists(), "warned after it was due"
    assert not items.filter(breached_at__lt=F("due_at")).exists(), "breached before it was due"

    breaches = Breach.objects.all()
    assert breaches.exists()
    assert not breaches.filter(detected_at__lt=F("due_at")).exists()
    assert not breaches.filter(due_at__lt=F("work_item__created_at")).exists()
    # The sweep ran as of each due time: no breach noticed days late.
    assert not breaches.filter(detected_at__gt=F("due_at") + timedelta(minutes=10)).exists()

    # Every lead's story starts with its capture, and nothing on it comes before.
    leads = Lead.objects.all()
    assert not LeadEvent.objects.filter(at__lt=F("lead__captured_at")).exists()
    assert not Activity.objects.filter(occurred_at__lt=F("lead__captured_at")).exists()
    assert not leads.filter(mql_at__lt=F("captured_at")).exists()
    for lead in leads.prefetch_related("events"):
        first = min(lead.events.all(), key=lambda e: (e.at, e.pk))
        assert first.kind == LeadEvent.Kind.CAPTURED, lead.email

    # A lead's first-touch timer starts when it is routed, and its first touch ends it.
    routed = {(e.lead_id, e.at) for e in LeadEvent.objects.filter(kind=LeadEvent.Kind.ROUTED)}
    first_touch = WorkItem.objects.filter(kind=WorkItem.Kind.FIRST_TOUCH)
    assert first_touch.filter(state=WorkItem.State.DONE).count() >= 20
    for item in first_touch:
        assert (item.object_id, item.created_at) in routed, item.title
    touches = {
        (a.lead_id, a.occurred_at) for a in Activity.objects.filter(kind__in=["call", "email", "voicemail"])
    }
    for item in first_touch.filter(state=WorkItem.State.DONE):
        assert (item.object_id, item.completed_at) in touches

    # Deals: handed off after the lead arrived, answered after the handoff, closed after that.
    deals = Opportunity.objects.filter(lead__isnull=False)
    assert deals.filter(closed_at__isnull=False).exists()
    assert not deals.filter(handed_off_at__lt=F("lead__captured_at")).exists()
    assert not deals.filter(accepted_at__lt=F("handed_off_at")).exists()
    assert not deals.filter(rejected_at__lt=F("handed_off_at")).exists()
    assert not deals.filter(closed_at__lt=F("accepted_at")).exists()


def _assert_nothing_long_overdue_is_at_risk(now, client):
    overdue = WorkItem.objects.open().filter(policy__isnull=False, due_at__lte=now)
    assert overdue.exists()
    assert not overdue.filter(breached_at__isnull=True).exists()

    client.force_login(User.objects.get(username="maria"))
    page = client.get("/work/breaches/").content.decode()
    at_risk = WorkItem.objects.at_risk(now=now)
    assert not at_risk.filter(due_at__lt=now).exists()
    assert "breach" in page.lower()


def _assert_no_negative_speed_to_first_touch(client):
    client.force_login(User.objects.get(username="maria"))
    response = client.get("/work/breaches/")

    assert response.status_code == 200
    speed = re.search(r'<section class="card" id="speed">(.*?)</section>', response.content.decode(), re.S)
    cells = re.findall(r'<td class="num">([^<]*)</td>', speed.group(1))
    durations = [c.strip() for c in cells if not c.strip().isdigit()]
    assert durations and all(d and d != "—" for d in durations)
    assert not [d for d in durations if d.startswith("-")]


def _assert_old_leads_were_not_routed_today(now, client):
    lead = (
        Lead.objects.filter(mql_at__lt=now - timedelta(days=20), owner__isnull=False)
        .exclude(owner__username="tom")
        .order_by("mql_at")
        .first()
    )
    client.force_login(lead.owner)
    page = client.get(f"/leads/{lead.pk}/").content.decode()

    routed = re.findall(r'<li class="tl-event tl-routed">\s*<time datetime="[^"]*">([^<]*)</time>', page)
    assert routed, "the timeline shows the routing"
    zone = user_zone(lead.owner)  # the reader's: the owner's team calendar's
    assert routed[-1] == when_text(lead.mql_at, zone)  # the timeline names its zone
    assert day_text(now, zone) not in routed[-1]


def _assert_the_campaigns_spend_in_the_default_period(now, client):
    """Each campaign runs from a start to an end (some past today, one over), no lead arrives
    before its campaign started, and the money page's default period (30 days in Maria's
    zone) shows the spend of the days run in it, the costs per lead and a ROI."""
    campaigns = list(Campaign.objects.filter(cost__gt=0))
    today = now.astimezone(User.objects.get(username="maria").team.calendar.tzinfo).date()
    assert all(c.starts_on <= c.ends_on for c in Campaign.objects.all())
    assert any(c.ends_on < today for c in campaigns) and any(c.ends_on > today for c in campaigns)
    for campaign in Campaign.objects.all():
        assert not campaign.leads.filter(captured_at__date__lt=campaign.starts_on).exists(), campaign.name

    first = today - timedelta(days=29)
    expected = Decimal(0)
    for c in campaigns:
        overlap = max(0, (min(c.ends_on, today) - max(c.starts_on, first)).days + 1)
        run = (c.ends_on - c.starts_on).days + 1
        expected += (c.cost * overlap / run).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert expected > 0

    client.force_login(User.objects.get(username="maria"))
    page = client.get("/insight/money/").content.decode()
    foot = re.search(r'<table[^>]*id="table-by-campaign">.*?<tfoot>(.*?)</tfoot>', page, re.S).group(1)
    cells = [c.strip() for c in re.findall(r"<td[^>]*>([^<]*)</td>", foot)]
    spend, leads = Decimal(cells[1].replace(",", "").removeprefix("€")), int(cells[2].replace(",", ""))
    assert spend == expected
    per_lead = Decimal(cells[8].replace(",", "").removeprefix("€"))
    assert per_lead == (spend / leads).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert all(cell not in ("", "—", "€0.00") for cell in cells[8:12]), cells  # per lead, MQL, qualified, won
    assert cells[12].endswith("%"), cells  # a ROI


def _assert_the_emails_left_in_their_senders_hours(now):
    """The nurture track and the "email first" cadence sent their emails as beat does: after the
    lead arrived, by now, inside the sender's working hours, once per step."""
    from mail.models import Message
    from team.calendar import Schedule, next_business_instant

    sent = Message.objects.filter(status=Message.Status.SENT).select_related(
        "sender__team__calendar", "lead", "step"
    )
    assert sent.filter(sender__username="mo", step__cadence__kind="nurture").count() >= 10
    assert not Message.objects.filter(status__in=["failed", "sending"]).exists()
    steps = [(m.enrollment_id, m.step_id) for m in sent]
    assert len(steps) == len(set(steps))
    for message in sent:
        assert message.lead.captured_at <= message.sent_at <= now
        schedule = Schedule.from_calendar(message.sender.team.calendar)
        assert next_business_instant(schedule, message.sent_at) == message.sent_at, message.subject
