"""The AE's inbox kept live (``kit.live``): ``/inbox/live/`` answers 304 while the handoffs
waiting for the AE and their team are the same, the lists again when one arrives or is answered;
another team's handoffs never change the version, and only an AE may ask."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.services import accept_handoff
from tests.accounts.test_inbox import TUESDAY_10, handoff

pytestmark = pytest.mark.django_db

LIVE = reverse("accounts:inbox_live")


@pytest.fixture(autouse=True)
def _that_tuesday():
    with time_machine.travel(TUESDAY_10 + timedelta(hours=1), tick=False):
        yield


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_etag(client) -> str:
    body = client.get(reverse("accounts:inbox")).content.decode()
    return re.search(r'data-live-etag="([^"]+)"', body).group(1).replace("&quot;", '"')


def poll(client, etag: str):
    return client.get(LIVE, HTTP_IF_NONE_MATCH=etag)


def test_a_new_handoff_comes_back_with_a_new_version(inbound_sdr, ae):
    handoff(inbound_sdr, ae, TUESDAY_10, company="Acme GmbH")
    client = logged_in(ae)
    etag = page_etag(client)
    assert poll(client, etag).status_code == 304

    new = handoff(inbound_sdr, ae, TUESDAY_10 + timedelta(minutes=30), company="Globex")
    response = poll(client, etag)

    assert response.status_code == 200 and response["ETag"] != etag
    body = response.content.decode()
    assert f'id="inbox-{new.pk}"' in body and "<html" not in body
    assert re.search(r'id="mine-total" data-live-always>2\b', body)
    assert poll(client, response["ETag"]).status_code == 304


def test_a_teammates_handoff_and_its_answer_change_the_version(inbound_sdr, ae, other_ae):
    client = logged_in(ae)
    etag = page_etag(client)

    theirs = handoff(inbound_sdr, other_ae, TUESDAY_10)
    response = poll(client, etag)
    assert response.status_code == 200 and f'id="inbox-{theirs.pk}"' in response.content.decode()

    etag = response["ETag"]
    accept_handoff(opportunity_id=theirs.pk, by=other_ae)
    response = poll(client, etag)
    assert response.status_code == 200 and f'id="inbox-{theirs.pk}"' not in response.content.decode()


def test_another_teams_handoff_does_not_change_my_version(inbound_sdr, ae, far_ae):
    client = logged_in(ae)
    etag = page_etag(client)

    handoff(inbound_sdr, far_ae, TUESDAY_10)

    assert poll(client, etag).status_code == 304


@pytest.mark.parametrize("who", ["inbound_sdr", "am", "manager"])
def test_only_an_ae_follows_the_inbox(request, who):
    assert poll(logged_in(request.getfixturevalue(who)), '"x"').status_code == 403
    assert Client().get(LIVE).status_code == 302


@pytest.mark.parametrize("size", [2, 20])
def test_a_poll_costs_the_same_queries_whatever_the_inbox(
    inbound_sdr, ae, other_ae, django_assert_num_queries, size
):
    for n in range(size):
        handoff(inbound_sdr, ae if n % 2 else other_ae, TUESDAY_10 + timedelta(minutes=n))
    client = logged_in(ae)
    etag = page_etag(client)

    with django_assert_num_queries(3):  # session, user, the pending handoffs' aggregate
        assert poll(client, etag).status_code == 304
    # + the scoring settings, my rows and their items, the team's and theirs, the aggregate again
    # (the time zone comes with the user)
    with django_assert_num_queries(9):
        assert poll(client, '"old"').status_code == 200
