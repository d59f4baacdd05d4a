"""The funnel as a manager reads it: counts per stage, conversions and median times for a
cohort and for a flow, slices with readable labels, where leads fell out and why, and the
leads dropped on the floor. Facts are written directly with chosen moments; the expected
numbers are counted here from what the test wrote."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from statistics import median
from zoneinfo import ZoneInfo

import pytest
import time_machine

from insight import funnel
from insight.models import LeadFact
from insight.scope import Period, Scope
from leads.models import Channel, Lead
from team.models import Role
from tests.factories import CampaignFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
# March 2025 in Berlin: the clocks go forward on the 30th, so the period ends at 22:00 UTC.
MARCH = Period(date(2025, 3, 1), date(2025, 3, 31), BERLIN)
INSIDE = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
_ids = count(1)


def fact(captured_at=INSIDE, **fields) -> LeadFact:
    """A lead fact written directly (the lead row is not needed: no database constraint)."""
    fields.setdefault("first_seen_at", captured_at)
    return LeadFact.objects.create(lead_id=next(_ids), captured_at=captured_at, **fields)


def path(captured_at, *waits, **fields) -> LeadFact:
    """A lead that went through the stages in order, each ``wait`` after the previous one."""
    moments = {}
    at = captured_at
    for stage, wait in zip(funnel.STAGES[1:], waits, strict=False):
        at = at + wait
        moments[stage.field] = at
    return fact(captured_at=captured_at, **moments, **fields)


def scope_for(user, period=MARCH, **filters) -> Scope:
    return Scope.for_user(user, period, **filters)


H, M, D = timedelta(hours=1), timedelta(minutes=1), timedelta(days=1)


def test_stages_are_the_contracted_ones_in_order():
    assert [(s.key, s.label, s.field) for s in funnel.STAGES] == [
        ("captured", "First seen", "first_seen_at"),
        ("mql", "MQL or hand-raiser", "mql_at"),
        ("worked", "Worked (first touch)", "first_touch_at"),
        ("handed_off", "Handed off", "handed_off_at"),
        ("accepted", "Accepted by an AE", "accepted_at"),
        ("won", "Won", "won_at"),
    ]


def test_cohort_counts_conversions_and_medians(manager, django_assert_num_queries):
    # Captured in March (Berlin): the first instant and the last hour (after the DST change).
    first = datetime(2025, 2, 28, 23, 0, tzinfo=UTC)  # 1 March 00:00 in Berlin
    last = datetime(2025, 3, 31, 21, 30, tzinfo=UTC)  # 31 March 23:30 in Berlin (CEST)
    path(first, 2 * H, 10 * M, 3 * D, 1 * D, 20 * D)  # won
    path(INSIDE, 4 * H, 30 * M, 5 * D, 2 * D)  # accepted, not won yet
    path(INSIDE, 1 * H, 50 * M, 1 * D, rejected_at=INSIDE + 3 * D)  # handed off, rejected by the AE
    path(last, 6 * H, 2 * H)  # worked
    path(
        INSIDE, 8 * H, closed_out_at=INSIDE + 2 * D, status="nurture", close_out_status="nurture"
    )  # nurtured
    path(INSIDE)  # captured only
    # Outside March in Berlin: one hour either side.
    path(datetime(2025, 2, 28, 22, 0, tzinfo=UTC), 1 * H, 1 * H)
    path(datetime(2025, 3, 31, 22, 0, tzinfo=UTC), 1 * H, 1 * H)

    asked = scope_for(manager)  # the question (it reads the facts' generation)
    with django_assert_num_queries(1):
        rows = funnel.cohort(asked)

    assert [(r.key, r.count) for r in rows] == [
        ("captured", 6),
        ("mql", 5),
        ("worked", 4),
        ("handed_off", 3),
        ("accepted", 2),
        ("won", 1),
    ]
    conversions = [r.conversion for r in rows]
    assert conversions[0] is None
    assert conversions[1:] == pytest.approx([5 / 6, 4 / 5, 3 / 4, 2 / 3, 1 / 2])
    medians = {r.key: r.median_from_previous for r in rows}
    assert medians["captured"] is None
    assert medians["mql"] == median([2 * H, 4 * H, 1 * H, 6 * H, 8 * H])  # 4 h
    assert medians["worked"] == median([10 * M, 30 * M, 50 * M, 2 * H])  # 40 min
    assert medians["handed_off"] == median([3 * D, 5 * D, 1 * D])
    assert medians["accepted"] == median([1 * D, 2 * D])
    assert medians["won"] == 20 * D


def test_cohort_conversion_after_an_empty_stage_is_none(manager):
    path(INSIDE)
    rows = {r.key: r for r in funnel.cohort(scope_for(manager))}
    assert rows["mql"].count == 0 and rows["mql"].conversion == 0
    assert rows["worked"].conversion is None
    assert rows["won"].median_from_previous is None


def test_cohort_of_an_sdr_is_their_own_leads(manager):
    sam = UserFactory(username="sam", role=Role.INBOUND_SDR)
    path(INSIDE, H, H, sdr=sam)
    path(INSIDE, H, sdr=UserFactory(username="lena", role=Role.INBOUND_SDR))
    rows = {r.key: r.count for r in funnel.cohort(scope_for(sam))}
    assert (rows["captured"], rows["worked"]) == (1, 1)
    assert {r.key: r.count for r in funnel.cohort(scope_for(manager))}["captured"] == 2


def test_flow_counts_what_happened_in_the_period_whatever_the_capture_date(
    manager, django_assert_num_queries
):
    january = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    # Captured in January, handed off and accepted in March.
    fact(
        january,
        mql_at=january + H,
        first_touch_at=january + 2 * H,
        handed_off_at=INSIDE,
        accepted_at=INSIDE + D,
    )
    # Captured and MQL in March; won in April (outside).
    fact(INSIDE, mql_at=INSIDE + 3 * H, won_at=datetime(2025, 4, 2, tzinfo=UTC))
    # Worked just before the period (28 Feb 23:30 Berlin): not in March's flow.
    fact(january, mql_at=january + H, first_touch_at=datetime(2025, 2, 28, 22, 30, tzinfo=UTC))
    fact(january)  # nothing in March at all

    asked = scope_for(manager)  # the question (it reads the facts' generation)
    with django_assert_num_queries(1):
        rows = funnel.flow(asked)

    assert [(r.key, r.count) for r in rows] == [
        ("captured", 1),
        ("mql", 1),
        ("worked", 0),
        ("handed_off", 1),
        ("accepted", 1),
        ("won", 0),
    ]
    medians = {r.key: r.median_from_previous for r in rows}
    assert medians["mql"] == 3 * H
    assert medians["handed_off"] == INSIDE - (january + 2 * H)
    assert medians["accepted"] == D
    assert medians["worked"] is None
    assert all(r.conversion is None for r in rows)


def test_cohort_and_flow_of_one_scope_are_one_query(manager, django_assert_num_queries):
    """The funnel page and the API show both tables: one statement answers both for a scope,
    and a new scope (the next request) reads the facts again."""
    january = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    path(INSIDE, 2 * H, 3 * H)  # captured, MQL and worked in March
    fact(january, mql_at=january + H, first_touch_at=INSIDE)  # worked in March only

    scope = scope_for(manager)
    with django_assert_num_queries(1):
        cohort = {r.key: r.count for r in funnel.cohort(scope)}
        flow = {r.key: r.count for r in funnel.flow(scope)}

    assert (cohort["captured"], cohort["mql"], cohort["worked"]) == (1, 1, 1)
    assert (flow["captured"], flow["mql"], flow["worked"]) == (1, 1, 2)
    fact(INSIDE)
    asked = scope_for(manager)  # the question (it reads the facts' generation)
    with django_assert_num_queries(1):
        assert funnel.flow(asked)[0].count == 2


def test_by_slice_every_slice_with_readable_labels(manager, django_assert_num_queries):
    webinar = CampaignFactory(name="Spring webinar", channel=Channel.WEBINAR)
    emea = TeamFactory(name="Inbound EMEA")
    ana = UserFactory(username="ana", first_name="Ana", last_name="Ruiz", role=Role.INBOUND_SDR, team=emea)
    path(
        INSIDE,
        H,
        H,
        H,
        campaign=webinar,
        channel=Channel.WEBINAR,
        source=Channel.WEB,
        team=emea,
        sdr=ana,
        origin="inbound",
        fit_grade="A",
    )
    path(
        INSIDE,
        H,
        campaign=webinar,
        channel=Channel.WEBINAR,
        source=Channel.WEB,
        team=emea,
        sdr=ana,
        fit_grade="A",
    )
    path(INSIDE, H, H, origin="outbound", source=Channel.OUTBOUND, fit_grade="")

    expected = {
        "campaign": [("Spring webinar", webinar.pk, 2, 1), ("No campaign", None, 1, 1)],
        "channel": [("Webinar", Channel.WEBINAR, 2, 1), ("No channel", "", 1, 1)],
        "source": [("Web", Channel.WEB, 2, 1), ("Outbound prospecting", Channel.OUTBOUND, 1, 1)],
        "team": [("Inbound EMEA", emea.pk, 2, 1), ("No team", None, 1, 1)],
        "sdr": [("Ana Ruiz", ana.pk, 2, 1), ("Unassigned", None, 1, 1)],
        "origin": [("Inbound", "inbound", 2, 1), ("Outbound", "outbound", 1, 1)],
        "fit_grade": [("A", "A", 2, 1), ("Not graded", "", 1, 1)],
    }
    assert set(funnel.SLICES) == set(expected)
    for by, want in expected.items():
        asked = scope_for(manager)  # the question (it reads the facts' generation)
        with django_assert_num_queries(1):
            rows = funnel.by_slice(asked, by)
        assert [(r.label, r.key, r.counts["captured"], r.counts["worked"]) for r in rows] == want, by
    first = funnel.by_slice(scope_for(manager), "campaign")[0]
    assert first.counts == {"captured": 2, "mql": 2, "worked": 1, "handed_off": 1, "accepted": 0, "won": 0}
    assert first.conversion("handed_off") == 0.5


def test_dispositions_by_stage_outcome_and_reason(manager, django_assert_num_queries):
    price, budget = "Price", "Not qualified: no budget"
    # Disqualified while being worked (twice, same reason), and before any touch.
    for _ in range(2):
        path(
            INSIDE,
            H,
            H,
            closed_out_at=INSIDE + D,
            status=Lead.Status.DISQUALIFIED,
            close_out_status=Lead.Status.DISQUALIFIED,
            close_out_reason="Student",
        )
    disqualified = {"status": Lead.Status.DISQUALIFIED, "close_out_status": Lead.Status.DISQUALIFIED}
    path(INSIDE, H, closed_out_at=INSIDE + D, close_out_reason="Spam", **disqualified)
    # Sent back to nurture after the first touch.
    nurtured = {"status": Lead.Status.NURTURE, "close_out_status": Lead.Status.NURTURE}
    path(INSIDE, H, H, closed_out_at=INSIDE + D, close_out_reason="Next year", **nurtured)
    # Rejected by the AE, then handed off again, accepted and lost early: counts in both.
    path(
        INSIDE,
        H,
        H,
        D,
        D,
        rejected_at=INSIDE + 2 * D,
        reject_reason=budget,
        lost_at=INSIDE + 9 * D,
        early_loss=True,
        lost_reason=price,
    )
    # Lost late.
    path(INSIDE, H, H, D, D, lost_at=INSIDE + 60 * D, lost_reason=price)
    path(INSIDE, H, H, D, D, lost_at=INSIDE + 70 * D, lost_reason=price)
    # Not in the cohort: captured in February.
    path(datetime(2025, 2, 10, tzinfo=UTC), H, closed_out_at=INSIDE, **disqualified)

    asked = scope_for(manager)  # the question (it reads the facts' generation)
    with django_assert_num_queries(1):
        rows = funnel.dispositions(asked)

    assert [(r.stage, r.outcome, r.reason, r.count) for r in rows] == [
        ("mql", "disqualified", "Spam", 1),
        ("worked", "disqualified", "Student", 2),
        ("worked", "nurtured", "Next year", 1),
        ("handed_off", "rejected", budget, 1),
        ("accepted", "lost", price, 2),
        ("accepted", "lost_early", price, 1),
    ]
    assert (rows[0].stage_label, rows[0].outcome_label) == ("MQL or hand-raiser", "Disqualified")


def test_dropped_leads_idle_in_a_sales_status(manager):
    now = datetime(2025, 3, 20, 12, 0, tzinfo=UTC)
    old = now - timedelta(days=8)
    recent = now - timedelta(days=3)
    touched_long_ago = fact(status=Lead.Status.WORKING, mql_at=old, first_touch_at=old, last_touch_at=old)
    never_touched = fact(status=Lead.Status.MQL, mql_at=old - D, routed_at=old - H)
    fact(status=Lead.Status.WORKING, mql_at=old, first_touch_at=old, last_touch_at=recent)  # touched lately
    fact(status=Lead.Status.MQL, mql_at=old, routed_at=recent)  # routed lately (the clock restarted)
    fact(status=Lead.Status.DISQUALIFIED, mql_at=old)  # out of sales
    fact(status=Lead.Status.HANDED_OFF, mql_at=old, last_touch_at=old)  # the AE has it
    # Captured a year before the period: dropped anyway (not period-bound).
    ancient = fact(
        datetime(2024, 1, 5, tzinfo=UTC), status=Lead.Status.MQL, mql_at=datetime(2024, 1, 5, tzinfo=UTC)
    )

    dropped = funnel.dropped(scope_for(manager), 7, now=now)

    assert list(dropped) == [ancient, never_touched, touched_long_ago]
    assert dropped[1].idle_since == old - H  # routed, not its earlier MQL moment
    assert list(funnel.dropped(scope_for(manager), 9, now=now)) == [ancient]
    with time_machine.travel(now, tick=False):
        assert funnel.dropped(scope_for(manager), 7).count() == 3


def test_nothing_captured_is_zeros_not_an_error(manager):
    rows = funnel.cohort(scope_for(manager))
    assert [r.count for r in rows] == [0] * 6
    assert all(r.conversion is None and r.median_from_previous is None for r in rows)
    assert [r.count for r in funnel.flow(scope_for(manager))] == [0] * 6
    assert funnel.by_slice(scope_for(manager), "sdr") == []
    assert funnel.dispositions(scope_for(manager)) == []


def test_end_to_end_through_the_services_and_the_rebuilt_facts(inbound_sdr, ae, manager):
    """Three leads worked through the real services, the facts rebuilt, then read back."""
    from accounts.models import Stage
    from accounts.services import accept_handoff, hand_off, move_stage, update_opportunity
    from insight import facts, speed
    from sdr.services import dispose_lead, log_touch
    from tests.factories import qualifying, routed_lead

    monday = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 in Berlin: the office is open
    with time_machine.travel(monday, tick=False):
        won, disqualified, waiting = (routed_lead(inbound_sdr, now=monday) for _ in range(3))
    log_touch(lead_id=won.pk, by=inbound_sdr, kind="call", now=monday + 10 * M)
    log_touch(lead_id=disqualified.pk, by=inbound_sdr, kind="call", now=monday + 2 * H)
    with time_machine.travel(monday + 3 * H, tick=False):
        dispose_lead(
            lead_id=disqualified.pk,
            by=inbound_sdr,
            to=Lead.Status.DISQUALIFIED,
            reason="Spam or fake details",
        )
    opportunity = hand_off(lead_id=won.pk, by=inbound_sdr, qualifying=qualifying(), ae=ae, now=monday + 1 * H)
    accept_handoff(opportunity_id=opportunity.pk, by=ae, now=monday + D)
    with time_machine.travel(monday + 5 * D, tick=False):
        update_opportunity(
            opportunity_id=opportunity.pk, by=ae, amount=Decimal(42000), close_date=None, next_step=""
        )
        move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=Stage.objects.get(name="Won").pk)
    with time_machine.travel(monday + 6 * D, tick=False):
        facts.rebuild()

    scope = scope_for(manager)
    assert [(r.key, r.count) for r in funnel.cohort(scope)] == [
        ("captured", 3),
        ("mql", 3),
        ("worked", 2),
        ("handed_off", 1),
        ("accepted", 1),
        ("won", 1),
    ]
    (everyone,) = speed.speed(scope)
    assert (everyone.touches, everyone.median) == (2, (10 * M + 2 * H) / 2)
    assert everyone.median_business == (10 * M + 2 * H) / 2  # all within Berlin's office hours
    (fell_out,) = funnel.dispositions(scope)
    assert (fell_out.stage, fell_out.outcome, fell_out.count) == ("worked", "disqualified", 1)
    assert fell_out.reason.startswith("Spam or fake details")
    with time_machine.travel(monday + 20 * D, tick=False):
        assert list(funnel.dropped(scope, 7).values_list("lead_id", flat=True)) == [waiting.pk]


def test_dispositions_follow_the_close_out_not_the_status_now(
    catch_all_rule, ae_rule, inbound_sdr, ae, manager, django_assert_num_queries
):
    """Through the real services: one lead sent to nurture, later handed off, lost and
    recycled (status now 'recycled'); another disqualified, recycled and worked again (status
    now 'working'). Each counts where its close-out sent it, in the stage it was in then."""
    from accounts.models import Stage
    from accounts.services import accept_handoff, hand_off, move_stage
    from insight import facts
    from leads.services import capture_lead, transition_lead
    from sdr.services import dispose_lead, log_touch
    from tests.factories import qualifying

    def raise_hand(email):
        return capture_lead(
            email=email,
            details={"company": "Hooli"},
            via="api",
            hand_raiser=True,
            activity_kind="meeting_request",
        ).lead

    monday = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
    with time_machine.travel(monday, tick=False):
        nurtured, disqualified = raise_hand("later@hooli.example"), raise_hand("student@uni.example")
        log_touch(lead_id=nurtured.pk, by=inbound_sdr, kind="call")
        dispose_lead(lead_id=nurtured.pk, by=inbound_sdr, to="nurture", reason="No budget yet")
        dispose_lead(lead_id=disqualified.pk, by=inbound_sdr, to="disqualified", reason="Competitor")
    with time_machine.travel(monday + 10 * D, tick=False):  # both come back
        transition_lead(lead_id=disqualified.pk, to=Lead.Status.RECYCLED, reason="Changed employer")
        nurtured, disqualified = raise_hand("later@hooli.example"), raise_hand("student@uni.example")
        log_touch(lead_id=disqualified.pk, by=inbound_sdr, kind="email")
        log_touch(lead_id=nurtured.pk, by=inbound_sdr, kind="call")
        opportunity = hand_off(lead_id=nurtured.pk, by=inbound_sdr, qualifying=qualifying())
        accept_handoff(opportunity_id=opportunity.pk, by=ae)
    with time_machine.travel(monday + 40 * D, tick=False):
        lost = Stage.objects.get(name="Lost")
        move_stage(opportunity_id=opportunity.pk, by=ae, stage_id=lost.pk, lost_reason="Price", recycle=True)
        facts.rebuild()

    now = {lead.pk: lead.status for lead in Lead.objects.filter(pk__in=[nurtured.pk, disqualified.pk])}
    assert now == {nurtured.pk: Lead.Status.RECYCLED, disqualified.pk: Lead.Status.WORKING}
    asked = scope_for(manager)  # the question (it reads the facts' generation)
    with django_assert_num_queries(1):
        rows = funnel.dispositions(asked)
    assert [(r.stage, r.outcome, r.reason, r.count) for r in rows] == [
        ("mql", "disqualified", "Competitor", 1),  # never touched before it was disqualified
        ("worked", "nurtured", "No budget yet", 1),  # touched, then nurtured; handed off only later
        ("accepted", "lost", "Price", 1),  # 30 days after acceptance: not an early loss
    ]
    assert [r.outcome_label for r in rows] == ["Disqualified", "Sent back to nurture", "Lost"]


def test_the_page_asks_cohort_flow_and_slice_in_one_statement(manager, django_assert_num_queries):
    webinar = CampaignFactory(name="Spring webinar", channel=Channel.WEBINAR)
    path(INSIDE, 2 * H, 3 * H, campaign=webinar)
    path(INSIDE, 1 * H)
    scope = scope_for(manager)

    with django_assert_num_queries(1):
        funnel.prepare(scope, "campaign")
        cohort = {r.key: r.count for r in funnel.cohort(scope)}
        flow = {r.key: r.count for r in funnel.flow(scope)}
        slices = [
            (r.label, r.counts["captured"], r.counts["worked"]) for r in funnel.by_slice(scope, "campaign")
        ]

    assert (cohort["captured"], cohort["mql"], cohort["worked"]) == (2, 2, 1)
    assert (flow["captured"], flow["worked"]) == (2, 1)
    assert slices == [("No campaign", 1, 0), ("Spring webinar", 1, 1)]
    assert funnel.by_slice(scope_for(manager), "campaign") == funnel.by_slice(scope, "campaign")
