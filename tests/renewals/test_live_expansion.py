"""The renewals page's expansion leads kept live (``kit.live``): ``/renewals/expansion-leads/live/``
answers 304 while the expansion leads waiting for the AM (a manager: their AM teams') are the
same, the list again when someone at a customer asks for a call; another AM's leads never change
an AM's version, and only who may see renewals may ask."""

import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from renewals.services import not_now
from team.models import Role
from tests.factories import UserFactory, customer
from tests.renewals.test_expansion import TUESDAY_10, expansion_lead, leads_for

pytestmark = pytest.mark.django_db

LIVE = reverse("renewals:expansion_live")


@pytest.fixture(autouse=True)
def _no_drain_task(monkeypatch):
    monkeypatch.setattr("leads.tasks.request_submission_drain", lambda **kwargs: None)


@pytest.fixture(autouse=True)
def _that_tuesday():
    with time_machine.travel(TUESDAY_10, tick=False):
        yield


@pytest.fixture
def acme(am):
    return customer(am)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_etag(client) -> str:
    body = client.get(reverse("renewals:renewals")).content.decode()
    return re.search(r'data-live-etag="([^"]+)"', body).group(1).replace("&quot;", '"')


def poll(client, etag: str):
    return client.get(LIVE, HTTP_IF_NONE_MATCH=etag)


def test_a_new_expansion_lead_comes_back_with_a_new_version(am, acme):
    client = logged_in(am)
    etag = page_etag(client)
    assert poll(client, etag).status_code == 304

    lead = expansion_lead(acme)
    response = poll(client, etag)

    assert response.status_code == 200 and response["ETag"] != etag
    body = response.content.decode()
    assert f'id="expansion-{lead.pk}"' in body and "Pat Lee" in body and "<html" not in body
    assert poll(client, response["ETag"]).status_code == 304


def test_the_managers_list_follows_their_ams_and_an_answer_changes_it(am, am_manager, acme):
    client = logged_in(am_manager)
    etag = page_etag(client)
    lead = expansion_lead(acme)
    response = poll(client, etag)
    assert response.status_code == 200 and f'id="expansion-{lead.pk}"' in response.content.decode()

    not_now(lead_id=lead.pk, by=am, reason="No budget this year", note="")
    response = poll(client, response["ETag"])
    assert response.status_code == 200 and f'id="expansion-{lead.pk}"' not in response.content.decode()


def test_another_ams_expansion_lead_does_not_change_my_version(am, acme):
    other = UserFactory(username="kim", role=Role.AM)
    globex = customer(other, name="Globex", domain="globex.example")
    client = logged_in(am)
    etag = page_etag(client)

    expansion_lead(globex, email="jo@globex.example")

    assert poll(client, etag).status_code == 304


@pytest.mark.parametrize("who", ["inbound_sdr", "ae"])
def test_only_who_works_renewals_follows_them(request, who):
    assert poll(logged_in(request.getfixturevalue(who)), '"x"').status_code == 403
    assert Client().get(LIVE).status_code == 302


@pytest.mark.parametrize("size", [1, 7])
def test_a_poll_costs_the_same_queries_whatever_the_list(
    am, am_manager, acme, django_assert_num_queries, size
):
    leads_for(am, acme, size)
    # a 200 adds the items, their leads, contacts and accounts; for a manager also the teams
    # they manage, once (whom they may email, for the rows' links)
    for user, changed in ((am, 7), (am_manager, 8)):
        client = logged_in(user)
        etag = page_etag(client)
        with django_assert_num_queries(3):  # session, user, the items' aggregate
            assert poll(client, etag).status_code == 304
        with django_assert_num_queries(changed):
            assert poll(client, '"old"').status_code == 200
