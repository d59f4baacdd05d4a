"""Writing CSV for a spreadsheet: no cell is read as a formula, and the lines come one row at a
time, synchronously or not."""

import asyncio
import csv
import io
from concurrent.futures import ThreadPoolExecutor

import pytest

from kit.csvfiles import acsv_lines, csv_lines, safe_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+49 30 123", "'+49 30 123"),
        ("-5", "'-5"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ada = Lovelace", "Ada = Lovelace"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_quoted(value, written):
    assert safe_cell(value) == written


def test_the_lines_read_back_as_the_rows_with_a_byte_order_mark():
    rows = [['=HYPERLINK("http://evil.example")', 'say "hi",\nthen go'], [None, 3]]
    lines = list(csv_lines(["name", "note"], rows))
    assert len(lines) == 3 and lines[0].startswith("\ufeff")
    assert list(csv.reader(io.StringIO("".join(lines)[1:]))) == [
        ["name", "note"],
        ['\'=HYPERLINK("http://evil.example")', 'say "hi",\nthen go'],
        ["", "3"],
    ]


def test_the_asynchronous_lines_are_the_same():
    rows = [["-1", "x"], ["@me", None]]

    async def collect():
        async def source():
            for row in rows:
                yield row

        return [line async for line in acsv_lines(["a", "b"], source())]

    # A thread of its own: the browser tests' Playwright keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        lines = thread.submit(asyncio.run, collect()).result()
    assert lines == list(csv_lines(["a", "b"], rows))
