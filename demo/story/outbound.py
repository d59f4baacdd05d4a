"""Outbound: Tom, the outbound SDR, has prospected three named accounts since last week; most
prospects are in a cadence, and he did each step on its day, so his queue has today's."""

import random
from datetime import timedelta

from django.utils import timezone

from demo.history import work_minutes, working_day
from leads.models import ActivitySource, Lead
from sdr.models import Cadence
from team.models import User
from work.models import WorkItem
from work.services import subject_filter

from .cast import CADENCES
from .common import touch_as_owner

TARGETS = [
    ("Initech", "initech.example", "Technology", "US", 1200, [
        ("Bill", "Lumbergh", "VP Sales"), ("Peter", "Gibbons", "Sales Ops Manager"), ("Joanna", "Park", "CRO"),
    ]),
    ("Vandelay Industries", "vandelay.example", "Manufacturing", "DE", 800, [
        ("Art", "Vandelay", "Head of Sales"), ("Kel", "Varnsen", "Director Marketing Ops"),
    ]),
    ("Wayne Fintech", "waynefintech.example", "Financial Services", "GB", 2500, [
        ("Lucius", "Fox", "COO"), ("Selina", "Kyle", "VP Revenue Operations"), ("Harvey", "Dent", "Sales Director"),
    ]),
]  # fmt: skip


def add_target_stories(replay, now) -> None:
    """Tom, the outbound SDR, has prospected three named accounts since last week; most
    prospects are in a cadence, he did each step on its day, so his queue has today's."""
    from accounts.models import Account

    for n, target in enumerate(TARGETS):
        if Account.objects.filter(domain=target[1]).exists():
            continue
        replay.add(_target_story(target, (now - timedelta(days=9 - n)).date(), random.Random(100 + n)))


def _target_story(target, day, rng):
    from accounts.services import add_prospects, create_target_account
    from sdr.models import Enrollment
    from sdr.services.cadences import enroll

    name, domain, industry, country, employees, people = target
    tom = User.objects.select_related("team__calendar").get(username="tom")
    manager = User.objects.select_related("team__calendar").get(username="maria")
    started = working_day(manager, day, hours=1)  # the manager names the account that morning
    yield started
    cadence = Cadence.objects.get(name=CADENCES[0][0])
    account = create_target_account(
        by=manager, name=name, domain=domain, prospector=tom, industry=industry, country=country,
        employees=employees,
    )  # fmt: skip
    rows = [
        {
            "email": f"{first}.{last}@{domain}".lower(),
            "first_name": first,
            "last_name": last,
            "title": title,
        }
        for first, last, title in people
    ]
    yield work_minutes(tom, started, 20)
    result = add_prospects(account_id=account.pk, by=tom, rows=rows, via=ActivitySource.MANUAL)
    enrolled = [added.lead.pk for added in result.created[:-1]]
    yield work_minutes(tom, timezone.now(), 10)
    for lead_id in enrolled:
        enroll(lead_id=lead_id, cadence_id=cadence.pk, by=tom)
    while True:
        steps = list(
            WorkItem.objects.open()
            .filter(subject_filter(Lead, enrolled), kind=WorkItem.Kind.CADENCE_STEP)
            .order_by("due_at")
        )
        if not steps:
            return
        # Tom works the steps due that day in the morning of the day, an hour or so in.
        yield work_minutes(tom, steps[0].due_at, rng.uniform(60, 180))
        channels = dict(
            Enrollment.objects.filter(lead_id__in=enrolled, state=Enrollment.State.ACTIVE).values_list(
                "lead_id", "step__channel"
            )
        )
        touched = [
            touch_as_owner(item.object_id, channels[item.object_id])
            for item in steps
            if item.due_at <= timezone.now() and item.object_id in channels
        ]
        if not any(touched):
            return
