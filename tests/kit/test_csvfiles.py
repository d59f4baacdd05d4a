"""The CSV reader every import shares (``kit.csvfiles``): header keys, finding columns, and the
records of a file. The imports' own tests (tests/leads/test_import_parsing.py,
tests/renewals/test_import.py, tests/accounts/test_prospecting.py) read whole files through it."""

import io

import pytest

from kit.csvfiles import (
    ImportFormatError,
    cells_by_key,
    describe_headers,
    find_columns,
    header_key,
    header_row,
    records,
)
from leads.importing import map_headers
from renewals.services import import_rows


@pytest.mark.parametrize(
    ("header", "spaces", "key"),
    [
        ("  First_Name ", "_", "first name"),
        ("EMAIL   ADDRESS", "_", "email address"),
        ("E-mail", "_", "e-mail"),
        ("E-mail", "_-", "e mail"),
        ("Auto-Renew", "_-", "auto renew"),
    ],
)
def test_a_header_key_ignores_case_spacing_and_the_characters_read_as_spaces(header, spaces, key):
    assert header_key(header, spaces=spaces) == key


def test_the_lead_import_keeps_dashes_and_the_contract_import_folds_them():
    """The two imports' keys differ on "-", and each keeps the headers it always matched."""
    assert map_headers(["E-mail", "First-Name"], "generic") == {"email": 0}
    with pytest.raises(ImportFormatError, match="No email column"):
        map_headers(["E mail"], "generic")
    columns = import_rows.map_columns(["Domain", "Start-Date", "End_Date", "annual-value", "Auto-Renew"])
    assert columns == {"domain": 0, "start_date": 1, "end_date": 2, "annual_value": 3, "auto_renew": 4}


def test_the_first_table_and_the_first_column_win_and_a_column_gives_one_key():
    headers = ["Mobile", "Phone", "Phone"]
    tables = [{"mobile": "phone"}, {"phone": "phone", "mobile": "mobile"}]
    assert find_columns(headers, tables) == {"phone": 0}


def test_a_refusal_lists_at_most_twenty_headers():
    headers = [f"Column {i}" for i in range(23)]
    assert describe_headers(headers).endswith("'Column 19' and 3 more")
    assert describe_headers(headers, count_rest=False).endswith("'Column 19'")
    assert describe_headers([]) == "none"


def test_records_start_on_their_line_skip_blank_ones_and_leave_the_file_open():
    file = io.BytesIO('\ufeffEmail,Note\r\n\r\na@x.example,"two\r\nlines"\r\n,\r\nb@x.example\r\n'.encode())
    rows = records(file)
    assert header_row(rows) == ["Email", "Note"]
    assert list(rows) == [(3, ["a@x.example", "two\r\nlines"]), (6, ["b@x.example"])]
    assert not file.closed
    assert cells_by_key(["b@x.example"], [("email", 0), ("note", 1)]) == {"email": "b@x.example", "note": ""}


def test_a_file_without_a_header_row_is_refused_whole():
    with pytest.raises(ImportFormatError, match="The file is empty"):
        header_row(records(io.BytesIO(b"\r\n , \r\n")))
