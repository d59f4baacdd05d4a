"""Email: marketing's nurture track has run for three weeks, and Lena tried the "email first"
cadence on her newest MQLs a few days ago. Refinery sent what was due as beat does: the nurture
sweep took the leads entering nurture, the step sweep wrote each due step's email once, and the
send service sent them paced from each sender's mailbox, inside their hours (to no server: the
seed's mail goes nowhere; the running demo's goes to var/outbox)."""

from datetime import datetime, timedelta

from django.db.models import Min
from django.utils import timezone

from demo.history import working_day
from leads.models import Lead
from mail.models import Message
from mail.services import record_click, record_open, send_due, send_due_steps, unsubscribe
from sdr.models import Cadence, Enrollment
from sdr.services import cadences
from team.models import User
from work.models import WorkItem
from work.services import subject_filter

from .cast import CADENCES, NURTURE_TRACK

# How long ago the nurture track started sending, and how often the replayed beat looks.
TRACK_STARTED = timedelta(days=21)
SWEEP_EVERY = timedelta(hours=1)
EMAIL_FIRST = CADENCES[2][0]


def add_email_stories(replay, now: datetime) -> None:
    """The mail sweeps of the last three weeks, and Lena's "email first" morning (once: a
    second seed finds the track running)."""
    if Enrollment.objects.filter(cadence__name=NURTURE_TRACK[0]).exists():
        return
    replay.add(_email_first(now))
    replay.add(_mail_beat(now - TRACK_STARTED, now))
    replay.add(_recipients_answer(now))


def _mail_beat(start: datetime, now: datetime):
    """What beat does with email, hour by hour: leads that entered nurture join the track,
    due steps get their email, and what is due leaves, one at a time at each mailbox's pace."""
    moment = start.replace(minute=0, second=0, microsecond=0)
    while True:
        yield moment
        cadences.enroll_nurture_leads()
        send_due_steps()
        following = moment + SWEEP_EVERY
        while True:
            due = Message.objects.filter(status=Message.Status.SCHEDULED).aggregate(at=Min("send_at"))["at"]
            if due is None or due >= following:
                break
            yield max(due, timezone.now())
            before = timezone.now()
            send_due()
            if Message.objects.filter(status=Message.Status.SCHEDULED, send_at__lte=before).exists():
                yield before + timedelta(seconds=1)  # nothing sent or deferred: look again later
        moment = following


def _email_first(now: datetime):
    """Three days ago Lena enrolled her newest untouched MQLs in "email first": Refinery sent
    the first email within the hour (their first touch), and the call comes due about now."""
    lena = User.objects.select_related("team__calendar").get(username="lena")
    morning = working_day(lena, (now - timedelta(days=3)).date(), hours=1.5)
    yield morning
    cadence = Cadence.objects.get(name=EMAIL_FIRST)
    untouched = (
        WorkItem.objects.open()
        .filter(
            subject_filter(Lead, Lead.objects.filter(owner=lena).values_list("pk", flat=True)),
            kind=WorkItem.Kind.FIRST_TOUCH,
        )
        .values_list("object_id", flat=True)
    )
    newest = Lead.objects.filter(pk__in=list(untouched), status=Lead.Status.MQL).order_by("-mql_at")[:3]
    for lead in newest:
        cadences.enroll(lead_id=lead.pk, cadence_id=cadence.pk, by=lena)


def _recipients_answer(now: datetime):
    """What the nurture track's readers did, as the tracking links recorded it: two days ago a
    few opened the emails sent before, two clicked through, and one unsubscribed (the track
    ends for them, and nobody emails that address again)."""
    yield now - timedelta(days=2)
    sent = list(
        Message.objects.filter(
            status=Message.Status.SENT, enrollment__cadence__name=NURTURE_TRACK[0], sent_at__lt=timezone.now()
        ).order_by("sent_at", "pk")[:8]
    )
    for message in sent[:6]:
        record_open(message_id=message.pk)
    for message in sent[1:3]:
        record_click(message_id=message.pk, url="https://refinery.example/speed-to-lead")
    if len(sent) > 6:
        unsubscribe(message_id=sent[6].pk)
