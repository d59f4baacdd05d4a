from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from leads.models import NO_ENGAGEMENT, ActivityKind, ActivitySource, Lead, LeadEvent, ScoringSettings
from leads.scoring import (
    active_criteria,
    add_engagement,
    compute_fit,
    engagement_digit,
    engagement_key,
    engagement_value,
    fit_of,
    threshold_key,
)
from leads.services import capture_lead, change_half_life, log_activity, recompute_fit_scores
from tests.factories import LeadFactory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HL = 14.0


def test_engagement_halves_every_half_life():
    key = engagement_key(80, NOW, HL)
    assert engagement_value(key, NOW, HL) == pytest.approx(80)
    assert engagement_value(key, NOW + timedelta(days=14), HL) == pytest.approx(40)
    assert engagement_value(key, NOW + timedelta(days=28), HL) == pytest.approx(20)


def test_points_add_to_the_decayed_value():
    key = engagement_key(40, NOW, HL)
    later = NOW + timedelta(days=14)
    assert engagement_value(add_engagement(key, 10, later, HL), later, HL) == pytest.approx(30)


def test_no_engagement_is_zero_and_sorts_last():
    assert engagement_value(NO_ENGAGEMENT, NOW, HL) == 0
    assert engagement_digit(NO_ENGAGEMENT, NOW, HL) == 4
    assert engagement_key(0.001, datetime(2020, 1, 1, tzinfo=UTC), 0.5) > NO_ENGAGEMENT


@given(
    points=st.lists(st.floats(min_value=0.1, max_value=500), min_size=2, max_size=6),
    ages=st.lists(st.floats(min_value=0, max_value=400), min_size=2, max_size=6),
)
@settings(max_examples=200, deadline=None)
def test_ordering_by_the_stored_key_is_ordering_by_todays_value(points, ages):
    keys = [engagement_key(p, NOW - timedelta(days=a), HL) for p, a in zip(points, ages, strict=False)]
    today = [engagement_value(k, NOW, HL) for k in keys]
    for i in range(len(keys)):
        for j in range(len(keys)):
            if keys[i] < keys[j]:
                assert today[i] <= today[j]


@given(value=st.floats(min_value=0.5, max_value=1000), days=st.floats(min_value=0, max_value=365))
@settings(max_examples=200, deadline=None)
def test_threshold_key_splits_leads_exactly_at_the_threshold(value, days):
    key = engagement_key(value, NOW - timedelta(days=days), HL)
    today = engagement_value(key, NOW, HL)
    for threshold in (10.0, 40.0):
        if abs(today - threshold) > 1e-6:
            assert (key >= threshold_key(threshold, NOW, HL)) == (today >= threshold)


@pytest.mark.django_db
def test_lead_engagement_decays_on_read_with_a_frozen_clock():
    with time_machine.travel(NOW, tick=False):
        lead = capture_lead(
            email="a@b.example",
            details={},
            via=ActivitySource.API,
            activity_kind=ActivityKind.MEETING_REQUEST,
        ).lead
        assert lead.engagement() == pytest.approx(40)
    with time_machine.travel(NOW + timedelta(days=14), tick=False):
        lead.refresh_from_db()
        assert lead.engagement() == pytest.approx(20)
        assert lead.grade()[1] == "3"  # 20 is below 30: digit 3


ANY_TIME = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))


@given(
    engaged_at=ANY_TIME,
    at=ANY_TIME,
    points=st.floats(min_value=0.01, max_value=1000),
    added=st.floats(min_value=0.01, max_value=1000),
    half_life=st.floats(min_value=0.5, max_value=365),
)
@settings(max_examples=300, deadline=None)
def test_adding_points_never_overflows_whatever_the_dates(engaged_at, at, points, added, half_life):
    key = add_engagement(engagement_key(points, engaged_at, half_life), added, at, half_life)
    assert key > NO_ENGAGEMENT and key == key  # a finite number, not an OverflowError or NaN
    # Today's value is never less than the newest points decayed to today, and never an error.
    assert engagement_value(key, NOW, half_life) >= 0


@given(
    points=st.floats(min_value=0.01, max_value=1000),
    added=st.floats(min_value=0.01, max_value=1000),
    days=st.floats(min_value=-3000, max_value=3000),
)
@settings(max_examples=300, deadline=None)
def test_adding_points_is_the_sum_of_the_decayed_values(points, added, days):
    at = NOW + timedelta(days=days)
    key = add_engagement(engagement_key(points, NOW, HL), added, at, HL)
    expected = points * 2 ** (-days / HL) + added
    assert engagement_value(key, at, HL) == pytest.approx(expected, rel=1e-9)


@pytest.mark.django_db
def test_an_activity_dated_decades_back_on_an_engaged_lead_is_recorded():
    with time_machine.travel(NOW, tick=False):
        lead = LeadFactory()
        log_activity(lead_id=lead.pk, kind=ActivityKind.DEMO_VIEW)
        log_activity(
            lead_id=lead.pk, kind=ActivityKind.DEMO_VIEW, occurred_at=datetime(1980, 1, 1, tzinfo=UTC)
        )
        lead.refresh_from_db()
        # 1980's points decayed to nothing: today's engagement is the recent activity's.
        assert lead.engagement() == pytest.approx(15, rel=1e-3)
        assert lead.activities.count() == 2


@pytest.mark.django_db
def test_an_old_activity_adds_its_decayed_points():
    lead = LeadFactory()
    log_activity(
        lead_id=lead.pk, kind=ActivityKind.DEMO_VIEW, occurred_at=datetime.now(UTC) - timedelta(days=14)
    )
    lead.refresh_from_db()
    assert lead.engagement() == pytest.approx(7.5, rel=1e-3)


@pytest.mark.django_db
def test_fit_is_explained_criterion_by_criterion(profile):
    lead = Lead(industry="Technology", employees=300, seniority="individual", country="FR")
    fit = compute_fit(lead)

    lines = {r.criterion.field: (r.matched, r.points, r.lead_value) for r in fit.results}
    assert lines == {
        "industry": (True, 40, "Technology"),
        "employees": (True, 30, "300"),
        "seniority": (False, 0, "Individual contributor"),
        "country": (False, 0, "FR"),
    }
    assert (fit.score, fit.grade) == (70, "B")


@pytest.mark.django_db
def test_set_based_rescore_agrees_with_the_per_lead_score(profile):
    shapes = [
        {"industry": "Technology", "employees": 100, "seniority": "vp", "country": "US"},
        {"industry": "Financial Services", "employees": 5000, "seniority": "manager", "country": ""},
        {"industry": "", "employees": None, "seniority": "", "country": "DE"},
        {"industry": "Retail", "employees": 99, "seniority": "c_level", "country": "DE"},
        {"industry": "Technology", "employees": 5001, "seniority": "director", "country": "FR"},
    ]
    leads = [LeadFactory(fit_score=0, fit_grade="D", **shape) for shape in shapes]

    assert recompute_fit_scores(batch_size=2) == len(leads)

    for lead in leads:
        lead.refresh_from_db()
        expected = compute_fit(lead)
        assert (lead.fit_score, lead.fit_grade) == (expected.score, expected.grade), lead.industry


@pytest.mark.django_db
def test_the_import_s_score_alone_agrees_with_the_explained_one(profile):
    criteria = active_criteria()
    shapes = [
        {"industry": "Technology", "employees": 100, "seniority": "vp", "country": "US"},
        {"industry": "Financial Services", "employees": 5000, "seniority": "manager", "country": ""},
        {"industry": "", "employees": None, "seniority": "", "country": "DE"},
        {"industry": "Technology", "employees": 300, "seniority": "individual", "country": "FR"},
    ]
    scores = [fit_of(Lead(**shape), criteria) for shape in shapes]

    assert scores == [
        (compute_fit(Lead(**shape)).score, compute_fit(Lead(**shape)).grade) for shape in shapes
    ]
    assert scores[3] == (70, "B")
    assert fit_of(Lead(industry="Technology"), []) == (0, "D")


@pytest.mark.django_db
def test_changing_the_profile_rescores_every_lead(profile):
    lead = LeadFactory(industry="Retail", employees=10, fit_score=0)
    recompute_fit_scores()
    lead.refresh_from_db()
    assert lead.fit_score == 0

    profile.criteria.filter(field="industry").update(values="Retail")
    recompute_fit_scores()
    lead.refresh_from_db()
    assert (lead.fit_score, lead.fit_grade) == (40, "C")


@pytest.mark.django_db
def test_a_rescore_writes_only_the_leads_it_changes_and_puts_each_new_grade_on_the_timeline(profile):
    """The re-score touches only leads whose score moves (at a million leads, a profile edit
    rewrites the few it concerns, not the table), says on each timeline why the grade moved
    (that event is also what the insight facts follow), and a re-run writes nothing."""
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        regraded = LeadFactory(industry="Retail", employees=10, fit_score=0, fit_grade="D")
        rescored = LeadFactory(industry="Energy", country="DE", fit_score=0, fit_grade="D")  # 10: D still
        unchanged = LeadFactory(industry="Energy", employees=10, fit_score=0, fit_grade="D")
    profile.criteria.filter(field="industry").update(values="Retail")

    with time_machine.travel(NOW, tick=False):
        assert recompute_fit_scores(batch_size=2) == 2
    for lead in (regraded, rescored, unchanged):
        lead.refresh_from_db()
    assert [(lead.fit_score, lead.fit_grade) for lead in (regraded, rescored, unchanged)] == [
        (40, "C"),
        (10, "D"),
        (0, "D"),
    ]
    assert [lead.updated_at for lead in (regraded, rescored, unchanged)] == [
        NOW,
        NOW,
        NOW - timedelta(days=1),
    ]
    events = LeadEvent.objects.filter(kind=LeadEvent.Kind.UPDATED)
    assert [(e.lead_id, e.at, e.message) for e in events] == [
        (regraded.pk, NOW, "Fit grade D → C: the ideal-customer profile changed.")
    ]

    assert recompute_fit_scores() == 0
    assert LeadEvent.objects.count() == 1


@pytest.mark.django_db
def test_numeric_criteria_compare_decimals(profile):
    profile.criteria.create(field="annual_revenue", minimum=Decimal("1000000"), points=100)
    poor = compute_fit(Lead(annual_revenue=Decimal("999999.99")))
    assert not any(r.criterion.field == "annual_revenue" and r.matched for r in poor.results)
    rich = compute_fit(Lead(annual_revenue=Decimal("2500000.00")))
    assert any(r.criterion.field == "annual_revenue" and r.matched for r in rich.results)


@pytest.mark.django_db
def test_changing_the_half_life_keeps_todays_engagement():
    ScoringSettings.load()
    with time_machine.travel(NOW, tick=False):
        lead = capture_lead(email="a@b.example", details={}, via=ActivitySource.API).lead
        before = lead.engagement()
        change_half_life(new_half_life_days=7)
        lead.refresh_from_db()
        assert ScoringSettings.load().half_life_days == 7
        assert lead.engagement() == pytest.approx(before)
    with time_machine.travel(NOW + timedelta(days=7), tick=False):
        assert lead.engagement() == pytest.approx(before / 2)


@pytest.mark.django_db
def test_capture_scores_with_the_latest_profile_once_it_changes(profile):
    from leads.services import ScoringContext, scoring_changed

    first = capture_lead(email="a@b.example", details={"industry": "Retail"}, via=ActivitySource.API).lead
    assert first.fit_score == 0
    profile.criteria.filter(field="industry").update(values="Retail")
    assert ScoringContext.load().criteria[0].values != "Retail"  # still the process's copy
    scoring_changed()
    second = capture_lead(email="c@d.example", details={"industry": "Retail"}, via=ActivitySource.API).lead
    assert second.fit_score == 40
