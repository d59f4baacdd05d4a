"""No page or endpoint of the AE's side (inbox, pipeline, opportunity, early losses, the
opportunities API) answers 500, whatever it is sent: random strings, huge numbers, bad dates,
stages that do not exist, wrong types, someone else's opportunities."""

import copy
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Stage
from accounts.services import move_stage, update_opportunity
from tests import cast
from tests.factories import accepted, handed_off
from tests.shared_rows import kept_for_the_scope

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
JUNK = [
    "",
    "x",
    "-1",
    "0",
    "99999999999999999999",
    "1e9",
    "NaN",
    "Infinity",
    "null",
    "[]",
    "{}",
    "2026-13-45",
    "99999-01-01",
    "0000-00-00",
    "é" * 300,
    "1' OR 1=1",
    "<script>alert(1)</script>",
]
BIG = "99999999999999999999"


@pytest.fixture(scope="module")
def kept(django_db_setup, django_db_blocker):
    """Sam, Alex and Alex's three opportunities, built once for the module: every test here
    reads them, and what a test changes is rolled back at its end."""
    with kept_for_the_scope(django_db_blocker) as building:
        with building():
            sdr, ae = cast.inbound_sdr(), cast.ae()
            waiting = handed_off(sdr, ae, now=NOW)
            working = accepted(sdr, ae, now=NOW)
            closed = accepted(sdr, ae, now=NOW)
            update_opportunity(opportunity_id=closed.pk, by=ae, amount=10, close_date=None, next_step="")
            move_stage(opportunity_id=closed.pk, by=ae, stage_id=Stage.objects.get(name="Won").pk)
        yield {
            "inbound_sdr": sdr,
            "ae": ae,
            "world": {"waiting": waiting, "working": working, "closed": closed},
        }


@pytest.fixture
def _kept(kept, db):
    return copy.deepcopy(kept)


@pytest.fixture
def inbound_sdr(_kept):
    return _kept["inbound_sdr"]


@pytest.fixture
def ae(_kept):
    return _kept["ae"]


@pytest.fixture
def world(_kept):
    return _kept["world"]


def pages(world):
    calls = [
        ("get", "/inbox/", {}),
        (
            "get",
            "/pipeline/",
            {
                "view": None,
                "q": None,
                "stage": None,
                "status": None,
                "close_after": None,
                "close_before": None,
                "origin": None,
                "campaign": None,
                "ae": None,
                "sort": None,
                "page": None,
            },
        ),
        ("get", "/opportunities/early-losses/", {"period": None, "page": None}),
    ]
    for opportunity in world.values():
        pk = opportunity.pk
        calls += [
            ("get", f"/opportunities/{pk}/", {"part": None}),
            ("post", f"/opportunities/{pk}/accept/", {"on": None, "next": None}),
            ("post", f"/opportunities/{pk}/reject/", {"reason": None, "note": None, "on": None}),
            ("get", f"/opportunities/{pk}/move/", {"on": None}),
            (
                "post",
                f"/opportunities/{pk}/move/",
                {"stage": None, "lost_reason": None, "lost_note": None, "recycle": None, "on": None},
            ),
            (
                "post",
                f"/opportunities/{pk}/details/",
                {"amount": None, "close_date": None, "next_step": None},
            ),
        ]
    calls += [
        ("get", f"/opportunities/{BIG}/", {}),
        ("post", f"/opportunities/{BIG}/accept/", {}),
        ("post", f"/opportunities/{BIG}/move/", {"stage": None}),
    ]
    return calls


def api_calls(world):
    calls = [
        (
            "get",
            "/api/v1/opportunities/",
            {
                "q": None,
                "stage": None,
                "status": None,
                "close_after": None,
                "origin": None,
                "ae": None,
                "sort": None,
            },
        ),
        ("get", "/api/v1/stages/", {}),
        ("get", f"/api/v1/opportunities/{BIG}/", {}),
        ("post", f"/api/v1/opportunities/{BIG}/accept/", {}),
    ]
    for opportunity in world.values():
        base = f"/api/v1/opportunities/{opportunity.pk}/"
        calls += [
            ("get", base, {}),
            ("post", base + "accept/", {}),
            ("post", base + "reject/", {"reason": None, "note": None}),
            (
                "post",
                base + "move/",
                {"stage": None, "lost_reason": None, "lost_note": None, "recycle": None},
            ),
            ("patch", base + "details/", {"amount": None, "close_date": None, "next_step": None}),
        ]
    return calls


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who", ["ae", "other_ae", "inbound_sdr", "sales_manager", "manager", "am", "marketing"]
)
def test_junk_never_gets_a_500(client_for, request, world, who):
    client = client_for(request.getfixturevalue(who))
    htmx = {"HTTP_HX_REQUEST": "true"} if who == "ae" else {}
    for method, url, fields in pages(world) + api_calls(world):
        # A page read without fields is the same request whatever the junk: it is sent once.
        for junk in JUNK if fields or method != "get" else JUNK[:1]:
            data = dict.fromkeys(fields, junk)
            if method == "get":
                response = client.get(url, data, **htmx)
            elif url.startswith("/api/"):
                response = getattr(client, method)(url, json.dumps(data), content_type="application/json")
            else:
                response = client.post(url + f"?on={junk}&stage={junk}", data, **htmx)
            assert response.status_code < 500, (who, method, url, junk, response.status_code)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.dictionaries(
        st.sampled_from(
            [
                "stage",
                "lost_reason",
                "lost_note",
                "recycle",
                "amount",
                "close_date",
                "next_step",
                "reason",
                "note",
            ]
        ),
        st.one_of(
            st.none(),
            st.integers(min_value=-(2**70), max_value=2**70),
            st.floats(allow_nan=True, allow_infinity=True),
            st.text(max_size=40),
            st.booleans(),
            st.lists(st.integers(), max_size=2),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        ),
    )
)
def test_any_json_body_to_the_opportunity_actions_is_answered_without_a_500(client_for, ae, world, body):
    client = client_for(ae)
    base = f"/api/v1/opportunities/{world['working'].pk}/"
    for method, action in (("post", "move"), ("patch", "details"), ("post", "reject")):
        response = getattr(client, method)(
            base + action + "/", json.dumps(body), content_type="application/json"
        )
        assert response.status_code < 500, (action, body, response.status_code)


OUT_OF_RANGE = [
    ("close_date", "0001-01-01", "Enter a date between 1990-01-01 and 2100-12-31."),
    ("close_date", "1989-12-31", "Enter a date between 1990-01-01 and 2100-12-31."),
    ("close_date", "2101-01-01", "Enter a date between 1990-01-01 and 2100-12-31."),
    ("close_date", "9999-12-31", "Enter a date between 1990-01-01 and 2100-12-31."),
    ("amount", "-0.01", "Enter an amount of zero or more."),
    ("amount", "1000000000000", "Enter an amount below 1,000,000,000,000."),
    ("amount", "12.345", "Use at most two decimals."),
]


def _details(opportunity) -> tuple:
    opportunity.refresh_from_db()
    return (opportunity.amount, opportunity.close_date, opportunity.next_step)


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "message"), OUT_OF_RANGE)
def test_an_opportunity_detail_out_of_range_is_a_400_on_its_field_in_the_api(
    client_for, ae, world, field, value, message
):
    working = world["working"]
    before = _details(working)
    response = client_for(ae).patch(
        f"/api/v1/opportunities/{working.pk}/details/",
        json.dumps({field: value, "next_step": "Call"}),
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()[field] == [message], response.content
    assert _details(working) == before


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "message"), OUT_OF_RANGE)
def test_an_opportunity_detail_out_of_range_is_shown_on_the_page(
    client_for, ae, world, field, value, message
):
    working = world["working"]
    before = _details(working)
    response = client_for(ae).post(
        f"/opportunities/{working.pk}/details/", {field: value, "next_step": "Call"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html
    assert _details(working) == before


@pytest.mark.django_db
def test_a_close_date_within_the_range_is_saved(client_for, ae, world):
    working = world["working"]
    response = client_for(ae).patch(
        f"/api/v1/opportunities/{working.pk}/details/",
        json.dumps({"close_date": "2100-12-31"}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert _details(working)[1].isoformat() == "2100-12-31"
