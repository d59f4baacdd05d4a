"""Reading any CSV or XLSX under a mapping: the rows and cells as read, suggestions from the
CRM tables and from saved mappings, oversized values shortened with a warning, the status
values of a file, and which source system a format means."""

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from leads import importing
from leads.importing import ImportFormatError, RowRefused, clean_row, iter_rows
from leads.models import ImportMapping
from leads.services import suggested_mapping
from tests.factories import SAMPLE_DATA

SALESFORCE = SAMPLE_DATA / "salesforce_leads_export.csv"
HUBSPOT = SAMPLE_DATA / "hubspot_contacts_export.csv"


def xlsx(rows, *, extra_sheet_first: bool = False) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if extra_sheet_first:
        other = workbook.create_sheet("Notes", 1)
        other.append(["not", "the", "data"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def test_csv_rows_follow_the_mapping_given_and_keep_their_cells():
    content = io.BytesIO(
        b"Who,Mail,Firm\r\nAda,ada@engines.example,Engines\r\n\r\nGrace,grace@navy.example\r\n"
    )
    rows = iter_rows(content, mapping=["first_name", "email", "company"])
    assert rows.headers == ["Who", "Mail", "Firm"] and rows.file_format == "generic"
    assert rows.columns == {"first_name": 0, "email": 1, "company": 2}
    line, raw = next(rows)
    assert (line, raw) == (2, {"first_name": "Ada", "email": "ada@engines.example", "company": "Engines"})
    assert rows.last_cells == ["Ada", "ada@engines.example", "Engines"]
    line, raw = next(rows)
    assert (line, raw["company"], rows.last_cells) == (4, "", ["Grace", "grace@navy.example"])
    with pytest.raises(StopIteration):
        next(rows)
    assert not content.closed


def test_an_ignored_column_is_not_read_even_when_its_header_is_known():
    rows = iter_rows(io.BytesIO(b"Email,Company\r\na@b.example,Acme\r\n"), mapping=["email", ""])
    assert list(rows) == [(2, {"email": "a@b.example"})]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (["", "company"], "No column is mapped to the email"),
        (["email", "email"], "Two columns are mapped to email"),
        (["email", "favourite_colour"], "unknown field"),
    ],
)
def test_a_mapping_that_cannot_be_used_fails_the_file(mapping, message):
    with pytest.raises(ImportFormatError, match=message):
        iter_rows(io.BytesIO(b"Email,Company\r\na@b.example,Acme\r\n"), mapping=mapping)


def test_without_a_mapping_the_columns_are_recognised_as_before():
    with SALESFORCE.open("rb") as handle:
        rows = iter_rows(handle)
        assert rows.file_format == "salesforce" and rows.columns["email"] == 5
        rows.close()


def test_xlsx_first_sheet_is_read_with_row_numbers_and_cells_as_text():
    book = xlsx(
        [
            ["Email", "First Name", "Create Date", "Number of Employees", "HubSpot Score", "Opted in"],
            ["ada@engines.example", "Ada", datetime(2024, 3, 1), 250.0, 12.5, True],
            [None, None, None, None, None, None],
            ["grace@navy.example", "Grace", date(2023, 12, 31), 7, None, False],
            ["linus@kernel.example", "Linus", datetime(2024, 3, 1, 14, 30), 1e6, 3, None],
        ],
        extra_sheet_first=False,
    )
    rows = iter_rows(book, sheet_type="xlsx")
    assert rows.headers[:3] == ["Email", "First Name", "Create Date"]
    read = [(line, raw, list(rows.last_cells)) for line, raw in rows]
    assert [line for line, _, _ in read] == [2, 4, 5]  # the sheet's row numbers; the blank row skipped
    first = read[0][1]
    assert (first["external_created_at"], first["employees"], first["source_score"]) == (
        "2024-03-01",
        "250",
        "12.5",
    )
    assert read[0][2][-1] == "TRUE" and read[1][2][-1] == "FALSE"
    assert read[1][1]["external_created_at"] == "2023-12-31" and read[1][1]["employees"] == "7"
    assert read[2][1]["external_created_at"] == "2024-03-01T14:30:00" and read[2][1]["employees"] == "1000000"
    row = clean_row(read[0][1])
    assert (row.email, row.employees, row.external_created_at.date()) == (
        "ada@engines.example",
        250,
        date(2024, 3, 1),
    )
    assert importing.count_rows(book, sheet_type="xlsx") == 3


def test_xlsx_reads_the_first_sheet_whichever_is_active():
    book = Workbook()
    book.active.append(["Email"])
    book.active.append(["first@sheet.example"])
    second = book.create_sheet("Other")
    second.append(["Email"])
    second.append(["second@sheet.example"])
    book.active = 1
    buffer = io.BytesIO()
    book.save(buffer)
    assert [raw["email"] for _, raw in iter_rows(buffer, sheet_type="xlsx")] == ["first@sheet.example"]


@pytest.mark.parametrize("content", [b"PK\x03\x04broken", b"Email\r\na@b.example\r\n", b""])
def test_a_file_that_is_no_workbook_fails_with_a_reason(content):
    with pytest.raises(ImportFormatError, match="not a readable XLSX workbook"):
        importing.preview(io.BytesIO(content), sheet_type="xlsx")


def test_an_empty_workbook_has_no_header_row():
    with pytest.raises(ImportFormatError, match="no header row"):
        importing.preview(xlsx([]), sheet_type="xlsx")


def test_sheet_type_from_name_or_signature():
    assert importing.sheet_type_of("leads.XLSX", b"") == "xlsx"
    assert importing.sheet_type_of("leads.bin", b"PK\x03\x04...") == "xlsx"
    assert importing.sheet_type_of("leads.csv", b"Email,Name") == "csv"


def test_preview_gives_headers_and_padded_samples():
    top = importing.preview(
        io.BytesIO(b"Email,Name,Company\r\na@b.example,Ann\r\nc@d.example,Cy,Acme,extra\r\n")
    )
    assert top.headers == ["Email", "Name", "Company"]
    assert top.samples == [["a@b.example", "Ann", ""], ["c@d.example", "Cy", "Acme"]]
    assert importing.preview(io.BytesIO(b"Email\r\n"), rows=3).samples == []


def test_hubspot_lifecycle_stage_and_score_are_read():
    with HUBSPOT.open("rb") as handle:
        rows = iter_rows(handle)
        _, raw = next(rows)
        rows.close()
    row = clean_row(raw)
    assert raw["source_stage"] and row.source_stage == raw["source_stage"].strip()
    assert row.source_score == raw["source_score"].strip()


def test_an_oversized_text_is_shortened_with_a_warning():
    row = clean_row({"email": "a@b.example", "company": "C" * 5000, "title": "T" * 151, "first_name": "Ann"})
    assert len(row.company) == 200 and len(row.title) == 150 and row.first_name == "Ann"
    assert row.warnings == [
        "company: shortened from 5,000 to 200 characters",
        "title: shortened from 151 to 150 characters",
    ]
    assert clean_row({"email": "a@b.example", "company": "Acme"}).warnings == []


def test_the_sample_exports_keep_their_oversized_company_shortened():
    for path, line in ((SALESFORCE, 1000), (HUBSPOT, 604)):
        with path.open("rb") as handle:
            rows = dict(iter_rows(handle))
        row = clean_row(rows[line])
        assert len(row.company) == 200 and row.warnings[0].startswith("company: shortened from 5,0")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"email": "a" * 250 + "@example.com"}, "email"),
        ({"email": "not-an-email"}, "email 'not-an-email' is not a valid address"),
        ({"email": "a@b.example", "external_id": "x" * 65}, "external id is longer than 64 characters"),
        ({"email": "a@b.example", "phone": "9" * 41}, "phone is longer than 40 characters"),
    ],
)
def test_an_email_id_or_phone_that_does_not_fit_still_refuses_the_row(raw, reason):
    with pytest.raises(RowRefused, match=reason):
        clean_row(raw)


def test_status_values_are_counted_and_bounded():
    lines = ["Email,Lead Status,Lifecycle Stage"] + [
        f"p{i}@x.example,status {i % 5},stage {i % 3}" for i in range(30)
    ]
    lines += ["q@x.example, status 0 ,", "r@x.example,,"]
    content = io.BytesIO("\r\n".join(lines).encode())
    found = importing.status_values(content)
    assert found.statuses["status 0"] == 7 and len(found.statuses) == 5 and found.complete
    assert dict(found.stages) == {"stage 0": 10, "stage 1": 10, "stage 2": 10}
    bounded = importing.status_values(content, limit=2)
    assert len(bounded.statuses) == 2 and not bounded.complete
    # Under a mapping that names no status column there is nothing to list.
    assert not importing.status_values(content, mapping=["email", "", ""]).statuses


def test_external_system_of_each_format():
    assert importing.external_system("salesforce") == "salesforce"
    assert importing.external_system("hubspot") == "hubspot"
    assert importing.external_system("generic") == ""


def test_suggestions_from_the_crm_tables_give_each_field_once():
    assert importing.suggest_mapping(["Email", "E-mail", "Phone Number", "Mobile", "Notes"]) == [
        "email",
        "",
        "phone",
        "",
        "",
    ]


@pytest.mark.django_db
def test_a_saved_mapping_is_suggested_whole_for_the_same_headers_and_per_header_for_others():
    headers = ["Mail", "Firm", "Status", "Comments"]
    ImportMapping.objects.create(
        signature=importing.mapping_signature(headers),
        columns=importing.mapping_columns(headers, ["email", "company", "", "title"]),
    )
    # The same header row, whatever its case and spacing: the saved mapping, ignoring included.
    assert suggested_mapping(["MAIL", " Firm ", "status", "Comments"]) == ["email", "company", "", "title"]
    # Another file sharing some headers: those columns as saved, the rest from the tables.
    assert suggested_mapping(["Firm", "Status", "Email", "Country"]) == ["company", "", "email", "country"]
    # Nothing saved for these headers: the tables only.
    assert suggested_mapping(["Email Address", "Organisation"]) == ["email", "company"]


def test_every_canonical_key_can_be_chosen_on_the_mapping_screen():
    from leads.forms import FIELD_CHOICES

    assert [key for key, _ in FIELD_CHOICES] == [
        "",
        *sorted(importing.CANONICAL_KEYS, key=list(importing.FIELD_LABELS).index),
    ]
    assert set(importing.FIELD_LABELS) == set(importing.CANONICAL_KEYS)


def _zip(files: dict[str, str]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer


@pytest.mark.parametrize(
    "files",
    [
        {"notes.txt": "a zip, not a workbook"},
        {"[Content_Types].xml": "<Types/>"},
        {"[Content_Types].xml": "<<<", "xl/workbook.xml": "<<"},
    ],
)
def test_a_zip_that_is_no_workbook_fails_with_a_reason(files):
    with pytest.raises(ImportFormatError, match="not a readable XLSX workbook"):
        importing.preview(_zip(files), sheet_type="xlsx")
