"""The breach API: the review's list and filters, and acknowledging, for managers only."""

from datetime import timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.factories import routed_lead
from tests.work.test_breach_review import MONDAY_9, make_breach
from work.models import Breach, SlaPolicy
from work.services import sweep_breaches

LIST = "/api/v1/breaches/"


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.django_db
def test_anonymous_is_refused(client):
    assert client.get(LIST).status_code in (401, 403)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["inbound_sdr", "outbound_sdr", "ae", "am", "marketing"])
def test_other_roles_get_403(request, role, manager, other_sdr):
    breach = make_breach(other_sdr)
    client = api_for(request.getfixturevalue(role))
    response = client.get(LIST)
    assert response.status_code == 403 and response.json()["detail"] == "Only managers review SLA breaches."
    assert client.get(f"{LIST}{breach.pk}/").status_code == 403
    assert client.post(f"{LIST}{breach.pk}/acknowledge/", {"note": "x"}).status_code == 403


@pytest.mark.django_db
def test_list_shows_the_teams_breaches_with_the_lead(manager, inbound_sdr):
    breach = make_breach(inbound_sdr, first_name="Ada", last_name="Lovelace")
    lead = breach.work_item.subject
    with time_machine.travel(MONDAY_9 + timedelta(hours=3), tick=False):
        response = api_for(manager).get(LIST)
    assert ids(response) == [breach.pk]
    row = response.json()["results"][0]
    assert row["subject"] == {
        "type": "lead",
        "id": lead.pk,
        "name": "Ada Lovelace",
        "url": f"http://testserver{lead.get_absolute_url()}",
    }
    assert row["kind"] == "first_touch" and row["item_state"] == "open"
    assert row["owner"] == inbound_sdr.pk and row["owner_name"] == str(inbound_sdr)
    assert row["team_name"] == "Inbound EMEA" and row["policy_name"] == "First touch: hand-raiser"
    assert row["due_at"] == "2025-03-03T08:15:00Z"
    assert row["late_by_seconds"] == (2 * 60 + 45) * 60  # still open at 11:00 UTC
    assert row["escalation"] == "sent"
    assert row["acknowledged"] is False and row["acknowledged_by"] is None

    detail = api_for(manager).get(f"{LIST}{breach.pk}/")
    assert detail.status_code == 200 and detail.json()["id"] == breach.pk


@pytest.mark.django_db
def test_list_filters_like_the_page(manager, inbound_sdr, other_sdr):
    sam = make_breach(inbound_sdr)
    sam_mql = make_breach(inbound_sdr, hand_raiser=False, at=MONDAY_9 + timedelta(days=1))
    lena = make_breach(other_sdr, at=MONDAY_9 + timedelta(days=2))
    Breach.objects.filter(pk=lena.pk).update(acknowledged_at=MONDAY_9, acknowledged_by=manager)
    mql = SlaPolicy.objects.get(key=SlaPolicy.FIRST_TOUCH_MQL)
    client = api_for(manager)

    assert ids(client.get(LIST)) == [lena.pk, sam_mql.pk, sam.pk]
    assert ids(client.get(LIST, {"rep": inbound_sdr.pk})) == [sam_mql.pk, sam.pk]
    assert ids(client.get(LIST, {"team": inbound_sdr.team_id})) == [lena.pk, sam_mql.pk, sam.pk]
    assert ids(client.get(LIST, {"policy": mql.pk})) == [sam_mql.pk]
    assert ids(client.get(LIST, {"due_after": "2025-03-04", "due_before": "2025-03-04"})) == [sam_mql.pk]
    assert ids(client.get(LIST, {"acknowledged": "true"})) == [lena.pk]
    assert ids(client.get(LIST, {"acknowledged": "false", "rep": inbound_sdr.pk})) == [sam_mql.pk, sam.pk]


@pytest.mark.django_db
def test_bad_filters_are_400_with_field_messages(manager, inbound_sdr, other_manager):
    make_breach(inbound_sdr)
    response = api_for(manager).get(
        LIST, {"rep": "sam", "policy": "999999", "due_after": "yesterday", "acknowledged": "maybe"}
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"rep", "policy", "due", "acknowledged"}
    assert "Select a valid choice" in errors["rep"][0]
    assert errors["due"] == ["Enter a valid date."]

    response = api_for(manager).get(LIST, {"due_after": "2025-03-05", "due_before": "2025-03-01"})
    assert response.status_code == 400 and response.json() == {
        "due": ["The first day is after the last day."]
    }

    # Another manager may not name Maria's rep.
    response = api_for(other_manager).get(LIST, {"rep": inbound_sdr.pk})
    assert response.status_code == 400 and "rep" in response.json()


@pytest.mark.django_db
def test_another_teams_manager_sees_none_and_gets_404(manager, other_manager, inbound_sdr):
    breach = make_breach(inbound_sdr)
    client = api_for(other_manager)
    assert ids(client.get(LIST)) == []
    assert client.get(f"{LIST}{breach.pk}/").status_code == 404
    assert client.post(f"{LIST}{breach.pk}/acknowledge/", {"note": "mine"}).status_code == 404
    breach.refresh_from_db()
    assert breach.acknowledged_at is None


@pytest.mark.django_db
def test_acknowledge_records_who_when_and_the_note(manager, inbound_sdr):
    breach = make_breach(inbound_sdr)
    when = MONDAY_9 + timedelta(hours=2)
    with time_machine.travel(when, tick=False):
        response = api_for(manager).post(
            f"{LIST}{breach.pk}/acknowledge/", {"note": "Coached Sam."}, format="json"
        )
    assert response.status_code == 200
    body = response.json()
    assert body["acknowledged"] is True and body["acknowledged_by"] == manager.pk
    assert body["acknowledged_by_name"] == str(manager) and body["note"] == "Coached Sam."
    assert body["acknowledged_at"] == "2025-03-03T10:00:00Z"
    breach.refresh_from_db()
    assert (breach.acknowledged_by, breach.acknowledged_at, breach.note) == (manager, when, "Coached Sam.")


@pytest.mark.django_db
def test_acknowledging_twice_is_a_409_conflict_and_changes_nothing(manager, inbound_sdr):
    breach = make_breach(inbound_sdr)
    client = api_for(manager)
    assert client.post(f"{LIST}{breach.pk}/acknowledge/", {"note": "first"}).status_code == 200
    breach.refresh_from_db()
    first = (breach.acknowledged_at, breach.note)

    response = client.post(f"{LIST}{breach.pk}/acknowledge/", {"note": "second"})
    assert response.status_code == 409
    assert response.json() == {"detail": f"This breach was already acknowledged by {manager}."}
    breach.refresh_from_db()
    assert (breach.acknowledged_at, breach.note) == first


@pytest.mark.django_db
def test_acknowledge_checks_the_note(manager, inbound_sdr):
    breach = make_breach(inbound_sdr)
    client = api_for(manager)
    response = client.post(f"{LIST}{breach.pk}/acknowledge/", {"note": "x" * 2001}, format="json")
    assert response.status_code == 400
    assert response.json() == {"note": ["Ensure this field has no more than 2000 characters."]}
    response = client.post(f"{LIST}{breach.pk}/acknowledge/", {"note": ["a", "b"]}, format="json")
    assert response.status_code == 400 and "note" in response.json()
    breach.refresh_from_db()
    assert breach.acknowledged_at is None

    # No note at all is fine.
    assert client.post(f"{LIST}{breach.pk}/acknowledge/").status_code == 200
    assert client.post(f"{LIST}not-a-number/acknowledge/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 25])
def test_list_issues_a_fixed_number_of_queries(
    manager, inbound_sdr, other_sdr, django_assert_num_queries, size
):
    for n in range(size):
        routed_lead(inbound_sdr if n % 2 else other_sdr, hand_raiser=True, now=MONDAY_9)
    sweep_breaches(now=MONDAY_9 + timedelta(hours=1))
    client = api_for(manager)
    client.get(LIST)  # warm the content-type cache
    # count, rows (with item and acknowledger), their reps, teams, policies and leads
    with django_assert_num_queries(6):
        response = client.get(LIST, {"acknowledged": "false"})
    assert len(ids(response)) == size
