"""Cadences with a frozen clock: enrolling puts step 1 in the SDR's queue on the right business
day, each touch schedules the next step in business days (across weekends and holidays), a
reply or a meeting ends the cadence, the last step proposes nurture, and leaving the queue
stops it. The team works the Berlin calendar, Monday to Friday 9-17 (CET in November)."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from accounts.services import hand_off
from leads.models import Lead, LeadEvent
from sdr import services
from sdr.models import Cadence, CadenceStep, Enrollment
from sdr.queue import queue_for
from sdr.services import cadences
from sdr.services.cadences import CadenceError
from team.models import Holiday, Role
from tests.concurrency import run_concurrently
from tests.factories import TeamFactory, UserFactory, open_steps, qualifying, routed_lead
from work.models import WorkItem


def berlin(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A time in Berlin in November/December 2026 (CET, UTC+1) as UTC. 23 Nov is a Monday."""
    return datetime(2026, month, day, hour - 1, minute, tzinfo=UTC)


MON, TUE, WED, THU, FRI, SAT = 23, 24, 25, 26, 27, 28
NEXT_MON, NEXT_TUE, NEXT_WED = 30, 1, 2  # 1 and 2 are in December


def make_cadence(name="Outbound 3 touches", steps=((0, "call"), (2, "email"), (5, "call")), **fields):
    cadence = Cadence.objects.create(name=name, **fields)
    CadenceStep.objects.bulk_create(
        CadenceStep(
            cadence=cadence,
            position=i,
            day_offset=offset,
            channel=channel,
            instructions=f"Step {i}: {channel}",
        )
        for i, (offset, channel) in enumerate(steps, start=1)
    )
    return cadence


@pytest.fixture
def cadence(db):
    return make_cadence()


def prospect(owner, at: datetime, **fields) -> Lead:
    """A lead working in ``owner``'s queue (touched once, so no first-touch item is open)."""
    with time_machine.travel(at, tick=False):
        lead = routed_lead(owner, now=at, **fields)
        services.log_touch(lead_id=lead.pk, by=owner, kind="email")
    return Lead.objects.get(pk=lead.pk)


def enroll_at(lead, cadence, by, at):
    with time_machine.travel(at, tick=False):
        return cadences.enroll(lead_id=lead.pk, cadence_id=cadence.pk, by=by)


def touch_at(lead, by, at, kind="call", outcome="no_answer"):
    with time_machine.travel(at, tick=False):
        return services.log_touch(lead_id=lead.pk, by=by, kind=kind, outcome=outcome)


def step_due(lead) -> datetime:
    [item] = open_steps(lead)
    return item.due_at


# --- enrolling --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_enrolling_puts_step_one_in_the_sdr_queue_due_now_within_hours(outbound_sdr, cadence):
    lead = prospect(outbound_sdr, berlin(TUE, 9))
    enrollment = enroll_at(lead, cadence, outbound_sdr, berlin(TUE, 10, 30))

    [item] = open_steps(lead)
    assert item.owner == outbound_sdr and item.team == outbound_sdr.team
    assert item.due_at == berlin(TUE, 10, 30)
    assert item.title == "Outbound 3 touches: step 1 of 3, call"
    assert item.note == "Step 1: call"
    assert item.policy is None  # a cadence step is scheduled work, not an SLA timer
    assert enrollment.state == Enrollment.State.ACTIVE and enrollment.step.position == 1
    assert enrollment.enrolled_by == outbound_sdr
    with time_machine.travel(berlin(TUE, 10, 31), tick=False):
        assert [i.pk for i in queue_for(outbound_sdr)] == [item.pk]
    event = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.CADENCE).get()
    assert "Enrolled in Outbound 3 touches" in event.message and event.actor == outbound_sdr


@pytest.mark.django_db
def test_enrolling_before_opening_makes_step_one_due_at_the_opening(outbound_sdr, cadence):
    lead = prospect(outbound_sdr, berlin(MON, 10))
    enroll_at(lead, cadence, outbound_sdr, berlin(TUE, 7, 15))
    assert step_due(lead) == berlin(TUE, 9)


@pytest.mark.django_db
def test_enrolling_on_friday_evening_makes_step_one_due_monday_morning(outbound_sdr, cadence):
    lead = prospect(outbound_sdr, berlin(FRI, 10))
    enroll_at(lead, cadence, outbound_sdr, berlin(FRI, 18, 20))
    assert step_due(lead) == berlin(NEXT_MON, 9)


@pytest.mark.django_db
def test_a_first_step_with_a_day_offset_waits_that_many_business_days(outbound_sdr):
    later = make_cadence("Warm-up", steps=((3, "social"), (4, "email")))
    lead = prospect(outbound_sdr, berlin(THU, 9))
    enroll_at(lead, later, outbound_sdr, berlin(THU, 11))
    assert step_due(lead) == berlin(NEXT_TUE, 9, month=12)  # Fri 1, Mon 2, Tue 3


@pytest.mark.django_db
def test_an_inbound_mql_can_be_enrolled_and_its_first_touch_stays_open(inbound_sdr, cadence):
    at = berlin(TUE, 10)
    lead = routed_lead(inbound_sdr, now=at)
    enroll_at(lead, cadence, inbound_sdr, at)
    kinds = set(WorkItem.objects.open().for_subject(lead).values_list("kind", flat=True))
    assert kinds == {WorkItem.Kind.FIRST_TOUCH, WorkItem.Kind.CADENCE_STEP}


# --- completing steps -------------------------------------------------------------------------


@pytest.mark.django_db
def test_completing_a_step_schedules_the_next_after_the_day_offset_difference(outbound_sdr, cadence):
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, cadence, outbound_sdr, berlin(TUE, 10))
    [first] = open_steps(lead)

    result = touch_at(lead, outbound_sdr, berlin(TUE, 11))

    first.refresh_from_db()
    assert first.state == WorkItem.State.DONE and first.completed_by == outbound_sdr
    assert first.pk in [item.pk for item in result.completed]
    [second] = open_steps(lead)
    assert second.due_at == berlin(THU, 9)  # day 2 - day 0 = two business days later
    assert second.title == "Outbound 3 touches: step 2 of 3, email"
    assert Enrollment.objects.get(lead=lead).step.position == 2


@pytest.mark.django_db
def test_the_next_step_skips_the_weekend(outbound_sdr, cadence):
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, cadence, outbound_sdr, berlin(THU, 10))
    touch_at(lead, outbound_sdr, berlin(THU, 11))
    assert step_due(lead) == berlin(NEXT_MON, 9)  # Friday is one, Monday two


@pytest.mark.django_db
def test_the_next_step_skips_a_holiday_on_the_teams_calendar(outbound_sdr, cadence):
    Holiday.objects.create(calendar=outbound_sdr.team.calendar, date=date(2026, 11, 27), name="Company day")
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, cadence, outbound_sdr, berlin(THU, 10))
    touch_at(lead, outbound_sdr, berlin(THU, 11))
    assert step_due(lead) == berlin(NEXT_TUE, 9, month=12)  # Friday off: Monday one, Tuesday two


@pytest.mark.django_db
def test_a_holiday_on_another_teams_calendar_changes_nothing(outbound_sdr, cadence):
    other = TeamFactory(name="Inbound APAC", calendar__name="Singapore", calendar__timezone="Asia/Singapore")
    Holiday.objects.create(calendar=other.calendar, date=date(2026, 11, 27))
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, cadence, outbound_sdr, berlin(THU, 10))
    touch_at(lead, outbound_sdr, berlin(THU, 11))
    assert step_due(lead) == berlin(NEXT_MON, 9)


@pytest.mark.django_db
def test_a_step_done_on_friday_evening_counts_friday_as_its_day(outbound_sdr):
    daily = make_cadence("Daily", steps=((0, "call"), (1, "email")))
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, daily, outbound_sdr, berlin(FRI, 10))
    touch_at(lead, outbound_sdr, berlin(FRI, 19))
    assert step_due(lead) == berlin(NEXT_MON, 9)  # one business day after Friday, not Tuesday


@pytest.mark.django_db
def test_two_steps_on_the_same_day_offset_are_a_business_day_apart(outbound_sdr):
    doubled = make_cadence("Doubled", steps=((0, "call"), (0, "voicemail")))
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, doubled, outbound_sdr, berlin(TUE, 10))
    touch_at(lead, outbound_sdr, berlin(TUE, 10, 5))
    assert step_due(lead) == berlin(WED, 9)


@pytest.mark.django_db
def test_a_late_step_shifts_the_rest_instead_of_piling_them_up(outbound_sdr, cadence):
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, cadence, outbound_sdr, berlin(MON, 10))
    touch_at(lead, outbound_sdr, berlin(MON, 11))  # step 2 due Wednesday
    touch_at(lead, outbound_sdr, berlin(FRI, 15))  # done two days late
    assert step_due(lead) == berlin(NEXT_WED, 9, month=12)  # day 5 - day 2 = three days after Friday


@pytest.mark.django_db
def test_a_touch_on_a_lead_without_a_cadence_schedules_nothing(outbound_sdr):
    lead = prospect(outbound_sdr, berlin(MON, 9))
    touch_at(lead, outbound_sdr, berlin(TUE, 11))
    assert open_steps(lead) == [] and not Enrollment.objects.exists()


# --- ending ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "outcome", "state"),
    [
        ("email", "replied", Enrollment.State.REPLIED),
        ("call", "meeting_set", Enrollment.State.MEETING),
        ("meeting_booked", "", Enrollment.State.MEETING),
    ],
)
def test_a_reply_or_a_meeting_ends_the_cadence_and_removes_its_step(
    outbound_sdr, cadence, kind, outcome, state
):
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, cadence, outbound_sdr, berlin(TUE, 10))
    [step] = open_steps(lead)

    touch_at(lead, outbound_sdr, berlin(TUE, 11), kind=kind, outcome=outcome)

    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.state == state and enrollment.ended_at == berlin(TUE, 11) and enrollment.step is None
    step.refresh_from_db()
    assert step.state == WorkItem.State.CANCELLED
    assert not WorkItem.objects.open().for_subject(lead).exists()  # no next step, no nurture question
    assert LeadEvent.objects.filter(
        lead=lead, kind=LeadEvent.Kind.CADENCE, message__contains="ended"
    ).exists()


@pytest.mark.django_db
def test_finishing_the_last_step_without_a_reply_asks_whether_to_nurture(outbound_sdr):
    short = make_cadence("Short", steps=((0, "call"), (1, "email")))
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, short, outbound_sdr, berlin(TUE, 10))
    touch_at(lead, outbound_sdr, berlin(TUE, 11))

    touch_at(lead, outbound_sdr, berlin(WED, 9, 30), kind="email", outcome="")

    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.state == Enrollment.State.FINISHED and enrollment.ended_at == berlin(WED, 9, 30)
    # The question stays in the queue: the touch that finished the cadence does not answer it.
    [question] = WorkItem.objects.open().for_subject(lead)
    assert question.kind == WorkItem.Kind.CADENCE_FINISHED
    assert question.title == "Short finished without a reply: move to nurture?"
    assert question.owner == outbound_sdr and question.due_at == berlin(WED, 9, 30)
    with time_machine.travel(berlin(WED, 9, 31), tick=False):
        assert [i.pk for i in queue_for(outbound_sdr)] == [question.pk]


@pytest.mark.django_db
def test_nurturing_after_a_finished_cadence_answers_the_question(outbound_sdr):
    short = make_cadence("Short", steps=((0, "call"),))
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, short, outbound_sdr, berlin(TUE, 10))
    touch_at(lead, outbound_sdr, berlin(TUE, 11))
    with time_machine.travel(berlin(TUE, 12), tick=False):
        services.dispose_lead(
            lead_id=lead.pk, by=outbound_sdr, to="nurture", reason="No response after several touches"
        )
    assert not WorkItem.objects.open().for_subject(lead).exists()


@pytest.mark.django_db
def test_enrolling_again_after_a_finished_cadence_answers_the_question(outbound_sdr):
    short = make_cadence("Short", steps=((0, "call"),))
    again = make_cadence("Second round", steps=((0, "social"),))
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, short, outbound_sdr, berlin(TUE, 10))
    touch_at(lead, outbound_sdr, berlin(TUE, 11))

    enroll_at(lead, again, outbound_sdr, berlin(WED, 10))

    assert list(WorkItem.objects.open().for_subject(lead).values_list("kind", flat=True)) == [
        WorkItem.Kind.CADENCE_STEP
    ]


@pytest.mark.django_db
def test_nurturing_the_lead_stops_its_cadence(outbound_sdr, cadence):
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, cadence, outbound_sdr, berlin(TUE, 10))
    with time_machine.travel(berlin(TUE, 11), tick=False):
        services.dispose_lead(lead_id=lead.pk, by=outbound_sdr, to="nurture", reason="Not ready yet (timing)")
    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.state == Enrollment.State.STOPPED and enrollment.ended_at is not None
    assert not WorkItem.objects.open().for_subject(lead).exists()


@pytest.mark.django_db
def test_handing_the_lead_off_stops_its_cadence(outbound_sdr, cadence, ae):
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, cadence, outbound_sdr, berlin(TUE, 10))
    with time_machine.travel(berlin(TUE, 11), tick=False):
        hand_off(lead_id=lead.pk, by=outbound_sdr, qualifying=qualifying(), ae=ae)
    enrollment = Enrollment.objects.get(lead=lead)
    assert enrollment.state == Enrollment.State.STOPPED
    assert not WorkItem.objects.open().for_subject(lead).exists()


@pytest.mark.django_db
def test_the_sdr_stops_a_cadence_by_hand(outbound_sdr, cadence):
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, cadence, outbound_sdr, berlin(TUE, 10))
    with time_machine.travel(berlin(TUE, 11), tick=False):
        assert cadences.stop(lead_id=lead.pk, by=outbound_sdr) == 1
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.STOPPED
    assert open_steps(lead) == []
    with pytest.raises(CadenceError, match="not in a cadence"):
        cadences.stop(lead_id=lead.pk, by=outbound_sdr)


@pytest.mark.django_db
def test_a_stopped_lead_can_be_enrolled_again(outbound_sdr, cadence):
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, cadence, outbound_sdr, berlin(TUE, 10))
    cadences.stop(lead_id=lead.pk, by=outbound_sdr)
    enroll_at(lead, cadence, outbound_sdr, berlin(WED, 10))
    assert Enrollment.objects.filter(lead=lead).count() == 2 and len(open_steps(lead)) == 1


# --- refusals ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_lead_cannot_be_in_two_cadences(outbound_sdr, cadence):
    other = make_cadence("Other", steps=((0, "email"),))
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enroll_at(lead, cadence, outbound_sdr, berlin(TUE, 10))
    with pytest.raises(CadenceError, match="already in the cadence Outbound 3 touches; stop it first"):
        enroll_at(lead, other, outbound_sdr, berlin(TUE, 11))
    assert Enrollment.objects.filter(lead=lead).count() == 1 and len(open_steps(lead)) == 1


@pytest.mark.django_db
def test_an_inactive_cadence_is_refused(outbound_sdr):
    retired = make_cadence("Retired", is_active=False)
    lead = prospect(outbound_sdr, berlin(MON, 9))
    with pytest.raises(CadenceError, match="Choose an active cadence"):
        enroll_at(lead, retired, outbound_sdr, berlin(TUE, 10))
    assert not Enrollment.objects.exists() and open_steps(lead) == []


@pytest.mark.django_db
def test_a_cadence_without_steps_is_refused(outbound_sdr):
    empty = Cadence.objects.create(name="Empty")
    lead = prospect(outbound_sdr, berlin(MON, 9))
    with pytest.raises(CadenceError, match="has no steps yet"):
        enroll_at(lead, empty, outbound_sdr, berlin(TUE, 10))
    assert not Enrollment.objects.exists()
    assert list(cadences.active_cadences()) == []


@pytest.mark.django_db
def test_another_sdr_cannot_enroll_or_stop_my_lead(outbound_sdr, cadence):
    colleague = UserFactory(username="tina", role=Role.OUTBOUND_SDR, team=outbound_sdr.team)
    lead = prospect(outbound_sdr, berlin(MON, 9))
    with pytest.raises(CadenceError, match="not in your queue"):
        enroll_at(lead, cadence, colleague, berlin(TUE, 10))
    enroll_at(lead, cadence, outbound_sdr, berlin(TUE, 10))
    with pytest.raises(CadenceError, match="not in your queue"):
        cadences.stop(lead_id=lead.pk, by=colleague)
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.ACTIVE


@pytest.mark.django_db
def test_the_teams_manager_may_enroll_another_manager_and_an_ae_may_not(
    outbound_sdr, other_manager, manager, ae, cadence
):
    lead = prospect(outbound_sdr, berlin(MON, 9))
    for outsider, message in [(manager, "not in a team you manage"), (ae, "Only the lead's SDR")]:
        with pytest.raises(CadenceError, match=message):
            enroll_at(lead, cadence, outsider, berlin(TUE, 10))
    enrollment = enroll_at(lead, cadence, other_manager, berlin(TUE, 10))
    assert enrollment.enrolled_by == other_manager
    [item] = open_steps(lead)
    assert item.owner == outbound_sdr  # the step is the SDR's work, whoever enrolled


@pytest.mark.django_db
def test_a_lead_out_of_the_queue_cannot_be_enrolled(outbound_sdr, cadence):
    lead = prospect(outbound_sdr, berlin(MON, 9))
    services.dispose_lead(lead_id=lead.pk, by=outbound_sdr, to="disqualified", reason="Competitor")
    with pytest.raises(CadenceError, match="Disqualified is not in a queue"):
        enroll_at(lead, cadence, outbound_sdr, berlin(TUE, 10))


@pytest.mark.django_db
def test_a_lead_waiting_in_the_unassigned_queue_cannot_be_enrolled(manager, cadence, inbound_sdr):
    lead = routed_lead(None, team=inbound_sdr.team, now=berlin(MON, 9))
    with pytest.raises(CadenceError, match="unassigned queue"):
        enroll_at(lead, cadence, manager, berlin(TUE, 10))


@pytest.mark.django_db(transaction=True)
def test_two_enrollments_at_once_leave_the_lead_in_one_cadence(outbound_sdr):
    first = make_cadence("First", steps=((0, "call"),))
    second = make_cadence("Second", steps=((0, "email"),))
    lead = routed_lead(outbound_sdr)
    outcomes = run_concurrently(
        lambda: cadences.enroll(lead_id=lead.pk, cadence_id=first.pk, by=outbound_sdr),
        lambda: cadences.enroll(lead_id=lead.pk, cadence_id=second.pk, by=outbound_sdr),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["CadenceError", "Enrollment"]
    assert Enrollment.objects.filter(lead=lead).count() == 1
    assert len(open_steps(lead)) == 1


# --- the admin ---------------------------------------------------------------------------------


def admin_form(name, steps, **fields):
    """The admin's add form: ``steps`` of (position, day offset, channel), or with a fourth
    item, the step's other fields (automatic, subject, body)."""
    data = {
        "name": name,
        "kind": "sales",
        "description": "",
        "is_active": "on",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for i, (position, offset, channel, *more) in enumerate(steps):
        data.update(
            {
                f"steps-{i}-position": str(position),
                f"steps-{i}-day_offset": str(offset),
                f"steps-{i}-channel": channel,
                f"steps-{i}-instructions": f"Step {position}",
            }
        )
        for key, value in (more[0] if more else {}).items():
            data[f"steps-{i}-{key}"] = value
    return data | fields


@pytest.mark.django_db
def test_the_admin_saves_a_cadence_with_its_ordered_steps(admin_client):
    response = admin_client.post(
        "/admin/sdr/cadence/add/", admin_form("Outbound", [(2, 3, "email"), (1, 0, "call"), (3, 3, "social")])
    )
    assert response.status_code == 302
    cadence = Cadence.objects.get()
    assert list(cadence.steps.order_by("position").values_list("position", "day_offset", "channel")) == [
        (1, 0, "call"),
        (2, 3, "email"),
        (3, 3, "social"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([(1, 0, "call"), (1, 2, "email")], "Please correct the duplicate data for position."),
        (
            [(1, 3, "call"), (2, 1, "email")],
            "Step 2 comes after step 1 (day 3): its day offset cannot be earlier.",
        ),
    ],
)
def test_the_admin_refuses_steps_out_of_order(admin_client, steps, message):
    response = admin_client.post("/admin/sdr/cadence/add/", admin_form("Broken", steps))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Cadence.objects.exists() and not CadenceStep.objects.exists()


@pytest.mark.django_db
def test_the_admin_saves_email_steps_and_a_nurture_track(admin_client, marketing):
    automatic = {"automatic": "on", "subject": "Hi {{ lead.first_name }}", "body": "Hello"}
    response = admin_client.post(
        "/admin/sdr/cadence/add/", admin_form("Mixed", [(1, 0, "email", automatic), (2, 2, "call")])
    )
    assert response.status_code == 302
    step = CadenceStep.objects.get(position=1)
    assert (step.automatic, step.subject, step.body) == (True, "Hi {{ lead.first_name }}", "Hello")
    response = admin_client.post(
        "/admin/sdr/cadence/add/",
        admin_form("Nurture", [(1, 0, "email", automatic)], kind="nurture", sender=str(marketing.pk)),
    )
    assert response.status_code == 302
    assert Cadence.objects.get(name="Nurture").sender == marketing


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("steps", "fields", "message"),
    [
        (
            [(1, 0, "call", {"subject": "Hi"})],
            {},
            "Only an email step has a subject, a body or sends itself.",
        ),
        (
            [(1, 0, "call", {"automatic": "on"})],
            {},
            "Only an email step has a subject, a body or sends itself.",
        ),
        (
            [(1, 0, "email", {"automatic": "on", "subject": "Hi"})],
            {},
            "An automatic email needs a subject and a body.",
        ),
        (
            [(1, 0, "email", {"subject": "Hi", "body": "Hello"})],
            {"kind": "nurture"},
            "A nurture track&#x27;s steps are automatic emails.",
        ),
        (
            [(1, 0, "email", {"automatic": "on", "subject": "Hi", "body": "Hello"})],
            {"kind": "nurture"},
            "A nurture track&#x27;s emails go out from someone&#x27;s mailbox: choose who.",
        ),
    ],
)
def test_the_admin_refuses_email_fields_that_do_not_fit(admin_client, steps, fields, message):
    response = admin_client.post("/admin/sdr/cadence/add/", admin_form("Broken", steps, **fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Cadence.objects.exists()


@pytest.mark.django_db
def test_enrollments_are_read_only_in_the_admin(admin_client, outbound_sdr, cadence):
    lead = prospect(outbound_sdr, berlin(MON, 9))
    enrollment = enroll_at(lead, cadence, outbound_sdr, berlin(TUE, 10))
    assert admin_client.get("/admin/sdr/enrollment/").status_code == 200
    page = admin_client.get(f"/admin/sdr/enrollment/{enrollment.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.get("/admin/sdr/enrollment/add/").status_code == 403
    admin_client.post(f"/admin/sdr/enrollment/{enrollment.pk}/change/", {"state": "stopped"})
    enrollment.refresh_from_db()
    assert enrollment.state == Enrollment.State.ACTIVE
