"""Contract imports from a billing system's CSV export: a report line by line, exactly the good
rows created (whole), accounts matched by domain, AMs assigned by name or by territory, and the
import page's permissions and refusals."""

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Account
from renewals import services as importing  # the contract import's public names
from renewals.models import AccountEvent, Contract
from renewals.services import RenewalsError
from team.models import Role
from tests.concurrency import run_concurrently
from tests.factories import UserFactory, contract, customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

SAMPLE = Path(__file__).parent / "data" / "contracts.csv"
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NOW = MONDAY  # where the clock stands in every test
URL = "/contracts/import/"
HEADER = "Account,Domain,Contract Number,Start Date,End Date,Annual Value,Products,Seats,Auto Renew,Account Manager"


def csv_file(*lines: str, header: str = HEADER, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO("\r\n".join([header, *lines]).encode(encoding))


def run(by, *lines: str, **kwargs) -> importing.ImportReport:
    return importing.import_contracts(by=by, file=csv_file(*lines, **kwargs))


def by_line(report: importing.ImportReport) -> dict[int, importing.RowResult]:
    return {row.line: row for row in report.rows}


# --- the sample export --------------------------------------------------------------------


def test_the_sample_export_creates_exactly_the_good_rows_and_reports_every_line(marketing, am, am_rule):
    acme = Account.objects.create(name="ACME (old name)", domain="acme.example")
    with SAMPLE.open("rb") as file:
        report = importing.import_contracts(by=marketing, file=file)

    rows = by_line(report)
    assert sorted(rows) == list(range(2, 25))
    assert [r.line for r in report.created] == list(range(2, 16))
    assert [r.line for r in report.refused] == list(range(16, 25))
    reasons = {line: rows[line].message for line in range(16, 25)}
    assert reasons[16] == "The same contract number as line 4."
    assert reasons[17] == "The end date comes after the start date."
    assert reasons[18] == "Enter the company's web domain, e.g. acme.com."
    assert "'TBD' is not an amount" in reasons[19]
    assert "'2026-02-30' is not a date" in reasons[20]
    assert reasons[21] == "No user 'jordan.p': name the account manager by username or email."
    assert reasons[22] == "The contract ended on Wed 31 Dec 2025: import current and future terms only."
    assert reasons[23] == "The annual value is an amount of zero or more."
    assert reasons[24] == "Auto renew 'maybe' is neither yes nor no."

    # Exactly the good rows, and nothing of the refused ones (not even their accounts).
    assert Contract.objects.count() == 14
    assert set(Contract.objects.values_list("number", flat=True)) == {f"C-{n}" for n in range(1001, 1015)}
    assert {r.contract_id for r in report.created} == set(Contract.objects.values_list("pk", flat=True))
    assert not Account.objects.filter(
        domain__in=["vandelay.example", "piedpiper.example", "prestige.example", "gringotts.example"]
    ).exists()
    assert Account.objects.count() == 13  # Acme was there; Globex has two contracts

    # The existing account was found by its domain written as a URL, and kept its name.
    acme.refresh_from_db()
    assert acme.contracts.get().number == "C-1001" and acme.name == "ACME (old name)"
    # Every account is a customer managed by Casey: named on some rows, by territory on the others.
    assert all(a.is_customer and a.account_manager == am for a in Account.objects.all())
    globex = Account.objects.get(domain="globex.example")
    assert globex.contracts.count() == 2 and rows[3].account_id == rows[8].account_id == globex.pk

    values = dict(Contract.objects.values_list("number", "annual_value"))
    assert values["C-1001"] == Decimal("12000.00")  # "$12,000.00"
    assert values["C-1003"] == Decimal("2400.00")  # "2.400,00"
    assert values["C-1004"] == Decimal("96000.00")  # "€96.000,00"
    assert values["C-1014"] == Decimal("1200000.00")  # "1.2m"
    umbrella = Contract.objects.get(number="C-1004")
    assert (umbrella.products, umbrella.seats, umbrella.auto_renew) == ("Growth, SSO add-on", 1200, True)
    initech = Contract.objects.get(number="C-1003")
    assert (initech.start_date, initech.end_date) == (date(2025, 9, 1), date(2026, 8, 31))  # 01.09.2025
    globex_main = Contract.objects.get(number="C-1002")
    assert (globex_main.start_date, globex_main.end_date) == (date(2025, 4, 1), date(2027, 3, 31))  # US
    assert set(Contract.objects.values_list("source", flat=True)) == {Contract.Source.IMPORT}
    assert set(Contract.objects.values_list("created_by", flat=True)) == {marketing.pk}
    assert "Contract C-1002 for Globex Corporation (globex.example), a new account" in rows[3].message


def test_reimporting_the_sample_creates_nothing_new(marketing, am, am_rule):
    with SAMPLE.open("rb") as file:
        importing.import_contracts(by=marketing, file=file)
    with SAMPLE.open("rb") as file:
        again = importing.import_contracts(by=marketing, file=file)

    assert again.created == [] and Contract.objects.count() == 14
    assert by_line(again)[2].message == "Contract C-1001 is already on file (for Acme GmbH)."


def test_contracts_inside_a_window_open_their_renewal_at_once(marketing, am, am_rule):
    report = run(marketing, "Acme,acme.example,C-1,2025-04-01,2026-04-15,24000,,,,")

    term = Contract.objects.get(pk=report.created[0].contract_id)
    assert term.renewal is not None and term.renewal.owner == am  # 44 days left: inside the 60-day window


# --- accounts and account managers ----------------------------------------------------------


def test_a_named_am_takes_over_the_account_and_an_unnamed_one_keeps_it(marketing, am, am_rule):
    other_am = UserFactory(username="robin", role=Role.AM, team=am.team)
    kept = customer(other_am, name="Kept Ltd", domain="kept.example")
    moved = customer(other_am, name="Moved Ltd", domain="moved.example")

    report = run(
        marketing,
        "Kept Ltd,kept.example,K-1,2025-06-01,2026-05-31,1000,,,,",
        f"Moved Ltd,https://moved.example/pricing,M-1,2025-06-01,2026-05-31,1000,,,,{am.email.upper()}",
    )

    assert len(report.created) == 2
    kept.refresh_from_db()
    moved.refresh_from_db()
    assert kept.account_manager == other_am and moved.account_manager == am
    event = AccountEvent.objects.get(account=moved, kind=AccountEvent.Kind.AM_ASSIGNED)
    assert str(am) in event.message and "contract import" in event.message


def test_a_new_account_named_an_am_spends_no_territory_turn(marketing, am, am_rule):
    run(marketing, "Nova,nova.example,N-1,2025-06-01,2026-05-31,1000,,,,casey")

    nova = Account.objects.get(domain="nova.example")
    assert nova.account_manager == am and nova.is_customer
    assert AccountEvent.objects.filter(account=nova, kind=AccountEvent.Kind.AM_ASSIGNED).count() == 1


def test_without_an_am_rule_the_account_waits_for_an_am(marketing):
    report = run(marketing, "Nova,nova.example,N-1,2025-06-01,2026-05-31,1000,,,,")

    nova = Account.objects.get(domain="nova.example")
    assert nova.is_customer and nova.account_manager is None
    assert "no account manager yet" in report.created[0].message


def test_two_rows_naming_two_ams_for_one_account_keep_the_first(marketing, am, am_rule):
    UserFactory(username="robin", role=Role.AM, team=am.team)
    report = run(
        marketing,
        "Nova,nova.example,N-1,2025-06-01,2026-05-31,1000,,,,casey",
        "Nova,nova.example,N-2,2025-06-01,2026-05-31,2000,,,,robin",
    )

    assert [r.line for r in report.created] == [2]
    assert by_line(report)[3].problems == {
        "account_manager": f"Line 2 gives this account to {am}; one account has one account manager."
    }
    assert Account.objects.get(domain="nova.example").account_manager == am


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("alex", "is not an active account manager."),
        ("gone", "is not an active account manager."),
        ("nobody@example.com", "No user 'nobody@example.com'"),
    ],
)
def test_an_am_that_is_not_an_active_am_refuses_the_row(marketing, am, ae, who, message):
    UserFactory(username="gone", role=Role.AM, is_active=False)
    report = run(marketing, f"Nova,nova.example,N-1,2025-06-01,2026-05-31,1000,,,,{who}")

    (row,) = report.refused
    assert message in row.problems["account_manager"]
    assert not Account.objects.filter(domain="nova.example").exists()


def test_a_new_domain_without_a_name_is_refused(marketing, am_rule):
    report = run(marketing, ",nova.example,N-1,2025-06-01,2026-05-31,1000,,,,")

    assert report.refused[0].problems == {
        "name": "No account has the domain nova.example: give the company's name to create it."
    }


# --- duplicates and all-or-nothing --------------------------------------------------------------


def test_a_contract_number_on_file_is_refused_and_nothing_of_the_row_is_kept(marketing, am, am_rule):
    contract(customer(am), end=date(2026, 12, 31), number="C-1")
    report = run(marketing, "Nova,nova.example,C-1,2025-06-01,2026-05-31,1000,,,,casey")

    assert report.refused[0].message == "Contract C-1 is already on file (for Acme GmbH)."
    assert not Account.objects.filter(domain="nova.example").exists()
    assert Contract.objects.count() == 1


def test_identical_rows_without_numbers_are_one_contract(marketing, am, am_rule):
    row = "Nova,nova.example,,2025-06-01,2026-05-31,1000,Growth,,,"
    report = run(marketing, row, row, "Nova,nova.example,,2025-06-01,2026-05-31,1000,Add-on,,,")

    assert [r.line for r in report.created] == [2, 4]
    assert by_line(report)[3].message == "The same contract as line 2."
    again = run(marketing, row)
    assert "already on file" in again.refused[0].message and Contract.objects.count() == 2


def test_every_problem_of_a_row_is_reported_at_once(marketing):
    report = run(marketing, "X,not a domain,,31.02.2026,soon,n/a,,lots,perhaps,")

    problems = report.refused[0].problems
    assert set(problems) == {"domain", "start_date", "end_date", "annual_value", "seats", "auto_renew"}


def test_a_value_too_large_for_the_column_is_refused(marketing):
    report = run(marketing, 'X,x.example,,2025-06-01,2026-05-31,"1,000,000,000,000.00",,,,')

    assert report.refused[0].problems == {
        "annual_value": "The annual value is too large (below 1,000,000,000,000 a year)."
    }


@pytest.mark.django_db(transaction=True)
def test_two_imports_of_the_same_rows_at_once_create_each_contract_once(am, am_rule, marketing):
    rows = [
        "Nova,nova.example,N-1,2025-06-01,2026-05-31,1000,,,,",
        "Nova,nova.example,N-2,2025-06-01,2026-05-31,2000,,,,",
        "Vega,vega.example,V-1,2025-06-01,2026-05-31,3000,,,,casey",
    ]
    outcomes = run_concurrently(*[lambda: run(marketing, *rows) for _ in range(2)])

    assert all(isinstance(o, importing.ImportReport) for o in outcomes), outcomes
    # Each row is created by one import and refused, whole, by the other.
    for line in (2, 3, 4):
        fates = sorted(by_line(o)[line].status for o in outcomes)
        assert fates == ["created", "refused"], (line, outcomes)
    assert all(r.problems.get("number") for o in outcomes for r in o.refused)
    assert Contract.objects.count() == 3 and Account.objects.count() == 2


# --- the file -----------------------------------------------------------------------------------


def test_a_byte_order_mark_and_odd_headers_are_read(marketing, am_rule):
    header = "\ufeffCOMPANY NAME,  web_site ,contract-no,Term Start,Term End,ARR,Plan"
    report = run(marketing, 'Nova,nova.example,N-1,2025-06-01,2026-05-31,"1,000",Gold', header=header)

    assert len(report.created) == 1
    assert Contract.objects.get().annual_value == Decimal("1000.00")


def test_a_quoted_cell_over_two_lines_keeps_the_file_line_numbers(marketing, am_rule):
    report = run(
        marketing,
        'Nova,nova.example,N-1,2025-06-01,2026-05-31,1000,"Growth\nand SSO",,,',
        "Vega,vega.example,V-1,2025-06-01,2025-05-31,1000,,,,",
    )

    assert [r.line for r in report.created] == [2] and [r.line for r in report.refused] == [4]
    assert Contract.objects.get().products == "Growth and SSO"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty"),
        (HEADER.encode(), "has a header row but no contracts"),
        (b"Name,Email\nx,y@z.com\n", "The file has no Domain, Start Date, End Date, Annual Value column"),
        (
            (HEADER + "\nM\xfcller,m.example,,2025-06-01,2026-05-31,1000,,,,").encode("latin-1"),
            "The file is not UTF-8 text (line 2 has bytes that are not UTF-8)",
        ),
        (  # an unclosed quote swallowing the rest of the file
            b'Domain,Start Date,End Date,Annual Value\r\n"x.example,2025-06-01\r\n'
            + b"y.example,2025-06-01,2026-05-31,1000\r\n" * 5000,
            "Line 2 is not valid CSV",
        ),
    ],
)
def test_a_file_refused_whole_says_why_and_creates_nothing(marketing, content, message):
    with pytest.raises(RenewalsError) as refused:
        importing.import_contracts(by=marketing, file=io.BytesIO(content))

    assert message in str(refused.value) and refused.value.field == "file"
    assert not Account.objects.exists()


def test_more_rows_than_the_limit_refuses_the_file(marketing, am_rule):
    rows = [
        f"N{i},n{i}.example,N-{i},2025-06-01,2026-05-31,1000,,,,"
        for i in range(importing.MAX_CONTRACT_ROWS + 1)
    ]
    with pytest.raises(RenewalsError, match="more than 5,000 contracts"):
        run(marketing, *rows)
    assert not Contract.objects.exists()


def test_only_importers_import(am, ae, inbound_sdr):
    for user in (am, ae, inbound_sdr):
        with pytest.raises(RenewalsError, match="Only managers and marketing/ops"):
            run(user, "Nova,nova.example,N-1,2025-06-01,2026-05-31,1000,,,,")


# --- the page -----------------------------------------------------------------------------------


def upload(content: bytes, name: str = "contracts.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_the_page_shows_the_report_with_a_link_per_contract(client_for, marketing, am, am_rule):
    client = client_for(marketing)
    assert client.get(URL).status_code == 200
    response = client.post(URL, {"file": upload(SAMPLE.read_bytes())})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="created-count">14<' in html and 'id="refused-count">9<' in html
    first = Contract.objects.get(number="C-1001")
    assert f'href="/contracts/{first.pk}/"' in html and f'href="/accounts/{first.account_id}/"' in html
    assert "The same contract number as line 4." in html
    assert "Müller &amp; Söhne AG" in html


def test_an_htmx_upload_gets_the_same_page(client_for, manager, am_rule):
    response = client_for(manager).post(
        URL, {"file": upload((HEADER + "\nNova,nova.example,N-1,2025-06-01,2026-05-31,1000,,,,").encode())},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip

    assert response.status_code == 200 and 'id="created-count">1<' in response.content.decode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Choose a CSV file."),
        (b"Name,Email\nx,y@z.com\n", "The file has no Domain"),
        (b"\xff\xfeD\x00o\x00", "not UTF-8"),
    ],
)
def test_a_refused_file_answers_400_beside_the_form(client_for, marketing, content, message):
    data = {} if content is None else {"file": upload(content)}
    response = client_for(marketing).post(URL, data)

    assert response.status_code == 400 and message in response.content.decode()
    assert not Contract.objects.exists()


def test_a_file_over_5_mb_is_refused(client_for, marketing):
    big = HEADER.encode() + b"\n" + b"x" * (importing.MAX_UPLOAD_BYTES + 1)
    response = client_for(marketing).post(URL, {"file": upload(big)})

    assert response.status_code == 400 and "over 5 MB" in response.content.decode()


@pytest.mark.parametrize("who", ["am", "ae", "inbound_sdr", "outbound_sdr"])
def test_other_roles_get_a_403(client_for, request, who):
    client = client_for(request.getfixturevalue(who))

    assert client.get(URL).status_code == 403
    assert client.post(URL, {"file": upload(SAMPLE.read_bytes())}).status_code == 403
    assert not Contract.objects.exists()


def test_a_superuser_imports(client_for, am_rule):
    admin = UserFactory(username="root", role=Role.AE, is_superuser=True, is_staff=True)
    response = client_for(admin).post(URL, {"file": upload(SAMPLE.read_bytes())})

    assert response.status_code == 200 and Contract.objects.count() == 14


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_junk_cells_are_refused_row_by_row(marketing, am_rule):
    report = run(
        marketing,
        "X,x.example,²,2025-06-01,2026-05-31,99999999999999999999,,99999999999999999999,,²",
        "X,x.example,,0001-01-01,9999-12-31,1e400,=cmd|' /C calc'!A0,-1,,٣",
        'X,"x.example\x00",,2025-06-01,2026-05-31,NaN,,,,',
        "é" * 300 + ",y.example,,2025-06-01,2026-05-31,1000,,,,",
    )

    assert report.created == [] and len(report.refused) == 4
    assert not Account.objects.exists()


def test_a_post_without_a_file_upload_is_a_form_error(client_for, marketing):
    response = client_for(marketing).post(URL, {"file": "not a file"})

    assert response.status_code == 400 and "Choose a CSV file." in response.content.decode()
