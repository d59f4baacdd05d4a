"""What an import row says the person did: a last-activity, last-engagement or recent-conversion
date becomes one activity at that date, counted in engagement as its kind says and decayed by
its age; none without such a date, none again on a re-import; counted by a dry run, taken out
by the undo."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads import importing
from leads.models import (
    NO_ENGAGEMENT,
    Activity,
    ActivityKind,
    ActivitySource,
    ActivityWeight,
    ImportJob,
    Lead,
)
from leads.scoring import engagement_value
from leads.services import capture_lead, undo_import, undo_offer
from tests.leads.import_jobs import csv_bytes, run

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

HS = ["Record ID", "First Name", "Email", "Lifecycle Stage", "Create Date", "Recent Conversion Date",
      "Recent Conversion", "Last Activity Date", "Last Engagement Date"]  # fmt: skip
SF = ["Lead ID", "Last Name", "Email", "Lead Status", "Created Date", "Last Activity"]


def hs_row(email="ana@lima.example", converted="2026-02-24", form="Pricing page form", last="", engaged=""):
    return [email.split("@")[0], "Ana", email, "lead", "2025-06-01", converted, form, last, engaged]


def test_the_crms_activity_columns_are_recognised_and_selectable_for_any_file():
    assert importing.suggest_mapping(HS)[5:] == [
        "recent_conversion_at",
        "recent_conversion",
        "last_activity_at",
        "last_engagement_at",
    ]
    assert importing.suggest_mapping(SF)[5] == "last_activity_at"
    headers = ["Mail", "Seen doing something"]
    columns = importing.columns_from_mapping(headers, ["email", "last_activity_at"])
    assert columns == {"email": 0, "last_activity_at": 1}
    assert "Last activity date" in importing.FIELD_LABELS.values()


def test_a_recent_conversion_is_a_form_fill_at_its_date_counted_and_decayed_by_its_age(marketing):
    job = run(marketing, csv_bytes(HS, hs_row(converted="2026-02-24 09:00")))

    lead = Lead.objects.get()
    activity = lead.activities.get()
    assert activity.kind == ActivityKind.FORM_FILL and activity.source == ActivitySource.IMPORT
    assert activity.occurred_at == datetime(2026, 2, 24, 9, 0, tzinfo=UTC)
    assert activity.note == "HubSpot: recent conversion 'Pricing page form'"
    assert activity.points == 20
    # 14 days old with the default 14-day half-life: half of a form fill's 20 points.
    assert engagement_value(lead.engagement_key, NOW) == pytest.approx(10.0)
    assert job.activity_count == 1


def test_a_last_activity_is_recorded_at_its_date_as_an_imported_activity_weighed_as_marketing_says(
    marketing,
):
    ActivityWeight.objects.create(kind=ActivityKind.IMPORTED, points=8)
    run(marketing, csv_bytes(SF, ["00Q1", "Lima", "ana@lima.example", "Working", "2025-01-01", "3/3/2026"]))

    activity = Lead.objects.get().activities.get()
    assert (activity.kind, activity.note, activity.points) == (
        ActivityKind.IMPORTED,
        "Salesforce: last activity",
        8,
    )
    assert activity.occurred_at == datetime(2026, 3, 3, tzinfo=UTC)
    assert engagement_value(Lead.objects.get().engagement_key, NOW) == pytest.approx(
        8 * 2 ** (-(7 + 9 / 24) / 14)
    )


def test_each_date_of_a_row_is_one_activity_and_one_moment_said_twice_is_one(marketing):
    run(
        marketing,
        csv_bytes(HS, hs_row(converted="2026-02-24", last="2026-02-24", engaged="2026-03-01")),
    )

    notes = sorted(Lead.objects.get().activities.values_list("kind", "note"))
    assert notes == [
        (ActivityKind.FORM_FILL, "HubSpot: recent conversion 'Pricing page form'"),
        (ActivityKind.IMPORTED, "HubSpot: last engagement"),
    ]


def test_a_row_without_an_activity_date_adds_none_nor_does_an_unreadable_one(marketing):
    job = run(
        marketing,
        csv_bytes(
            HS,
            hs_row(email="blank@x.example", converted="", form=""),
            hs_row(email="garbled@x.example", converted="soon", last="31/31/2026"),
        ),
    )

    assert job.created_count == 2 and job.refused_count == 0 and job.activity_count == 0
    assert not Activity.objects.exists()
    assert set(Lead.objects.values_list("engagement_key", flat=True)) == {NO_ENGAGEMENT}


def test_a_reimport_of_the_same_row_adds_no_second_activity(marketing):
    file = csv_bytes(HS, hs_row(converted="2026-02-24", last="2026-03-01"))
    run(marketing, file)
    key = Lead.objects.get().engagement_key

    again = run(marketing, file)

    assert Activity.objects.count() == 2 and again.activity_count == 0
    assert Lead.objects.get().engagement_key == key


def test_a_known_persons_new_conversion_adds_to_what_they_already_did(marketing):
    lead = capture_lead(email="ana@lima.example", details={}, via="web").lead  # a form fill now: 20
    job = run(marketing, csv_bytes(HS, hs_row(converted="2026-02-24 09:00")))

    lead.refresh_from_db()
    assert lead.activities.count() == 2 and job.activity_count == 1
    assert engagement_value(lead.engagement_key, NOW) == pytest.approx(30.0)


def test_a_future_date_is_recorded_at_the_import_and_not_again_on_a_reimport(marketing, frozen):
    file = csv_bytes(HS, hs_row(converted="2026-04-01"))
    run(marketing, file)
    frozen.shift(3600)
    run(marketing, file)

    activity = Activity.objects.get()
    assert activity.occurred_at == NOW  # clamped, as the first-seen date is
    assert "dated 2026-04-01 00:00 UTC in the file" in activity.note


def test_a_dry_run_counts_the_activities_and_writes_none(marketing):
    job = run(marketing, csv_bytes(HS, hs_row(), hs_row(email="bo@x.example", converted="")), dry_run=True)

    assert job.activity_count == 1 and job.created_count == 2
    assert not Activity.objects.exists() and not Lead.objects.exists()


def test_undo_takes_the_activities_and_their_engagement_back_out(marketing, frozen):
    known = capture_lead(email="ana@lima.example", details={}, via="web").lead
    key = Lead.objects.get(pk=known.pk).engagement_key
    job = run(marketing, csv_bytes(HS, hs_row(converted="2026-02-24"), hs_row(email="new@x.example")))
    assert Activity.objects.filter(import_job=job).count() == 2
    frozen.shift(3600)

    done = undo_import(job=job, by=marketing)

    assert done.activities == 1 and done.removed == 1  # the new lead's went with it
    known.refresh_from_db()
    assert list(known.activities.values_list("source", flat=True)) == ["web"]
    assert known.engagement_key == pytest.approx(key)


def test_the_activities_cost_the_same_queries_whatever_the_batch_size(marketing):
    def imported(n: int) -> int:
        rows = [hs_row(email=f"p{n}-{i}@x.example", converted=f"2026-02-{1 + i % 20:02}") for i in range(n)]
        with CaptureQueriesContext(connection) as queries:
            job = run(marketing, csv_bytes(HS, *rows))
        assert job.activity_count == n
        return len(queries)

    imported(1)  # the process reads the learned model (none) once, as any first writer does
    assert imported(3) == imported(30)


def test_the_import_page_says_how_many_activities_were_recorded(marketing, client_for):
    job = run(marketing, csv_bytes(HS, hs_row()))
    page = client_for(marketing).get(reverse("leads:import_detail", args=[job.pk]))
    assert 'id="activity-count">1</strong> activities recorded' in page.content.decode()


def test_an_activity_older_than_everything_else_still_counts_its_decayed_share(marketing):
    run(marketing, csv_bytes(HS, hs_row(converted=(NOW - timedelta(days=140)).date().isoformat())))

    value = engagement_value(Lead.objects.get().engagement_key, NOW)
    assert value == pytest.approx(20 * 2 ** (-140 / 14 - 9 / 24 / 14))


def test_the_undo_says_it_took_the_activities_out(marketing, client_for, frozen):
    capture_lead(email="ana@lima.example", details={}, via="web")
    job = run(marketing, csv_bytes(HS, hs_row()))
    frozen.shift(3600)
    offer = render_to_string("leads/_import_undo.html", {"job": job, "undo": undo_offer(job)})
    assert "takes out the activities it recorded" in offer

    response = client_for(marketing).post(reverse("leads:import_undo", args=[job.pk]))

    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.endswith("1 known leads put back. 1 imported activities were taken out.")


def test_keep_changes_nothing_on_a_known_person_not_even_their_activities(marketing):
    known = capture_lead(email="ana@lima.example", details={}, via="web").lead
    before = Lead.objects.values().get(pk=known.pk)

    job = run(
        marketing,
        csv_bytes(HS, hs_row(), hs_row(email="new@x.example")),
        merge_policy=ImportJob.MergePolicy.KEEP,
    )

    assert Lead.objects.values().get(pk=known.pk) == before
    assert not known.activities.filter(source=ActivitySource.IMPORT).exists()
    assert job.activity_count == 1  # the new person's
