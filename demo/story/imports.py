"""Marketing moved in from Salesforce: some weeks ago Mo imported an export of 20 leads that
Salesforce had known for months (each with its Salesforce id and created date), tagged
"salesforce-2026". The leads' first-seen dates are those months-old created dates, so the
insight cohorts count them then, not in the week of the import; the lead list's "from import"
filter lists them.

The import runs through the product's own service (``leads.services.run_import``) at its moment
in the replay, which records the source system, the tag and each lead's link to the import."""

import csv
import io
import random
from datetime import timedelta

from django.core.files.base import ContentFile
from django.db import transaction

from demo.history import at_work
from leads.models import ImportJob, Tag
from leads.services import run_import
from team.models import Role, User

from .common import COMPANIES, FIRST, LAST, TITLES

FILE_NAME = "salesforce_leads_2026.csv"
TAG = "salesforce-2026"
ROWS = 20
# Mo imported the file about three and a half weeks before the demo's present.
IMPORTED_AGO = timedelta(days=24)
HEADERS = [
    "Lead ID", "First Name", "Last Name", "Title", "Company", "Email", "Phone", "Lead Source",
    "Lead Status", "Industry", "No. of Employees", "Annual Revenue", "Country", "Rating", "Created Date",
]  # fmt: skip
SOURCES = ["Trade Show", "Webinar", "Partner Referral", "Web", "Purchased List"]


def salesforce_id(i: int) -> str:
    """A Salesforce lead id (15 characters, "00Q" for a lead), the same on every seed."""
    return f"00QDEMO{i:08X}"


def import_rows(imported_at) -> list[dict]:
    """The export's rows: people Salesforce first saw two to ten months before the import."""
    rows = []
    for i in range(ROWS):
        rng = random.Random(f"salesforce-{i}")
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company, industry, employees, revenue, country = rng.choice(COMPANIES)
        created = imported_at - timedelta(days=rng.randint(60, 300))
        rows.append(
            {
                "Lead ID": salesforce_id(i),
                "First Name": first,
                "Last Name": last,
                "Title": rng.choice(TITLES),
                "Company": company,
                "Email": f"{first}.{last}.sf{i}@{company.lower().replace(' ', '')}.example".lower(),
                "Phone": f"+1 555 02{i:04d}",
                "Lead Source": rng.choice(SOURCES),
                # Two were closed in Salesforce without converting; the rest were never contacted.
                "Lead Status": "Closed - Not Converted" if i in (3, 11) else "Open - Not Contacted",
                "Industry": industry,
                "No. of Employees": str(employees),
                "Annual Revenue": revenue,
                "Country": country,
                "Rating": rng.choice(["Hot", "Warm", "Cold"]),
                "Created Date": created.date().isoformat(),
            }
        )
    return rows


def as_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADERS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def add_import_story(replay, now) -> bool:
    """Schedule Mo's Salesforce import (once: a re-seed finds the job and adds nothing).
    Returns whether it was planned."""
    if ImportJob.objects.filter(original_name=FILE_NAME).exists():
        return False
    replay.add(_import_story(now))
    return True


def _import_story(now):
    mo = User.objects.filter(role=Role.MARKETING).order_by("pk").first()
    if mo is None:
        return
    moment = at_work(mo, now - IMPORTED_AGO)
    rows = import_rows(moment)
    yield moment
    with transaction.atomic():
        tag = Tag.objects.filter(name__iexact=TAG).first() or Tag.objects.create(name=TAG)
        job = ImportJob(uploaded_by=mo, original_name=FILE_NAME, created_at=moment)
        job.file.save(FILE_NAME, ContentFile(as_csv(rows)), save=False)
        job.save()
        job.tags.add(tag)
    run_import(job_id=job.pk)
