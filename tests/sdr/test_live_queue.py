"""The queue page kept live (``kit.live``): the open page asks ``/queue/live/`` with the version it
shows; nothing changed is a 304 without rendering, a newly routed lead or a new hand-raiser is
the list again with a new version, other reps' queues never change mine, and a touch brings the
counts up to date in place."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from leads.services import capture_lead
from sdr import services
from tests.factories import UserFactory
from tests.sdr.test_queue_page import HTMX, TUESDAY_10, berlin, item_of, queue_lead, queue_url
from work.models import SlaPolicy, WorkItem

pytestmark = pytest.mark.django_db

LIVE = reverse("sdr:queue_live")


@pytest.fixture(autouse=True)
def _that_tuesday():
    with time_machine.travel(TUESDAY_10, tick=False):
        yield


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_etag(client, **query) -> str:
    """The version the full page starts with (what its script sends first)."""
    body = client.get(queue_url(**query)).content.decode()
    return re.search(r'data-live-etag="([^"]+)"', body).group(1).replace("&quot;", '"')


def poll(client, etag: str, **query):
    url = LIVE + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return client.get(url, HTTP_IF_NONE_MATCH=etag)


def counts_of(body: str) -> dict[str, int]:
    block = re.search(r'<ul class="q-counts" id="queue-counts".*?</ul>', body, re.S).group(0)
    return {label.strip(): int(n) for n, label in re.findall(r"<strong>(\d+)</strong>([^<]+)</li>", block)}


def test_nothing_changed_is_a_304_without_the_list(inbound_sdr):
    queue_lead(inbound_sdr, TUESDAY_10 - timedelta(hours=1))
    client = logged_in(inbound_sdr)
    etag = page_etag(client)

    response = poll(client, etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert "private" in response["Cache-Control"]


def test_a_newly_routed_lead_comes_back_with_a_new_version(inbound_sdr):
    queue_lead(inbound_sdr, TUESDAY_10 - timedelta(hours=1), first_name="Ada")
    client = logged_in(inbound_sdr)
    etag = page_etag(client)

    new = queue_lead(inbound_sdr, TUESDAY_10, first_name="Zoe", company="Zeta GmbH")
    response = poll(client, etag)

    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="item-{item_of(new).pk}"' in body and "Zoe" in body and "Zeta GmbH" in body
    assert "<html" not in body  # the fragment only
    assert counts_of(body)["New leads by grade"] == 2
    assert response["ETag"] != etag
    # and the new version is quiet again
    assert poll(client, response["ETag"]).status_code == 304


def test_a_lead_in_the_queue_asking_for_a_call_changes_the_version(inbound_sdr):
    lead = queue_lead(inbound_sdr, TUESDAY_10 - timedelta(minutes=30), email="pat@acme.example")
    client = logged_in(inbound_sdr)
    etag = page_etag(client)

    capture_lead(email=lead.email, details={}, via="api", hand_raiser=True)
    response = poll(client, etag)

    assert response.status_code == 200
    item = item_of(lead)
    assert item.policy.key == SlaPolicy.FIRST_TOUCH_HAND_RAISER
    row = re.search(rf'<li class="q-row[^"]*" id="item-{item.pk}".*?</li>', response.content.decode(), re.S)
    assert 'title="Asked for a call">call</span>' in row.group(0)


def test_another_reps_new_lead_does_not_change_my_version(inbound_sdr, other_sdr):
    queue_lead(inbound_sdr, TUESDAY_10 - timedelta(hours=1))
    client = logged_in(inbound_sdr)
    etag = page_etag(client)

    queue_lead(other_sdr, TUESDAY_10)
    services.log_touch(lead_id=queue_lead(other_sdr, TUESDAY_10).pk, by=other_sdr, kind="call")

    assert poll(client, etag).status_code == 304


def test_the_same_queue_has_a_different_version_for_each_viewer(manager, inbound_sdr):
    queue_lead(inbound_sdr, TUESDAY_10)
    mine = page_etag(logged_in(inbound_sdr))
    managers = page_etag(logged_in(manager), rep=inbound_sdr.pk)

    assert mine != managers
    # one viewer's version says nothing to the other: it is not theirs
    assert poll(logged_in(manager), mine, rep=inbound_sdr.pk).status_code == 200


def test_a_manager_follows_a_reps_queue_read_only(manager, inbound_sdr):
    client = logged_in(manager)
    etag = page_etag(client, rep=inbound_sdr.pk)
    assert poll(client, etag, rep=inbound_sdr.pk).status_code == 304

    new = queue_lead(inbound_sdr, TUESDAY_10)
    body = poll(client, etag, rep=inbound_sdr.pk).content.decode()

    assert f'id="item-{item_of(new).pk}"' in body
    assert "Log touch" not in body  # still read-only


def test_nobody_follows_a_queue_they_may_not_see(inbound_sdr, other_sdr, ae, manager):
    queue_lead(other_sdr, TUESDAY_10)
    # another rep's queue: as missing as its page
    assert poll(logged_in(inbound_sdr), '"x"', rep=other_sdr.pk).status_code == 404
    # a manager of other teams
    stranger = UserFactory(username="mo", role=manager.role)
    assert poll(logged_in(stranger), '"x"', rep=other_sdr.pk).status_code == 404
    # a role without a queue
    assert poll(logged_in(ae), '"x"').status_code == 403
    # a manager who has not chosen a rep
    assert poll(logged_in(manager), '"x"').status_code == 404
    # and nobody signed in
    response = Client().get(LIVE, HTTP_IF_NONE_MATCH='"x"')
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_after_a_touch_the_counts_are_right_in_place(inbound_sdr):
    first = queue_lead(inbound_sdr, berlin(24, 9, 30), first_name="Ada")
    queue_lead(inbound_sdr, berlin(24, 9, 40), first_name="Ben")
    client = logged_in(inbound_sdr)
    before = counts_of(client.get(queue_url()).content.decode())
    assert before["New leads by grade"] == 2

    response = client.post(reverse("sdr:touch", args=[item_of(first).pk]), {"kind": "call"}, **HTMX)

    body = response.content.decode()
    assert 'id="queue-counts"' in body and 'hx-swap-oob="true"' in body
    assert counts_of(body)["New leads by grade"] == 1


def test_a_touch_changes_the_version_so_other_open_tabs_follow(inbound_sdr):
    lead = queue_lead(inbound_sdr, TUESDAY_10 - timedelta(hours=1))
    queue_lead(inbound_sdr, TUESDAY_10 - timedelta(hours=1))
    client = logged_in(inbound_sdr)
    etag = page_etag(client)

    services.log_touch(lead_id=lead.pk, by=inbound_sdr, kind="email")
    response = poll(client, etag)

    assert response.status_code == 200
    assert f'id="item-{WorkItem.objects.for_subject(lead).get().pk}"' not in response.content.decode()


def test_a_timer_coming_due_moves_the_counts(inbound_sdr):
    queue_lead(inbound_sdr, berlin(24, 9))  # first touch due 13:00 Berlin; at risk from 12:00
    client = logged_in(inbound_sdr)
    etag = page_etag(client)
    assert poll(client, etag).status_code == 304

    with time_machine.travel(berlin(24, 12, 5), tick=False):
        response = poll(client, etag)

    assert response.status_code == 200
    assert counts_of(response.content.decode())["Breached or at risk"] == 1


@pytest.mark.parametrize("size", [1, 30])
def test_a_poll_costs_the_same_queries_whatever_the_queue(inbound_sdr, django_assert_num_queries, size):
    for n in range(size):
        queue_lead(inbound_sdr, TUESDAY_10 - timedelta(minutes=n), hand_raiser=n % 3 == 0)
    client = logged_in(inbound_sdr)
    etag = page_etag(client)
    poll(client, etag)  # warm the content types

    with django_assert_num_queries(3):  # session, user, the grouped counts
        assert poll(client, etag).status_code == 304
    with django_assert_num_queries(6):  # + the items, their leads, the scoring settings
        assert poll(client, '"old"').status_code == 200
