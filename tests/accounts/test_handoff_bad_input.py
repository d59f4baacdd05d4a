"""The hand-off page and endpoint never answer 500, whatever they are sent: garbage ids, wrong
types, absurd dates and amounts, missing fields, someone else's lead; and junk changes nothing."""

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account, Contact, Opportunity
from tests import cast
from tests.factories import routed_lead
from tests.shared_rows import kept_for_the_scope

FIELDS = [
    "lead",
    "budget",
    "budget_note",
    "authority",
    "authority_note",
    "need",
    "need_note",
    "timing",
    "timing_note",
    "asked_for_meeting",
    "proposed_meeting_at",
    "ae",
    "amount",
]
JUNK = [
    "",
    "x",
    "-1",
    "0",
    "99999999999999999999",
    "1e9",
    "1e400",
    "NaN",
    "Infinity",
    "null",
    "[]",
    "{}",
    "2026-13-45",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "é" * 300,
    "\x00",
    "1' OR 1=1",
]


@pytest.fixture(scope="module")
def kept(django_db_setup, django_db_blocker):
    """Sam with a lead in his queue, Alex and the rule that hands off to Alex's team, built once
    for the module: what a test changes is rolled back at its end."""
    with kept_for_the_scope(django_db_blocker) as building:
        with building():
            sdr, ae = cast.inbound_sdr(), cast.ae()
            cast.ae_rule(ae)
            lead = routed_lead(sdr, email="junk@acme-widgets.example")
        yield {"inbound_sdr": sdr, "ae": ae, "lead": lead}


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
def lead(_kept):
    return _kept["lead"]


def counts() -> tuple[int, int, int]:
    return Opportunity.objects.count(), Account.objects.count(), Contact.objects.count()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["inbound_sdr", "other_sdr", "manager", "ae", "marketing"])
def test_junk_never_gets_a_500_nor_a_hand_off(client_for, request, lead, who):
    client = client_for(request.getfixturevalue(who))
    page = f"/leads/{lead.pk}/hand-off/"
    for junk in JUNK:
        data = dict.fromkeys(FIELDS, junk)
        for response in (
            client.get(page, data),
            client.post(page, data),
            client.post(page, data, HTTP_HX_REQUEST="true"),
            client.post("/api/v1/handoffs/", json.dumps(data), content_type="application/json"),
            client.post("/api/v1/handoffs/", data),  # a form-encoded body
        ):
            assert response.status_code < 500, (who, junk, response.status_code)
    assert counts() == (0, 0, 0)


@pytest.mark.django_db
def test_absurd_ids_in_the_address_are_not_found(client_for, inbound_sdr):
    client = client_for(inbound_sdr)
    for lead_id in ("0", "99999999999999999999", "123456789012"):
        assert client.get(f"/leads/{lead_id}/hand-off/").status_code == 404
        assert client.post(f"/leads/{lead_id}/hand-off/", {}).status_code == 404


@pytest.mark.django_db
def test_a_body_that_is_not_an_object_is_a_400(client_for, inbound_sdr, lead):
    client = client_for(inbound_sdr)
    for raw in ("[]", '"lead"', "42", "null", "{", "\xff"):
        response = client.post("/api/v1/handoffs/", raw, content_type="application/json")
        assert response.status_code == 400, raw
    assert counts() == (0, 0, 0)


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["confirmed", "partly", "unknown", "2030-01-31T09:30:00+01:00", "2020-01-01T00:00Z"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@pytest.mark.django_db
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(FIELDS), VALUES))
def test_any_json_body_is_answered_without_a_500(client_for, inbound_sdr, lead, body):
    response = client_for(inbound_sdr).post(
        "/api/v1/handoffs/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code < 500, (body, response.status_code)
    # Without a need note nothing can be handed off: whatever else it says, the body is refused.
    if not isinstance(body.get("need_note"), str) or not body["need_note"].strip():
        assert response.status_code == 400


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=30)))
def test_any_form_post_is_answered_without_a_500(client_for, inbound_sdr, lead, form):
    response = client_for(inbound_sdr).post(f"/leads/{lead.pk}/hand-off/", form)
    assert response.status_code < 500, (form, response.status_code)
