"""Import jobs for the tests: a file (bytes, or a sample export) queued with options and run."""

import csv
import io
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile

from leads.models import ImportJob
from leads.services import run_import
from tests.factories import SAMPLE_DATA

SALESFORCE = SAMPLE_DATA / "salesforce_leads_export.csv"
HUBSPOT = SAMPLE_DATA / "hubspot_contacts_export.csv"


def csv_bytes(header: list[str], *rows: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def queue(user, content: bytes | Path, *, name: str = "upload.csv", tags=(), **options) -> ImportJob:
    if isinstance(content, Path):
        name, content = content.name, content.read_bytes()
    job = ImportJob.objects.create(
        uploaded_by=user, file=SimpleUploadedFile(name, content, "text/csv"), original_name=name, **options
    )
    job.tags.set(tags)
    return job


def run(user, content: bytes | Path, **options) -> ImportJob:
    job = run_import(job_id=queue(user, content, **options).pk)
    assert job is not None and job.state == ImportJob.State.DONE, job and job.failure
    return job


SF_HEADER = ["Lead ID", "First Name", "Last Name", "Title", "Company", "Email", "Phone", "Lead Status",
             "Industry", "No. of Employees", "Country", "Created Date"]  # fmt: skip
HS_HEADER = ["Record ID", "First Name", "Last Name", "Email", "Job Title", "Company Name",
             "Lifecycle Stage", "Lead Status", "Create Date", "HubSpot Score"]  # fmt: skip


def sf_row(
    lead_id="00Q1",
    first="Ana",
    last="Lima",
    title="",
    company="",
    email="ana@lima.example",
    phone="",
    status="Open - Not Contacted",
    industry="",
    employees="",
    country="",
    created="2024-03-01",
) -> list[str]:
    return [lead_id, first, last, title, company, email, phone, status, industry, employees, country, created]
