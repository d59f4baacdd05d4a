"""Insight counts a person from when they arrived: an imported lead that its source system
created in March 2025 is in March 2025's cohort, not in the month of the import, while speed
to lead still counts from the capture into Refinery (when someone here could act)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from insight import facts, funnel
from insight.models import LeadFact
from insight.scope import Period, Scope
from leads.models import Activity, ActivityKind, ActivitySource, Lead
from tests.factories import LeadFactory
from tests.insight.test_pages import tables_of

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # the import
CREATED_IN_SALESFORCE = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
MARCH_2025 = Period(date(2025, 3, 1), date(2025, 3, 31), BERLIN)
NOVEMBER_2026 = Period(date(2026, 11, 1), date(2026, 11, 30), BERLIN)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def imported(**fields) -> Lead:
    """A lead an import brought in today from a Salesforce row created in March 2025."""
    return LeadFactory(
        captured_at=NOW,
        first_seen_at=CREATED_IN_SALESFORCE,
        external_created_at=CREATED_IN_SALESFORCE,
        external_system="salesforce",
        external_id="00QE7567734D7C1",
        **fields,
    )


def cohort_size(user, period) -> int:
    return {row.key: row.count for row in funnel.cohort(Scope.for_user(user, period))}["captured"]


def test_the_rollup_keeps_both_moments(manager):
    lead = imported()
    captured_here = LeadFactory(captured_at=NOW - timedelta(days=2))

    facts.rebuild()

    fact = LeadFact.objects.get(lead=lead)
    assert (fact.first_seen_at, fact.captured_at) == (CREATED_IN_SALESFORCE, NOW)
    assert LeadFact.objects.get(lead=captured_here).first_seen_at == NOW - timedelta(days=2)


def test_an_imported_lead_counts_in_the_month_its_source_first_saw_it(manager):
    imported()
    LeadFactory(captured_at=NOW - timedelta(days=1))  # a lead captured here this month
    facts.rebuild()

    assert cohort_size(manager, MARCH_2025) == 1
    assert cohort_size(manager, NOVEMBER_2026) == 1  # only the one captured here


def test_speed_to_lead_counts_from_the_capture_not_from_first_seen(manager, inbound_sdr):
    lead = imported(owner=inbound_sdr, status=Lead.Status.WORKING)
    Activity.objects.create(
        lead=lead,
        kind=ActivityKind.CALL,
        source=ActivitySource.MANUAL,
        occurred_at=NOW + timedelta(minutes=30),
        actor=inbound_sdr,
    )
    facts.rebuild(now=NOW + timedelta(hours=1))

    fact = LeadFact.objects.get(lead=lead)
    assert fact.response_seconds == 30 * 60  # not twenty months


def test_the_funnel_page_shows_march_s_cohort_and_says_the_rule(client_for, manager):
    imported()
    facts.rebuild()
    client = client_for(manager)

    march = client.get("/insight/funnel/", {"start": "2025-03-01", "end": "2025-03-31"})
    november = client.get("/insight/funnel/", {"start": "2026-11-01", "end": "2026-11-24"})

    assert tables_of(march)["cohort"][1][:2] == ["First seen", "1"]
    assert tables_of(november)["cohort"][1][:2] == ["First seen", "0"]
    body = march.content.decode()
    assert "an imported lead counts from when its source system first saw the person" in body
    assert "Speed to lead counts from the capture into Refinery" in body
