"""Undoing an import within its period: the leads it created that nobody touched are removed,
touched ones kept, its updates put back where nobody changed the field since; refusals."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.template.loader import render_to_string
from django.urls import reverse

from leads.models import ImportJob, Lead, LeadEvent, LeadImport
from leads.services import (
    IMPORT_UNDO_PERIOD,
    ImportUndoRefused,
    capture_lead,
    log_activity,
    undo_import,
    undo_offer,
    update_lead,
)
from tests.leads.import_jobs import SF_HEADER, csv_bytes, run, sf_row

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

FILE = csv_bytes(
    SF_HEADER,
    sf_row(lead_id="1", email="untouched@x.example"),
    sf_row(lead_id="2", email="touched@x.example"),
    sf_row(lead_id="3", email="known@x.example", title="CTO", company="File Co", phone="+49 30 1234567"),
    sf_row(lead_id="4", email="closed@x.example", status="Closed - Not Converted"),
)


@pytest.fixture
def imported(marketing, frozen):
    """The file imported over two known leads (one of them later disqualified by it), an hour ago."""
    capture_lead(email="known@x.example", details={}, via="web")
    capture_lead(email="closed@x.example", details={}, via="web")
    job = run(marketing, FILE)
    frozen.shift(3600)
    return job


def test_undo_removes_untouched_new_leads_keeps_touched_ones_and_puts_updates_back(imported, marketing):
    log_activity(lead_id=Lead.objects.get(email="touched@x.example").pk, kind="visit")
    known = Lead.objects.get(email="known@x.example")
    known.company = "Typed By Hand"
    update_lead(lead=known, fields=["company"], actor=marketing)

    done = undo_import(job=imported, by=marketing)

    assert (done.removed, done.kept, done.reverted, done.not_reverted) == (1, 1, 2, 0)
    assert set(Lead.objects.values_list("email", flat=True)) == {
        "touched@x.example",
        "known@x.example",
        "closed@x.example",
    }
    known.refresh_from_db()
    assert (known.title, known.phone, known.external_id) == ("", "", "")  # put back
    assert known.company == "Typed By Hand"  # changed since the import: kept
    line = known.events.filter(message__startswith=f"Import #{imported.pk} undone").get()
    assert "title" in line.message and "kept company" in line.message
    closed = Lead.objects.get(email="closed@x.example")
    assert closed.status == Lead.Status.NURTURE and closed.status_reason == ""
    imported.refresh_from_db()
    assert imported.state == ImportJob.State.UNDONE
    assert imported.undone_by == marketing and imported.undone_at == NOW + timedelta(hours=1)


def test_undo_is_refused_twice_after_its_period_and_for_a_dry_run(imported, marketing, frozen):
    undo_import(job=imported, by=marketing)
    with pytest.raises(ImportUndoRefused, match="already undone"):
        undo_import(job=imported, by=marketing)

    late = run(marketing, csv_bytes(SF_HEADER, sf_row(email="late@x.example")))
    frozen.shift(IMPORT_UNDO_PERIOD.total_seconds() + 1)
    assert not undo_offer(late).possible
    with pytest.raises(ImportUndoRefused, match="more than 7 days ago"):
        undo_import(job=late, by=marketing)
    assert Lead.objects.filter(email="late@x.example").exists()

    dry = run(marketing, csv_bytes(SF_HEADER, sf_row(email="dry@x.example")), dry_run=True)
    with pytest.raises(ImportUndoRefused, match="dry run"):
        undo_import(job=dry, by=marketing)


def test_the_undo_form_says_what_will_happen_and_posts_the_undo(imported, client_for, marketing):
    offer = undo_offer(imported)
    html = render_to_string("leads/_import_undo.html", {"job": imported, "undo": offer})
    assert "removes the 2 leads this import created" in html and "on 2 known leads" in html
    assert reverse("leads:import_undo", args=[imported.pk]) in html and 'method="post"' in html

    client = client_for(marketing)
    url = reverse("leads:import_undo", args=[imported.pk])
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:import_detail", args=[imported.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Import #{imported.pk} undone: 2 new leads removed, 2 known leads put back."
    ]
    again = client.post(url)
    assert [str(m) for m in get_messages(again.wsgi_request)][
        -1
    ] == f"Import #{imported.pk} was already undone."


def test_only_importers_may_undo(imported, client_for, inbound_sdr, ae):
    url = reverse("leads:import_undo", args=[imported.pk])
    for user in (inbound_sdr, ae):
        assert client_for(user).post(url).status_code == 403
    assert client_for(inbound_sdr).post(reverse("leads:import_undo", args=[99999])).status_code == 403
    imported.refresh_from_db()
    assert imported.state == ImportJob.State.DONE and LeadImport.objects.filter(job=imported).count() == 4


@pytest.mark.django_db(transaction=True)
def test_two_people_undoing_at_once_undo_it_once(marketing, manager):
    from django.db import connection

    from tests.concurrency import run_concurrently

    assert connection.vendor == "postgresql"
    job = run(marketing, FILE)
    outcomes = run_concurrently(
        lambda: undo_import(job=job, by=marketing), lambda: undo_import(job=job, by=manager)
    )

    refused = [o for o in outcomes if isinstance(o, ImportUndoRefused)]
    assert len(refused) == 1 and "already undone" in str(refused[0])
    assert not Lead.objects.exists()
    assert LeadEvent.objects.count() == 0
