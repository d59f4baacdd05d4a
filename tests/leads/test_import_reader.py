"""An import's rows read and cleaned a batch ahead in a second process (``import_reader``):
the writer gets what it would have read itself, the reader's failures reach the writer, and a
writer that stops early is not held up by the reader."""

import io
import os
import signal

import pytest

from kit.csvfiles import ImportFormatError
from leads import importing
from leads.models import ImportJob, ImportRowError, Lead
from leads.services import import_reader, run_import
from tests.factories import SAMPLE_DATA

from .test_import import SALESFORCE, make_job

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this system")


@pytest.fixture(autouse=True)
def reading_ahead(monkeypatch):
    """The reader is off by default (IMPORT_READ_AHEAD); these tests are about it."""
    monkeypatch.setattr(import_reader, "READ_AHEAD", True)


def _report(job: ImportJob) -> tuple:
    job.refresh_from_db()
    counts = (
        job.state,
        job.file_format,
        job.processed_rows,
        job.created_count,
        job.existing_count,
        job.refused_count,
        job.warning_count,
    )
    rows = list(
        ImportRowError.objects.filter(job=job)
        .order_by("line")
        .values_list("line", "reason", "warning", "cells")
    )
    return counts, rows


@pytest.mark.django_db
def test_a_dry_run_reports_the_same_whether_the_rows_are_read_ahead_or_not(marketing, monkeypatch):
    reports = []
    for ahead in (True, False):
        monkeypatch.setattr(import_reader, "READ_AHEAD", ahead)
        monkeypatch.setattr("leads.services.imports.IMPORT_BATCH", 300)  # several batches
        job = make_job(marketing, SALESFORCE)
        ImportJob.objects.filter(pk=job.pk).update(dry_run=True)
        run_import(job_id=job.pk)
        reports.append(_report(job))

    ahead, in_process = reports
    assert ahead == in_process
    assert ahead[0][:3] == (ImportJob.State.DONE, "salesforce", 2000)
    assert len(ahead[1]) > 47  # the 47 refused rows and the warnings, each with its line and cells
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_an_import_read_ahead_stores_the_leads_a_single_process_would(marketing, monkeypatch):
    monkeypatch.setattr(import_reader, "READ_AHEAD", False)
    alone = run_import(job_id=make_job(marketing, SAMPLE_DATA / "hubspot_contacts_export.csv").pk)
    stored = list(Lead.objects.order_by("email").values_list("email", "company", "fit_score", "external_id"))
    Lead.objects.all().delete()

    monkeypatch.setattr(import_reader, "READ_AHEAD", True)
    ahead = run_import(job_id=make_job(marketing, SAMPLE_DATA / "hubspot_contacts_export.csv").pk)

    assert ahead.created_count == alone.created_count > 0
    assert (
        list(Lead.objects.order_by("email").values_list("email", "company", "fit_score", "external_id"))
        == stored
    )


def _batches(content: bytes, size: int) -> tuple[str, list[list[import_reader.ReadRow]]]:
    with import_reader.read_ahead(
        io.BytesIO(content), sheet_type="csv", mapping=None, skip=0, size=size
    ) as reading:
        return reading.file_format, list(reading.batches)


def test_the_reader_sends_cleaned_rows_and_refusals_with_their_cells():
    content = b"Email,First Name\r\n ANA@X.example ,Ana\r\nnot an email,Bo\r\ncy@x.example,=1+1\r\n"

    file_format, batches = _batches(content, size=2)

    assert file_format == "generic" and [len(batch) for batch in batches] == [2, 1]
    ana, refused, cy = [read for batch in batches for read in batch]
    assert (ana.line, ana.row.email, ana.row.first_name) == (2, "ana@x.example", "Ana")
    assert (refused.line, refused.row, refused.email, refused.cells) == (
        3,
        None,
        "not an email",
        ["not an email", "Bo"],
    )
    assert "not a valid address" in refused.reason
    assert cy.row.first_name == "'=1+1"  # cleaned in the reader: the formula neutralised


def _read_until_it_fails(content: bytes, received: list[str]) -> None:
    with import_reader.read_ahead(
        io.BytesIO(content), sheet_type="csv", mapping=None, skip=0, size=1
    ) as reading:
        for batch in reading.batches:
            row = batch[0].row
            assert row is not None
            received.append(row.email)


def test_a_file_the_reader_cannot_read_fails_in_the_writer_after_the_rows_before():
    # Far enough into the file that the reader has sent rows before it meets the bad bytes.
    emails = [f"p{i}@x.example" for i in range(5000)]
    content = ("Email\r\n" + "".join(f"{email}\r\n" for email in emails) + "c\xe9@x.example\r\n").encode(
        "latin-1"
    )
    received: list[str] = []

    with pytest.raises(ImportFormatError, match="UTF-8"):
        _read_until_it_fails(content, received)

    assert received and received == emails[: len(received)]


def test_a_file_without_an_email_column_fails_before_the_first_batch():
    with pytest.raises(ImportFormatError, match="No email column"):
        _batches(b"name,company\r\nAna,Acme\r\n", size=10)


def test_an_error_in_the_reader_reaches_the_writer(monkeypatch):
    def broken(raw, **options):
        raise KeyError("a bug in cleaning")

    monkeypatch.setattr(importing, "clean_row", broken)  # the forked reader inherits it

    with pytest.raises(RuntimeError, match=r"reader process failed(.|\n)*a bug in cleaning"):
        _batches(b"Email\r\na@x.example\r\n", size=10)


def test_a_writer_that_stops_early_is_not_held_up_by_the_reader():
    # 2,000 batches of one row: far more than the pipe holds, so the reader is still writing
    # when the writer stops after the first. Leaving must end it, not wait for the whole file.
    def too_long(signum, frame):
        raise TimeoutError("the writer waited for the reader")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(30)
    try:
        with (
            SALESFORCE.open("rb") as handle,
            import_reader.read_ahead(handle, sheet_type="csv", mapping=None, skip=0, size=1) as reading,
        ):
            first = next(reading.batches)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)

    assert first[0].line == 2
