"""The normalizers shared by the web form, the API and the import, fed with the spellings
found in the sample Salesforce and HubSpot exports."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from leads.cleaning import (
    channel_from_source,
    clean_phone,
    clean_text,
    neutralize_formula,
    normalize_country,
    normalize_email,
    normalize_fit_value,
    normalize_industry,
    parse_datetime_loose,
    parse_employees,
    parse_revenue,
    rating_from_external,
    seniority_from_title,
)
from leads.models import Channel, FitField, Seniority

# --- email ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("chad.morales@smith.info", "chad.morales@smith.info"),
        ("  CHAD.MORALES@SMITH.INFO ", "chad.morales@smith.info"),
        ("  FRITZ.ARELLANO@ROGGE.DE ", "fritz.arellano@rogge.de"),
        ("\tAnn@Example.com\u00a0", "ann@example.com"),
        ("さゆり.山田@matthaei.com", "さゆり.山田@matthaei.com"),
        ("和ford@yamazaki.jp", "和ford@yamazaki.jp"),
        ("Raymond.López@Morales.ES", "raymond.lópez@morales.es"),
        ("first+tag@sub.example.co.uk", "first+tag@sub.example.co.uk"),
        ("o'brien@example.com", "o'brien@example.com"),
        ("a" * 70 + "@example.com", "a" * 70 + "@example.com"),
    ],
)
def test_valid_email_is_trimmed_and_lower_cased(raw, expected):
    assert normalize_email(raw) == expected


def test_same_person_in_composed_and_decomposed_unicode_is_one_address():
    composed = "jos\u00e9@example.com"
    decomposed = "jose\u0301@example.com"
    assert normalize_email(decomposed) == normalize_email(composed) == composed


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "email is missing"),
        ("   ", "email is missing"),
        ("x y@z.com", "email 'x y@z.com' is not a valid address: The email address contains invalid"),
        ("@example.com", "email '@example.com' is not a valid address: There must be something before"),
        ("not-an-email", "email 'not-an-email' is not a valid address: An email address must have an @"),
        ("john.doe@", "There must be something after the @-sign"),
        ("a@b", "It should have a period"),
        ("hans-j..鈴木@geisler.de", "two periods in a row"),
        ("ann@localhost.test", "special-use or reserved name"),
        ("ann@-bad-.com", "is not a valid address"),
        ("Ann <ann@example.com>", "is not a valid address"),
        ("a" * 250 + "@example.com", "too long"),
    ],
)
def test_unusable_email_is_refused_with_the_reason(raw, reason):
    with pytest.raises(ValueError, match=r"^email") as excinfo:
        normalize_email(raw)
    assert reason in str(excinfo.value)


def test_refusal_echoes_only_the_start_of_a_long_value():
    with pytest.raises(ValueError, match="is not a valid address") as excinfo:
        normalize_email("x " * 500 + "@example.com")
    assert len(str(excinfo.value)) < 300


def _reference_email(raw: str) -> str:
    """What normalize_email promises, done the slow way: validate_email on everything."""
    address = raw.strip()
    if not address:
        raise ValueError("missing")
    try:
        return validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None


_LOCAL_CHARACTERS = st.sampled_from(
    [*"aZ09._+-!#$%&'*/=?^`{|}~\" @", "é", "山", "\u0301", "İ", "ß", "Σ", "\u00a0", "²", "ǅ", "\u200b"]
)
_DOMAINS = st.sampled_from(
    [
        "smith.info",
        "Example.COM",
        "b",
        "xn--bcher-kva.com",
        "bücher.de",
        "foo.test",
        "-bad.com",
        "a..com",
        "x" * 64 + ".com",
        "123.456",
        "",
    ]
)


@settings(max_examples=600, database=None, deadline=None)
@given(
    address=st.builds(
        lambda local, domain: f"{local}@{domain}", st.text(_LOCAL_CHARACTERS, max_size=70), _DOMAINS
    )
    | st.text(_LOCAL_CHARACTERS, max_size=30)
)
def test_fast_path_accepts_exactly_what_email_validator_accepts(address):
    try:
        expected = _reference_email(address)
    except ValueError:
        with pytest.raises(ValueError, match=r"^email "):
            normalize_email(address)
    else:
        assert normalize_email(address) == expected


# --- country --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("United States", "US"),
        ("USA", "US"),
        ("US", "US"),
        ("U.S.", "US"),
        ("u.s.a.", "US"),
        ("United States of America", "US"),
        ("united  states", "US"),
        ("UK", "GB"),
        ("England", "GB"),
        ("Great Britain", "GB"),
        ("United Kingdom", "GB"),
        ("DE", "DE"),
        ("de", "DE"),
        ("Germany", "DE"),
        (" germany ", "DE"),
        ("Deutschland", "DE"),
        ("DEU", "DE"),
        ("Japan", "JP"),
        ("España", "ES"),
        ("Spain", "ES"),
        ("France", "FR"),
        ("Canada", "CA"),
        ("", ""),
        ("n/a", ""),
        ("Atlantis", ""),
    ],
)
def test_country_spellings_become_iso_codes(raw, expected):
    assert normalize_country(raw) == expected


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,200", 1200),
        ("12 000", 12000),
        ("12,000", 12000),
        ("12000", 12000),
        ("1,500", 1500),
        ("1.200", 1200),
        ("480", 480),
        ("5", 5),
        ("501-1000", 501),
        ("1 - 10", 1),
        ("5000 to 10000", 5000),
        ("1000+", 1000),
        ("10,001+", 10001),
        ("1.5k", 1500),
        ("n/a", None),
        ("N/A", None),
        ("unknown", None),
        ("", None),
        ("lots", None),
        ("-5", None),
        ("99999999999", None),
    ],
)
def test_employee_counts(raw, expected):
    assert parse_employees(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("$2,000,000", "2000000"),
        ("2000000", "2000000"),
        ("$250,000", "250000"),
        ("250000", "250000"),
        ("$120,000,000", "120000000"),
        ("$2,500,000,000", "2500000000"),
        ("15.0M", "15000000"),
        ("0.2M", "200000"),
        ("2.0M", "2000000"),
        ("120.0M", "120000000"),
        ("2500.0M", "2500000000"),
        ("$2.5M", "2500000"),
        ("2.5 mm", "2500000"),
        ("1.5B", "1500000000"),
        ("1.5bn", "1500000000"),
        ("1.5 billion", "1500000000"),
        ("3 million", "3000000"),
        ("300k", "300000"),
        ("300 thousand", "300000"),
        ("€3,5 Mio", "3500000"),
        ("2,5 Mrd", "2500000000"),
        ("£1.2m", "1200000"),
        ("USD 1,000", "1000"),
        ("1.234.567,89 €", "1234567.89"),
        ("99999999999999.99", "99999999999999.99"),
    ],
)
def test_revenue_amounts(raw, expected):
    assert parse_revenue(raw) == Decimal(expected)


@pytest.mark.parametrize(
    "raw", ["unknown", "n/a", "", "   ", "lots", "-5", "$-5", "100000000000000", "1e9", "5 apples"]
)
def test_unknown_or_implausible_revenue_is_none(raw):
    assert parse_revenue(raw) is None


def test_revenue_fits_the_column():
    amount = parse_revenue("2500.0M")
    assert amount.as_tuple().exponent == -2


# --- industry, seniority, fit values ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("FINANCIAL_SERVICES", "Financial Services"),
        ("financial services", "Financial Services"),
        ("Financial Services", "Financial Services"),
        ("  Financial   services ", "Financial Services"),
        ("TELECOMMUNICATIONS", "Telecommunications"),
        ("Healthcare", "Healthcare"),
        ("health-care", "Health Care"),
        ("IT services", "IT Services"),
        ("", ""),
    ],
)
def test_industry_spellings_converge(raw, expected):
    assert normalize_industry(raw) == expected


@pytest.mark.parametrize("raw", ["=cmd|' /C calc'!A0", "@SUM(A1)", "+1"])
def test_industry_never_stores_a_formula(raw):
    assert normalize_industry(raw).startswith("'")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("CEO", Seniority.C_LEVEL),
        ("CTO", Seniority.C_LEVEL),
        ("CFO", Seniority.C_LEVEL),
        ("cmo", Seniority.C_LEVEL),
        ("CISO", Seniority.C_LEVEL),
        ("Chief Revenue Officer", Seniority.C_LEVEL),
        ("Founder", Seniority.C_LEVEL),
        ("Co-founder & CEO", Seniority.C_LEVEL),
        ("President", Seniority.C_LEVEL),
        ("Owner", Seniority.C_LEVEL),
        ("Managing Director", Seniority.C_LEVEL),
        ("VP of Sales", Seniority.VP),
        ("VP Marketing", Seniority.VP),
        ("SVP Engineering", Seniority.VP),
        ("Vice President, Finance", Seniority.VP),
        ("Senior Vice-President", Seniority.VP),
        ("Director of IT", Seniority.DIRECTOR),
        ("Head of Operations", Seniority.DIRECTOR),
        ("Sales Manager", Seniority.MANAGER),
        ("Team Lead", Seniority.MANAGER),
        ("Supervisor", Seniority.MANAGER),
        ("Intern", Seniority.INDIVIDUAL),
        ("Procurement Specialist", Seniority.INDIVIDUAL),
        ("Software Engineer", Seniority.INDIVIDUAL),
        ("Product Owner", Seniority.INDIVIDUAL),
        ("Headhunter", Seniority.INDIVIDUAL),
        ("Leadership Coach", Seniority.INDIVIDUAL),
        ("", Seniority.UNKNOWN),
        ("   ", Seniority.UNKNOWN),
    ],
)
def test_seniority_from_title(title, expected):
    assert seniority_from_title(title) == expected


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        (FitField.INDUSTRY, "FINANCIAL_SERVICES", "Financial Services"),
        (FitField.INDUSTRY, " financial services", "Financial Services"),
        (FitField.COUNTRY, "USA", "US"),
        (FitField.COUNTRY, " de ", "DE"),
        (FitField.COUNTRY, "Atlantis", ""),
        (FitField.SENIORITY, "VP", "vp"),
        (FitField.SENIORITY, "C-level", "c_level"),
        (FitField.SENIORITY, "c_level", "c_level"),
        (FitField.SENIORITY, "C-level / founder", "c_level"),
        (FitField.SENIORITY, "Director / head", "director"),
        (FitField.SENIORITY, " manager ", "manager"),
        (FitField.SENIORITY, "Individual contributor", "individual"),
        (FitField.SENIORITY, "wizard", ""),
        (FitField.SENIORITY, "", ""),
    ],
)
def test_fit_values_are_normalized_like_lead_data(field, raw, expected):
    assert normalize_fit_value(field, raw) == expected


# --- free text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("+49 30 1234", "'+49 30 1234"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Acme", "Acme"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_formulas_are_neutralized(raw, expected):
    assert neutralize_formula(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Acme  ", "Acme"),
        ("Acme\r\nLtd", "Acme Ltd"),
        ("Acme\n\n\tLtd", "Acme Ltd"),
        ("Ac\x00me", "Ac me"),
        (" \n=SUM(A1)", "'=SUM(A1)"),
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("<script>alert('x')</script> Corp", "<script>alert('x')</script> Corp"),
        ("Martinez, Phillips and Hill", "Martinez, Phillips and Hill"),
        ("Farmaceútica del Sur S.L.", "Farmaceútica del Sur S.L."),
        ("田中情報株式会社", "田中情報株式会社"),
        ("", ""),
        (None, ""),
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw, 200, "company") == expected


def test_oversized_text_is_refused_not_truncated():
    assert clean_text("x" * 200, 200, "company") == "x" * 200
    with pytest.raises(ValueError, match=r"^company is longer than 200 characters$"):
        clean_text("Acme " + "x" * 5000, 200, "company")


def test_neutralizing_counts_toward_the_length():
    with pytest.raises(ValueError, match="first name is longer than 10 characters"):
        clean_text("=" + "x" * 9, 10, "first name")


@pytest.mark.parametrize(
    "phone",
    [
        "+1-309-267-9290",
        "070-1746-8145",
        "(03095) 597297",
        "+33 3 58 01 46 73",
        "+49(0)4761 80734",
        "+49 (0) 7664 662810",
        "+1-355-544-6059x168",
        "001-710-229-4716x7205",
        "430.943.0894",
        "(552)217-4958",
        "+33 (0)5 45 95 67 06",
        "555-1234 ext. 12",
        "030/1234567",
        "",
    ],
)
def test_phone_numbers_are_kept_as_written(phone):
    assert clean_phone(phone) == phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  +34 941 08 08 68 ", "+34 941 08 08 68"),
        ("=1+2", "'=1+2"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(1)", "'@SUM(1)"),
        ("-", "'-"),
        ("call reception", "call reception"),
    ],
)
def test_anything_else_in_a_phone_field_is_free_text(raw, expected):
    assert clean_phone(raw) == expected


def test_oversized_phone_is_refused():
    with pytest.raises(ValueError, match="phone is longer than 40 characters"):
        clean_phone("1" * 41)


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-11-30", datetime(2025, 11, 30, tzinfo=UTC)),
        ("04/09/2025", datetime(2025, 4, 9, tzinfo=UTC)),
        ("12/25/2024", datetime(2024, 12, 25, tzinfo=UTC)),
        ("4/9/2025 10:30 PM", datetime(2025, 4, 9, 22, 30, tzinfo=UTC)),
        ("4/9/2025 12:05 am", datetime(2025, 4, 9, 0, 5, tzinfo=UTC)),
        ("2025-04-25 22:30", datetime(2025, 4, 25, 22, 30, tzinfo=UTC)),
        ("2025-04-25T22:30:00+02:00", datetime(2025, 4, 25, 20, 30, tzinfo=UTC)),
        ("2025-04-25T22:30:00Z", datetime(2025, 4, 25, 22, 30, tzinfo=UTC)),
        ("25.04.2025", datetime(2025, 4, 25, tzinfo=UTC)),
        ("2025/04/25", datetime(2025, 4, 25, tzinfo=UTC)),
        ("", None),
        ("soon", None),
        ("13/45/2025", None),
        ("02/30/2025", None),
        ("4/9/2025 13:30 PM", None),
    ],
)
def test_dates_become_aware_utc(raw, expected):
    value = parse_datetime_loose(raw)
    assert value == expected
    if value is not None:
        assert value.utcoffset().total_seconds() == 0


# --- source and rating ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Web", Channel.WEB),
        ("Partner Referral", Channel.PARTNER),
        ("Webinar", Channel.WEBINAR),
        ("Phone Inquiry", Channel.PHONE),
        ("Trade Show", Channel.EVENT),
        ("Purchased List", Channel.LIST),
        ("Other", Channel.OTHER),
        ("ORGANIC_SEARCH", Channel.ORGANIC_SEARCH),
        ("PAID_SEARCH", Channel.PAID_SEARCH),
        ("EMAIL_MARKETING", Channel.EMAIL),
        ("SOCIAL_MEDIA", Channel.SOCIAL),
        ("REFERRALS", Channel.REFERRAL),
        ("DIRECT_TRAFFIC", Channel.DIRECT),
        ("OFFLINE", Channel.OFFLINE),
        ("Google Ads", Channel.PAID_SEARCH),
        ("LinkedIn", Channel.SOCIAL),
        ("event", Channel.EVENT),
        ("Seminar", Channel.EVENT),
        ("organic_search", Channel.ORGANIC_SEARCH),
        ("Outbound prospecting", Channel.OUTBOUND),
        ("", Channel.OTHER),
        ("Carrier pigeon", Channel.OTHER),
    ],
)
def test_source_labels_map_to_channels(raw, expected):
    assert channel_from_source(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Hot", "A"), ("Warm", "B"), ("Cold", "C"), (" hot ", "A"), ("", ""), ("Lukewarm", "")],
)
def test_external_ratings(raw, expected):
    assert rating_from_external(raw) == expected
