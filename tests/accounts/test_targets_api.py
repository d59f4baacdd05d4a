"""The target-account API: who lists and reads which accounts, managers creating and assigning,
prospects added as JSON or CSV with a per-row report, and 400 only for a malformed body."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import services as prospecting
from accounts.models import Account, Contact
from accounts.services import prospects
from leads.models import Activity, ActivitySource, Lead
from sdr.models import Cadence, CadenceStep
from sdr.services import cadences
from team.models import Role
from tests.factories import TeamFactory, UserFactory, routed_lead

TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LIST = "/api/v1/target-accounts/"


@pytest.fixture
def cadence(db):
    cadence = Cadence.objects.create(name="Outbound")
    CadenceStep.objects.create(cadence=cadence, position=1, day_offset=0, channel="call", instructions="Call")
    CadenceStep.objects.create(
        cadence=cadence, position=2, day_offset=2, channel="email", instructions="Mail"
    )
    return cadence


def prospects_url(account) -> str:
    return f"{LIST}{account.pk}/prospects/"


# --- reading --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_sdr_lists_their_target_accounts_with_counts(api_for, outbound_sdr, acme, cadence):
    colleague = UserFactory(username="tina", role=Role.OUTBOUND_SDR, team=outbound_sdr.team)
    Account.objects.create(name="Theirs", domain="theirs.com", prospector=colleague)
    with time_machine.travel(TUESDAY_10, tick=False):
        result = prospecting.add_prospects(
            account_id=acme.pk,
            by=outbound_sdr,
            rows=[{"email": "a@acme.com"}, {"email": "b@acme.com"}],
            via="api",
        )
        cadences.enroll(lead_id=result.created[0].lead.pk, cadence_id=cadence.pk, by=outbound_sdr)

    body = api_for(outbound_sdr).get(LIST).json()

    assert body["count"] == 1
    [row] = body["results"]
    assert row["name"] == "Acme" and row["domain"] == "acme.com" and row["prospector"] == outbound_sdr.pk
    assert row["prospector_name"] == str(outbound_sdr)
    assert (row["prospect_count"], row["active_cadences"], row["last_touch_at"]) == (2, 1, None)
    mine = api_for(outbound_sdr).get(LIST, {"prospector": outbound_sdr.pk})
    assert mine.status_code == 200 and mine.json()["count"] == 1
    assert api_for(outbound_sdr).get(LIST, {"prospector": colleague.pk}).status_code == 400


@pytest.mark.django_db
def test_a_manager_lists_their_teams_accounts_and_filters_by_sdr(
    api_for, other_manager, outbound_sdr, acme, manager
):
    colleague = UserFactory(username="tina", role=Role.OUTBOUND_SDR, team=outbound_sdr.team)
    Account.objects.create(name="Globex", domain="globex.com", prospector=colleague)
    client = api_for(other_manager)
    assert [a["name"] for a in client.get(LIST).json()["results"]] == ["Acme", "Globex"]
    assert [a["name"] for a in client.get(LIST, {"prospector": colleague.pk}).json()["results"]] == ["Globex"]
    assert [a["name"] for a in client.get(LIST, {"q": "acme"}).json()["results"]] == ["Acme"]
    assert client.get(LIST, {"prospector": 99999}).status_code == 400
    assert api_for(manager).get(LIST).json()["count"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["inbound_sdr", "ae", "marketing", "am"])
def test_roles_without_target_accounts_get_a_403(api_for, request, acme, who):
    client = api_for(request.getfixturevalue(who))
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}{acme.pk}/").status_code == 403
    assert client.post(prospects_url(acme), [{"email": "x@acme.com"}], format="json").status_code == 403


@pytest.mark.django_db
def test_someone_elses_account_is_a_404(api_for, acme, manager):
    colleague = UserFactory(username="tina", role=Role.OUTBOUND_SDR, team=acme.prospector.team)
    for user in (colleague, manager):
        client = api_for(user)
        assert client.get(f"{LIST}{acme.pk}/").status_code == 404
        assert client.post(prospects_url(acme), [{"email": "x@acme.com"}], format="json").status_code == 404
    assert api_for(colleague).get(f"{LIST}99999/").status_code == 404
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_the_list_costs_the_same_queries_for_two_accounts_or_twenty(api_for, outbound_sdr):
    def count():
        with CaptureQueriesContext(connection) as context:
            assert api_for(outbound_sdr).get(LIST).status_code == 200
        return len(context)

    for i in range(2):
        Account.objects.create(name=f"Co {i}", domain=f"co{i}.com", prospector=outbound_sdr)
    small = count()
    for i in range(2, 20):
        account = Account.objects.create(name=f"Co {i}", domain=f"co{i}.com", prospector=outbound_sdr)
        prospecting.add_prospects(
            account_id=account.pk, by=outbound_sdr, rows=[{"email": f"p@co{i}.com"}], via="api"
        )
    assert count() == small


# --- creating and assigning -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_manager_creates_a_target_account(api_for, other_manager, outbound_sdr):
    response = api_for(other_manager).post(
        LIST,
        {
            "name": "Initech",
            "domain": "HTTPS://Initech.com/",
            "country": "United States",
            "prospector": outbound_sdr.pk,
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["domain"], body["country"], body["prospector"], body["prospect_count"]) == (
        "initech.com",
        "US",
        outbound_sdr.pk,
        0,
    )


@pytest.mark.django_db
def test_creating_refuses_a_duplicate_domain_on_its_field(api_for, other_manager, outbound_sdr, acme):
    response = api_for(other_manager).post(
        LIST, {"name": "Acme", "domain": "www.acme.com", "prospector": outbound_sdr.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "domain": [f"Acme already has the domain acme.com (a target account prospected by {outbound_sdr})."]
    }


@pytest.mark.django_db
def test_creating_is_for_managers_and_their_outbound_sdrs(
    api_for, outbound_sdr, manager, other_manager, inbound_sdr
):
    body = {"name": "X", "domain": "x.com", "prospector": outbound_sdr.pk}
    assert api_for(outbound_sdr).post(LIST, body, format="json").status_code == 403
    response = api_for(manager).post(LIST, body, format="json")
    assert response.status_code == 400 and list(response.json()) == ["prospector"]
    response = api_for(other_manager).post(LIST, {**body, "prospector": inbound_sdr.pk}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["prospector"]
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_a_manager_assigns_and_unassigns(api_for, other_manager, outbound_sdr, acme, manager):
    colleague = UserFactory(username="tina", role=Role.OUTBOUND_SDR, team=outbound_sdr.team)
    client = api_for(other_manager)
    response = client.post(f"{LIST}{acme.pk}/assign/", {"prospector": colleague.pk}, format="json")
    assert response.status_code == 200 and response.json()["prospector"] == colleague.pk
    response = client.post(f"{LIST}{acme.pk}/assign/", {"prospector": None}, format="json")
    assert response.status_code == 200 and response.json()["prospector"] is None
    assert (
        api_for(outbound_sdr)
        .post(f"{LIST}{acme.pk}/assign/", {"prospector": None}, format="json")
        .status_code
        == 403
    )
    other = UserFactory(
        username="otto",
        role=Role.OUTBOUND_SDR,
        team=TeamFactory(name="Out 2", kind="outbound", manager=manager),
    )
    theirs = Account.objects.create(name="Theirs", domain="theirs.com", prospector=other)
    client = api_for(other_manager)
    assert client.post(f"{LIST}{theirs.pk}/assign/", {"prospector": None}, format="json").status_code == 404


# --- prospects -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_posting_prospects_answers_a_report_row_by_row(api_for, outbound_sdr, acme, inbound_sdr):
    routed_lead(inbound_sdr, email="known@acme.com")
    rows = [
        {"email": "ada@acme.com", "first_name": "Ada", "last_name": "Lovelace", "employees": 300},
        {"email": "bad"},
        {"email": "known@acme.com"},
        {"first_name": "No email"},
        {"email": "ADA@acme.com"},
        {"email": "bob@acme.com", "country": None, "company": "ignored", "extra": "ignored"},
    ]
    response = api_for(outbound_sdr).post(prospects_url(acme), rows, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["account"], body["created_count"], body["refused_count"]) == (acme.pk, 2, 4)
    assert [(c["line"], c["email"], c["name"]) for c in body["created"]] == [
        (1, "ada@acme.com", "Ada Lovelace"),
        (6, "bob@acme.com", "bob@acme.com"),
    ]
    assert [(r["line"], r["email"], r["reason"][:22]) for r in body["refused"]] == [
        (2, "bad", "email 'bad' is not a v"),
        (3, "known@acme.com", "already a lead (status"),
        (4, "", "email is missing"),
        (5, "ada@acme.com", "the same email as line"),
    ]
    ada = Lead.objects.get(email="ada@acme.com")
    assert body["created"][0]["lead"] == ada.pk and body["created"][0]["contact"] == ada.contact.pk
    assert ada.employees == 300 and ada.owner == outbound_sdr
    assert Activity.objects.get(lead=ada).source == ActivitySource.API


@pytest.mark.django_db
def test_one_prospect_object_is_a_list_of_one(api_for, outbound_sdr, acme):
    response = api_for(outbound_sdr).post(prospects_url(acme), {"email": "ada@acme.com"}, format="json")
    assert response.status_code == 201 and response.json()["created"][0]["line"] == 1


@pytest.mark.django_db
def test_when_every_row_is_refused_the_answer_is_200_with_the_report(api_for, outbound_sdr, acme):
    response = api_for(outbound_sdr).post(prospects_url(acme), [{"email": "bad"}], format="json")
    assert response.status_code == 200
    assert response.json()["created"] == [] and response.json()["refused_count"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        "just text",
        42,
        None,
        [],
        ["ada@acme.com"],
        [{"email": ["a@acme.com"]}],
        [{"email": {"x": 1}}],
        [{"email": True}],
    ],
)
def test_a_malformed_body_is_a_400_and_nothing_is_written(api_for, outbound_sdr, acme, body):
    response = api_for(outbound_sdr).post(
        prospects_url(acme), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_too_many_rows_are_a_400(api_for, outbound_sdr, acme, monkeypatch):
    monkeypatch.setattr(prospects, "MAX_PROSPECT_ROWS", 2)
    response = api_for(outbound_sdr).post(
        prospects_url(acme), [{"email": f"p{i}@acme.com"} for i in range(3)], format="json"
    )
    assert response.status_code == 400 and "At most 2 prospects" in response.json()["non_field_errors"][0]


@pytest.mark.django_db
def test_an_account_that_is_not_a_target_takes_no_prospects(api_for, other_manager, acme):
    acme.prospector = None
    acme.save(update_fields=["prospector"])
    response = api_for(other_manager).post(prospects_url(acme), [{"email": "x@acme.com"}], format="json")
    assert response.status_code == 400 and "is not a target account" in response.json()["non_field_errors"][0]


@pytest.mark.django_db
def test_the_prospect_list_shows_lead_status_and_cadence(api_for, outbound_sdr, acme, cadence):
    with time_machine.travel(TUESDAY_10, tick=False):
        result = prospecting.add_prospects(
            account_id=acme.pk,
            by=outbound_sdr,
            rows=[{"email": "a@acme.com"}, {"email": "b@acme.com"}],
            via="api",
        )
        cadences.enroll(lead_id=result.created[0].lead.pk, cadence_id=cadence.pk, by=outbound_sdr)
    body = api_for(outbound_sdr).get(prospects_url(acme)).json()
    assert body["count"] == 2
    by_email = {p["email"]: p for p in body["results"]}
    assert by_email["a@acme.com"]["lead"]["status"] == "working"
    assert by_email["a@acme.com"]["cadence"] == {
        "cadence": cadence.pk,
        "cadence_name": "Outbound",
        "state": "active",
        "step": 1,
        "total_steps": 2,
        "due_at": "2026-11-24T09:00:00Z",
    }
    assert by_email["b@acme.com"]["cadence"] is None


@pytest.mark.django_db
def test_the_prospect_list_costs_the_same_queries_for_two_or_thirty(api_for, outbound_sdr, acme, cadence):
    def count():
        with CaptureQueriesContext(connection) as context:
            assert api_for(outbound_sdr).get(prospects_url(acme)).status_code == 200
        return len(context)

    def grow(start, n):
        result = prospecting.add_prospects(
            account_id=acme.pk,
            by=outbound_sdr,
            rows=[{"email": f"p{i}@acme.com"} for i in range(start, start + n)],
            via="api",
        )
        for added in result.created[::2]:
            cadences.enroll(lead_id=added.lead.pk, cadence_id=cadence.pk, by=outbound_sdr)

    grow(0, 2)
    small = count()
    grow(2, 28)
    assert count() == small


# --- CSV -------------------------------------------------------------------------------------------------------


def csv_upload(content: bytes, name="prospects.csv"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


@pytest.mark.django_db
def test_a_csv_import_answers_the_report_with_file_lines(api_for, outbound_sdr, acme):
    content = b"Email,First Name\nada@acme.com,Ada\n\nnope,X\nbob@acme.com,Bob\n"
    response = api_for(outbound_sdr).post(
        f"{prospects_url(acme)}import/", {"file": csv_upload(content)}, format="multipart"
    )
    assert response.status_code == 201
    body = response.json()
    assert [c["line"] for c in body["created"]] == [2, 5]
    assert [(r["line"], r["email"]) for r in body["refused"]] == [(4, "nope")]
    assert Contact.objects.filter(account=acme).count() == 2
    assert Activity.objects.filter(source=ActivitySource.IMPORT).count() == 2


@pytest.mark.django_db
def test_a_csv_without_an_email_column_is_refused_on_the_file_field(api_for, outbound_sdr, acme):
    response = api_for(outbound_sdr).post(
        f"{prospects_url(acme)}import/", {"file": csv_upload(b"Name\nAda\n")}, format="multipart"
    )
    assert response.status_code == 400 and "No email column found" in response.json()["file"][0]


@pytest.mark.django_db
def test_the_import_wants_a_file(api_for, outbound_sdr, acme):
    client = api_for(outbound_sdr)
    assert client.post(f"{prospects_url(acme)}import/", {}, format="multipart").status_code == 400
    assert client.post(f"{prospects_url(acme)}import/", {"file": "x"}, format="json").status_code == 415


@pytest.mark.django_db
def test_junk_never_gets_a_500(api_for, outbound_sdr, other_manager, acme):
    junk = ["", "x", "-1", "0", "99999999999999999999", "null", "é" * 300, "1' OR 1=1"]
    for user in (outbound_sdr, other_manager):
        client = api_for(user)
        for value in junk:
            assert client.get(LIST, {"q": value, "prospector": value, "page": value}).status_code < 500
            assert client.get(f"{LIST}{value or 0}/").status_code < 500
            body = dict.fromkeys(["name", "domain", "industry", "country", "employees", "prospector"], value)
            assert client.post(LIST, body, format="json").status_code < 500
            assert (
                client.post(f"{LIST}{acme.pk}/assign/", {"prospector": value}, format="json").status_code
                < 500
            )
            rows = [dict.fromkeys(["email", "first_name", "country", "employees", "phone"], value)]
            assert client.post(prospects_url(acme), rows, format="json").status_code < 500
            assert client.get(prospects_url(acme), {"page": value}).status_code < 500


@pytest.mark.django_db
def test_the_schema_documents_the_target_endpoints(client, outbound_sdr):
    client.force_login(outbound_sdr)
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/target-accounts/"])
    assert {"get", "post"} <= set(paths["/api/v1/target-accounts/{id}/prospects/"])
    upload = paths["/api/v1/target-accounts/{id}/prospects/import/"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload
    assert "/api/v1/target-accounts/{id}/assign/" in paths


@pytest.mark.django_db
def test_a_lone_surrogate_in_a_prospect_is_a_400_naming_the_row_and_field(api_for, outbound_sdr, acme):
    body = '[{"email": "bob@acme.com"}, {"email": "ada@acme.com", "first_name": "Ada\\ud800"}]'
    response = api_for(outbound_sdr).post(prospects_url(acme), body, content_type="application/json")

    # A body that is not text is malformed (as a list where a name belongs): nothing is written.
    assert response.status_code == 400, response.content
    assert "U+D800" in response.json()["1"]["first_name"][0]
    assert not Lead.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("prospector", ["{pk}.5", "true", '"{pk}.0"', "2147483648"])
def test_a_prospector_that_is_not_an_id_is_refused(api_for, other_manager, outbound_sdr, acme, prospector):
    body = '{"prospector": ' + prospector.replace("{pk}", str(outbound_sdr.pk)) + "}"
    response = api_for(other_manager).post(f"{LIST}{acme.pk}/assign/", body, content_type="application/json")
    assert response.status_code == 400 and "prospector" in response.json(), response.content
