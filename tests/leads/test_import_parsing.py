"""Reading CRM exports: the two sample files end to end, and synthetic files for the edge cases
(multi-line cells, ragged rows, blank rows, encodings, broken quoting)."""

import io
from decimal import Decimal
from pathlib import Path

import pytest

from kit.csvfiles import count_rows, read_headers
from leads.importing import (
    CleanRow,
    ImportFormatError,
    RowRefused,
    clean_row,
    detect_format,
    iter_rows,
    map_headers,
)
from tests.factories import SAMPLE_DATA

DATA_DIR = SAMPLE_DATA
SALESFORCE = DATA_DIR / "salesforce_leads_export.csv"
HUBSPOT = DATA_DIR / "hubspot_contacts_export.csv"

# Found by hand (grep -n on the files): invalid or missing emails, and one 5,005-character
# company name per file.
SALESFORCE_BAD_EMAIL_LINES = {
    86, 134, 137, 166, 189, 216, 252, 359, 364, 403, 404, 411, 436, 568, 605, 658, 665, 697,
    737, 747, 790, 814, 829, 917, 970, 974, 1017, 1066, 1108, 1250, 1265, 1275, 1340, 1387,
    1419, 1463, 1467, 1468, 1535, 1562, 1750, 1787, 1847, 1872, 1906, 1954, 1996,
}  # fmt: skip
HUBSPOT_BAD_EMAIL_LINES = {
    19, 31, 74, 89, 170, 172, 179, 181, 187, 370, 381, 454, 537, 538, 550, 576, 583, 647, 658,
    669, 680, 809, 817, 858, 883, 891, 915, 929, 975,
}  # fmt: skip
OVERSIZED_COMPANY_LINE = {"salesforce": 1000, "hubspot": 604}

TEXT_FIELDS = (
    "first_name",
    "last_name",
    "company",
    "title",
    "industry",
    "external_id",
    "external_status",
)


def _read(path: Path) -> tuple[str, dict[int, CleanRow], dict[int, str]]:
    cleaned: dict[int, CleanRow] = {}
    refused: dict[int, str] = {}
    with path.open("rb") as handle:
        rows = iter_rows(handle)
        for line, raw in rows:
            try:
                cleaned[line] = clean_row(raw)
            except RowRefused as exc:
                refused[line] = str(exc)
        assert not handle.closed, "the file belongs to the caller"
    return rows.file_format, cleaned, refused


@pytest.fixture(scope="module")
def salesforce():
    return _read(SALESFORCE)


@pytest.fixture(scope="module")
def hubspot():
    return _read(HUBSPOT)


@pytest.fixture(params=["salesforce", "hubspot"])
def sample(request):
    return request.param, request.getfixturevalue(request.param)


def _csv(text: str, encoding: str = "utf-8-sig") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


# --- the sample files -----------------------------------------------------------------------


def test_sample_files_are_recognized(salesforce, hubspot):
    assert salesforce[0] == "salesforce"
    assert hubspot[0] == "hubspot"


def test_every_row_is_cleaned_or_refused(sample):
    name, (_, cleaned, refused) = sample
    total = 2000 if name == "salesforce" else 1000
    assert len(cleaned) + len(refused) == total
    with (SALESFORCE if name == "salesforce" else HUBSPOT).open("rb") as handle:
        assert count_rows(handle) == total
    assert min([*cleaned, *refused]) == 2
    assert max([*cleaned, *refused]) == total + 1


def test_refused_rows_are_exactly_the_bad_emails_and_the_oversized_company_is_shortened(sample):
    name, (_, cleaned, refused) = sample
    bad_emails = SALESFORCE_BAD_EMAIL_LINES if name == "salesforce" else HUBSPOT_BAD_EMAIL_LINES
    oversized = OVERSIZED_COMPANY_LINE[name]
    assert set(refused) == bad_emails
    assert len(cleaned[oversized].company) == 200
    assert cleaned[oversized].warnings == ["company: shortened from 5,005 to 200 characters"]
    for line in bad_emails:
        assert refused[line].startswith("email "), (line, refused[line])


def test_refusal_reasons_say_what_is_wrong(salesforce):
    _, _, refused = salesforce
    assert refused[86] == (
        "email 'x y@z.com' is not a valid address: "
        "The email address contains invalid characters before the @-sign: SPACE."
    )
    assert refused[166] == "email is missing"
    assert refused[364].startswith("email '@example.com' is not a valid address")
    assert refused[403].startswith("email 'not-an-email' is not a valid address")
    assert refused[137].startswith("email 'hans-j..鈴木@geisler.de' is not a valid address")


def test_no_cleaned_text_starts_a_formula(sample):
    _, (_, cleaned, _) = sample
    for line, row in cleaned.items():
        for field in TEXT_FIELDS:
            value = getattr(row, field)
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (line, field, value)
        assert "\n" not in row.company
        assert "\r" not in row.company


def test_formula_cells_are_kept_as_quoted_text(salesforce, hubspot):
    formula = '=HYPERLINK("http://evil.example","click")'
    assert salesforce[1][69].first_name == "'" + formula
    assert hubspot[1][221].first_name == "'" + formula


def test_markup_is_kept_as_text(salesforce, hubspot):
    assert salesforce[1][75].company == "<script>alert('x')</script> Corp"
    assert hubspot[1][434].company == "<script>alert('x')</script> Corp"


def test_quoted_comma_survives(hubspot, salesforce):
    assert hubspot[1][7].company == "Martinez, Phillips and Hill"
    assert salesforce[1][1466].company == "Foster, Duncan and Smith"


def test_non_ascii_names_survive(salesforce, hubspot):
    row = salesforce[1][2]
    assert (row.first_name, row.last_name, row.email) == ("さゆり", "山田", "さゆり.山田@matthaei.com")
    assert row.company == "Farmaceútica del Sur S.L."
    assert salesforce[1][5].company == "田中情報株式会社"
    assert hubspot[1][3].first_name == "Sebastián"


def test_duplicate_emails_in_other_case_or_with_spaces_normalize_to_one_address(salesforce, hubspot):
    # " CHAD.MORALES@SMITH.INFO " on lines 5 and 27, plain on line 4 and in HubSpot line 711.
    assert {salesforce[1][line].email for line in (4, 5, 27)} | {hubspot[1][711].email} == {
        "chad.morales@smith.info"
    }
    assert salesforce[1][910].email == "fritz.arellano@rogge.de"
    for _, row in [*salesforce[1].items(), *hubspot[1].items()]:
        assert row.email == row.email.strip().lower()


def test_sample_values_are_normalized(salesforce, hubspot):
    row = salesforce[1][2]
    assert row.source == "list"
    assert row.rating == "C"
    assert row.country == "ES"
    assert row.seniority == "individual"
    assert row.annual_revenue == Decimal("2000000")
    assert row.employees is None
    assert row.external_id == "00QE7567734D7C1"
    assert row.external_status == "Working - Contacted"
    assert row.external_created_at.isoformat() == "2025-04-09T00:00:00+00:00"
    row = hubspot[1][2]
    assert (row.industry, row.source, row.country, row.seniority) == ("Retail", "referral", "DE", "c_level")
    assert row.external_created_at.isoformat() == "2025-04-25T22:30:00+00:00"
    assert hubspot[1][3].employees == 12000
    assert hubspot[1][3].annual_revenue == Decimal("2500000000")
    for _, row in [*salesforce[1].items(), *hubspot[1].items()]:
        assert row.country == "" or len(row.country) == 2
        assert row.annual_revenue is None or 0 <= row.annual_revenue < 10**14
        assert row.employees is None or row.employees >= 0


# --- headers and formats --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["Lead ID", "First Name", "Email", "Lead Source", "No. of Employees"], "salesforce"),
        (["  lead id ", "EMAIL", "lead  source"], "salesforce"),
        (["Record ID", "Email", "Original Source", "Country/Region"], "hubspot"),
        (["email", "first name", "company"], "generic"),
        (["Email"], "generic"),
    ],
)
def test_detect_format(headers, expected):
    assert detect_format(headers) == expected


def test_generic_headers_map_to_canonical_keys():
    headers = ["E-mail", "Firstname", "Last Name", "Organization", "Job Title", "Country", "Notes"]
    assert map_headers(headers, "generic") == {
        "email": 0,
        "first_name": 1,
        "last_name": 2,
        "company": 3,
        "title": 4,
        "country": 5,
    }


def test_format_headers_match_case_and_whitespace_insensitively():
    headers = [" PHONE NUMBER", "email", "company  name", "country/region", "record id"]
    assert map_headers(headers, "hubspot") == {
        "phone": 0,
        "email": 1,
        "company": 2,
        "country": 3,
        "external_id": 4,
    }


def test_first_of_two_columns_for_one_field_wins():
    assert map_headers(["Email", "Email Address"], "generic") == {"email": 0}


def test_file_without_an_email_column_is_refused_naming_its_headers():
    with pytest.raises(ImportFormatError, match="No email column") as excinfo:
        iter_rows(_csv("Name,Company,Phone\r\nAnn,Acme,123\r\n"))
    assert "'Name', 'Company', 'Phone'" in str(excinfo.value)


def test_empty_file_is_refused():
    with pytest.raises(ImportFormatError, match="empty"):
        iter_rows(io.BytesIO(b""))


def test_read_headers_leaves_the_file_usable():
    with SALESFORCE.open("rb") as handle:
        assert read_headers(handle)[:3] == ["Lead ID", "First Name", "Last Name"]
        assert count_rows(handle) == 2000


# --- rows and line numbers ------------------------------------------------------------------

MULTILINE = (
    "Email,First Name,Company\r\n"  # 1
    'a@x.com,Ann,"Acme\r\nLtd"\r\n'  # 2-3
    "b@x.com,Bob,Beta\r\n"  # 4
    "\r\n"  # 5: blank, skipped
    ",  ,\r\n"  # 6: only empty cells, skipped
    'c@x.com,"Multi\nline\nname",Gamma\r\n'  # 7-9
    "d@x.com\r\n"  # 10: fewer cells than headers
    "e@x.com,Eve,Corp,extra,cells\r\n"  # 11: more cells than headers
    '"f@x.com","Fay","Quoted, with comma"'  # 12: no final newline
)


def test_line_numbers_count_physical_lines_through_multiline_cells():
    rows = list(iter_rows(_csv(MULTILINE)))
    assert [line for line, _ in rows] == [2, 4, 7, 10, 11, 12]
    # Independently: the physical line each email starts on.
    physical = MULTILINE.split("\n")
    for line, raw in rows:
        assert physical[line - 1].startswith((raw["email"], f'"{raw["email"]}"'))


def test_rows_keep_raw_cells_and_pad_short_rows():
    rows = dict(iter_rows(_csv(MULTILINE)))
    assert rows[2] == {"email": "a@x.com", "first_name": "Ann", "company": "Acme\r\nLtd"}
    assert rows[10] == {"email": "d@x.com", "first_name": "", "company": ""}
    assert rows[11] == {"email": "e@x.com", "first_name": "Eve", "company": "Corp"}
    assert rows[12]["company"] == "Quoted, with comma"
    assert clean_row(rows[2]).company == "Acme Ltd"
    assert clean_row(rows[7]).first_name == "Multi line name"


def test_count_rows_matches_the_rows_yielded():
    assert count_rows(_csv(MULTILINE)) == 6
    assert count_rows(_csv("Email\r\n")) == 0


def test_files_without_bom_or_with_bare_newlines_read_the_same():
    plain = MULTILINE.replace("\r\n", "\n")
    for data in (plain.encode("utf-8"), MULTILINE.encode("utf-8")):
        assert [line for line, _ in iter_rows(io.BytesIO(data))] == [2, 4, 7, 10, 11, 12]


def test_header_without_bom_is_found():
    rows = iter_rows(io.BytesIO(b"Email,Company\nann@x.com,Acme\n"))
    assert rows.columns == {"email": 0, "company": 1}
    assert list(rows) == [(2, {"email": "ann@x.com", "company": "Acme"})]


def test_a_file_that_is_not_utf8_is_refused_with_the_line():
    data = "Email,First Name\r\nann@x.com,Ann\r\njose@x.com,José\r\n".encode("cp1252")
    with pytest.raises(ImportFormatError, match=r"not UTF-8 text \(line 3 ") as excinfo:
        count_rows(io.BytesIO(data))
    assert "CSV UTF-8" in str(excinfo.value)
    with pytest.raises(ImportFormatError, match="line 3"):
        list(iter_rows(io.BytesIO(data)))


def test_undecodable_byte_deep_in_a_large_file_is_located():
    data = b"Email\r\n" + b"ann@x.com\r\n" * 20_000 + b"jos\xe9@x.com\r\n"
    with pytest.raises(ImportFormatError, match="line 20002 "):
        count_rows(io.BytesIO(data))


def test_an_unclosed_quote_swallowing_the_file_fails_it_with_the_line():
    data = b'Email,Company\r\nann@x.com,"Acme\r\n' + b"bob@x.com,Beta\r\n" * 10_000
    with pytest.raises(ImportFormatError, match="Line 2 is not valid CSV"):
        list(iter_rows(io.BytesIO(data)))


def test_iterating_does_not_close_the_callers_file():
    handle = _csv(MULTILINE)
    rows = iter_rows(handle)
    next(rows)
    rows.close()
    assert not handle.closed
    assert count_rows(handle) == 6


# --- clean_row ------------------------------------------------------------------------------


def _raw(**values: str) -> dict[str, str]:
    return {"email": "ann@example.com", **values}


def test_clean_row_normalizes_every_field():
    row = clean_row(
        {
            "external_id": " 00QE7567734D7C1 ",
            "first_name": " Ann ",
            "last_name": "O'Neil",
            "email": " Ann@Example.COM ",
            "phone": "+1-309-267-9290",
            "title": "VP of Sales",
            "company": "Martinez, Phillips and Hill",
            "industry": "FINANCIAL_SERVICES",
            "employees": "501-1000",
            "annual_revenue": "$2.5M",
            "country": "U.S.",
            "source": "Partner Referral",
            "external_status": "Open - Not Contacted",
            "rating": "Hot",
            "external_created_at": "04/09/2025",
        }
    )
    assert row.email == "ann@example.com"
    assert (row.first_name, row.last_name, row.company) == ("Ann", "O'Neil", "Martinez, Phillips and Hill")
    assert (row.title, row.seniority, row.industry) == ("VP of Sales", "vp", "Financial Services")
    assert (row.employees, row.annual_revenue) == (501, Decimal("2500000"))
    assert (row.country, row.phone, row.source, row.rating) == ("US", "+1-309-267-9290", "partner", "A")
    assert (row.external_id, row.external_status) == ("00QE7567734D7C1", "Open - Not Contacted")
    assert row.external_created_at.isoformat() == "2025-04-09T00:00:00+00:00"


def test_clean_row_with_only_an_email():
    row = clean_row({"email": "ann@example.com"})
    assert row.first_name == row.company == row.title == row.seniority == row.country == ""
    assert row.employees is None
    assert row.annual_revenue is None
    assert row.external_created_at is None
    assert row.source == "other"
    assert row.rating == ""


def test_unknown_details_do_not_refuse_a_row():
    row = clean_row(_raw(employees="lots", annual_revenue="unknown", country="Atlantis", rating="?"))
    assert (row.employees, row.annual_revenue, row.country, row.rating) == (None, None, "", "")


def test_all_problems_of_a_row_are_reported_together():
    with pytest.raises(RowRefused) as excinfo:
        clean_row({"email": "x y@z.com", "company": "x" * 201, "external_id": "i" * 65, "phone": "9" * 41})
    assert excinfo.value.reason == str(excinfo.value)
    parts = str(excinfo.value).split("; ")
    assert parts[0].startswith("email 'x y@z.com' is not a valid address")
    assert parts[1:] == [
        "external id is longer than 64 characters",
        "phone is longer than 40 characters",
    ]


@pytest.mark.parametrize(
    ("field", "limit", "label"),
    [
        ("first_name", 100, "first name"),
        ("last_name", 100, "last name"),
        ("company", 200, "company"),
        ("title", 150, "title"),
        ("industry", 100, "industry"),
        ("external_status", 100, "external status"),
    ],
)
def test_text_fields_follow_the_lead_model_limits(field, limit, label):
    assert clean_row(_raw(**{field: "x" * limit})).warnings == []
    row = clean_row(_raw(**{field: "x" * (limit + 1)}))
    assert len(getattr(row, field)) == limit
    assert row.warnings == [f"{label}: shortened from {limit + 1:,} to {limit} characters"]


def test_an_external_id_too_long_is_refused_not_shortened():
    with pytest.raises(RowRefused, match=r"^external id is longer than 64 characters$"):
        clean_row(_raw(external_id="x" * 65))


@pytest.mark.parametrize(
    "created",
    ["1970-01-01", "0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-01:00", "2101-01-01", "12/31/1989"],
)
def test_a_created_date_out_of_range_is_left_empty_not_an_error(created):
    row = clean_row({"email": "ada@example.com", "external_created_at": created})
    assert row.email == "ada@example.com" and row.external_created_at is None


@pytest.mark.parametrize("field", ["email", "first_name", "company", "country", "employees", "external_id"])
def test_a_lone_surrogate_refuses_the_row_naming_the_field(field):
    raw = {"email": "ada@example.com", field: "Ada\ud800"}
    with pytest.raises(RowRefused, match=f"{field.replace('_', ' ')}: Remove the character U\\+D800"):
        clean_row(raw)
