"""A known person in an import: matched by the source's id or by email, merged under the
import's policy, one timeline line naming what changed and none when nothing did."""

from datetime import UTC, datetime

import pytest

from leads.models import ImportJob, ImportRowError, Lead, LeadEvent, LeadImport
from leads.services import capture_lead
from tests.leads.import_jobs import SF_HEADER, csv_bytes, run, sf_row

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
Policy = ImportJob.MergePolicy

FILE = csv_bytes(
    SF_HEADER,
    sf_row(company="File Co", title="CTO", phone="+49 30 1234567", industry="Software", country="Germany"),
)


@pytest.fixture
def known():
    """Ana, captured by a form with her company and industry but no title or phone."""
    lead = capture_lead(
        email="ana@lima.example", details={"company": "Kept Co", "industry": "Retail"}, via="web"
    ).lead
    lead.events.all().delete()  # only what the import writes is looked at
    return lead


def test_fill_blanks_adds_what_refinery_lacks_and_keeps_what_it_knows(marketing, known):
    job = run(marketing, FILE, merge_policy=Policy.FILL_BLANKS)

    known.refresh_from_db()
    assert (known.company, known.industry) == ("Kept Co", "Retail")
    assert (known.title, known.phone, known.country) == ("CTO", "+49 30 1234567", "DE")
    assert (known.external_system, known.external_id) == ("salesforce", "00Q1")
    assert known.first_seen_at == datetime(2024, 3, 1, tzinfo=UTC)  # the source's created date
    assert known.source_attributes == {"status": "Open - Not Contacted"}
    event = known.events.get()
    assert event.kind == LeadEvent.Kind.UPDATED and event.message.startswith(f"Import #{job.pk} filled ")
    assert "title" in event.message and "phone" in event.message and "company" not in event.message
    link = LeadImport.objects.get(job=job, lead=known)
    assert link.action == LeadImport.Action.UPDATED and link.before["title"] == ["", "CTO"]
    assert (job.created_count, job.existing_count, job.updated_count, job.unchanged_count) == (0, 1, 1, 0)
    assert known.status == Lead.Status.NURTURE and not known.activities.filter(source="import").exists()


def test_overwrite_lets_the_files_values_win(marketing, known):
    job = run(marketing, FILE, merge_policy=Policy.OVERWRITE)

    known.refresh_from_db()
    assert (known.company, known.industry, known.title) == ("File Co", "Software", "CTO")
    assert known.events.get().message.startswith(f"Import #{job.pk} overwrote ")
    assert LeadImport.objects.get(job=job).before["company"] == ["Kept Co", "File Co"]


def test_keep_changes_nothing_on_a_known_person(marketing, known):
    before = Lead.objects.values().get(pk=known.pk)
    job = run(marketing, FILE, merge_policy=Policy.KEEP)

    assert Lead.objects.values().get(pk=known.pk) == before
    assert not known.events.exists()
    assert LeadImport.objects.get(job=job, lead=known).action == LeadImport.Action.UNCHANGED
    assert (job.existing_count, job.updated_count, job.unchanged_count) == (1, 0, 1)


@pytest.mark.parametrize("policy", [Policy.FILL_BLANKS, Policy.OVERWRITE, Policy.KEEP])
def test_reimporting_the_same_file_changes_nothing_and_adds_no_line(marketing, policy):
    run(marketing, FILE, merge_policy=policy)
    lead = Lead.objects.get()
    state, events = Lead.objects.values().get(), LeadEvent.objects.count()

    again = run(marketing, FILE, merge_policy=policy)

    assert Lead.objects.values().get() == state and LeadEvent.objects.count() == events
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 1)
    assert LeadImport.objects.get(job=again, lead=lead).action == LeadImport.Action.UNCHANGED


def test_a_reimport_finds_a_person_by_the_source_id_when_the_email_changed(marketing):
    run(marketing, csv_bytes(SF_HEADER, sf_row(lead_id="00QAB", email="ana@old.example")))
    lead = Lead.objects.get()

    job = run(marketing, csv_bytes(SF_HEADER, sf_row(lead_id="00QAB", email="ana@new.example", title="CFO")))

    assert Lead.objects.count() == 1 and job.created_count == 0 and job.existing_count == 1
    lead.refresh_from_db()
    assert lead.email == "ana@old.example" and lead.title == "CFO"


def test_an_id_from_another_system_does_not_match(marketing):
    run(marketing, csv_bytes(SF_HEADER, sf_row(lead_id="12345", email="ana@old.example")))
    hubspot = csv_bytes(
        ["Record ID", "Email", "Lifecycle Stage", "Create Date"], ["12345", "bo@x.example", "lead", ""]
    )

    job = run(marketing, hubspot)

    assert job.file_format == "hubspot" and job.created_count == 1
    assert set(Lead.objects.values_list("email", "external_system")) == {
        ("ana@old.example", "salesforce"),
        ("bo@x.example", "hubspot"),
    }


def test_the_same_person_twice_counts_once_also_across_batches(marketing, monkeypatch):
    from leads.services import imports

    monkeypatch.setattr(imports, "IMPORT_BATCH", 2)
    rows = [
        sf_row(lead_id="00Q1", email="ana@lima.example"),
        sf_row(lead_id="00Q2", email="bo@x.example"),
        sf_row(lead_id="00Q3", email=" ANA@lima.example "),  # the same email, in the next batch
        sf_row(lead_id="00Q2", email="bo.new@x.example"),  # the same source id
    ]
    job = run(marketing, csv_bytes(SF_HEADER, *rows))

    assert (job.created_count, job.existing_count, job.updated_count, job.unchanged_count) == (2, 2, 0, 0)
    assert Lead.objects.count() == 2 == LeadEvent.objects.count()


def test_a_refused_row_keeps_its_cells_for_the_download(marketing):
    job = run(marketing, csv_bytes(SF_HEADER, sf_row(email="not-an-email"), sf_row(email="ok@x.example")))

    refused = ImportRowError.objects.get(job=job)
    assert refused.line == 2 and not refused.warning and "email" in refused.reason
    assert refused.cells == sf_row(email="not-an-email")


def test_a_row_kept_with_a_shortened_value_is_reported_as_a_warning(marketing):
    from django.db import transaction

    from leads import importing
    from leads.services import ScoringContext
    from leads.services.import_write import Seen, SourceRow, write_batch
    from tests.leads.import_jobs import queue

    job = queue(marketing, b"email\n")
    shortened = "company: shortened from 5,000 to 200 characters"
    row = importing.clean_row({"email": "long@x.example", "company": "C" * 200})
    with transaction.atomic():
        result = write_batch(
            job,
            [SourceRow(line=7, row=row, stage="", score="", warnings=[shortened])],
            ScoringContext.load(),
            seen=Seen(),
            system="",
            tag_ids=[],
        )

    assert Lead.objects.get().company == "C" * 200 and result.created == 1
    [warning] = result.warnings
    assert (warning.line, warning.reason, warning.warning) == (7, shortened, True)


def test_an_import_batch_costs_the_same_queries_whatever_its_size(marketing):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def imported(n: int, offset: int) -> int:
        for i in range(offset, offset + n, 2):  # every other person is known, with blanks to fill
            capture_lead(email=f"p{i}@x.example", details={}, via="web")
        rows = [
            sf_row(lead_id=f"{i}", email=f"p{i}@x.example", title="CTO") for i in range(offset, offset + n)
        ]
        with CaptureQueriesContext(connection) as queries:
            job = run(marketing, csv_bytes(SF_HEADER, *rows))
        assert job.created_count == job.updated_count == n // 2
        return len(queries)

    assert imported(4, 0) == imported(40, 100)
