"""No page or endpoint of the queues and the breach review answers 500, whatever it is sent:
garbage ids, wrong types, absurd dates, missing fields, someone else's objects."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import routed_lead
from work.services import sweep_breaches

JUNK = [
    "",
    "x",
    "-1",
    "0",
    "99999999999999999999",
    "1e9",
    "null",
    "[]",
    "{}",
    "2026-13-45",
    "é" * 300,
    "1' OR 1=1",
]


@pytest.fixture
def world(inbound_sdr, other_sdr, manager):
    lead = routed_lead(inbound_sdr, hand_raiser=True, now=datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    sweep_breaches(now=datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    item = lead.work_items.get()
    return {"lead": lead, "item": item, "breach": item.breach}


def pages(world):
    item, lead, breach = world["item"].pk, world["lead"].pk, world["breach"].pk
    return [
        ("get", "/queue/", {"rep": None}),
        ("get", f"/queue/items/{item}/", {}),
        ("post", f"/queue/items/{item}/touch/", {"kind": None, "outcome": None, "note": None}),
        ("post", f"/queue/items/{item}/follow-up/", {"due_at": None, "note": None}),
        ("post", f"/queue/items/{item}/dispose/", {"to": None, "reason": None, "note": None}),
        ("get", "/teams/", {}),
        ("post", f"/teams/leads/{lead}/reassign/", {"to": None, "reason": None}),
        ("post", f"/teams/reps/{world['lead'].owner_id}/reassign/", {"to": None, "reason": None}),
        (
            "get",
            "/work/breaches/",
            {
                "rep": None,
                "team": None,
                "policy": None,
                "due_after": None,
                "due_before": None,
                "acknowledged": None,
                "page": None,
            },
        ),
        ("post", f"/work/breaches/{breach}/acknowledge/", {"note": None}),
    ]


def api_calls(world):
    lead, breach = world["lead"].pk, world["breach"].pk
    return [
        ("get", "/api/v1/queue/", {"rep": None, "unassigned": None, "team": None}),
        ("post", f"/api/v1/queue/leads/{lead}/touch/", {"kind": None, "outcome": None, "note": None}),
        ("post", f"/api/v1/queue/leads/{lead}/follow-up/", {"due_at": None, "note": None}),
        ("post", f"/api/v1/queue/leads/{lead}/disposition/", {"to": None, "reason": None, "note": None}),
        ("post", f"/api/v1/queue/leads/{lead}/reassign/", {"to": None, "reason": None}),
        ("post", "/api/v1/queue/reassign/", {"from_user": None, "to": None, "reason": None}),
        (
            "get",
            "/api/v1/breaches/",
            {"rep": None, "team": None, "policy": None, "due_after": None, "acknowledged": None},
        ),
        ("post", f"/api/v1/breaches/{breach}/acknowledge/", {"note": None}),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["inbound_sdr", "other_sdr", "manager", "ae"])
def test_junk_never_gets_a_500(client_for, request, world, who):
    client = client_for(request.getfixturevalue(who))
    for method, url, fields in pages(world) + api_calls(world):
        for junk in JUNK:
            data = dict.fromkeys(fields, junk)
            if method == "get":
                response = client.get(url, data)
            elif url.startswith("/api/"):
                response = client.post(url, json.dumps(data), content_type="application/json")
            else:
                response = client.post(url, data)
            assert response.status_code < 500, (who, method, url, junk, response.status_code)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(["kind", "outcome", "note", "due_at", "to", "reason"]),
        st.one_of(
            st.none(), st.integers(), st.text(max_size=40), st.booleans(), st.lists(st.integers(), max_size=2)
        ),
    )
)
def test_any_json_body_to_the_queue_api_is_answered_without_a_500(client_for, inbound_sdr, world, body):
    client = client_for(inbound_sdr)
    lead = world["lead"].pk
    for action in ("touch", "follow-up", "disposition"):
        response = client.post(
            f"/api/v1/queue/leads/{lead}/{action}/", json.dumps(body), content_type="application/json"
        )
        assert response.status_code < 500, (action, body, response.status_code)


@pytest.mark.django_db
def test_a_follow_up_far_in_the_past_or_future_is_a_field_error(client_for, inbound_sdr, world):
    client = client_for(inbound_sdr)
    url = f"/api/v1/queue/leads/{world['lead'].pk}/follow-up/"
    for when in (datetime(1, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=4000)):
        response = client.post(url, {"due_at": when.isoformat()}, content_type="application/json")
        assert response.status_code == 400 and "due_at" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/leads/",
        "/api/v1/handoffs/",
        "/api/v1/queue/reassign/",
        "/api/v1/contracts/",
        "/api/v1/target-accounts/",
    ],
)
def test_json_nested_thousands_deep_is_a_400_on_every_endpoint(client_for, manager, path):
    body = "[" * 5000 + "]" * 5000
    response = client_for(manager).post(path, body, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert "nested too deeply" in response.json()["detail"]
