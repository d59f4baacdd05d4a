"""The target-account pages: who sees which accounts, the manager's create and assign forms,
adding prospects by hand and by CSV with a per-row report, the cadence control beside each
prospect, and a fixed number of queries whatever the data size."""

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services as prospecting
from accounts.models import Account, Contact
from leads.models import ActivitySource, Lead
from sdr import services
from sdr.models import Cadence, CadenceStep
from sdr.services import cadences
from team.models import Role
from tests.factories import TeamFactory, UserFactory, routed_lead

HTMX = {"HTTP_HX_REQUEST": "true"}
TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


@pytest.fixture
def cadence(db):
    cadence = Cadence.objects.create(name="Outbound 3 touches")
    CadenceStep.objects.bulk_create(
        CadenceStep(cadence=cadence, position=i, day_offset=d, channel=c, instructions=c)
        for i, (d, c) in enumerate([(0, "call"), (2, "email"), (5, "call")], start=1)
    )
    return cadence


def target_url(account) -> str:
    return reverse("accounts:target", args=[account.pk])


def add(account, by, *emails):
    rows = [{"email": e, "first_name": e.split("@")[0].title()} for e in emails]
    return prospecting.add_prospects(account_id=account.pk, by=by, rows=rows, via=ActivitySource.MANUAL)


def listed_accounts(body: str) -> list[str]:
    return re.findall(r'<a href="/targets/\d+/">([^<]+)</a>', body)


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context)


# --- the list ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_outbound_sdr_sees_their_target_accounts_with_counts(client_for, acme, outbound_sdr, cadence):
    colleague = UserFactory(username="tina", role=Role.OUTBOUND_SDR, team=outbound_sdr.team)
    Account.objects.create(name="Theirs", domain="theirs.com", prospector=colleague)
    Account.objects.create(name="Plain", domain="plain.com")
    with time_machine.travel(TUESDAY_10, tick=False):
        result = add(acme, outbound_sdr, "a@acme.com", "b@acme.com")
        cadences.enroll(lead_id=result.created[0].lead.pk, cadence_id=cadence.pk, by=outbound_sdr)
        services.log_touch(
            lead_id=result.created[0].lead.pk, by=outbound_sdr, kind="call", outcome="no_answer"
        )

    response = client_for(outbound_sdr).get(reverse("accounts:targets"))

    assert response.status_code == 200
    body = response.content.decode()
    assert listed_accounts(body) == ["Acme"]
    row = re.search(r"<tr>\s*<td><a href=\"/targets/\d+/\">Acme</a>.*?</tr>", body, re.S).group(0)
    cells = [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
    assert cells[0] == ["Acme", "acme.com"] and cells[1:4] == [["Software"], ["DE"], ["250"]]
    assert cells[4:6] == [["2"], ["1"]]  # prospects, in a cadence
    assert "ago" in " ".join(cells[6]) or "now" in " ".join(cells[6])
    assert "New target account" not in body  # SDRs do not create accounts


@pytest.mark.django_db
def test_a_manager_sees_their_teams_target_accounts_and_who_prospects_them(
    client_for, acme, other_manager, manager
):
    theirs = UserFactory(
        username="otto", role=Role.OUTBOUND_SDR, team=TeamFactory(name="Outbound 2", kind="outbound")
    )
    Account.objects.create(name="Elsewhere", domain="elsewhere.com", prospector=theirs)

    body = client_for(other_manager).get(reverse("accounts:targets")).content.decode()
    assert listed_accounts(body) == ["Acme"] and str(acme.prospector) in body
    assert "New target account" in body

    body = client_for(manager).get(reverse("accounts:targets")).content.decode()
    assert listed_accounts(body) == []


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["inbound_sdr", "ae", "marketing", "am"])
def test_roles_without_target_accounts_get_a_403(client_for, request, acme, who):
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse("accounts:targets")).status_code == 403
    assert client.get(target_url(acme)).status_code == 403


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client, acme):
    assert client.get(reverse("accounts:targets")).status_code == 302
    assert client.get(target_url(acme)).status_code == 302


@pytest.mark.django_db
def test_the_list_searches_by_name_or_domain(client_for, outbound_sdr, acme):
    Account.objects.create(name="Globex", domain="globex.io", prospector=outbound_sdr)
    client = client_for(outbound_sdr)
    assert listed_accounts(client.get(reverse("accounts:targets"), {"q": "glob"}).content.decode()) == [
        "Globex"
    ]
    assert listed_accounts(client.get(reverse("accounts:targets"), {"q": "ACME.COM"}).content.decode()) == [
        "Acme"
    ]
    partial = client.get(reverse("accounts:targets"), {"q": "acme"}, **HTMX)
    assert "<html" not in partial.content.decode() and listed_accounts(partial.content.decode()) == ["Acme"]


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_for_two_accounts_or_twenty(
    client_for, outbound_sdr, other_manager, cadence
):
    made = iter(range(10_000))

    def grow(n):
        for _ in range(n):
            i = next(made)
            account = Account.objects.create(name=f"Co {i:02d}", domain=f"co{i}.com", prospector=outbound_sdr)
            with time_machine.travel(TUESDAY_10, tick=False):
                result = add(account, outbound_sdr, f"a@co{i}.com", f"b@co{i}.com")
                cadences.enroll(lead_id=result.created[0].lead.pk, cadence_id=cadence.pk, by=outbound_sdr)

    for user in (outbound_sdr, other_manager):
        Account.objects.all().delete()
        grow(2)
        small = queries(client_for(user), reverse("accounts:targets"))
        grow(18)
        assert queries(client_for(user), reverse("accounts:targets")) == small


# --- creating and assigning -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_creates_a_target_account(client_for, other_manager, outbound_sdr):
    response = client_for(other_manager).post(
        reverse("accounts:targets"),
        {
            "name": "Initech",
            "domain": "https://www.Initech.com/",
            "country": "us",
            "prospector": outbound_sdr.pk,
        },
    )
    account = Account.objects.get()
    assert response.status_code == 302 and response["Location"] == target_url(account)
    assert (account.domain, account.country, account.prospector) == ("initech.com", "US", outbound_sdr)


@pytest.mark.django_db
def test_a_duplicate_domain_is_refused_with_a_link_to_the_account_that_has_it(
    client_for, other_manager, outbound_sdr, acme
):
    response = client_for(other_manager).post(
        reverse("accounts:targets"), {"name": "Acme 2", "domain": "ACME.com", "prospector": outbound_sdr.pk}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Acme already has the domain acme.com" in body
    assert f'href="{target_url(acme)}"' in body
    assert Account.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "domain": "x.com"}, "Name the company."),
        ({"name": "X", "domain": "nodot"}, "is not a web domain"),
        ({"name": "X", "domain": "x.com", "employees": "lots"}, "Enter a whole number, e.g. 25."),
        ({"name": "X", "domain": "x.com", "country": "Narnia"}, "is not a country we know"),
    ],
)
def test_bad_account_details_are_refused_with_the_reason(
    client_for, other_manager, outbound_sdr, data, message
):
    response = client_for(other_manager).post(
        reverse("accounts:targets"), {"prospector": outbound_sdr.pk, **data}
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_a_manager_cannot_create_an_account_for_another_teams_sdr(client_for, manager, outbound_sdr):
    response = client_for(manager).post(
        reverse("accounts:targets"), {"name": "X", "domain": "x.com", "prospector": outbound_sdr.pk}
    )
    assert (
        response.status_code == 400
        and "Choose an outbound SDR in a team you manage." in response.content.decode()
    )
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_an_sdr_cannot_create_a_target_account(client_for, outbound_sdr):
    response = client_for(outbound_sdr).post(
        reverse("accounts:targets"), {"name": "X", "domain": "x.com", "prospector": outbound_sdr.pk}
    )
    assert response.status_code == 403 and not Account.objects.exists()


@pytest.mark.django_db
def test_a_manager_reassigns_and_unassigns_from_the_account_page(
    client_for, other_manager, outbound_sdr, acme
):
    colleague = UserFactory(username="tina", role=Role.OUTBOUND_SDR, team=outbound_sdr.team)
    client = client_for(other_manager)
    url = reverse("accounts:target_assign", args=[acme.pk])

    response = client.post(url, {"prospector": colleague.pk}, **HTMX)
    assert response.status_code == 200 and f"Acme is prospected by {colleague}." in response.content.decode()
    acme.refresh_from_db()
    assert acme.prospector == colleague

    response = client.post(url, {"prospector": ""})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.prospector is None
    # No longer a target, the account still opens for the manager, to assign it again.
    assert client.get(target_url(acme)).status_code == 200


@pytest.mark.django_db
def test_assigning_is_for_managers_and_their_own_sdrs(
    client_for, outbound_sdr, other_manager, manager, acme, inbound_sdr
):
    url = reverse("accounts:target_assign", args=[acme.pk])
    assert client_for(outbound_sdr).post(url, {"prospector": outbound_sdr.pk}).status_code == 403
    assert client_for(manager).post(url, {"prospector": ""}).status_code == 404
    response = client_for(other_manager).post(url, {"prospector": inbound_sdr.pk}, **HTMX)
    assert (
        response.status_code == 400
        and "Choose an outbound SDR in a team you manage." in response.content.decode()
    )
    acme.refresh_from_db()
    assert acme.prospector == outbound_sdr


# --- one account --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_account_page_lists_its_prospects_with_lead_status_and_cadence(
    client_for, outbound_sdr, acme, cadence, inbound_sdr
):
    with time_machine.travel(TUESDAY_10, tick=False):
        result = add(acme, outbound_sdr, "ada@acme.com", "bob@acme.com")
        cadences.enroll(lead_id=result.created[0].lead.pk, cadence_id=cadence.pk, by=outbound_sdr)
    # A contact made by an inbound handoff: someone else's lead, shown without controls.
    other = routed_lead(inbound_sdr, email="carl@acme.com", first_name="Carl", last_name="C")
    Contact.objects.create(account=acme, lead=other, email=other.email, first_name="Carl", last_name="C")

    with time_machine.travel(TUESDAY_10, tick=False):
        body = client_for(outbound_sdr).get(target_url(acme)).content.decode()

    assert "ada@acme.com" in body and "bob@acme.com" in body and "carl@acme.com" in body
    assert "Working (SDR)" in body and "MQL" in body
    assert (
        "Outbound 3 touches" in body and "step 1 of 3" in body and "Tue 24 Nov 2026, 10:00 CET" in body
    )  # Berlin time
    assert body.count('action="/cadences/leads/') == 2  # stop for Ada, enroll for Bob; nothing for Carl
    assert f'action="/cadences/leads/{other.pk}/' not in body
    assert f'href="/leads/{other.pk}/"' not in body
    assert 'name="email"' in body and 'type="file"' in body  # add by hand, or by CSV


@pytest.mark.django_db
def test_another_sdrs_or_another_teams_account_is_a_404(client_for, acme, manager):
    colleague = UserFactory(username="tina", role=Role.OUTBOUND_SDR, team=acme.prospector.team)
    assert client_for(colleague).get(target_url(acme)).status_code == 404
    assert client_for(manager).get(target_url(acme)).status_code == 404
    assert client_for(colleague).get(reverse("accounts:target", args=[987654])).status_code == 404


@pytest.mark.django_db
def test_the_account_page_costs_the_same_queries_for_two_prospects_or_thirty(
    client_for, outbound_sdr, other_manager, acme, cadence
):
    def grow(start, n):
        with time_machine.travel(TUESDAY_10, tick=False):
            result = add(acme, outbound_sdr, *(f"p{i}@acme.com" for i in range(start, start + n)))
            for added in result.created[::2]:
                cadences.enroll(lead_id=added.lead.pk, cadence_id=cadence.pk, by=outbound_sdr)

    grow(0, 2)
    small = {user.pk: queries(client_for(user), target_url(acme)) for user in (outbound_sdr, other_manager)}
    grow(2, 28)
    for user in (outbound_sdr, other_manager):
        assert queries(client_for(user), target_url(acme)) == small[user.pk]


# --- adding prospects -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sdr_adds_a_prospect_by_hand(client_for, outbound_sdr, acme):
    response = client_for(outbound_sdr).post(
        reverse("accounts:target_add_prospect", args=[acme.pk]),
        {"email": "Ada@Acme.com", "first_name": "Ada", "last_name": "Lovelace", "title": "CTO"},
        **HTMX,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ada Lovelace (ada@acme.com) added as a prospect." in body and "<html" not in body
    lead = Lead.objects.get()
    assert lead.owner == outbound_sdr and lead.contact.account == acme


@pytest.mark.django_db
def test_a_known_person_is_refused_with_the_reason_beside_the_email(
    client_for, outbound_sdr, acme, inbound_sdr
):
    routed_lead(inbound_sdr, email="known@acme.com")
    response = client_for(outbound_sdr).post(
        reverse("accounts:target_add_prospect", args=[acme.pk]), {"email": "known@acme.com"}, **HTMX
    )
    assert response.status_code == 400
    assert f"Already a lead (status MQL, owned by {inbound_sdr})." in response.content.decode()
    assert not Contact.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("email", "message"), [("", "Enter the prospect&#x27;s email."), ("nope", "is not a valid address")]
)
def test_a_bad_email_is_refused(client_for, outbound_sdr, acme, email, message):
    response = client_for(outbound_sdr).post(
        reverse("accounts:target_add_prospect", args=[acme.pk]), {"email": email}, **HTMX
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_only_the_accounts_sdr_or_their_manager_sees_the_add_forms(
    client_for, outbound_sdr, other_manager, acme
):
    body = client_for(other_manager).get(target_url(acme)).content.decode()
    assert 'name="email"' in body
    acme.prospector = None
    acme.save(update_fields=["prospector"])
    body = client_for(other_manager).get(target_url(acme)).content.decode()
    assert 'name="email"' not in body and "Assign the account to an outbound SDR first." in body
    response = client_for(other_manager).post(
        reverse("accounts:target_add_prospect", args=[acme.pk]), {"email": "x@acme.com"}, **HTMX
    )
    assert response.status_code == 400 and "is not a target account" in response.content.decode()


@pytest.mark.django_db
def test_a_csv_upload_shows_a_report_of_the_refused_rows(client_for, outbound_sdr, acme, inbound_sdr):
    routed_lead(inbound_sdr, email="known@acme.com")
    upload = SimpleUploadedFile(
        "prospects.csv",
        b"Email,First Name,Last Name\nada@acme.com,Ada,L\nnot-an-email,X,Y\nknown@acme.com,K,L\nbob@acme.com,Bob,M\n",
        content_type="text/csv",
    )
    response = client_for(outbound_sdr).post(
        reverse("accounts:target_import", args=[acme.pk]), {"file": upload}, **HTMX
    )
    assert response.status_code == 200
    body = response.content.decode()
    report = re.search(r'<section class="card" id="prospect-report">.*?</section>', body, re.S).group(0)
    assert 'id="created-count">2<' in report and 'id="refused-count">2<' in report
    rows = [
        [html.unescape(cell) for cell in re.findall(r"<td>(.*?)</td>", row)]
        for row in re.findall(r"<tr><td>\d+</td>.*?</tr>", report)
    ]
    assert rows[0][:2] == ["3", "not-an-email"] and rows[0][2].startswith(
        "email 'not-an-email' is not a valid"
    )
    assert rows[1] == ["4", "known@acme.com", f"already a lead (status MQL, owned by {inbound_sdr})"]
    assert set(Contact.objects.values_list("email", flat=True)) == {"ada@acme.com", "bob@acme.com"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Name,Phone\nAda,123\n", "No email column found"),
        (b"Email,Name\nada@acme.com,Jos\xe9\n", "not UTF-8"),
        (b"Email\n", "no prospects"),
    ],
)
def test_a_csv_refused_as_a_whole_says_why(client_for, outbound_sdr, acme, content, message):
    upload = SimpleUploadedFile("list.csv", content, content_type="text/csv")
    response = client_for(outbound_sdr).post(
        reverse("accounts:target_import", args=[acme.pk]), {"file": upload}, **HTMX
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_an_upload_without_a_file_is_refused(client_for, outbound_sdr, acme):
    response = client_for(outbound_sdr).post(reverse("accounts:target_import", args=[acme.pk]), {})
    assert response.status_code == 400 and "Choose a CSV file." in response.content.decode()


@pytest.mark.django_db
def test_junk_never_gets_a_500(client_for, outbound_sdr, other_manager, acme):
    junk = ["", "x", "-1", "0", "99999999999999999999", "null", "é" * 300, "1' OR 1=1"]
    urls = [
        ("get", reverse("accounts:targets"), ["q", "prospector", "page"]),
        (
            "post",
            reverse("accounts:targets"),
            ["name", "domain", "industry", "country", "employees", "prospector"],
        ),
        ("get", target_url(acme), ["page"]),
        ("post", reverse("accounts:target_assign", args=[acme.pk]), ["prospector"]),
        ("post", reverse("accounts:target_add_prospect", args=[acme.pk]), ["email", "first_name", "country"]),
        ("post", reverse("accounts:target_import", args=[acme.pk]), ["file"]),
    ]
    for user in (outbound_sdr, other_manager):
        client = client_for(user)
        for method, url, fields in urls:
            for value in junk:
                response = getattr(client, method)(url, dict.fromkeys(fields, value))
                assert response.status_code < 500, (user, url, value)
