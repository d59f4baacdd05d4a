from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from leads.models import ActivityKind, ActivitySource, Lead, LeadEvent, ScoringSettings
from leads.scoring import engagement_key
from leads.services import capture_lead, sweep_engagement_thresholds
from tests.concurrency import run_concurrently
from tests.factories import LeadFactory

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True, params=["one_statement", "portable"])
def sweep_path(request, monkeypatch):
    """Every sweep test runs on PostgreSQL's one-statement path and on the portable ORM path
    that the embedded SQLite mode uses."""
    from leads.services import sweeps

    monkeypatch.setattr(sweeps, "SWEEP_IN_ONE_STATEMENT", request.param == "one_statement")
    return request.param


def lead_with(points, status=Lead.Status.NURTURE, at=NOW, **kwargs):
    return LeadFactory(status=status, engagement_key=engagement_key(points, at, 14.0), **kwargs)


@pytest.mark.django_db
def test_mql_that_went_cold_goes_back_to_nurture():
    with time_machine.travel(NOW, tick=False):
        lead = capture_lead(
            email="a@b.example",
            details={},
            via=ActivitySource.API,
            activity_kind=ActivityKind.MEETING_REQUEST,
        ).lead
        ScoringSettings.objects.filter(pk=1).update(mql_threshold=40)
    with time_machine.travel(NOW + timedelta(days=27), tick=False):
        assert sweep_engagement_thresholds().cooled == 0  # 40 -> 10.5: not cold yet
    with time_machine.travel(NOW + timedelta(days=29), tick=False):
        result = sweep_engagement_thresholds()
    lead.refresh_from_db()
    assert result.cooled == 1 and lead.status == Lead.Status.NURTURE
    event = lead.events.get(kind="status", to_status="nurture")
    assert "decayed" in event.message and event.from_status == "mql"


@pytest.mark.django_db
def test_lowering_the_threshold_promotes_the_leads_above_it():
    ScoringSettings.load()
    above, below = lead_with(30), lead_with(20)
    with time_machine.travel(NOW, tick=False):
        assert sweep_engagement_thresholds().promoted == 0
        ScoringSettings.objects.filter(pk=1).update(mql_threshold=25)
        result = sweep_engagement_thresholds()
    above.refresh_from_db(), below.refresh_from_db()
    assert result.promoted == 1
    assert (above.status, below.status) == ("mql", "nurture")
    assert above.mql_at == NOW


@pytest.mark.django_db
def test_owned_mqls_and_hand_raisers_never_go_cold(inbound_sdr):
    ScoringSettings.load()
    owned = lead_with(50, status="mql", owner=inbound_sdr)
    raiser = lead_with(50, status="mql", hand_raiser=True)
    with time_machine.travel(NOW + timedelta(days=200), tick=False):
        assert sweep_engagement_thresholds().cooled == 0
    owned.refresh_from_db(), raiser.refresh_from_db()
    assert owned.status == raiser.status == "mql"


@pytest.mark.django_db
def test_a_second_sweep_changes_nothing():
    ScoringSettings.load()
    lead_with(60)
    lead_with(5, status="mql")
    with time_machine.travel(NOW, tick=False):
        first = sweep_engagement_thresholds()
        events = LeadEvent.objects.count()
        second = sweep_engagement_thresholds()
    assert (first.promoted, first.cooled) == (1, 1)
    assert (second.promoted, second.cooled) == (0, 0)
    assert LeadEvent.objects.count() == events


@pytest.mark.django_db
def test_sweep_works_in_bounded_batches():
    ScoringSettings.load()
    for _ in range(7):
        lead_with(60)
    with time_machine.travel(NOW, tick=False):
        assert sweep_engagement_thresholds(batch_size=3).promoted == 7
    assert Lead.objects.filter(status="mql").count() == 7


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_racing_move_each_lead_once():
    assert connection.vendor == "postgresql"
    ScoringSettings.load()
    leads = [lead_with(60) for _ in range(300)]

    def sweep():
        with time_machine.travel(NOW, tick=False):
            return sweep_engagement_thresholds(batch_size=50)

    results = run_concurrently(sweep, sweep)

    assert sum(r.promoted for r in results) == len(leads)
    assert LeadEvent.objects.filter(kind="status", to_status="mql").count() == len(leads)
    assert Lead.objects.filter(status="mql").count() == len(leads)


@pytest.mark.django_db
def test_the_sweep_task_runs_the_service():
    from leads.tasks import sweep_engagement_thresholds as task

    ScoringSettings.load()
    lead_with(60, at=datetime.now(UTC))
    assert task() == {"promoted": 1, "cooled": 0}
    assert task() == {"promoted": 0, "cooled": 0}
