"""The streamed CSV exports' shared part (``kit.exporting``): what a cell says whatever the
viewer's zone, a column made of several values, and the file streamed row by row under ASGI."""

import asyncio
import csv
import io
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient

from kit.exporting import Column, CsvRenderer, Export, amount, day, labels, person, utc, yes_no
from tests.factories import LeadFactory

NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)


def test_a_moment_is_written_in_utc_with_a_z_whatever_its_zone():
    berlin_evening = datetime(2026, 12, 7, 23, 30, 15, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert utc(berlin_evening) == "2026-12-07T22:30:15Z"
    assert utc(datetime(2026, 12, 7, 9, 30)) == "2026-12-07T09:30:00Z"  # naive: stored UTC
    assert utc(None) == ""


def test_days_amounts_and_flags_are_plain():
    assert day(date(2027, 1, 31)) == "2027-01-31" and day(None) == ""
    assert amount(Decimal("12000.50")) == "12000.50"
    assert amount(Decimal("1E+6")) == "1000000.00"  # never scientific notation
    assert amount(0) == "0.00"
    assert amount(None) == ""
    assert (yes_no(True), yes_no(False), yes_no(None)) == ("yes", "no", "")


def test_a_choice_is_written_as_its_label_and_a_person_as_their_name():
    status = labels([("mql", "MQL"), ("working", "Working (SDR)")])
    assert status("working") == "Working (SDR)" and status("") == "" and status("gone") == "gone"
    assert person("Ada", "Lovelace", "ada") == "Ada Lovelace"
    assert person("", "", "ada") == "ada" and person(None, None, None) == ""


def test_a_row_is_read_once_and_split_among_its_columns():
    export = Export(
        [
            Column.of("id"),
            Column.of("owner", "owner__first_name", "owner__last_name", "owner__username", format=person),
            Column.constant("currency", lambda: "EUR"),
            Column.of("at", "captured_at", format=utc),
        ]
    )
    assert export.keys == ["id", "owner__first_name", "owner__last_name", "owner__username", "captured_at"]
    assert export.header == ["id", "owner", "currency", "at"]
    assert export.row([7, "=Sam", "", "sam", NOW]) == ["7", "'=Sam", "EUR", "2026-12-07T09:30:00Z"]


def test_a_refusal_asked_for_as_csv_is_a_field_message_file():
    body = CsvRenderer().render({"captured": ["Enter a valid date/time."], "detail": "No."})
    rows = list(csv.reader(io.StringIO(body.decode()[1:])))
    assert rows == [["field", "message"], ["captured", "Enter a valid date/time."], ["detail", "No."]]


@pytest.mark.django_db(transaction=True)
def test_the_file_streams_block_by_block_under_asgi(manager, monkeypatch):
    """Production serves the ASGI app: there a synchronous iterator would be read whole into
    memory (Django warns), so the export hands Django an asynchronous one. The request runs in a
    thread of its own, on committed rows, and closes the connections it opened there."""
    monkeypatch.setattr("kit.exporting.BLOCK_LINES", 2)
    leads = [LeadFactory(first_name="=cmd|' /C calc'!A0"), LeadFactory(first_name="Bo"), LeadFactory()]
    client = AsyncClient()
    client.force_login(manager)

    async def download(url):
        try:
            response = await client.get(url)
            return response, [chunk async for chunk in response.streaming_content]
        finally:
            await sync_to_async(connections.close_all)()

    for url in ("/leads/export/", "/api/v1/leads/export/"):
        with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=1) as thread:
            warnings.filterwarnings("error", message="StreamingHttpResponse must consume")
            response, chunks = thread.submit(asyncio.run, download(url)).result()
        assert response.status_code == 200 and response.is_async
        assert len(chunks) == 2  # the header and a row, then two rows: a block at a time, not one buffer
        rows = list(csv.reader(io.StringIO(b"".join(chunks).decode()[1:])))
        assert {row[0] for row in rows[1:]} == {str(lead.pk) for lead in leads}
        assert "'=cmd|' /C calc'!A0" in {row[1] for row in rows[1:]}
