import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead, LeadEvent
from team.models import Role
from tests.factories import UserFactory, routed_lead
from work.models import WorkItem

TEAMS = reverse("sdr_manage:teams")


def reassign_lead_url(lead):
    return reverse("sdr_manage:reassign_lead", args=[lead.pk])


def reassign_queue_url(rep):
    return reverse("sdr_manage:reassign_queue", args=[rep.pk])


@pytest.fixture
def ola(inbound_sdr):
    """A third rep in Inbound EMEA."""
    return UserFactory(username="ola", role=Role.INBOUND_SDR, team=inbound_sdr.team)


def row(body: str, element_id: str) -> str:
    match = re.search(rf'<tr id="{element_id}">(.*?)</tr>', body, re.S)
    assert match, f"no row {element_id}"
    return match.group(1)


def flash(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the team overview -----------------------------------------------------------------------


@pytest.mark.django_db
def test_overview_shows_each_reps_load_and_the_teams_unassigned_queue(
    client_for, manager, inbound_sdr, other_sdr
):
    inbound_sdr.capacity = 5
    inbound_sdr.save(update_fields=["capacity"])
    other_sdr.is_away = True
    other_sdr.save(update_fields=["is_away"])
    routed_lead(inbound_sdr, hand_raiser=True, now=timezone.now() - timedelta(days=3))  # long breached
    routed_lead(inbound_sdr)
    waiting = routed_lead(None, team=inbound_sdr.team, first_name="Waiting", last_name="Person")

    response = client_for(manager).get(TEAMS)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Inbound EMEA" in body
    sam = row(body, f"rep-{inbound_sdr.pk}")
    assert "2 / 5" in sam and "away" not in sam
    assert re.search(r'class="items">2<', sam) and re.search(
        r'class="breached"><span class="tag hot">1<', sam
    )
    assert f'href="{reassign_queue_url(inbound_sdr)}"' in sam
    lena = row(body, f"rep-{other_sdr.pk}")
    assert "0 / 50" in lena and "away" in lena
    line = row(body, f"waiting-{waiting.pk}")
    assert "Waiting Person" in line and f'href="{reassign_lead_url(waiting)}"' in line
    [item] = WorkItem.objects.open().for_subject(waiting)
    assert f'data-due="{timezone.localtime(item.due_at).isoformat()}"' in line
    assert "Unassigned queue (1)" in body


@pytest.mark.django_db
def test_overview_lists_only_the_managers_teams(client_for, manager, inbound_sdr, outbound_sdr):
    routed_lead(None, team=outbound_sdr.team, first_name="Elsewhere")
    body = client_for(manager).get(TEAMS).content.decode()
    assert "Inbound EMEA" in body and "Outbound" not in body and "Elsewhere" not in body
    assert f"rep-{outbound_sdr.pk}" not in body


@pytest.mark.django_db
def test_a_rep_who_left_still_shows_while_they_hold_leads(client_for, manager, inbound_sdr, other_sdr):
    routed_lead(inbound_sdr)
    inbound_sdr.is_active = False
    inbound_sdr.save(update_fields=["is_active"])
    gone = UserFactory(username="gone", role=Role.INBOUND_SDR, team=inbound_sdr.team, is_active=False)

    body = client_for(manager).get(TEAMS).content.decode()

    assert "left" in row(body, f"rep-{inbound_sdr.pk}")
    assert f"rep-{gone.pk}" not in body


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 10])
def test_overview_issues_a_fixed_number_of_queries(client_for, manager, django_assert_num_queries, size):
    reps = [UserFactory(role=Role.INBOUND_SDR, team=manager.team) for _ in range(size)]
    for rep in reps:
        routed_lead(rep)
        routed_lead(None, team=manager.team)
    client = client_for(manager)
    # session, user, teams, reps with their counts, waiting items, their leads, scoring settings
    with django_assert_num_queries(7):
        response = client.get(TEAMS)
    body = response.content.decode()
    assert body.count('<tr id="rep-') == size and body.count('<tr id="waiting-') == size


@pytest.mark.django_db
def test_htmx_refresh_gets_only_the_teams(client_for, manager):
    response = client_for(manager).get(TEAMS, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and "Inbound EMEA" in body


# --- who may see the pages -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["inbound_sdr", "ae", "am", "marketing"])
def test_only_managers_see_team_pages(request, client_for, inbound_sdr, other_sdr, role):
    lead = routed_lead(inbound_sdr)
    client = client_for(request.getfixturevalue(role))
    payload = {"to": other_sdr.pk, "reason": "x"}

    assert client.get(TEAMS).status_code == 403
    assert client.get(reassign_lead_url(lead)).status_code == 403
    assert client.post(reassign_lead_url(lead), payload).status_code == 403
    assert client.get(reassign_queue_url(inbound_sdr)).status_code == 403
    assert client.post(reassign_queue_url(inbound_sdr), payload).status_code == 403
    lead.refresh_from_db()
    assert lead.owner == inbound_sdr


@pytest.mark.django_db
def test_pages_need_a_login(client, inbound_sdr):
    lead = routed_lead(inbound_sdr)
    for url in [TEAMS, reassign_lead_url(lead), reassign_queue_url(inbound_sdr)]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_manager_of_another_team_gets_404(client_for, other_manager, inbound_sdr, other_sdr):
    lead = routed_lead(inbound_sdr)
    client = client_for(other_manager)

    assert client.get(reassign_lead_url(lead)).status_code == 404
    assert client.post(reassign_lead_url(lead), {"reason": "mine now"}).status_code == 404
    assert client.get(reassign_queue_url(inbound_sdr)).status_code == 404
    assert client.post(reassign_queue_url(inbound_sdr), {"reason": "mine now"}).status_code == 404
    lead.refresh_from_db()
    assert lead.owner == inbound_sdr and not lead.events.filter(kind="reassigned").exists()


# --- reassigning one lead --------------------------------------------------------------------


@pytest.mark.django_db
def test_reassign_form_offers_the_managers_active_reps_but_not_the_owner(
    client_for, manager, inbound_sdr, other_sdr, outbound_sdr, ae
):
    lead = routed_lead(inbound_sdr)
    other_sdr.is_away = True
    other_sdr.save(update_fields=["is_away"])

    body = client_for(manager).get(reassign_lead_url(lead)).content.decode()

    options = re.findall(r"<option value=\"(\d*)\"[^>]*>([^<]*)</option>", body)
    assert options == [
        ("", "Round-robin across the team"),
        (str(other_sdr.pk), f"{other_sdr} (Inbound EMEA) · away"),
    ]
    assert 'name="csrfmiddlewaretoken"' in body and str(inbound_sdr) in body


@pytest.mark.django_db
def test_manager_reassigns_a_lead_with_a_reason_and_its_timer_follows(
    client_for, manager, inbound_sdr, other_sdr
):
    lead = routed_lead(inbound_sdr)
    [item] = WorkItem.objects.open().for_subject(lead)

    response = client_for(manager).post(
        reassign_lead_url(lead), {"to": other_sdr.pk, "reason": "Sam is at a conference"}
    )

    assert response.status_code == 302 and response["Location"] == TEAMS
    assert flash(response) == [f"{lead} now belongs to {other_sdr}."]
    lead.refresh_from_db()
    moved = WorkItem.objects.get(pk=item.pk)
    assert lead.owner == other_sdr and moved.owner == other_sdr and moved.due_at == item.due_at
    event = lead.events.get(kind=LeadEvent.Kind.REASSIGNED)
    assert event.actor == manager and event.message.endswith("Sam is at a conference")
    # ...and the lead's page shows it on the timeline
    assert "Sam is at a conference" in client_for(manager).get(lead.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_round_robin_gives_the_lead_to_the_next_rep(client_for, manager, inbound_sdr, other_sdr):
    lead = routed_lead(inbound_sdr)
    response = client_for(manager).post(reassign_lead_url(lead), {"to": "", "reason": "Sam is overloaded"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == other_sdr


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"reason": ""}, "This field is required."),
        ({"reason": "   "}, "This field is required."),
        ({"reason": "x" * 301}, "at most 300 characters"),
        ({"reason": "x", "to": "outbound_sdr"}, "Select a valid choice"),
        ({"reason": "x", "to": "ae"}, "Select a valid choice"),
        ({"reason": "x", "to": "inbound_sdr"}, "Select a valid choice"),  # already the owner
    ],
)
def test_bad_reassignment_rerenders_the_form_with_400_and_moves_nothing(
    request, client_for, manager, inbound_sdr, other_sdr, payload, error
):
    lead = routed_lead(inbound_sdr)
    if "to" in payload:
        payload = {**payload, "to": request.getfixturevalue(payload["to"]).pk}

    response = client_for(manager).post(reassign_lead_url(lead), payload)

    assert response.status_code == 400
    assert error in response.content.decode() and 'class="errorlist' in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner == inbound_sdr and not lead.events.filter(kind="reassigned").exists()
    assert WorkItem.objects.open().for_subject(lead).get().owner == inbound_sdr


@pytest.mark.django_db
def test_a_lead_out_of_the_queue_cannot_be_reassigned(client_for, manager, inbound_sdr, other_sdr):
    lead = routed_lead(inbound_sdr)
    Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.NURTURE)

    response = client_for(manager).post(reassign_lead_url(lead), {"to": other_sdr.pk, "reason": "x"})

    assert response.status_code == 400 and "is not in a queue" in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner == inbound_sdr


@pytest.mark.django_db
def test_reassign_needs_the_csrf_token(manager, inbound_sdr, other_sdr):
    lead = routed_lead(inbound_sdr)
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post(reassign_lead_url(lead), {"to": other_sdr.pk, "reason": "x"})

    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.owner == inbound_sdr


@pytest.mark.django_db
def test_manager_assigns_a_waiting_lead_from_the_team_page(client_for, manager, inbound_sdr):
    waiting = routed_lead(None, team=inbound_sdr.team, first_name="Waiting")
    client = client_for(manager)
    assert f'href="{reassign_lead_url(waiting)}"' in client.get(TEAMS).content.decode()

    form = client.get(reassign_lead_url(waiting)).content.decode()
    response = client.post(
        reassign_lead_url(waiting), {"to": inbound_sdr.pk, "reason": "Speaks German"}, follow=True
    )

    assert "the team's unassigned queue" in form and "Assign</button>" in form
    assert response.status_code == 200 and f"now belongs to {inbound_sdr}" in response.content.decode()
    assert "Unassigned queue (0)" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.owner == inbound_sdr
    assert WorkItem.objects.open().for_subject(waiting).get().owner == inbound_sdr
    assert waiting.events.get(kind="reassigned").message == f"From nobody to {inbound_sdr}: Speaks German"


# --- reassigning a whole queue ---------------------------------------------------------------


@pytest.mark.django_db
def test_whole_queue_round_robin_spreads_evenly_and_timers_follow(
    client_for, manager, inbound_sdr, other_sdr, ola
):
    leads = [routed_lead(inbound_sdr) for _ in range(6)]
    due_before = {item.object_id: item.due_at for item in WorkItem.objects.open()}
    client = client_for(manager)
    assert (
        'holds <strong class="open-leads">6</strong> open leads'
        in client.get(reassign_queue_url(inbound_sdr)).content.decode()
    )

    response = client.post(reassign_queue_url(inbound_sdr), {"to": "", "reason": "Sam left the company"})

    assert response.status_code == 302 and response["Location"] == TEAMS
    [message] = flash(response)
    assert message.startswith(f"Moved 6 leads from {inbound_sdr}: ") and "unassigned" not in message
    owners = list(Lead.objects.values_list("owner", flat=True))
    assert sorted(owners.count(rep.pk) for rep in (other_sdr, ola)) == [3, 3]
    items = list(WorkItem.objects.open())
    assert {item.object_id: item.due_at for item in items} == due_before
    assert all(item.owner_id == Lead.objects.get(pk=item.object_id).owner_id for item in items)
    for lead in leads:
        assert lead.events.get(kind="reassigned").message.endswith(": Sam left the company")


@pytest.mark.django_db
def test_whole_queue_to_one_rep(client_for, manager, inbound_sdr, other_sdr, ola):
    for _ in range(3):
        routed_lead(inbound_sdr)

    response = client_for(manager).post(reassign_queue_url(inbound_sdr), {"to": ola.pk, "reason": "Holiday"})

    assert flash(response) == [f"Moved 3 leads from {inbound_sdr}: {ola} 3."]
    assert Lead.objects.filter(owner=ola).count() == 3 and not Lead.objects.filter(owner=inbound_sdr).exists()


@pytest.mark.django_db
def test_when_nobody_can_take_them_leads_wait_in_the_unassigned_queue(
    client_for, manager, inbound_sdr, other_sdr
):
    other_sdr.capacity = 1
    other_sdr.save(update_fields=["capacity"])
    leads = [routed_lead(inbound_sdr) for _ in range(3)]
    client = client_for(manager)

    response = client.post(reassign_queue_url(inbound_sdr), {"to": "", "reason": "Sam left"}, follow=True)

    body = response.content.decode()
    assert f"Moved 3 leads from {inbound_sdr}: {other_sdr} 1; 2 wait in the unassigned queue" in body
    assert "Unassigned queue (2)" in body
    waiting = [lead for lead in leads if Lead.objects.get(pk=lead.pk).owner_id is None]
    assert len(waiting) == 2
    for lead in waiting:
        assert f'id="waiting-{lead.pk}"' in body
        assert WorkItem.objects.open().for_subject(lead).get().owner is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "error"),
    [({"reason": ""}, "This field is required."), ({"reason": "x", "to": "self"}, "Select a valid choice")],
)
def test_bad_queue_reassignment_is_400_and_moves_nothing(
    client_for, manager, inbound_sdr, other_sdr, payload, error
):
    routed_lead(inbound_sdr)
    if payload.get("to") == "self":
        payload = {**payload, "to": inbound_sdr.pk}

    response = client_for(manager).post(reassign_queue_url(inbound_sdr), payload)

    assert response.status_code == 400 and error in response.content.decode()
    assert (
        Lead.objects.get().owner == inbound_sdr and not LeadEvent.objects.filter(kind="reassigned").exists()
    )


@pytest.mark.django_db
def test_queue_of_a_rep_who_left_can_be_moved(client_for, manager, inbound_sdr, other_sdr):
    routed_lead(inbound_sdr)
    inbound_sdr.is_active = False
    inbound_sdr.save(update_fields=["is_active"])

    response = client_for(manager).post(reassign_queue_url(inbound_sdr), {"to": "", "reason": "Left"})

    assert response.status_code == 302
    assert Lead.objects.get().owner == other_sdr
