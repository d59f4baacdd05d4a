from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from leads.cleaning import normalize_email
from leads.models import Activity, ActivityKind, ActivitySource, Lead, LeadEvent, ScoringSettings
from leads.services import capture_lead
from tests.concurrency import run_concurrently

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def capture(email="ana@acme.example", **kwargs):
    kwargs.setdefault("details", {"first_name": "Ana", "company": "Acme"})
    kwargs.setdefault("via", ActivitySource.API)
    return capture_lead(email=normalize_email(email), **kwargs)


@pytest.mark.django_db
def test_new_email_makes_a_lead_with_its_activity_and_captured_event(campaign):
    result = capture(campaign=campaign, activity_kind=ActivityKind.DOWNLOAD)

    assert result.created
    lead = result.lead
    assert lead.campaign == campaign and lead.source == "paid_search"
    assert list(lead.activities.values_list("kind", "points")) == [("download", 10.0)]
    assert list(lead.events.values_list("kind", "to_status")) == [("captured", "nurture")]
    assert lead.engagement() == pytest.approx(10.0)


@pytest.mark.django_db
def test_repeat_visitor_becomes_an_activity_on_the_same_lead():
    first = capture("Ana@Acme.example").lead
    again = capture("  ANA@acme.EXAMPLE ", activity_kind=ActivityKind.WEBINAR, details={"title": "CTO"})

    assert not again.created
    assert again.lead.pk == first.pk
    assert Lead.objects.count() == 1
    assert Activity.objects.filter(lead=first).count() == 2
    assert LeadEvent.objects.filter(lead=first, kind=LeadEvent.Kind.RECAPTURED).exists()


@pytest.mark.django_db
def test_repeat_capture_fills_blanks_but_never_overwrites():
    capture(details={"first_name": "Ana", "company": "Acme"})
    lead = capture(details={"first_name": "Anastasia", "company": "Other", "title": "VP Sales"}).lead

    lead.refresh_from_db()
    assert (lead.first_name, lead.company, lead.title) == ("Ana", "Acme", "VP Sales")


@pytest.mark.django_db
def test_engagement_past_the_threshold_makes_an_mql():
    ScoringSettings.objects.update_or_create(pk=1, defaults={"mql_threshold": 25})
    lead = capture(activity_kind=ActivityKind.FORM_FILL).lead
    assert lead.status == Lead.Status.NURTURE

    lead = capture(activity_kind=ActivityKind.DOWNLOAD).lead  # 20 + 10 >= 25

    lead.refresh_from_db()
    assert lead.status == Lead.Status.MQL and lead.mql_at is not None
    assert lead.events.filter(kind="status", from_status="nurture", to_status="mql").count() == 1


@pytest.mark.django_db
def test_hand_raiser_is_sales_ready_whatever_the_score():
    lead = capture(activity_kind=ActivityKind.VISIT, hand_raiser=True).lead

    assert lead.hand_raiser and lead.status == Lead.Status.MQL
    assert lead.events.get(kind="captured").message == "Asked for a call."


@pytest.mark.django_db
def test_returning_lead_who_asks_for_a_call_jumps_to_mql():
    capture(activity_kind=ActivityKind.VISIT)
    lead = capture(activity_kind=ActivityKind.VISIT, hand_raiser=True).lead

    lead.refresh_from_db()
    assert lead.hand_raiser and lead.status == Lead.Status.MQL
    assert {"hand_raised", "status"} <= set(lead.events.values_list("kind", flat=True))


@pytest.mark.django_db
def test_capture_time_is_stored_in_utc():
    with time_machine.travel(NOW, tick=False):
        lead = capture().lead
    lead.refresh_from_db()
    assert lead.captured_at == NOW and lead.captured_at.utcoffset() == timedelta(0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_captures_of_one_email_make_one_lead():
    assert connection.vendor == "postgresql", "race tests need real PostgreSQL transactions"
    workers = 8
    outcomes = run_concurrently(
        *[lambda: capture("Race@Example.com", activity_kind=ActivityKind.VISIT)] * workers
    )

    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert Lead.objects.filter(email="race@example.com").count() == 1
    lead = Lead.objects.get(email="race@example.com")
    assert lead.activities.count() == workers
    assert lead.events.filter(kind="captured").count() == 1
    assert lead.events.filter(kind="recaptured").count() == workers - 1
    # every visit counted: no lost update on the engagement key
    assert lead.engagement() == pytest.approx(2.0 * workers, rel=1e-3)


@pytest.mark.django_db
def test_a_batch_mixing_new_known_and_repeated_people_matches_one_by_one_capture():
    from leads.services import Capture, capture_many

    known = capture("known@acme.example", details={"first_name": "Kim"}).lead
    results = capture_many(
        [
            Capture(email="new@acme.example", details={"company": "Acme"}, via="api"),
            Capture(email="known@acme.example", details={"company": "Acme"}, via="api", hand_raiser=True),
            Capture(
                email="new@acme.example",
                details={"company": "Other", "title": "CTO"},
                via="api",
                activity_kind=ActivityKind.DEMO_VIEW,
            ),
        ]
    )

    assert [r.created for r in results] == [True, False, False]
    new = Lead.objects.get(email="new@acme.example")
    assert (new.company, new.title) == ("Acme", "CTO")
    assert new.engagement() == pytest.approx(35)  # form fill 20 + demo view 15
    assert list(new.events.order_by("id").values_list("kind", flat=True)) == ["captured", "recaptured"]
    known.refresh_from_db()
    assert known.company == "Acme" and known.hand_raiser and known.status == Lead.Status.MQL
    assert known.activities.count() == 2


@pytest.mark.django_db
def test_logging_a_call_request_on_a_nurtured_lead_makes_it_an_mql(manager):
    from leads.services import log_activity

    lead = capture(activity_kind=ActivityKind.VISIT).lead
    log_activity(lead_id=lead.pk, kind=ActivityKind.MEETING_REQUEST, actor=manager)

    lead.refresh_from_db()
    assert lead.hand_raiser and lead.status == Lead.Status.MQL and lead.mql_at is not None
    assert list(lead.events.order_by("id").values_list("kind", "actor")) == [
        ("captured", None),
        ("hand_raised", manager.pk),
        ("status", manager.pk),
    ]
