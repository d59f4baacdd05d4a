from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from leads.models import Activity, Lead, LeadEvent
from team.models import Role
from tests.factories import TeamFactory, UserFactory, api_token, routed_lead
from work.models import WorkItem


def lead_url(lead, action):
    return f"/api/v1/queue/leads/{lead.pk}/{action}/"


def open_items(lead):
    return list(WorkItem.objects.open().for_subject(lead))


# --- the queue -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sdr_sees_only_their_own_queue_in_working_order(api_for, inbound_sdr, other_sdr, time_machine):
    time_machine.move_to(datetime(2025, 3, 4, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")))  # a Tuesday, in hours
    mine = routed_lead(inbound_sdr, first_name="Mine", fit_grade="B")
    hot = routed_lead(inbound_sdr, hand_raiser=True, first_name="Hot", fit_grade="C")
    routed_lead(other_sdr, first_name="Theirs")

    response = api_for(inbound_sdr).get("/api/v1/queue/")

    assert response.status_code == 200
    body = response.json()
    assert body["rep"] == {"id": inbound_sdr.pk, "name": str(inbound_sdr)}
    assert (body["count"], body["truncated"], body["unassigned"]) == (2, False, False)
    # The hand-raiser's 15-minute timer puts it in the urgent bucket, ahead of the plain MQL.
    assert [r["lead"]["id"] for r in body["results"]] == [hot.pk, mine.pk]
    first = body["results"][0]
    assert first["sla_state"] == "at_risk" and first["bucket_label"] == "Breached or at risk"
    assert first["kind"] == "first_touch" and first["due_at"] and first["last_touch_at"] is None
    assert first["lead"]["status"] == "mql" and first["lead"]["grade"].startswith("C")


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 20])
def test_queue_list_issues_a_fixed_number_of_queries(api_for, inbound_sdr, django_assert_num_queries, size):
    for _ in range(size):
        routed_lead(inbound_sdr)
    client = api_for(inbound_sdr)
    # the items (with last touch), their leads, the scoring settings
    with django_assert_num_queries(3):
        response = client.get("/api/v1/queue/")
    assert response.status_code == 200 and response.json()["count"] == size


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 20])
def test_managers_view_of_a_rep_queue_issues_a_fixed_number_of_queries(
    api_for, manager, inbound_sdr, django_assert_num_queries, size
):
    for _ in range(size):
        routed_lead(inbound_sdr)
    client = api_for(manager)
    # the rep (in a team the manager runs), the items, their leads, the scoring settings
    with django_assert_num_queries(4):
        response = client.get("/api/v1/queue/", {"rep": inbound_sdr.pk})
    assert response.status_code == 200 and response.json()["count"] == size


@pytest.mark.django_db
def test_manager_sees_a_reps_queue_and_the_teams_unassigned_queue(
    api_for, manager, inbound_sdr, outbound_sdr
):
    routed_lead(inbound_sdr, first_name="Sams")
    waiting = routed_lead(None, team=inbound_sdr.team, first_name="Waiting")
    routed_lead(None, team=outbound_sdr.team, first_name="Elsewhere")
    client = api_for(manager)

    rep_queue = client.get("/api/v1/queue/", {"rep": inbound_sdr.pk}).json()
    unassigned = client.get("/api/v1/queue/", {"unassigned": "1"}).json()

    assert [r["lead"]["name"].split()[0] for r in rep_queue["results"]] == ["Sams"]
    assert unassigned["unassigned"] is True and unassigned["rep"] is None
    assert [r["lead"]["id"] for r in unassigned["results"]] == [waiting.pk]
    assert unassigned["results"][0]["owner"] is None
    assert client.get("/api/v1/queue/", {"rep": outbound_sdr.pk}).status_code == 404
    assert client.get("/api/v1/queue/", {"unassigned": "1", "team": outbound_sdr.team.pk}).status_code == 404


@pytest.mark.django_db
def test_sdr_cannot_look_at_other_queues(api_for, inbound_sdr, other_sdr):
    client = api_for(inbound_sdr)
    assert client.get("/api/v1/queue/", {"rep": other_sdr.pk}).status_code == 403
    assert client.get("/api/v1/queue/", {"unassigned": "1"}).status_code == 403
    assert client.get("/api/v1/queue/", {"rep": inbound_sdr.pk}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [({"rep": "sam"}, "rep"), ({"rep": 1, "unassigned": "1"}, "non_field_errors"), ({"team": 1}, "team")],
)
def test_bad_queue_parameters_are_400(api_for, manager, params, field):
    response = api_for(manager).get("/api/v1/queue/", params)
    assert response.status_code == 400 and field in response.json()


# --- who may do what -------------------------------------------------------------------------


ENDPOINTS = [
    ("get", "/api/v1/queue/", None),
    ("post", "/api/v1/queue/reassign/", {"from_user": 1, "to": None, "reason": "x"}),
    ("post", "touch", {"kind": "call"}),
    ("post", "follow-up", {"due_at": "2099-01-01T09:00:00+00:00"}),
    ("post", "disposition", {"to": "nurture", "reason": "Other"}),
    ("post", "reassign", {"to": None, "reason": "x"}),
]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["ae", "am", "marketing"])
@pytest.mark.parametrize(("method", "path", "payload"), ENDPOINTS)
def test_roles_without_a_queue_get_403_everywhere(request, api_for, inbound_sdr, role, method, path, payload):
    lead = routed_lead(inbound_sdr)
    url = path if path.startswith("/") else lead_url(lead, path)
    user = request.getfixturevalue(role)

    response = getattr(api_for(user), method)(url, payload, format="json" if payload else None)

    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.status == Lead.Status.MQL and lead.owner == inbound_sdr


@pytest.mark.django_db
def test_anonymous_callers_are_refused(api, inbound_sdr):
    lead = routed_lead(inbound_sdr)
    assert api.get("/api/v1/queue/").status_code in (401, 403)
    assert api.post(lead_url(lead, "touch"), {"kind": "call"}, format="json").status_code in (401, 403)


@pytest.mark.django_db
def test_token_authentication_works(api, inbound_sdr):
    routed_lead(inbound_sdr)
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(inbound_sdr)}")
    assert api.get("/api/v1/queue/").json()["count"] == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("touch", {"kind": "call"}),
        ("follow-up", {"due_at": "2099-01-01T09:00:00+00:00"}),
        ("disposition", {"to": "disqualified", "reason": "Competitor"}),
    ],
)
def test_another_sdrs_lead_is_404_and_unchanged(api_for, inbound_sdr, other_sdr, action, payload):
    theirs = routed_lead(other_sdr)

    response = api_for(inbound_sdr).post(lead_url(theirs, action), payload, format="json")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == Lead.Status.MQL and not theirs.activities.exists()
    assert [i.kind for i in open_items(theirs)] == ["first_touch"]


@pytest.mark.django_db
def test_sdrs_cannot_reassign(api_for, inbound_sdr, other_sdr):
    mine = routed_lead(inbound_sdr)
    client = api_for(inbound_sdr)

    one = client.post(lead_url(mine, "reassign"), {"to": other_sdr.pk, "reason": "busy"}, format="json")
    whole = client.post(
        "/api/v1/queue/reassign/",
        {"from_user": inbound_sdr.pk, "to": other_sdr.pk, "reason": "busy"},
        format="json",
    )

    assert (one.status_code, whole.status_code) == (403, 403)
    mine.refresh_from_db()
    assert mine.owner == inbound_sdr


@pytest.mark.django_db
def test_manager_of_another_team_gets_404(api_for, other_manager, inbound_sdr):
    lead = routed_lead(inbound_sdr)
    client = api_for(other_manager)

    assert client.post(lead_url(lead, "touch"), {"kind": "call"}, format="json").status_code == 404
    response = client.post(lead_url(lead, "reassign"), {"to": None, "reason": "x"}, format="json")
    assert response.status_code == 404
    assert client.get("/api/v1/queue/", {"rep": inbound_sdr.pk}).status_code == 404
    lead.refresh_from_db()
    assert lead.owner == inbound_sdr and lead.status == Lead.Status.MQL


# --- touches, follow-ups, dispositions -------------------------------------------------------


@pytest.mark.django_db
def test_first_touch_moves_the_lead_to_working_and_meets_the_sla(api_for, inbound_sdr):
    lead = routed_lead(inbound_sdr)

    response = api_for(inbound_sdr).post(
        lead_url(lead, "touch"),
        {"kind": "call", "outcome": "connected", "note": "Spoke to Kim"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["lead"]["status"] == "working" and body["lead"]["open_items"] == []
    assert body["activity"]["kind"] == "call" and body["activity"]["outcome"] == "connected"
    assert [(i["kind"], i["state"], i["sla_state"]) for i in body["completed"]] == [
        ("first_touch", "done", "met")
    ]
    lead.refresh_from_db()
    assert lead.status == Lead.Status.WORKING
    assert Activity.objects.get(lead=lead, kind="call").note == "Spoke to Kim"
    # the touch shows in the queue's "last touch" of the next item
    assert api_for(inbound_sdr).get("/api/v1/queue/").json()["count"] == 0


@pytest.mark.django_db
def test_manager_may_touch_a_lead_in_their_team(api_for, manager, inbound_sdr):
    lead = routed_lead(inbound_sdr)
    response = api_for(manager).post(lead_url(lead, "touch"), {"kind": "email"}, format="json")
    assert response.status_code == 201
    assert Activity.objects.get(lead=lead, kind="email").actor == manager


@pytest.mark.django_db
def test_touching_a_lead_out_of_the_queue_is_400_with_the_reason(api_for, inbound_sdr):
    lead = routed_lead(inbound_sdr)
    Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.NURTURE)

    response = api_for(inbound_sdr).post(lead_url(lead, "touch"), {"kind": "call"}, format="json")

    assert response.status_code == 400
    assert "not in a queue" in response.json()["non_field_errors"][0]
    assert not lead.activities.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "payload"),
    [("touch", {"kind": "call"}), ("follow-up", {"due_at": "2099-01-01T09:00:00+00:00"})],
)
def test_an_unassigned_lead_is_assigned_before_it_is_worked(api_for, manager, inbound_sdr, action, payload):
    lead = routed_lead(None, team=inbound_sdr.team)
    if action == "follow-up":
        payload = {"due_at": (timezone.now() + timedelta(days=1)).isoformat()}

    response = api_for(manager).post(lead_url(lead, action), payload, format="json")

    assert (
        response.status_code == 400 and "assign it to a rep first" in response.json()["non_field_errors"][0]
    )
    lead.refresh_from_db()
    assert lead.status == Lead.Status.MQL and [i.owner for i in open_items(lead)] == [None]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        ("touch", {"kind": "teleport"}, "kind"),
        ("touch", {"kind": "visit"}, "kind"),  # a prospect's activity, not a rep's touch
        ("touch", {}, "kind"),
        ("touch", {"kind": "call", "outcome": "maybe"}, "outcome"),
        ("follow-up", {"due_at": "2001-01-01T09:00:00+00:00"}, "due_at"),
        ("follow-up", {"due_at": "2099-01-01T09:00:00"}, "due_at"),  # naive: no offset
        ("follow-up", {"due_at": "next tuesday"}, "due_at"),
        ("follow-up", {}, "due_at"),
        ("disposition", {"to": "nurture"}, "reason"),
        ("disposition", {"to": "nurture", "reason": "Competitor"}, "reason"),  # a disqualify reason
        ("disposition", {"to": "won", "reason": "Other"}, "to"),
    ],
)
def test_bad_input_is_400_with_field_messages_and_nothing_changes(
    api_for, inbound_sdr, action, payload, field
):
    lead = routed_lead(inbound_sdr)

    response = api_for(inbound_sdr).post(lead_url(lead, action), payload, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    lead.refresh_from_db()
    assert lead.status == Lead.Status.MQL and not lead.activities.exists()
    assert [i.kind for i in open_items(lead)] == ["first_touch"]


@pytest.mark.django_db
def test_naive_due_time_is_explained(api_for, inbound_sdr):
    lead = routed_lead(inbound_sdr)
    response = api_for(inbound_sdr).post(
        lead_url(lead, "follow-up"), {"due_at": "2099-01-01T09:00:00"}, format="json"
    )
    assert "UTC offset" in response.json()["due_at"][0]


@pytest.mark.django_db
def test_follow_up_goes_in_the_owners_queue_and_replaces_the_previous_one(api_for, inbound_sdr):
    lead = routed_lead(inbound_sdr)
    client = api_for(inbound_sdr)
    first_due = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    second_due = (timezone.now() + timedelta(days=3)).replace(microsecond=0)

    client.post(lead_url(lead, "follow-up"), {"due_at": first_due.isoformat()}, format="json")
    response = client.post(
        lead_url(lead, "follow-up"),
        {
            "due_at": second_due.astimezone(timezone.get_fixed_timezone(120)).isoformat(),
            "note": "Budget call",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["item"]["kind"] == "follow_up" and body["item"]["owner"] == inbound_sdr.pk
    assert body["item"]["title"] == "Follow up: Budget call" and body["item"]["sla_state"] == ""
    follow_ups = [i for i in open_items(lead) if i.kind == "follow_up"]
    assert [i.due_at for i in follow_ups] == [second_due]
    assert sorted(i["kind"] for i in body["lead"]["open_items"]) == ["first_touch", "follow_up"]
    assert lead.events.filter(kind=LeadEvent.Kind.FOLLOW_UP).count() == 2


@pytest.mark.django_db
def test_disqualifying_takes_the_lead_out_of_the_queue_with_its_reason(api_for, inbound_sdr):
    lead = routed_lead(inbound_sdr)
    client = api_for(inbound_sdr)

    response = client.post(
        lead_url(lead, "disposition"),
        {"to": "disqualified", "reason": "Competitor", "note": "Works at Acme"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()["lead"]
    assert body["status"] == "disqualified" and body["status_reason"] == "Competitor: Works at Acme"
    assert body["open_items"] == []
    assert client.get("/api/v1/queue/").json()["count"] == 0
    assert lead.events.filter(to_status="disqualified", message__contains="Competitor").exists()


@pytest.mark.django_db
def test_nurture_with_a_nurture_reason(api_for, inbound_sdr):
    lead = routed_lead(inbound_sdr)
    response = api_for(inbound_sdr).post(
        lead_url(lead, "disposition"), {"to": "nurture", "reason": "No budget yet"}, format="json"
    )
    assert response.status_code == 200 and response.json()["lead"]["status"] == "nurture"


# --- reassignment ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_manager_reassigns_a_lead_and_its_timer_follows(api_for, manager, inbound_sdr, other_sdr):
    lead = routed_lead(inbound_sdr)
    [item] = open_items(lead)

    response = api_for(manager).post(
        lead_url(lead, "reassign"), {"to": other_sdr.pk, "reason": "Sam is on holiday"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["moved"] is True and body["lead"]["owner"] == other_sdr.pk
    assert body["lead"]["owner_name"] == str(other_sdr)
    [moved_item] = body["lead"]["open_items"]
    assert moved_item["owner"] == other_sdr.pk and moved_item["sla_state"] == "on_track"
    item.refresh_from_db()
    assert item.owner == other_sdr and item.due_at == moved_item_due(moved_item)
    event = lead.events.get(kind=LeadEvent.Kind.REASSIGNED)
    assert "Sam is on holiday" in event.message and event.actor == manager


def moved_item_due(item_body):
    from django.utils.dateparse import parse_datetime

    return parse_datetime(item_body["due_at"])


@pytest.mark.django_db
def test_round_robin_reassign_skips_the_current_owner(api_for, manager, inbound_sdr, other_sdr):
    lead = routed_lead(inbound_sdr)
    response = api_for(manager).post(
        lead_url(lead, "reassign"), {"to": None, "reason": "Sam is overloaded"}, format="json"
    )
    assert response.status_code == 200 and response.json()["lead"]["owner"] == other_sdr.pk


@pytest.mark.django_db
def test_manager_assigns_a_lead_from_the_unassigned_queue(api_for, manager, inbound_sdr):
    lead = routed_lead(None, team=inbound_sdr.team)
    response = api_for(manager).post(
        lead_url(lead, "reassign"), {"to": inbound_sdr.pk, "reason": "Speaks German"}, format="json"
    )
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.owner == inbound_sdr
    assert WorkItem.objects.open().for_subject(lead).get().owner == inbound_sdr


@pytest.mark.django_db
def test_when_nobody_can_take_it_the_lead_waits_in_the_unassigned_queue(
    api_for, manager, inbound_sdr, other_sdr
):
    other_sdr.is_away = True
    other_sdr.save(update_fields=["is_away"])
    lead = routed_lead(inbound_sdr)
    client = api_for(manager)

    response = client.post(lead_url(lead, "reassign"), {"to": None, "reason": "Sam left"}, format="json")

    assert response.status_code == 200 and response.json()["lead"]["owner"] is None
    unassigned = client.get("/api/v1/queue/", {"unassigned": "1"}).json()
    assert [r["lead"]["id"] for r in unassigned["results"]] == [lead.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target", "payload", "field"),
    [
        ("ae", {"reason": "x"}, "to"),
        ("outbound_sdr", {"reason": "x"}, "to"),  # a rep outside the manager's teams
        ("other_sdr", {"reason": ""}, "reason"),
        ("other_sdr", {}, "reason"),
        ("inbound_sdr", {"reason": "x"}, "to"),  # already theirs
        (None, {"reason": "x", "to": "lena"}, "to"),
        (None, {"reason": "x"}, "to"),  # "to" must be given; null means round-robin
    ],
)
def test_bad_reassignments_are_400_and_nothing_moves(
    request, api_for, manager, inbound_sdr, other_sdr, target, payload, field
):
    lead = routed_lead(inbound_sdr)
    if target:
        payload = {**payload, "to": request.getfixturevalue(target).pk}

    response = api_for(manager).post(lead_url(lead, "reassign"), payload, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()
    lead.refresh_from_db()
    assert lead.owner == inbound_sdr and not lead.events.filter(kind="reassigned").exists()


@pytest.mark.django_db
def test_reassigning_a_lead_out_of_the_queue_is_400(api_for, manager, inbound_sdr, other_sdr):
    lead = routed_lead(inbound_sdr)
    Lead.objects.filter(pk=lead.pk).update(status=Lead.Status.NURTURE)
    response = api_for(manager).post(
        lead_url(lead, "reassign"), {"to": other_sdr.pk, "reason": "x"}, format="json"
    )
    assert response.status_code == 400 and "not in a queue" in response.json()["non_field_errors"][0]


@pytest.mark.django_db
def test_reassigning_a_whole_queue_round_robin_spreads_it_evenly(api_for, manager, inbound_sdr, other_sdr):
    third = UserFactory(username="ola", role=Role.INBOUND_SDR, team=inbound_sdr.team)
    leads = [routed_lead(inbound_sdr) for _ in range(6)]
    due_before = {i.object_id: i.due_at for i in WorkItem.objects.open()}

    response = api_for(manager).post(
        "/api/v1/queue/reassign/",
        {"from_user": inbound_sdr.pk, "to": None, "reason": "Sam left the company"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["moved"], body["unassigned"]) == (6, 0)
    assert sorted((r["id"], r["leads"]) for r in body["by_rep"]) == sorted([(other_sdr.pk, 3), (third.pk, 3)])
    items = list(WorkItem.objects.open())
    assert {i.owner_id for i in items} == {other_sdr.pk, third.pk}
    assert {i.object_id: i.due_at for i in items} == due_before
    for lead in leads:
        assert lead.events.get(kind="reassigned").message.endswith("Sam left the company")


@pytest.mark.django_db
def test_reassigning_a_whole_queue_to_one_rep(api_for, manager, inbound_sdr, other_sdr):
    for _ in range(3):
        routed_lead(inbound_sdr)
    response = api_for(manager).post(
        "/api/v1/queue/reassign/",
        {"from_user": inbound_sdr.pk, "to": other_sdr.pk, "reason": "Parental leave"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["by_rep"] == [{"id": other_sdr.pk, "name": str(other_sdr), "leads": 3}]
    assert Lead.objects.filter(owner=other_sdr).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("from_user", "to", "field"),
    [
        ("outbound_sdr", "other_sdr", "from_user"),
        ("inbound_sdr", "outbound_sdr", "to"),
        ("inbound_sdr", "inbound_sdr", "to"),
        ("inbound_sdr", "ae", "to"),
    ],
)
def test_bad_queue_reassignments_are_400(
    request, api_for, manager, inbound_sdr, other_sdr, from_user, to, field
):
    routed_lead(inbound_sdr)
    payload = {
        "from_user": request.getfixturevalue(from_user).pk,
        "to": request.getfixturevalue(to).pk,
        "reason": "x",
    }
    response = api_for(manager).post("/api/v1/queue/reassign/", payload, format="json")
    assert response.status_code == 400 and field in response.json()
    assert Lead.objects.get().owner == inbound_sdr


@pytest.mark.django_db
def test_superuser_manages_every_team(api_for, inbound_sdr, other_sdr):
    root = UserFactory(username="root", role=Role.MARKETING, is_superuser=True, team=TeamFactory(name="Ops"))
    lead = routed_lead(inbound_sdr)
    response = api_for(root).post(
        lead_url(lead, "reassign"), {"to": other_sdr.pk, "reason": "x"}, format="json"
    )
    assert response.status_code == 200 and response.json()["lead"]["owner"] == other_sdr.pk


# --- the schema ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schema_documents_the_queue_endpoints_and_their_bodies(client, inbound_sdr):
    client.force_login(inbound_sdr)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    body_of = lambda path: paths[path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]  # noqa: E731

    assert "/api/v1/queue/" in paths and "rep" in {
        p["name"] for p in paths["/api/v1/queue/"]["get"]["parameters"]
    }
    assert body_of("/api/v1/queue/leads/{lead_id}/touch/").endswith("/TouchRequest")
    assert body_of("/api/v1/queue/leads/{lead_id}/follow-up/").endswith("/FollowUpRequest")
    assert body_of("/api/v1/queue/leads/{lead_id}/disposition/").endswith("/DispositionRequest")
    assert body_of("/api/v1/queue/leads/{lead_id}/reassign/").endswith("/LeadReassignRequest")
    assert body_of("/api/v1/queue/reassign/").endswith("/QueueReassignRequest")
    lead_id = paths["/api/v1/queue/leads/{lead_id}/touch/"]["post"]["parameters"][0]
    assert (lead_id["name"], lead_id["schema"]["type"]) == ("lead_id", "integer")
    queue = paths["/api/v1/queue/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert queue["$ref"].endswith("/Queue")  # an object with results, not a bare array
