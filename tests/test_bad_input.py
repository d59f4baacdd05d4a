"""No page or endpoint of the queues and the breach review answers 500, whatever it is sent:
garbage ids, wrong types, absurd dates, missing fields, someone else's objects. And every date,
time and id input keeps to the sane ranges of ``kit.bounds``, refused on its field with nothing
saved."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.models import Activity
from tests.factories import LeadFactory, routed_lead
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
        # A page read without fields is the same request whatever the junk: it is sent once.
        for junk in JUNK if fields or method != "get" else JUNK[:1]:
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


# --- sane ranges (kit.bounds): every date and number input, refused on its field --------------------

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "occurred_at",
    [
        "1980-01-01T00:00:00Z",
        "1989-12-31T23:59:59Z",
        "0001-01-01T00:00:00+01:00",
        "2026-11-24T08:00:00+16:00",
        "2026-11-24T08:00:00-16:00",
        "2026-13-45T00:00:00Z",
        "9999-12-31T23:59:59-01:00",
        12,
        True,
    ],
)
def test_an_activity_out_of_range_is_a_field_error_and_nothing_is_saved(
    client_for, manager, frozen, occurred_at
):
    lead = LeadFactory()
    client = client_for(manager)
    assert (
        client.post(
            f"/api/v1/leads/{lead.pk}/activities/", {"kind": "visit"}, content_type="application/json"
        ).status_code
        == 201
    )
    lead.refresh_from_db()
    before = (Activity.objects.count(), lead.engagement_key)

    response = client.post(
        f"/api/v1/leads/{lead.pk}/activities/",
        {"kind": "visit", "occurred_at": occurred_at},
        content_type="application/json",
    )

    assert response.status_code == 400 and "occurred_at" in response.json(), response.content
    lead.refresh_from_db()
    assert (Activity.objects.count(), lead.engagement_key) == before


@pytest.mark.django_db
def test_an_activity_in_1990_or_later_is_recorded(client_for, manager, frozen):
    lead = LeadFactory()
    response = client_for(manager).post(
        f"/api/v1/leads/{lead.pk}/activities/",
        {"kind": "visit", "occurred_at": "1990-01-01T00:00:00-05:00"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content


CAPTURED = [
    ("captured_after", "2026-01-01T00:00:00+16:00"),
    ("captured_before", "2026-01-01T00:00:00-16:00"),
    ("captured_after", "2026-01-01T00:00:00+23:59"),
    ("captured_before", "1900-01-01T00:00:00Z"),
    ("captured_after", "9999-12-31T23:59:59Z"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "value"), CAPTURED)
def test_a_capture_time_filter_out_of_range_is_a_400_naming_the_filter(client_for, manager, name, value):
    LeadFactory()
    response = client_for(manager).get("/api/v1/leads/", {name: value})
    assert response.status_code == 400 and "captured" in response.json(), response.content


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "value"), CAPTURED)
def test_a_capture_time_filter_out_of_range_is_shown_on_the_lead_list(client_for, manager, name, value):
    LeadFactory(first_name="Zelda")
    response = client_for(manager).get("/leads/", {name: value})
    html = response.content.decode()
    assert response.status_code == 200
    assert "UTC offset between -15:59 and +15:59" in html or "between 1990-01-01 and 2100-12-31" in html
    assert "Zelda" not in html  # an invalid filter lists nothing rather than everything


@pytest.mark.django_db
@pytest.mark.parametrize(("offset", "listed"), [("+15:59", True), ("-15:59", True), ("+14:00", True)])
def test_any_real_utc_offset_filters_the_lead_list(client_for, manager, offset, listed):
    LeadFactory()
    response = client_for(manager).get("/api/v1/leads/", {"captured_after": f"2020-01-01T00:00:00{offset}"})
    assert response.status_code == 200 and (response.json()["count"] == 1) == listed


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "query", "field"),
    [
        ("/api/v1/opportunities/", {"close_after": "0001-01-01"}, "close"),
        ("/api/v1/opportunities/", {"close_before": "9999-12-31"}, "close"),
        ("/api/v1/contracts/", {"end_after": "1066-10-14"}, "end"),
        ("/api/v1/breaches/", {"due_after": "9999-12-31"}, "due"),
        ("/api/v1/breaches/", {"due_before": "1989-12-31"}, "due"),
    ],
)
def test_a_date_filter_out_of_range_is_a_400_on_every_list(client_for, manager, url, query, field):
    response = client_for(manager).get(url, query)
    assert response.status_code == 400 and field in response.json(), (url, response.content)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/pipeline/", {"view": "list", "close_after": "0001-01-01"}),
        ("/work/breaches/", {"due_before": "9999-12-31"}),
    ],
)
def test_a_date_filter_out_of_range_is_shown_on_the_page(client_for, manager, url, query):
    response = client_for(manager).get(url, query)
    assert response.status_code in (200, 400)
    assert "between 1990-01-01 and 2100-12-31" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("cadence_id", ["{pk}.5", "{pk}.0", "true", "1e0", '"{pk}.5"', '"{pk} "', "[{pk}]"])
def test_a_cadence_id_that_is_not_a_whole_number_is_refused(client_for, inbound_sdr, cadence_id):
    from sdr.models import Cadence, CadenceStep, Enrollment

    cadence = Cadence.objects.create(name="Outbound")
    CadenceStep.objects.create(cadence=cadence, position=1, day_offset=0, channel="call", instructions="Call")
    lead = routed_lead(inbound_sdr)
    body = '{"cadence": ' + cadence_id.replace("{pk}", str(cadence.pk)) + "}"
    if cadence_id == '"{pk} "':  # a string of digits with spaces around is still the id
        response = client_for(inbound_sdr).post(
            f"/api/v1/queue/leads/{lead.pk}/enroll/", body, content_type="application/json"
        )
        assert response.status_code == 201, response.content
        return

    response = client_for(inbound_sdr).post(
        f"/api/v1/queue/leads/{lead.pk}/enroll/", body, content_type="application/json"
    )

    assert response.status_code == 400 and "cadence" in response.json(), response.content
    assert not Enrollment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", [1.5, True, "1.5", "1e3", 2**31, -1, 0])
def test_a_queue_rep_that_is_not_an_id_is_a_400(client_for, manager, inbound_sdr, value):
    response = client_for(manager).get("/api/v1/queue/", {"rep": value})
    assert response.status_code == 400 and "rep" in response.json(), response.content


@pytest.mark.django_db
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    when=st.one_of(
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(
            lambda d: d.isoformat() + "Z"
        ),
        st.builds(
            lambda d, minutes: (
                d.isoformat()
                + ("+" if minutes >= 0 else "-")
                + f"{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
            ),
            st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
            st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
        ),
    )
)
def test_any_activity_time_is_a_201_or_a_field_error(client_for, manager, when):
    lead = LeadFactory()
    client = client_for(manager)
    client.post(f"/api/v1/leads/{lead.pk}/activities/", {"kind": "visit"}, content_type="application/json")
    response = client.post(
        f"/api/v1/leads/{lead.pk}/activities/",
        {"kind": "visit", "occurred_at": when},
        content_type="application/json",
    )
    assert response.status_code in (201, 400), (when, response.status_code)
    if response.status_code == 400:
        assert "occurred_at" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("campaign", ["{pk}.5", "{pk}.0", "true", '"{pk}.5"', "2147483648", "-1"])
def test_a_captured_leads_campaign_that_is_not_an_id_is_refused_and_nothing_is_saved(
    client_for, marketing, campaign
):
    from leads.models import Campaign, Lead

    chosen = Campaign.objects.create(name="Ads", channel="paid_search")
    body = '{"email": "ada@example.com", "campaign": ' + campaign.replace("{pk}", str(chosen.pk)) + "}"
    response = client_for(marketing).post("/api/v1/leads/", body, content_type="application/json")
    assert response.status_code == 400 and "campaign" in response.json(), response.content
    assert not Lead.objects.exists()
