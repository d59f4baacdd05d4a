"""Global search through the page and its dropdown: what each field finds, the ranking, typos
(PostgreSQL), bad input, and a fixed number of queries whatever the data size."""

from datetime import date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account, Contact
from search import vocabulary
from search.query import normalize, phone_candidates, search
from tests.factories import LeadFactory, contract, customer, handed_off

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = datetime.fromisoformat("2026-03-10T10:00:00+00:00")
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="trigrams are PostgreSQL's")


def titles(results, kind: str) -> list[str]:
    return [hit.title for group in results.groups if group.kind == kind for hit in group.hits]


def dropdown(client, q: str) -> str:
    response = client.get(reverse("search:results"), {"q": q}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


# --- leads, by every field ---------------------------------------------------------------------


@pytest.fixture
def jane(inbound_sdr):
    return LeadFactory(
        owner=inbound_sdr, first_name="Jane", last_name="Doe", email="jane.doe@globex.example",
        company="Globex Corporation", phone="030-1234567",
    )  # fmt: skip


@pytest.mark.parametrize(
    "q",
    [
        "Jane",
        "jane doe",
        "Doe",
        "jane.doe@globex.example",
        "JANE.DOE@GLOBEX",
        "Globex",
        "globex.example",
        "1234567",
    ],
)
def test_sdr_finds_their_lead_by_name_email_company_domain_or_phone(client_for, inbound_sdr, jane, q):
    LeadFactory(owner=inbound_sdr, first_name="Max", last_name="Muster", email="max@initech.example",
                company="Initech", phone="+1 555 0100")  # fmt: skip
    body = dropdown(client_for(inbound_sdr), q)
    assert "Jane Doe" in body
    assert reverse("leads:detail", args=[jane.pk]) in body
    assert "Max Muster" not in body


def test_a_whole_email_address_finds_that_person_and_their_company_s_account(manager, jane):
    """A full address is looked up, not searched for: the person with it (any case), the account
    of its domain; not a longer address that merely contains it."""
    Account.objects.create(name="Globex", domain="globex.example")
    LeadFactory(first_name="Mary", last_name="Jane", email="mary.jane.doe@globex.example")
    found = search(manager, "Jane.Doe@Globex.example")
    assert titles(found, "lead") == ["Jane Doe"]
    assert titles(found, "account") == ["Globex"]
    assert titles(search(manager, "doe@globex.example"), "lead") == []  # part of an address is no address
    assert sorted(titles(search(manager, "doe@globex"), "lead")) == ["Jane Doe", "Mary Jane"]


def test_phone_is_matched_on_its_digits_whatever_the_writing(inbound_sdr, jane):
    for q in ("+49 30 1234", "(030) 123-45", "030 1234567", "0049 30 1234567"):
        assert titles(search(inbound_sdr, q), "lead") == ["Jane Doe"], q


def test_phone_candidates_drop_an_international_prefix():
    assert phone_candidates("+49 30 1234") == ["49301234", "301234"]  # Germany's code has two digits
    assert phone_candidates("0049 30 1234") == ["0049301234", "49301234", "301234"]
    assert phone_candidates("+1 415 555 0100") == ["14155550100", "4155550100"]
    assert phone_candidates("+353 1 234 5678") == ["35312345678", "12345678"]  # Ireland's has three
    assert phone_candidates("+49 30 12") == ["493012"]  # "3012" alone would mean too little
    assert phone_candidates("123") == []  # too few digits to mean a phone
    assert phone_candidates("Jane 123") == []


def test_exact_email_ranks_first(manager, inbound_sdr):
    for n in range(6):
        LeadFactory(
            owner=inbound_sdr, first_name="Ann", last_name=f"Other{n}", email=f"ann.lee{n}@acme.example"
        )
    LeadFactory(owner=inbound_sdr, first_name="Ann", last_name="Lee", email="ann.lee@acme.example")
    found = search(manager, "ann.lee@acme.example")
    assert titles(found, "lead")[0] == "Ann Lee"


def test_dropdown_shows_five_of_a_kind_and_the_page_more(client_for, manager, inbound_sdr):
    for n in range(8):
        LeadFactory(owner=inbound_sdr, first_name="Margaret", last_name=f"Number{n}")
    client = client_for(manager)
    assert dropdown(client, "Margaret").count('class="search-hit"') == 5
    page = client.get(reverse("search:results"), {"q": "Margaret"}).content.decode()
    assert page.count("Margaret Number") == 8
    assert "All results" not in page  # the page is all the results


@postgres_only
@pytest.mark.parametrize(
    "typo", ["Globx Corporation", "Globex Corporaton", "Jayne Doe", "Jane Doee", "Globex Corp Jane"]
)
def test_a_typo_still_finds_the_lead_on_postgresql(inbound_sdr, jane, typo):
    LeadFactory(
        owner=inbound_sdr,
        first_name="Zoe",
        last_name="Zander",
        company="Umbrella",
        email="z@umbrella.example",
    )
    vocabulary.rebuild()  # the nightly task; new leads' words also join every five minutes
    assert titles(search(inbound_sdr, typo), "lead") == ["Jane Doe"]


@postgres_only
def test_words_are_found_in_any_order_and_a_typo_is_corrected_not_guessed(inbound_sdr, jane):
    LeadFactory(
        owner=inbound_sdr, first_name="John", last_name="Doe", company="Initech", email="jd@initech.example"
    )
    vocabulary.rebuild()
    assert titles(search(inbound_sdr, "Doe Jane"), "lead") == ["Jane Doe"]
    assert titles(search(inbound_sdr, "Initeck Johnn"), "lead") == ["John Doe"]
    assert titles(search(inbound_sdr, "Glob"), "lead") == ["Jane Doe"]  # a word still being typed
    # a word nobody holds, with nothing close to it, is looked for as typed: nothing is found
    assert titles(search(inbound_sdr, "Jane Xylophone"), "lead") == []


# --- the other kinds ---------------------------------------------------------------------------


def test_am_finds_their_account_contacts_and_contracts(client_for, am):
    account = customer(am, name="Stark Industries", domain="stark.example")
    Contact.objects.create(account=account, email="pepper@stark.example", first_name="Pepper", last_name="Potts",
                           phone="+1 212 555 0199")  # fmt: skip
    term = contract(account, end=date(2026, 12, 31), number="C-2026-0042")
    client = client_for(am)
    for q in ("Stark", "stark.example"):
        body = dropdown(client, q)
        assert reverse("renewals:account", args=[account.pk]) in body
        assert reverse("renewals:contract", args=[term.pk]) in body
    for q in ("Pepper Potts", "pepper@stark", "212 555 0199"):
        assert titles(search(am, q), "contact") == ["Pepper Potts"], q
    assert titles(search(am, "C-2026-0042"), "contract") == ["Stark Industries"]


def test_ae_finds_their_opportunity_and_its_contact(client_for, inbound_sdr, ae):
    opportunity = handed_off(inbound_sdr, ae, first_name="Bruce", last_name="Wayne", company="Wayne Enterprises",
                             email="bruce@wayne.example")  # fmt: skip
    body = dropdown(client_for(ae), "Wayne")
    assert reverse("accounts:opportunity", args=[opportunity.pk]) in body
    found = search(ae, "bruce@wayne.example")
    assert titles(found, "contact") == ["Bruce Wayne"]
    assert found.groups[0].hits[0].url_name == "accounts:opportunity"
    assert titles(found, "lead") == []  # an AE never sees raw leads


def test_outbound_sdr_finds_their_target_account(outbound_sdr):
    account = Account.objects.create(
        name="Cyberdyne Systems", domain="cyberdyne.example", prospector=outbound_sdr
    )
    hits = search(outbound_sdr, "Cyberdyne").groups[0].hits
    assert [(h.kind, h.url_name, h.pk) for h in hits] == [("account", "accounts:target", account.pk)]


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ("", "Search leads"),
        ("   ", "Search leads"),
        ("a", "at least 3"),
        ("ab", "at least 3"),
        ("x" * 101, "at most 100"),
        ("%%%", "Nothing found"),
        ("___", "Nothing found"),
        ("'; DROP TABLE leads_lead; --", "Nothing found"),
        ("\\\\\\", "Nothing found"),
        ("a\x00b\x01c", "Nothing found"),
        ("%' OR 1=1 --", "Nothing found"),
        ("<script>alert(1)</script>", "Nothing found"),
    ],
)
def test_bad_input_answers_200_with_a_message(client_for, manager, jane, q, message):
    client = client_for(manager)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.get(reverse("search:results"), {"q": q}, **headers)
        assert response.status_code == 200
        body = response.content.decode()
        assert message in body
        assert "Jane Doe" not in body
        assert "<script>alert(1)</script>" not in body


def test_percent_and_underscore_are_literal(manager, inbound_sdr):
    LeadFactory(owner=inbound_sdr, first_name="Per", last_name="Cent", company="100% Juice")
    LeadFactory(owner=inbound_sdr, first_name="Other", last_name="Person", company="100 Juice")
    found = titles(search(manager, "100%"), "lead")
    assert found[0] == "Per Cent"  # "100 Juice" is only similar (PostgreSQL), so it comes after
    assert titles(search(manager, "r_c"), "lead") == []  # "_" is not "any character"


def test_query_is_normalized():
    assert normalize("  jane \t\n doe \x00 ") == "jane doe"
    assert normalize(None) == ""


def test_no_query_string_at_all(client_for, manager):
    assert client_for(manager).get(reverse("search:results")).status_code == 200


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(reverse("search:results"), {"q": "Jane"})
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


# --- a fixed number of queries -----------------------------------------------------------------


def _data(size: int, inbound_sdr, ae, am) -> None:
    for n in range(size):
        LeadFactory(owner=inbound_sdr, first_name="Anna", last_name=f"Smith{n}", company=f"Anna Co {n}")
    account = customer(am, name=f"Anna Holdings {size}", domain=f"anna{size}.example")
    for n in range(size):
        Contact.objects.create(account=account, email=f"anna{n}@anna{size}.example", first_name="Anna",
                               last_name=f"C{n}")  # fmt: skip
        contract(account, end=date(2026 + n, 6, 1), number=f"ANNA-{size}-{n}")
    handed_off(inbound_sdr, ae, first_name="Anna", last_name=f"Deal{size}", company=f"Anna Deal {size}")


@pytest.mark.parametrize("who", ["manager", "inbound_sdr", "ae", "am", "marketing", "outbound_sdr"])
def test_a_search_issues_the_same_queries_whatever_the_data_size(
    request, client_for, inbound_sdr, ae, am, who
):
    user = request.getfixturevalue(who)
    client = client_for(user)
    counts = []
    for size in (2, 12):
        _data(size, inbound_sdr, ae, am)
        with CaptureQueriesContext(connection) as captured:
            dropdown(client, "Anna")
        counts.append(len(captured))
    assert counts[0] == counts[1]
    # the session and user, the vocabulary's corrections (PostgreSQL), then one query per kind at most
    assert counts[0] <= 2 + 1 + 5
