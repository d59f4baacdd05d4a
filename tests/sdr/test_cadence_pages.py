"""The cadence control (queue item panel, lead page, target account page) and the cadence API:
enroll and stop with htmx or without JavaScript, refusals answered 400 with the reason, and
who may touch whose leads."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from leads.models import Lead
from sdr import services
from sdr.models import Cadence, CadenceStep, Enrollment
from sdr.services import cadences
from team.models import Role
from tests.factories import UserFactory, open_steps, routed_lead
from work.models import WorkItem

HTMX = {"HTTP_HX_REQUEST": "true"}
TUESDAY_10 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 10:00 in Berlin


def make_cadence(name, steps=((0, "call"), (2, "email"), (5, "call")), **fields):
    cadence = Cadence.objects.create(name=name, **fields)
    CadenceStep.objects.bulk_create(
        CadenceStep(cadence=cadence, position=i, day_offset=d, channel=c, instructions=f"{c} them")
        for i, (d, c) in enumerate(steps, start=1)
    )
    return cadence


@pytest.fixture
def cadence(db):
    return make_cadence("Outbound 3 touches")


@pytest.fixture
def lead(outbound_sdr):
    return routed_lead(outbound_sdr, now=TUESDAY_10, first_name="Ada", last_name="Lovelace")


def url(name, lead) -> str:
    return reverse(f"sdr:{name}", args=[lead.pk])


# --- the control -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_control_offers_the_active_cadences_with_steps(client_for, outbound_sdr, lead, cadence):
    make_cadence("Retired", is_active=False)
    Cadence.objects.create(name="Empty")
    body = client_for(outbound_sdr).get(url("cadence_control", lead), **HTMX).content.decode()
    assert "<html" not in body
    assert f'<option value="{cadence.pk}">Outbound 3 touches</option>' in body
    assert "Retired" not in body and "Empty" not in body


@pytest.mark.django_db
def test_enrolling_with_htmx_shows_the_step_due_and_puts_it_in_the_queue(
    client_for, outbound_sdr, lead, cadence
):
    with time_machine.travel(TUESDAY_10, tick=False):
        response = client_for(outbound_sdr).post(url("cadence_enroll", lead), {"cadence": cadence.pk}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        "Enrolled in Outbound 3 touches: step 1 is due Tue 24 Nov 2026, 10:00 CET and waits in the queue."
        in body
    )
    assert "step 1 of 3" in body and "Stop cadence" in body
    [step] = open_steps(lead)
    assert step.owner == outbound_sdr

    with time_machine.travel(TUESDAY_10, tick=False):
        queue = client_for(outbound_sdr).get(reverse("sdr:queue")).content.decode()
    assert "Outbound 3 touches: step 1 of 3, call" in queue


@pytest.mark.django_db
def test_stopping_with_htmx_takes_the_step_out_of_the_queue(client_for, outbound_sdr, lead, cadence):
    cadences.enroll(lead_id=lead.pk, cadence_id=cadence.pk, by=outbound_sdr)
    response = client_for(outbound_sdr).post(url("cadence_stop", lead), **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Cadence stopped; its open step left the queue." in body
    assert "Last: Outbound 3 touches, stopped" in body and 'name="cadence"' in body
    assert open_steps(lead) == [] and Enrollment.objects.get().state == Enrollment.State.STOPPED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose a cadence."),
        ({"cadence": "x"}, "Choose an active cadence."),
        ({"cadence": 99999}, "Choose an active cadence."),
    ],
)
def test_a_bad_choice_answers_400_in_the_control(client_for, outbound_sdr, lead, cadence, data, message):
    response = client_for(outbound_sdr).post(url("cadence_enroll", lead), data, **HTMX)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Enrollment.objects.exists()


@pytest.mark.django_db
def test_an_inactive_cadence_is_refused(client_for, outbound_sdr, lead):
    retired = make_cadence("Retired", is_active=False)
    response = client_for(outbound_sdr).post(url("cadence_enroll", lead), {"cadence": retired.pk}, **HTMX)
    assert response.status_code == 400 and "Choose an active cadence." in response.content.decode()


@pytest.mark.django_db
def test_a_second_cadence_is_refused_with_the_reason(client_for, outbound_sdr, lead, cadence):
    other = make_cadence("Other")
    cadences.enroll(lead_id=lead.pk, cadence_id=cadence.pk, by=outbound_sdr)
    response = client_for(outbound_sdr).post(url("cadence_enroll", lead), {"cadence": other.pk}, **HTMX)
    assert response.status_code == 400
    assert "already in the cadence Outbound 3 touches; stop it first" in response.content.decode()
    assert Enrollment.objects.get().cadence == cadence


@pytest.mark.django_db
def test_stopping_a_lead_without_a_cadence_is_refused(client_for, outbound_sdr, lead):
    response = client_for(outbound_sdr).post(url("cadence_stop", lead), **HTMX)
    assert response.status_code == 400 and "This lead is not in a cadence." in response.content.decode()


@pytest.mark.django_db
def test_without_javascript_the_forms_go_back_where_they_came_from(client_for, outbound_sdr, lead, cadence):
    client = client_for(outbound_sdr)
    response = client.post(url("cadence_enroll", lead), {"cadence": cadence.pk, "next": "/targets/1/"})
    assert response.status_code == 302 and response["Location"] == "/targets/1/"
    response = client.post(url("cadence_stop", lead), {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    page = client.post(url("cadence_stop", lead))
    assert (
        page.status_code == 400
        and "<html" in page.content.decode()
        and "not in a cadence" in page.content.decode()
    )
    assert "<html" in client.get(url("cadence_control", lead)).content.decode()


@pytest.mark.django_db
def test_another_sdrs_lead_is_a_404_and_an_ae_gets_a_403(
    client_for, outbound_sdr, lead, cadence, ae, inbound_sdr
):
    for outsider, code in [(inbound_sdr, 404), (ae, 403)]:
        client = client_for(outsider)
        assert client.get(url("cadence_control", lead), **HTMX).status_code == code
        assert client.post(url("cadence_enroll", lead), {"cadence": cadence.pk}, **HTMX).status_code == code
        assert client.post(url("cadence_stop", lead), **HTMX).status_code == code
    assert not Enrollment.objects.exists()


@pytest.mark.django_db
def test_the_sdrs_manager_enrolls_and_stops_another_manager_cannot(
    client_for, outbound_sdr, other_manager, manager, lead, cadence
):
    assert (
        client_for(manager).post(url("cadence_enroll", lead), {"cadence": cadence.pk}, **HTMX).status_code
        == 404
    )
    response = client_for(other_manager).post(url("cadence_enroll", lead), {"cadence": cadence.pk}, **HTMX)
    assert response.status_code == 200 and Enrollment.objects.get().enrolled_by == other_manager
    assert client_for(other_manager).post(url("cadence_stop", lead), **HTMX).status_code == 200


@pytest.mark.django_db
def test_a_lead_out_of_the_queue_shows_how_its_cadence_ended_and_no_form(
    client_for, outbound_sdr, lead, cadence
):
    cadences.enroll(lead_id=lead.pk, cadence_id=cadence.pk, by=outbound_sdr)
    services.dispose_lead(lead_id=lead.pk, by=outbound_sdr, to="nurture", reason="Not ready yet (timing)")
    manager = UserFactory(username="boss", role=Role.MANAGER, is_superuser=True)
    body = client_for(manager).get(url("cadence_control", lead), **HTMX).content.decode()
    assert "Outbound 3 touches: stopped" in body and "<select" not in body


@pytest.mark.django_db
def test_the_queue_panel_and_the_lead_page_load_the_control(client_for, outbound_sdr, lead):
    client = client_for(outbound_sdr)
    item = WorkItem.objects.open().for_subject(lead).get()
    panel = client.get(reverse("sdr:item", args=[item.pk]), **HTMX).content.decode()
    assert f'hx-get="/cadences/leads/{lead.pk}/"' in panel
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert f'hx-get="/cadences/leads/{lead.pk}/"' in page


@pytest.mark.django_db
def test_junk_never_gets_a_500(client_for, outbound_sdr, other_manager, ae, lead, cadence):
    junk = ["", "x", "-1", "0", "99999999999999999999", "null", "é" * 300, "1' OR 1=1"]
    for user in (outbound_sdr, other_manager, ae):
        client = client_for(user)
        for value in junk:
            for name in ("cadence_enroll", "cadence_stop"):
                response = client.post(url(name, lead), {"cadence": value, "next": value}, **HTMX)
                assert response.status_code < 500, (user, name, value)
            assert client.get(url("cadence_control", lead), {"next": value}).status_code < 500


# --- the API ---------------------------------------------------------------------------------------


def api_url(lead, action) -> str:
    return f"/api/v1/queue/leads/{lead.pk}/{action}/"


@pytest.mark.django_db
def test_the_cadence_list_has_each_cadences_steps_in_order(api_for, outbound_sdr, cadence):
    make_cadence("Retired", steps=((0, "social"),), is_active=False)
    body = api_for(outbound_sdr).get("/api/v1/cadences/").json()
    [outbound, retired] = body["results"]  # by name
    assert outbound["name"] == "Outbound 3 touches" and outbound["is_active"] is True
    assert [(s["position"], s["day_offset"], s["channel"]) for s in outbound["steps"]] == [
        (1, 0, "call"),
        (2, 2, "email"),
        (3, 5, "call"),
    ]
    assert retired["is_active"] is False
    active = api_for(outbound_sdr).get("/api/v1/cadences/", {"is_active": "true"}).json()
    assert [c["name"] for c in active["results"]] == ["Outbound 3 touches"]


@pytest.mark.django_db
def test_roles_without_a_queue_cannot_list_cadences(api_for, ae, marketing):
    for user in (ae, marketing):
        assert api_for(user).get("/api/v1/cadences/").status_code == 403


@pytest.mark.django_db
def test_enrolling_through_the_api_answers_with_the_step_in_the_queue(api_for, outbound_sdr, lead, cadence):
    with time_machine.travel(TUESDAY_10, tick=False):
        response = api_for(outbound_sdr).post(api_url(lead, "enroll"), {"cadence": cadence.pk}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["enrollment"]["cadence_name"] == "Outbound 3 touches"
    assert body["enrollment"]["state"] == "active" and body["enrollment"]["step"] == 1
    step = next(i for i in body["lead"]["open_items"] if i["kind"] == "cadence_step")
    assert step["due_at"] == "2026-11-24T09:00:00Z" and step["note"] == "call them"


@pytest.mark.django_db
def test_enroll_refusals_are_400s_with_the_reason(api_for, outbound_sdr, lead, cadence):
    client = api_for(outbound_sdr)
    retired = make_cadence("Retired", is_active=False)
    assert client.post(api_url(lead, "enroll"), {"cadence": retired.pk}, format="json").json() == {
        "cadence": ["Choose an active cadence."]
    }
    assert client.post(api_url(lead, "enroll"), {"cadence": "x"}, format="json").status_code == 400
    assert client.post(api_url(lead, "enroll"), {}, format="json").status_code == 400
    assert client.post(api_url(lead, "enroll"), {"cadence": cadence.pk}, format="json").status_code == 201
    again = client.post(api_url(lead, "enroll"), {"cadence": cadence.pk}, format="json")
    assert again.status_code == 400
    assert again.json() == {
        "non_field_errors": ["This lead is already in the cadence Outbound 3 touches; stop it first."]
    }


@pytest.mark.django_db
def test_stopping_through_the_api(api_for, outbound_sdr, lead, cadence):
    client = api_for(outbound_sdr)
    assert client.post(api_url(lead, "stop-cadence")).json() == {
        "non_field_errors": ["This lead is not in a cadence."]
    }
    cadences.enroll(lead_id=lead.pk, cadence_id=cadence.pk, by=outbound_sdr)
    response = client.post(api_url(lead, "stop-cadence"))
    assert response.status_code == 200
    assert response.json()["enrollment"]["state"] == "stopped"
    assert all(i["kind"] != "cadence_step" for i in response.json()["lead"]["open_items"])


@pytest.mark.django_db
def test_the_api_hides_other_reps_leads_and_refuses_other_roles(
    api_for, outbound_sdr, inbound_sdr, ae, lead, cadence
):
    assert (
        api_for(inbound_sdr).post(api_url(lead, "enroll"), {"cadence": cadence.pk}, format="json").status_code
        == 404
    )
    assert (
        api_for(ae).post(api_url(lead, "enroll"), {"cadence": cadence.pk}, format="json").status_code == 403
    )
    assert api_for(inbound_sdr).post(api_url(lead, "stop-cadence")).status_code == 404
    assert not Enrollment.objects.exists()


@pytest.mark.django_db
def test_any_json_body_to_enroll_is_answered_without_a_500(api_for, outbound_sdr, lead, cadence):
    client = api_for(outbound_sdr)
    for body in [
        None,
        [],
        "x",
        1,
        {"cadence": None},
        {"cadence": [1]},
        {"cadence": {"id": 1}},
        {"cadence": True},
        {"cadence": 10**30},
    ]:
        response = client.post(api_url(lead, "enroll"), json.dumps(body), content_type="application/json")
        assert response.status_code < 500, (body, response.status_code)
    assert Lead.objects.get(pk=lead.pk).enrollments.count() <= 1


@pytest.mark.django_db
def test_the_schema_documents_the_cadence_endpoints_without_warnings(client, outbound_sdr, tmp_path):
    client.force_login(outbound_sdr)
    paths = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert "/api/v1/cadences/" in paths
    body = paths["/api/v1/queue/leads/{lead_id}/enroll/"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    assert body["schema"]["$ref"].endswith("/EnrollRequest")
    assert "/api/v1/queue/leads/{lead_id}/stop-cadence/" in paths
    call_command("spectacular", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
