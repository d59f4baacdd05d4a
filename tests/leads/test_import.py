import io
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leads.models import ImportJob, ImportRowError, Lead, LeadEvent
from leads.services import run_import
from tests.factories import SAMPLE_DATA
from tests.workers import real_worker

DATA = SAMPLE_DATA
SALESFORCE = DATA / "salesforce_leads_export.csv"
HUBSPOT = DATA / "hubspot_contacts_export.csv"


def confirmed(columns: int, *, email_column: int) -> dict[str, str]:
    """The mapping screen's post: the email column, the rest ignored, the default options."""
    data = {f"column_{index}": "" for index in range(columns)}
    return data | {f"column_{email_column}": "email", "merge_policy": "fill_blanks", "action": "import"}


def make_job(user, path=None, content=None, name=None, campaign=None):
    data = content if content is not None else Path(path).read_bytes()
    upload = SimpleUploadedFile(name or (Path(path).name if path else "upload.csv"), data, "text/csv")
    return ImportJob.objects.create(
        uploaded_by=user, file=upload, original_name=upload.name, campaign=campaign
    )


@pytest.mark.django_db
def test_salesforce_export_keeps_every_valid_row_and_reports_the_rest(marketing, campaign):
    job = run_import(job_id=make_job(marketing, SALESFORCE, campaign=campaign).pk)

    assert job.state == ImportJob.State.DONE and job.file_format == "salesforce"
    assert job.total_rows == job.processed_rows == 2000
    assert job.refused_count == 47 == ImportRowError.objects.filter(job=job, warning=False).count()
    assert job.created_count == Lead.objects.count()
    assert job.created_count + job.existing_count + job.refused_count == 2000
    refused = dict(ImportRowError.objects.filter(job=job, warning=False).values_list("line", "reason"))
    warned = dict(ImportRowError.objects.filter(job=job, warning=True).values_list("line", "reason"))
    assert 1000 not in refused  # its 5,005-character company is shortened, the row kept
    assert warned[1000].startswith("company: shortened from 5,005 to 200 characters")
    assert "x y@z.com" in refused[86] and refused[166] == "email is missing"
    assert set(Lead.objects.values_list("campaign", flat=True)) == {campaign.pk}


@pytest.mark.django_db
def test_the_same_person_twice_in_one_file_is_one_lead(marketing):
    run_import(job_id=make_job(marketing, SALESFORCE).pk)

    lead = Lead.objects.get(email="chad.morales@smith.info")
    # lines 4, 5 and 27 of the file are the same person in other case and with spaces: one
    # lead, one timeline line, and no "seen again" lines from its own file
    assert list(lead.events.values_list("kind", flat=True)) == [LeadEvent.Kind.CAPTURED]


@pytest.mark.django_db
def test_reimporting_the_same_file_creates_no_duplicates(marketing):
    first = run_import(job_id=make_job(marketing, SALESFORCE).pk)
    leads = Lead.objects.count()
    second = run_import(job_id=make_job(marketing, SALESFORCE).pk)

    assert Lead.objects.count() == leads
    assert second.created_count == 0
    assert second.existing_count == first.created_count + first.existing_count
    assert second.refused_count == first.refused_count


@pytest.mark.django_db
def test_people_in_both_crms_become_one_lead(marketing):
    run_import(job_id=make_job(marketing, SALESFORCE).pk)
    before = Lead.objects.count()
    hubspot = run_import(job_id=make_job(marketing, HUBSPOT).pk)

    assert hubspot.file_format == "hubspot"
    assert hubspot.existing_count > 0
    assert Lead.objects.count() == before + hubspot.created_count


@pytest.mark.django_db
def test_values_are_normalized_and_formulas_neutralized(marketing):
    run_import(job_id=make_job(marketing, SALESFORCE).pk)

    assert not Lead.objects.filter(first_name__regex=r"^[=+\-@]").exists()
    assert Lead.objects.filter(first_name__startswith="'=HYPERLINK").exists()
    assert Lead.objects.filter(company__contains="<script>").exists()  # kept as text, escaped on output
    assert set(Lead.objects.exclude(country="").values_list("country", flat=True)) <= {
        "US",
        "GB",
        "DE",
        "FR",
        "ES",
        "JP",
        "CA",
    }
    assert Lead.objects.filter(employees=501).exists()  # "501-1000"
    assert Lead.objects.filter(annual_revenue=2_500_000_000).exists()  # "2500.0M" and "$2,500,000,000"


@pytest.mark.django_db
def test_a_job_runs_once_even_if_the_task_is_delivered_twice(marketing):
    job = make_job(marketing, SALESFORCE)
    assert run_import(job_id=job.pk) is not None
    assert run_import(job_id=job.pk) is None
    assert ImportJob.objects.get(pk=job.pk).processed_rows == 2000


@pytest.mark.django_db
def test_a_file_without_an_email_column_fails_with_a_clear_message(marketing):
    job = run_import(job_id=make_job(marketing, content=b"name,company\r\nAna,Acme\r\n").pk)

    assert job.state == ImportJob.State.FAILED
    assert "email" in job.failure.lower()
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_fails_before_writing_anything(marketing):
    content = "Email,First Name\r\nana@x.example,Ana\r\nbo@x.example,Bj\xf6rn\r\n".encode("latin-1")
    job = run_import(job_id=make_job(marketing, content=content).pk)

    assert job.state == ImportJob.State.FAILED and "UTF-8" in job.failure
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_upload_page_runs_the_import_and_shows_the_report(
    client_for, marketing, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    client = client_for(marketing)
    with SALESFORCE.open("rb") as handle:
        response = client.post(reverse("leads:imports"), {"file": handle})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("leads:import_mapping", args=[job.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(response["Location"], confirmed(len(job.headers), email_column=5))
    assert response["Location"] == reverse("leads:import_detail", args=[job.pk])
    job.refresh_from_db()

    body = client.get(response["Location"]).content.decode()
    assert "Done" in body and "Refused rows" in body and "email is missing" in body
    assert f'id="created-count">{job.created_count:,}<' in body
    partial = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Refused rows" in partial


@pytest.mark.django_db
def test_markup_from_a_cell_is_never_rendered(client_for, marketing, manager):
    run_import(job_id=make_job(marketing, SALESFORCE).pk)
    body = client_for(manager).get(reverse("leads:list"), {"q": "Corp"}).content.decode()
    assert "&lt;script&gt;alert(" in body and "<script>alert(" not in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"\x00\x01binary", "not a CSV")],
)
def test_bad_upload_is_a_form_error(client_for, marketing, content, message):
    response = client_for(marketing).post(reverse("leads:imports"), {"file": io.BytesIO(content)})
    assert response.status_code == 400 and message in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_import_pages_are_for_marketing_and_managers_only(client_for, inbound_sdr, marketing):
    job = make_job(marketing, content=b"email\r\na@b.example\r\n")
    client = client_for(inbound_sdr)
    assert client.get(reverse("leads:import_detail", args=[job.pk])).status_code == 403
    assert (
        client.post(reverse("leads:imports"), {"file": io.BytesIO(b"email\na@b.example\n")}).status_code
        == 403
    )
    assert ImportJob.objects.count() == 1


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_import_from_redis(marketing):
    from config.celery import app
    from leads.tasks import run_import as task

    assert app.conf.broker_url.startswith("redis://"), "this test needs REDIS_URL pointing at Redis"
    job = make_job(marketing, SALESFORCE)
    with real_worker():
        task.delay(job.pk)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.is_finished:
                break
            time.sleep(0.2)

    assert job.state == ImportJob.State.DONE
    assert job.processed_rows == 2000 and job.refused_count == 47


@pytest.mark.django_db
def test_an_upload_survives_a_broker_outage_and_is_resumed(
    client_for, marketing, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    import time_machine
    from kombu.exceptions import OperationalError

    from leads import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.run_import, "delay", broker_down)
    client = client_for(marketing)
    response = client.post(reverse("leads:imports"), {"file": io.BytesIO(b"email\na@b.example\n")})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(response["Location"], confirmed(1, email_column=0))
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.state == ImportJob.State.QUEUED

    monkeypatch.undo()
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert tasks.resume_queued_imports() == 0  # too fresh to call stalled
    with time_machine.travel(job.created_at + timedelta(minutes=3)):
        assert tasks.resume_queued_imports() == 1
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and Lead.objects.filter(email="a@b.example").exists()


@pytest.mark.django_db
def test_an_import_whose_worker_died_resumes_where_it_stopped(marketing, monkeypatch, settings):
    from datetime import timedelta

    import time_machine

    from leads import tasks
    from leads.services import imports

    real_batch, batches = imports._import_batch, []

    def die_on_second_batch(job, batch, context, **options):
        if len(batches) == 1:
            raise KeyboardInterrupt("the worker was killed")  # not an error the import handles
        batches.append(len(batch))
        real_batch(job, batch, context, **options)

    monkeypatch.setattr(imports, "_import_batch", die_on_second_batch)
    monkeypatch.setattr(imports, "IMPORT_BATCH", 1000)  # the 2,000-row file in two batches
    job = make_job(marketing, SALESFORCE)
    with pytest.raises(KeyboardInterrupt):
        run_import(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == ImportJob.State.RUNNING and job.processed_rows == 1000
    monkeypatch.undo()

    settings.CELERY_TASK_ALWAYS_EAGER = True
    tasks.resume_queued_imports()  # still within the heartbeat window: left alone
    assert ImportJob.objects.get(pk=job.pk).state == ImportJob.State.RUNNING
    with time_machine.travel(job.heartbeat_at + timedelta(minutes=6)):
        tasks.resume_queued_imports()

    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.processed_rows == 2000
    assert job.created_count + job.existing_count + job.refused_count == 2000
    # nothing imported twice: one lead, one "captured" event and one link per new person, and
    # the people the file itself repeats counted as known, changing nothing
    assert job.created_count == Lead.objects.count() == job.lead_links.count()
    assert LeadEvent.objects.filter(kind="captured").count() == job.created_count
    assert not LeadEvent.objects.exclude(kind="captured").exists()
    assert job.updated_count == job.unchanged_count == 0
    assert job.refused_count == 47 and ImportRowError.objects.filter(job=job, warning=False).count() == 47


@pytest.mark.django_db(transaction=True)
def test_captures_racing_an_import_of_the_same_people_make_one_lead_each(marketing):
    from django.db import connection

    from leads.services import capture_lead
    from tests.concurrency import run_concurrently

    assert connection.vendor == "postgresql"
    job = make_job(marketing, SALESFORCE)
    people = ["dorit.strickland@heintze.org", "chad.morales@smith.info", "felisa.cabrera@murphy.com"]

    def capture_all():
        for email in people:
            capture_lead(email=email, details={}, via="api")

    outcomes = run_concurrently(lambda: run_import(job_id=job.pk), capture_all, capture_all)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    job.refresh_from_db()
    assert job.created_count + job.existing_count + job.refused_count == 2000
    for email in people:
        assert Lead.objects.filter(email=email).count() == 1
        assert LeadEvent.objects.filter(lead__email=email, kind="captured").count() == 1
